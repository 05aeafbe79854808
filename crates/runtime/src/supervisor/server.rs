//! One task per server: it owns the child process and the MCP session, and is the only code that
//! changes the server's state. Commands arrive on a channel; everything it does is reported as
//! [`Event`]s and mirrored in a shared [`ServerStatus`] snapshot.
//!
//! Phases: idle (stopped or failed) → starting (spawned, handshaking) → running → (exit) backing
//! off → starting … The child is a [`ManagedChild`]: a stop climbs its ladder (close stdin, wait,
//! SIGTERM the process group, wait, SIGKILL), and whenever the leader exits, whatever is left of
//! its group is killed too.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use switchboard_mcp::{ConnectOptions, Session};
use tokio::sync::{mpsc, oneshot};

use super::pidbook::PidBook;
use crate::{
    Error, Result,
    events::{Event, EventBus},
    status::{Exit, ExitHistory, ServerState, ServerStatus, SupervisorConfig, should_restart},
};
use switchboard_core::{
    clock::{Clock, millis},
    logs::{LogLine, LogSource, ServerLog},
    process::{
        self, ChildOptions, CommandSpec, LineSink, ManagedChild, StderrOptions, StopLadder,
        StopStep,
    },
    spec::{Launch, ServerName, ServerSpec},
};

pub(crate) type Reply = oneshot::Sender<Result<ServerStatus>>;

pub(crate) enum Command {
    Start(Reply),
    Stop(Reply),
    Restart(Reply),
    Update(ServerSpec),
    /// A lazy server nobody called for a while: stop it if running and leave it idle (the next
    /// call starts it again).
    Park(Reply),
    /// Stop if running and end the task.
    Shutdown(oneshot::Sender<()>),
}

/// What the rest of the supervisor may read about a server without asking its task.
#[derive(Debug)]
pub(crate) struct Shared {
    pub status: Mutex<ServerStatus>,
    pub log: ServerLog,
    /// The running server's MCP session, while it runs: what the gateway forwards hosts' calls
    /// through. Cleared before the process is stopped.
    pub connection: Mutex<Option<Arc<Session>>>,
}

