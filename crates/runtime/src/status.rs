//! The supervisor's vocabulary, shared with the events it reports: server states and status, the
//! restart decision, backoff and the crash-loop window. Pure functions of their inputs; the
//! supervisor's server task applies them.

use std::{
    collections::VecDeque,
    time::{Duration, SystemTime},
};

use serde::{Deserialize, Serialize};
use switchboard_mcp::Negotiated;

pub use switchboard_core::process::Exit;
use switchboard_core::{
    logs::LogLimits,
    process::FoundVia,
    spec::{RestartPolicy, ServerName, ServerTransport},
};

/// Where a server is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServerState {
    Stopped,
    /// Lazy and not running: the first call through the gateway starts it (see
    /// `ServerSpec::lazy`); hosts list its pinned tools meanwhile.
    Idle,
    /// Spawned (or connecting), waiting for the MCP handshake.
    Starting {
        attempt: u32,
    },
    /// Answered the handshake.
    Running {
        pid: Option<u32>,
        since_ms: u64,
    },
    /// Exited; will be started again at `until_ms`.
    BackingOff {
        attempt: u32,
        until_ms: u64,
    },
    /// Will not be started again until somebody asks.
    Failed {
        reason: String,
    },
    /// Being shut down (stdin closed, then SIGTERM, then SIGKILL).
    Stopping,
}

impl ServerState {
    /// The state of a server of `spec` that is not running and nobody stopped: idle for an
    /// enabled lazy server (a call starts it), stopped otherwise.
    pub fn at_rest(spec: &switchboard_core::spec::ServerSpec) -> Self {
        let lazy = spec.lazy && spec.enabled && spec.transport() == ServerTransport::Stdio;
        if lazy { ServerState::Idle } else { ServerState::Stopped }
    }

    pub fn label(&self) -> &'static str {
        match self {
            ServerState::Stopped => "stopped",
            ServerState::Idle => "idle",
            ServerState::Starting { .. } => "starting",
            ServerState::Running { .. } => "running",
            ServerState::BackingOff { .. } => "backing-off",
            ServerState::Failed { .. } => "failed",
            ServerState::Stopping => "stopping",
        }
    }
}

/// Whether `policy` restarts a server that ended with `exit` on its own.
pub fn should_restart(policy: RestartPolicy, exit: &Exit) -> bool {
    match policy {
        RestartPolicy::Never => false,
        RestartPolicy::OnFailure => !exit.is_success(),
        RestartPolicy::Always => true,
    }
}

/// Exponential backoff: `initial`, doubling per attempt, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    /// A server that ran this long before exiting starts again from the first attempt.
    pub reset_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            reset_after: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The delay before restart attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(31));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// "Too many exits in too short a time": the server is marked failed instead of restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrashLoop {
    pub max_exits: u32,
    pub window: Duration,
}

impl Default for CrashLoop {
    fn default() -> Self {
        CrashLoop { max_exits: 5, window: Duration::from_secs(60) }
    }
}

/// Recent exit times, for the crash-loop check.
#[derive(Debug, Default, Clone)]
pub struct ExitHistory {
    exits: VecDeque<SystemTime>,
}

impl ExitHistory {
    /// Records an exit at `now` and returns how many exits fall within the window.
    pub fn record(&mut self, now: SystemTime, limit: &CrashLoop) -> u32 {
        self.exits.push_back(now);
        while let Some(first) = self.exits.front() {
            let age = now.duration_since(*first).unwrap_or_default();
            if age > limit.window {
                self.exits.pop_front();
            } else {
                break;
            }
        }
        u32::try_from(self.exits.len()).unwrap_or(u32::MAX)
    }

    pub fn clear(&mut self) {
        self.exits.clear();
    }
}

/// How a server is stopped: close stdin and wait, SIGTERM and wait, SIGKILL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopTimeouts {
    pub after_stdin_close: Duration,
    pub after_sigterm: Duration,
}

impl Default for StopTimeouts {
    fn default() -> Self {
        StopTimeouts {
            after_stdin_close: Duration::from_secs(3),
            after_sigterm: Duration::from_secs(5),
        }
    }
}

/// Everything the supervisor can be tuned with.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// How long a server has to answer the MCP handshake.
    pub startup_timeout: Duration,
    pub stop: StopTimeouts,
    pub backoff: Backoff,
    pub crash_loop: CrashLoop,
    pub logs: LogLimits,
    /// How often CPU and memory are sampled.
    pub stats_interval: Duration,
    /// How many stderr lines a start failure quotes.
    pub stderr_tail_lines: usize,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        SupervisorConfig {
            startup_timeout: Duration::from_secs(30),
            stop: StopTimeouts::default(),
            backoff: Backoff::default(),
            crash_loop: CrashLoop::default(),
            logs: LogLimits::default(),
            stats_interval: Duration::from_secs(2),
            stderr_tail_lines: 10,
        }
    }
}

/// CPU and memory of a server's whole process tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProcessStats {
    /// Percent of one core, summed over the tree (may exceed 100).
    pub cpu_percent: f32,
    #[ts(type = "number")]
    pub rss_bytes: u64,
    pub processes: u32,
}

