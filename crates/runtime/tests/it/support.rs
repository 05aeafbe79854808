//! Helpers: a supervisor over a temp state folder, and waiting for events.

use std::{sync::Arc, time::Duration};

use switchboard_runtime::{
    Event, EventBus, ServerState, Supervisor, SupervisorConfig,
    supervisor::{Backoff, StopTimeouts},
};

use switchboard_core::{
    Env, Paths, RestartPolicy, ServerName, ServerSpec, Servers,
    clock::{Clock, SystemClock},
};
use tokio::sync::broadcast;

pub struct Harness {
    pub home: tempfile::TempDir,
    pub supervisor: Supervisor,
    pub events: broadcast::Receiver<Event>,
    pub servers: Servers,
}

/// Quick timings so tests do not wait on production defaults.
pub fn fast_config() -> SupervisorConfig {
    SupervisorConfig {
        startup_timeout: Duration::from_secs(20),
        stop: StopTimeouts {
            after_stdin_close: Duration::from_millis(1500),
            after_sigterm: Duration::from_millis(1500),
        },
        backoff: Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(400),
            reset_after: Duration::from_secs(60),
        },
        stats_interval: Duration::from_millis(200),
        ..SupervisorConfig::default()
    }
}

pub fn harness(config: SupervisorConfig) -> Harness {
    harness_with_clock(config, Arc::new(SystemClock))
}

pub fn harness_with_clock(config: SupervisorConfig, clock: Arc<dyn Clock>) -> Harness {
    let home = switchboard_testkit::temp_home();
    let paths = Paths::under(home.path());
    paths.ensure().expect("state folders");
    let supervisor =
        Supervisor::new(paths, Env::from_process(), config, clock, EventBus::default());
    let events = supervisor.subscribe();
    Harness { home, supervisor, events, servers: Servers::new() }
}

pub fn fixture_spec(mode: &str, extra: &[&str], restart: RestartPolicy) -> ServerSpec {
    let mut args = vec![mode.to_owned()];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let mut spec = ServerSpec::stdio(switchboard_testkit::fixture().display().to_string(), args);
    spec.restart = restart;
    spec
}

impl Harness {
    pub async fn add(&mut self, name: &str, spec: ServerSpec) -> ServerName {
        let name: ServerName = name.parse().expect("name");
        self.servers.insert(name.clone(), spec);
        self.supervisor.sync(&self.servers).await;
        name
    }

    /// Waits for a state change of `name` matching `want`; returns every state seen on the way.
    pub async fn wait_state(
        &mut self,
        name: &ServerName,
        timeout: Duration,
        want: impl Fn(&ServerState) -> bool,
    ) -> Vec<ServerState> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv()).await;
            match event {
                Err(_) => panic!("timed out waiting for {name}; saw {seen:?}"),
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
                Ok(Err(e)) => panic!("events closed: {e}"),
                Ok(Ok(Event::StateChanged { name: n, state, .. })) if &n == name => {
                    let done = want(&state);
                    seen.push(state);
                    if done {
                        return seen;
                    }
                }
                Ok(Ok(_)) => {}
            }
        }
    }

    pub fn log_text(&self, name: &ServerName) -> String {
        self.supervisor
            .logs(name.as_str())
            .expect("logs")
            .into_iter()
            .map(|l| l.text)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub fn pid_of(state: &ServerState) -> u32 {
    match state {
        ServerState::Running { pid: Some(pid), .. } => *pid,
        other => panic!("not running: {other:?}"),
    }
}