impl Shared {
    pub fn status(&self) -> ServerStatus {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn edit<T>(&self, f: impl FnOnce(&mut ServerStatus) -> T) -> T {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn connection(&self) -> Option<Arc<Session>> {
        self.connection.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_connection(&self, connection: Option<Arc<Session>>) {
        *self.connection.lock().unwrap_or_else(|p| p.into_inner()) = connection;
    }
}

/// What every server task shares.
pub(crate) struct Context {
    pub config: SupervisorConfig,
    pub clock: Arc<dyn Clock>,
    pub events: EventBus,
    pub pids: PidBook,
    /// For the secret store and the tool pins.
    pub paths: switchboard_core::Paths,
    /// Where bare commands are found.
    pub env: switchboard_core::Env,
}

/// How long a process that never became ready, or ignored the whole ladder, has after SIGKILL.
const AFTER_SIGKILL: Duration = Duration::from_secs(10);

/// A live child process.
struct Proc {
    child: ManagedChild,
    started: SystemTime,
    /// Shared with the gateway (through [`Shared::connection`]) while the server runs.
    connection: Option<Arc<Session>>,
}

enum Phase {
    Idle,
    Running(Box<Proc>),
    BackingOff { until: SystemTime },
}

enum StartOutcome {
    Ready(Proc),
    Failed {
        reason: String,
        exit: Option<Exit>,
    },
    /// A stop or shutdown arrived while starting; the process has been stopped.
    Interrupted(Command),
    /// It answered, but its tools differ from the approved ones: stopped, not restarted.
    Held {
        reason: String,
    },
}

pub(crate) struct ServerTask {
    name: ServerName,
    spec: ServerSpec,
    ctx: Arc<Context>,
    shared: Arc<Shared>,
    commands: mpsc::UnboundedReceiver<Command>,
    exits: ExitHistory,
    attempt: u32,
    /// Callers of start/restart waiting for the start under way to settle.
    waiting: Vec<Reply>,
    /// A command taken while starting, to handle before reading the next one.
    pending: Option<Command>,
}

/// What woke the task up.
enum Wake {
    /// A command; `None` when every sender is gone.
    Command(Option<Command>),
    Exited(Exit),
    BackoffOver,
}

impl ServerTask {
    pub fn new(
        name: ServerName,
        spec: ServerSpec,
        ctx: Arc<Context>,
        shared: Arc<Shared>,
        commands: mpsc::UnboundedReceiver<Command>,
    ) -> Self {
        ServerTask {
            name,
            spec,
            ctx,
            shared,
            commands,
            exits: ExitHistory::default(),
            attempt: 0,
            waiting: Vec::new(),
            pending: None,
        }
    }

    pub async fn run(mut self) {
        let mut phase = Phase::Idle;
        loop {
            let wake = match &phase {
                _ if self.pending.is_some() => Wake::Command(self.pending.take()),
                Phase::Idle => Wake::Command(self.commands.recv().await),
                Phase::Running(proc) => tokio::select! {
                    exit = proc.child.exited() => Wake::Exited(exit),
                    command = self.commands.recv() => Wake::Command(command),
                },
                Phase::BackingOff { until } => {
                    let wait = until.duration_since(self.ctx.clock.now()).unwrap_or_default();
                    let sleep = self.ctx.clock.sleep(wait);
                    tokio::select! {
                        () = sleep => Wake::BackoffOver,
                        command = self.commands.recv() => Wake::Command(command),
                    }
                }
            };
            let next = match (phase, wake) {
                (Phase::Running(proc), Wake::Exited(exit)) => Some(self.on_exit(*proc, exit).await),
                (phase, Wake::Exited(_)) => Some(phase),
                (_, Wake::BackoffOver) => {
                    self.shared.edit(|s| s.restarts += 1);
                    self.start(false).await
                }
                // Every handle to the task is gone: stop what runs and end.
                (phase, Wake::Command(None)) => {
                    if let Phase::Running(proc) = phase {
                        self.stop_proc(*proc).await;
                    }
                    None
                }
                (phase, Wake::Command(Some(command))) => self.on_command(phase, command).await,
            };
            match next {
                Some(next) => phase = next,
                None => return,
            }
        }
    }

    /// What a command does in each phase, written once. `None`: the task ends.
    async fn on_command(&mut self, phase: Phase, command: Command) -> Option<Phase> {
        match command {
            Command::Shutdown(done) => {
                match phase {
                    Phase::Running(proc) => {
                        self.stop_proc(*proc).await;
                        self.set_state(ServerState::Stopped);
                    }
                    Phase::BackingOff { .. } => self.set_state(ServerState::Stopped),
                    Phase::Idle => {}
                }
                let _ = done.send(());
                None
            }
            Command::Stop(reply) => {
                if let Phase::Running(proc) = phase {
                    self.stop_proc(*proc).await;
                }
                self.reply_stopped(reply);
                Some(Phase::Idle)
            }
            // Already running: starting again changes nothing.
            Command::Start(reply) if matches!(phase, Phase::Running(_)) => {
                let _ = reply.send(Ok(self.shared.status()));
                Some(phase)
            }
            Command::Start(reply) | Command::Restart(reply) => {
                match phase {
                    Phase::Running(proc) => self.stop_proc(*proc).await,
                    // A person starting a stopped server starts its crash count afresh.
                    Phase::Idle => {
                        self.exits.clear();
                        self.attempt = 0;
                    }
                    Phase::BackingOff { .. } => {}
                }
                self.waiting.push(reply);
                self.start(true).await
            }
            Command::Park(reply) => {
                let phase = match phase {
                    Phase::Running(proc) if self.spec.lazy => {
                        self.note("no call for a while: stopping until the next one");
                        self.stop_proc(*proc).await;
                        self.set_state(ServerState::Idle);
                        Phase::Idle
                    }
                    phase => phase,
                };
                let _ = reply.send(Ok(self.shared.status()));
                Some(phase)
            }
            Command::Update(spec) => {
                let relaunch = spec.launch != self.spec.launch;
                self.spec = spec;
                self.publish_spec();
                // At rest, a server that became (or stopped being) lazy shows it.
                if matches!(phase, Phase::Idle)
                    && matches!(
                        self.shared.status().state,
                        ServerState::Stopped | ServerState::Idle
                    )
                {
                    self.set_state(ServerState::at_rest(&self.spec));
                }
                match phase {
                    Phase::Running(proc) if relaunch => {
                        self.note("definition changed: restarting");
                        self.stop_proc(*proc).await;
                        self.start(true).await
                    }
                    phase => Some(phase),
                }
            }
        }
    }

    /// Starts the server and settles every waiting caller. `explicit` starts (a person asked)
    /// that fail go to `failed` at once; automatic restarts that fail count as another exit.
    /// Returns `None` when the task must end (shutdown arrived).
    async fn start(&mut self, explicit: bool) -> Option<Phase> {
        let attempt = self.attempt + 1;
        self.set_state(ServerState::Starting { attempt });
        match self.spawn_and_handshake().await {
            StartOutcome::Ready(proc) => {
                self.set_tools_changed(false);
                self.shared.set_connection(proc.connection.clone());
                let since_ms = millis(self.ctx.clock.now());
                self.set_state(ServerState::Running { pid: Some(proc.child.pid()), since_ms });
                self.settle_waiting(Ok(()));
                Some(Phase::Running(Box::new(proc)))
            }
            StartOutcome::Failed { reason, exit } => {
                self.shared.edit(|s| s.last_exit = exit.clone());
                if explicit {
                    let error =
                        Error::StartFailed { name: self.name.to_string(), reason: reason.clone() };
                    self.set_state(ServerState::Failed { reason });
                    self.settle_waiting(Err(error));
                    Some(Phase::Idle)
                } else {
                    Some(self.after_failure(reason, exit.unwrap_or(Exit::Code(-1))))
                }
            }
            StartOutcome::Held { reason } => {
                self.note(&reason);
                self.set_tools_changed(true);
                self.set_state(ServerState::Failed { reason: reason.clone() });
                self.settle_waiting(Err(Error::ToolsChanged(reason)));
                Some(Phase::Idle)
            }
            StartOutcome::Interrupted(command) => {
                let error = Error::StartFailed {
                    name: self.name.to_string(),
                    reason: "stopped while starting".into(),
                };
                self.set_state(ServerState::Stopped);
                self.settle_waiting(Err(error));
                // The stop or shutdown that interrupted is handled next, as in any stopped server.
                self.pending = Some(command);
                Some(Phase::Idle)
            }
        }
    }

    fn settle_waiting(&mut self, outcome: std::result::Result<(), Error>) {
        let status = self.shared.status();
        for reply in self.waiting.drain(..) {
            let result = match &outcome {
                Ok(()) => Ok(status.clone()),
                Err(Error::ToolsChanged(reason)) => Err(Error::ToolsChanged(reason.clone())),
                Err(error) => Err(Error::StartFailed {
                    name: self.name.to_string(),
                    reason: match error {
                        Error::StartFailed { reason, .. } => reason.clone(),
                        other => other.to_string(),
                    },
                }),
            };
            let _ = reply.send(result);
        }
    }

    /// The process exited while running.
    async fn on_exit(&mut self, proc: Proc, exit: Exit) -> Phase {
        let uptime = self.ctx.clock.now().duration_since(proc.started).unwrap_or_default();
        self.reap(proc).await;
        self.note(&format!("{exit} after {:.1} s", uptime.as_secs_f32()));
        self.shared.edit(|s| {
            s.last_exit = Some(exit.clone());
            s.stats = None;
        });
        if uptime >= self.ctx.config.backoff.reset_after {
            self.attempt = 0;
        }
        if !should_restart(self.spec.restart, &exit) {
            let state = if exit.is_success() {
                // A lazy server that ended on its own is idle: the next call starts it.
                ServerState::at_rest(&self.spec)
            } else {
                ServerState::Failed { reason: self.with_tail(&exit.to_string()) }
            };
            self.set_state(state);
            return Phase::Idle;
        }
        self.after_failure(exit.to_string(), exit)
    }

    /// Counts an exit (or failed restart) and either backs off or gives up.
    fn after_failure(&mut self, reason: String, exit: Exit) -> Phase {
        let limit = self.ctx.config.crash_loop;
        let count = self.exits.record(self.ctx.clock.now(), &limit);
        if count >= limit.max_exits {
            let reason = self.with_tail(&format!(
                "crash loop: {count} exits within {} s; last: {reason}",
                limit.window.as_secs()
            ));
            self.note(&reason);
            self.set_state(ServerState::Failed { reason });
            return Phase::Idle;
        }
        let _ = exit;
        self.attempt += 1;
        let delay = self.ctx.config.backoff.delay(self.attempt);
        let until = self.ctx.clock.now() + delay;
        self.note(&format!(
            "restarting in {:.1} s (attempt {})",
            delay.as_secs_f32(),
            self.attempt
        ));
        self.set_state(ServerState::BackingOff { attempt: self.attempt, until_ms: millis(until) });
        Phase::BackingOff { until }
    }

    async fn spawn_and_handshake(&mut self) -> StartOutcome {
        let (spec, resolved) = match prepare(&self.ctx, &self.name, &self.spec).await {
            Ok(prepared) => prepared,
            Err(reason) => return StartOutcome::Failed { reason, exit: None },
        };
        let options = ChildOptions {
            stderr: StderrOptions {
                max_line_bytes: self.ctx.config.logs.max_line_bytes,
                max_total_bytes: None,
                // The server's log is its ring: it outlives the process and spans restarts.
                ring_lines: 0,
                ring_bytes: 0,
            },
            on_stderr: Some(self.stderr_sink()),
            on_drop: self.ladder(),
        };
        let (child, pipes) = match ManagedChild::spawn(&spec, &resolved, options) {
            Ok(spawned) => spawned,
            Err(error) => return StartOutcome::Failed { reason: error.to_string(), exit: None },
        };
        let pid = child.pid();
        self.shared.edit(|s| {
            s.binary = Some(resolved.program.display().to_string());
            s.found_via = Some(resolved.via.clone());
            s.protocol = None;
        });
        self.note(&format!(
            "started pid {pid}: {} {}{}",
            resolved.program.display(),
            spec.args.join(" "),
            match resolved.via {
                process::FoundVia::LoginShell => " (found on the login shell's PATH)",
                _ => "",
            }
        ));
        self.ctx.pids.record(&self.name, pid);

        let mut proc = Proc { child, started: self.ctx.clock.now(), connection: None };

        let options =
            ConnectOptions { timeout: self.ctx.config.startup_timeout, ..Default::default() };
        let handshake = switchboard_mcp::connect(pipes.stdout, pipes.stdin, &options);
        tokio::pin!(handshake);
        loop {
            tokio::select! {
                result = &mut handshake => match result {
                    Ok(connection) => {
                        let negotiated = connection.details().negotiated.clone();
                        self.note(&format!(
                            "ready: {} {} speaking MCP {}",
                            negotiated.server_name.as_deref().unwrap_or("(unnamed)"),
                            negotiated.server_version.as_deref().unwrap_or(""),
                            negotiated.protocol_version
                        ));
                        self.shared.edit(|s| s.protocol = Some(negotiated));
                        let held = self.check_pins(&connection).await;
                        proc.connection = Some(Arc::new(connection));
                        if let Some(reason) = held {
                            self.stop_proc(proc).await;
                            return StartOutcome::Held { reason };
                        }
                        return StartOutcome::Ready(proc);
                    }
                    Err(error) => {
                        let exit = self.kill_proc(proc).await;
                        let reason = match &exit {
                            Some(exit) if !matches!(error, switchboard_mcp::Error::Timeout(_)) => {
                                format!("{exit} before answering the MCP handshake")
                            }
                            _ => error.to_string(),
                        };
                        return StartOutcome::Failed { reason: self.with_tail(&reason), exit };
                    }
                },
                exit = proc.child.exited() => {
                    self.reap(proc).await;
                    let reason = format!("{exit} before answering the MCP handshake");
                    return StartOutcome::Failed { reason: self.with_tail(&reason), exit: Some(exit) };
                }
                command = self.commands.recv() => match command {
                    Some(Command::Start(reply) | Command::Restart(reply)) => self.waiting.push(reply),
                    // Starting is not idling: nothing to park.
                    Some(Command::Park(reply)) => {
                        let _ = reply.send(Ok(self.shared.status()));
                    }
                    Some(Command::Update(spec)) => {
                        self.spec = spec;
                        self.publish_spec();
                    }
                    Some(command @ (Command::Stop(_) | Command::Shutdown(_))) => {
                        self.note("stop requested while starting");
                        self.stop_proc(proc).await;
                        return StartOutcome::Interrupted(command);
                    }
                    None => {
                        self.stop_proc(proc).await;
                        let (done, _) = oneshot::channel();
                        return StartOutcome::Interrupted(Command::Shutdown(done));
                    }
                },
            }
        }
    }

    /// For a server with pinned tools: lists its tools and compares them with the approved
    /// ones. `Some(reason)` when it must be held (changed tools, or tools it would not list).
    async fn check_pins(&self, connection: &Session) -> Option<String> {
        let pins = crate::pins::Pins::new(&self.ctx.paths.data_dir);
        if !pins.path(&self.name).exists() {
            return None;
        }
        let listed = tokio::time::timeout(self.ctx.config.startup_timeout, connection.list_tools())
            .await
            .map_err(|_| "timed out".to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        let tools = match listed {
            Ok(listing) => listing.items,
            Err(e) => return Some(format!("its tools are pinned but could not be listed: {e}")),
        };
        let values: Vec<serde_json::Value> =
            tools.iter().filter_map(|t| serde_json::to_value(t).ok()).collect();
        let (pins_now, now) = (crate::pins::pins_of(&values), millis(self.ctx.clock.now()));
        let name = self.name.clone();
        let checked = tokio::task::spawn_blocking(move || pins.check(&name, pins_now, now)).await;
        match checked {
            Ok(Ok(crate::pins::Check::Changed(diff))) => {
                Some(crate::pins::held_reason(&self.name, &diff))
            }
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        }
    }

    /// Each stderr line into the server's log (ring and file) and onto the event stream.
    fn stderr_sink(&self) -> LineSink {
        log_sink(&self.ctx, self.shared.clone(), self.name.clone(), "")
    }

    fn ladder(&self) -> StopLadder {
        ladder(&self.ctx)
    }

    /// Graceful stop: close stdin, wait; SIGTERM the group, wait; SIGKILL the group.
    async fn stop_proc(&mut self, mut proc: Proc) {
        self.set_state(ServerState::Stopping);
        self.note("stopping: closing stdin");
        self.shared.set_connection(None);
        if let Some(connection) = proc.connection.take() {
            match Arc::try_unwrap(connection) {
                Ok(connection) => connection.close(Duration::from_secs(1)).await,
                // A call through the gateway still holds it: end the session under it.
                Err(shared) => shared.end(),
            }
        }
        let exit = proc
            .child
            .stop(self.ladder(), |step| match step {
                StopStep::Terminate { waited } => self.note(&format!(
                    "still running {} s after stdin closed: sending SIGTERM",
                    waited.as_secs_f32()
                )),
                StopStep::Kill { waited } => self.note(&format!(
                    "still running {} s after SIGTERM: sending SIGKILL",
                    waited.as_secs_f32()
                )),
            })
            .await;
        self.finish_stop(proc, exit).await;
    }

    async fn finish_stop(&mut self, proc: Proc, exit: Option<Exit>) {
        match &exit {
            Some(exit) => self.note(&format!("stopped: {exit}")),
            None => self.note("stopped (exit status unknown)"),
        }
        self.shared.edit(|s| {
            s.last_exit = exit;
            s.stats = None;
        });
        self.reap(proc).await;
    }

    /// For a process that never became ready: kill the group at once.
    async fn kill_proc(&mut self, mut proc: Proc) -> Option<Exit> {
        self.shared.set_connection(None);
        drop(proc.connection.take());
        proc.child.kill();
        let exit = proc.child.exited_within(AFTER_SIGKILL).await;
        self.reap(proc).await;
        exit
    }

    /// After the leader exited: let the stderr reader drain (it ends once every holder of the
    /// pipe is gone) and forget the pid.
    async fn reap(&mut self, mut proc: Proc) {
        self.shared.set_connection(None);
        drop(proc.connection.take());
        proc.child.stderr_drained(Duration::from_millis(500)).await;
        self.ctx.pids.forget(&self.name);
    }

    fn with_tail(&self, reason: &str) -> String {
        let tail = self.shared.log.stderr_tail(self.ctx.config.stderr_tail_lines);
        if tail.is_empty() { reason.to_owned() } else { format!("{reason}; stderr:\n{tail}") }
    }

    /// Marks the server stopped and answers a stop request.
    fn reply_stopped(&self, reply: Reply) {
        self.set_state(ServerState::Stopped);
        let _ = reply.send(Ok(self.shared.status()));
    }

    /// A line from Switchboard itself in the server's log.
    fn note(&self, text: &str) {
        tracing::info!(server = %self.name, "{text}");
        let line = LogLine {
            at_ms: millis(self.ctx.clock.now()),
            source: LogSource::Supervisor,
            text: text.to_owned(),
        };
        self.shared.log.push(&line);
        self.ctx.events.send(Event::Log { name: self.name.clone(), line });
    }

    fn set_state(&self, state: ServerState) {
        let changed = self.shared.edit(|s| {
            let changed = s.state != state;
            s.state = state.clone();
            changed
        });
        if changed {
            self.ctx.events.send(Event::StateChanged {
                name: self.name.clone(),
                state,
                at_ms: millis(self.ctx.clock.now()),
            });
        }
    }

    fn set_tools_changed(&self, changed: bool) {
        if self.shared.edit(|s| std::mem::replace(&mut s.tools_changed, changed)) != changed {
            self.ctx.events.send(Event::ToolsChanged { name: self.name.clone(), changed });
        }
    }

    fn publish_spec(&self) {
        self.shared.edit(|s| {
            s.enabled = self.spec.enabled;
            s.restart = self.spec.restart;
            s.lazy = self.spec.lazy;
            s.per_session = self.spec.per_session;
            s.transport = self.spec.transport();
        });
    }
}

/// What starting `name` runs: its spec with secrets filled in (the keychain may block for a
/// moment, so off the runtime), and its command found on the PATH or the login shell's.
pub(crate) async fn prepare(
    ctx: &Context,
    name: &ServerName,
    spec: &ServerSpec,
) -> std::result::Result<(CommandSpec, process::Resolved), String> {
    let (paths, owned_name, owned_spec) = (ctx.paths.clone(), name.clone(), spec.clone());
    let filled = tokio::task::spawn_blocking(move || {
        switchboard_core::secrets::filled(&paths, &owned_name, &owned_spec)
    })
    .await
    .map_err(|join| join.to_string())?
    .map_err(|error| error.to_string())?;
    let (command, args, env, cwd) = match filled.launch {
        Launch::Stdio { command, args, env, cwd } => (command, args, env, cwd),
        Launch::Remote { .. } => {
            return Err(Error::RemoteNotSupervised(name.to_string()).to_string());
        }
    };
    let inherit = ctx.env.server_inherit();
    let mut spec = CommandSpec { program: command.clone(), args, env, cwd, inherit };
    // Marks the child (and what it starts) as this owner's, for the next owner's sweep.
    spec.env.insert(super::pidbook::RUN_VAR.to_owned(), ctx.pids.run_id().to_owned());
    let cwd = spec.cwd.clone();
    let search_env = ctx.env.clone();
    let resolved = tokio::task::spawn_blocking(move || {
        process::resolve(&command, cwd.as_deref(), search_env.search())
    })
    .await
    .map_err(|join| join.to_string())?
    .map_err(|error| error.to_string())?;
    Ok((spec, resolved))
}

/// Each stderr line into the server's log (ring and file) and onto the event stream, after
/// `prefix` (which says which of a per-session server's processes wrote it).
pub(crate) fn log_sink(
    ctx: &Context,
    shared: Arc<Shared>,
    name: ServerName,
    prefix: &str,
) -> LineSink {
    let events = ctx.events.clone();
    let clock = ctx.clock.clone();
    let prefix = prefix.to_owned();
    Box::new(move |text: &str| {
        let text = format!("{prefix}{text}");
        let line = LogLine { at_ms: millis(clock.now()), source: LogSource::Stderr, text };
        shared.log.push(&line);
        events.send(Event::Log { name: name.clone(), line });
    })
}

/// Close stdin, wait; terminate the group, wait; kill it.
pub(crate) fn ladder(ctx: &Context) -> StopLadder {
    let timeouts = ctx.config.stop;
    StopLadder {
        after_stdin_close: timeouts.after_stdin_close,
        after_terminate: timeouts.after_sigterm,
        after_kill: AFTER_SIGKILL,
    }
}