/// One server as `status` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ServerStatus {
    pub name: ServerName,
    pub enabled: bool,
    pub transport: ServerTransport,
    pub restart: RestartPolicy,
    /// Started by a host's first call and stopped when idle (see `ServerSpec::lazy`).
    #[serde(default)]
    pub lazy: bool,
    /// One process per host session (see `ServerSpec::per_session`).
    #[serde(default, rename = "perSession")]
    pub per_session: bool,
    /// The host sessions' own processes of a per-session server running now.
    #[serde(default)]
    pub instances: u32,
    pub state: ServerState,
    /// Automatic restarts since the owner started.
    pub restarts: u32,
    pub stats: Option<ProcessStats>,
    /// The program that was started, resolved to a path.
    pub binary: Option<String>,
    pub found_via: Option<FoundVia>,
    pub protocol: Option<Negotiated>,
    pub last_exit: Option<Exit>,
    /// Held at its last start: its tools differ from the approved ones (see `pins`).
    #[serde(default)]
    pub tools_changed: bool,
}

impl ServerStatus {
    /// A server that has just been registered: stopped (idle if lazy), never run.
    pub fn new(name: ServerName, spec: &switchboard_core::spec::ServerSpec) -> Self {
        ServerStatus {
            name,
            enabled: spec.enabled,
            transport: spec.transport(),
            restart: spec.restart,
            lazy: spec.lazy,
            per_session: spec.per_session,
            instances: 0,
            state: ServerState::at_rest(spec),
            restarts: 0,
            stats: None,
            binary: None,
            found_via: None,
            protocol: None,
            last_exit: None,
            tools_changed: false,
        }
    }

    pub fn pid(&self) -> Option<u32> {
        match self.state {
            ServerState::Running { pid, .. } => pid,
            _ => None,
        }
    }
}

/// The one-glance summary the tray icon shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Every enabled server is running or idle (or there are none to run).
    AllRunning,
    /// At least one server failed or is backing off after a crash.
    SomeFailed,
    /// Nothing is failing, but not every enabled server is running.
    NotAllRunning,
}

/// Summarizes `statuses` for the tray.
pub fn aggregate(statuses: &[ServerStatus]) -> Aggregate {
    let failing = statuses
        .iter()
        .any(|s| matches!(s.state, ServerState::Failed { .. } | ServerState::BackingOff { .. }));
    if failing {
        return Aggregate::SomeFailed;
    }
    let all = statuses
        .iter()
        .filter(|s| s.enabled && s.transport == ServerTransport::Stdio)
        .all(|s| matches!(s.state, ServerState::Running { .. } | ServerState::Idle));
    if all { Aggregate::AllRunning } else { Aggregate::NotAllRunning }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(name: &str, enabled: bool, state: ServerState) -> ServerStatus {
        let mut spec = switchboard_core::spec::ServerSpec::stdio("x", vec![]);
        spec.enabled = enabled;
        ServerStatus { state, ..ServerStatus::new(name.parse().expect("name"), &spec) }
    }

    #[test]
    fn the_tray_summary() {
        let running = ServerState::Running { pid: Some(1), since_ms: 0 };
        let failed = ServerState::Failed { reason: "x".into() };
        assert_eq!(aggregate(&[]), Aggregate::AllRunning);
        assert_eq!(aggregate(&[status("a", true, running.clone())]), Aggregate::AllRunning);
        assert_eq!(
            aggregate(&[
                status("a", true, running.clone()),
                status("b", false, ServerState::Stopped)
            ]),
            Aggregate::AllRunning,
            "disabled servers do not count"
        );
        assert_eq!(
            aggregate(&[
                status("a", true, running.clone()),
                status("b", true, ServerState::Stopped)
            ]),
            Aggregate::NotAllRunning
        );
        assert_eq!(
            aggregate(&[status("a", true, running), status("b", false, failed)]),
            Aggregate::SomeFailed
        );
    }

    #[test]
    fn backoff_doubles_from_one_second_to_a_minute() {
        let b = Backoff::default();
        let secs: Vec<u64> = (1..=9).map(|a| b.delay(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn restart_policy_decisions() {
        let crash = Exit::Code(1);
        let clean = Exit::Code(0);
        let killed = Exit::Signal(9);
        assert!(!should_restart(RestartPolicy::Never, &crash));
        assert!(should_restart(RestartPolicy::OnFailure, &crash));
        assert!(should_restart(RestartPolicy::OnFailure, &killed));
        assert!(!should_restart(RestartPolicy::OnFailure, &clean));
        assert!(should_restart(RestartPolicy::Always, &clean));
    }

    #[test]
    fn the_crash_window_forgets_old_exits() {
        let limit = CrashLoop { max_exits: 3, window: Duration::from_secs(10) };
        let t0 = SystemTime::UNIX_EPOCH;
        let mut h = ExitHistory::default();
        assert_eq!(h.record(t0, &limit), 1);
        assert_eq!(h.record(t0 + Duration::from_secs(5), &limit), 2);
        assert_eq!(h.record(t0 + Duration::from_secs(10), &limit), 3);
        assert_eq!(h.record(t0 + Duration::from_secs(16), &limit), 2);
    }

    #[test]
    fn states_serialize_with_a_kind_tag() {
        let s = ServerState::Running { pid: Some(7), since_ms: 1 };
        assert_eq!(
            serde_json::to_value(&s).expect("json"),
            serde_json::json!({"kind": "running", "pid": 7, "since_ms": 1})
        );
        assert_eq!(Exit::Signal(9).to_string(), "killed by signal 9 (SIGKILL)");
    }
}
