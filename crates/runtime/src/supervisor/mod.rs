//! The supervisor: one task per registered server (see [`server`]), a stats sampler, and the
//! records the next owner needs to clean up after a crash. [`Supervisor`] is a cheap handle.

mod instance;
mod pidbook;
mod server;
mod stats;

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use switchboard_mcp::Session;
use tokio::sync::{broadcast, mpsc, oneshot};

pub use crate::status::{
    Aggregate, Backoff, CrashLoop, Exit, ExitHistory, ProcessStats, ServerState, ServerStatus,
    StopTimeouts, SupervisorConfig, aggregate, should_restart,
};
pub use instance::Instance;
pub use pidbook::{ChildRecord, RUN_VAR, Swept, sweep_orphans};

use self::{
    pidbook::PidBook,
    server::{Command, Context, ServerTask, Shared},
};
use crate::{
    Error, Result,
    events::{Event, EventBus},
};
use switchboard_core::{
    Env,
    clock::Clock,
    logs::{LogLine, ServerLog},
    paths::Paths,
    registry::Servers,
    spec::{ServerName, ServerSpec},
};

struct Handle {
    spec: ServerSpec,
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
}

struct Inner {
    ctx: Arc<Context>,
    paths: Paths,
    servers: Mutex<BTreeMap<ServerName, Handle>>,
    stats_task: tokio::task::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stats_task.abort();
    }
}

/// Owns every server's task. Clone freely; all clones drive the same servers.
#[derive(Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").field("paths", &self.inner.paths).finish_non_exhaustive()
    }
}

impl Supervisor {
    /// Must be called inside a Tokio runtime. Records children in `paths.children_file()`;
    /// finds bare commands through `env`.
    pub fn new(
        paths: Paths,
        env: Env,
        config: SupervisorConfig,
        clock: Arc<dyn Clock>,
        events: EventBus,
    ) -> Self {
        let interval = config.stats_interval;
        let pids = PidBook::new(paths.children_file());
        pids.open_run();
        let ctx = Arc::new(Context { config, clock, events, pids, env, paths: paths.clone() });
        let inner = Arc::new_cyclic(|weak: &std::sync::Weak<Inner>| {
            let weak = weak.clone();
            let stats_task = tokio::spawn(async move {
                let mut sampler = stats::Sampler::new();
                let mut ticker = tokio::time::interval(interval);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    ticker.tick().await;
                    let Some(inner) = weak.upgrade() else { return };
                    Supervisor { inner }.sample_stats(&mut sampler);
                }
            });
            Inner { ctx, paths, servers: Mutex::new(BTreeMap::new()), stats_task }
        });
        Supervisor { inner }
    }

    pub fn events(&self) -> &EventBus {
        &self.inner.ctx.events
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.ctx.events.subscribe()
    }

    pub fn paths(&self) -> &Paths {
        &self.inner.paths
    }

    /// Makes the set of supervised servers match `servers`: new ones get a (stopped) task,
    /// changed ones get their new definition (a running server whose command changed restarts),
    /// removed ones are stopped and dropped.
    pub async fn sync(&self, servers: &Servers) {
        let mut removed = Vec::new();
        {
            let mut current = self.lock();
            let gone: Vec<ServerName> =
                current.keys().filter(|name| !servers.contains_key(*name)).cloned().collect();
            for name in gone {
                if let Some(handle) = current.remove(&name) {
                    removed.push((name, handle));
                }
            }
            for (name, spec) in servers {
                match current.get_mut(name) {
                    Some(handle) if handle.spec == *spec => {}
                    Some(handle) => {
                        handle.spec = spec.clone();
                        let _ = handle.commands.send(Command::Update(spec.clone()));
                        self.events()
                            .send(Event::ServerChanged { name: name.clone(), spec: spec.clone() });
                    }
                    None => {
                        let handle = self.spawn_task(name.clone(), spec.clone());
                        current.insert(name.clone(), handle);
                        self.events()
                            .send(Event::ServerAdded { name: name.clone(), spec: spec.clone() });
                    }
                }
            }
        }
        for (name, handle) in removed {
            let (done, wait) = oneshot::channel();
            if handle.commands.send(Command::Shutdown(done)).is_ok() {
                let _ = wait.await;
            }
            self.events().send(Event::ServerRemoved { name });
        }
    }

    fn spawn_task(&self, name: ServerName, spec: ServerSpec) -> Handle {
        let ctx = &self.inner.ctx;
        let shared = Arc::new(Shared {
            status: Mutex::new(ServerStatus::new(name.clone(), &spec)),
            log: ServerLog::new(self.inner.paths.server_log(&name), ctx.config.logs),
            connection: Mutex::new(None),
        });
        let (commands, receiver) = mpsc::unbounded_channel();
        let task = ServerTask::new(name, spec.clone(), ctx.clone(), shared.clone(), receiver);
        tokio::spawn(task.run());
        Handle { spec, commands, shared }
    }

    /// Starts a server and waits until it answered the handshake (or failed to).
    pub async fn start(&self, name: &str) -> Result<ServerStatus> {
        self.refuse_remote(name)?;
        self.ask(name, Command::Start).await
    }

    /// Remote servers have no process: the gateway and tester connect to them directly.
    fn refuse_remote(&self, name: &str) -> Result<()> {
        match self.lock().get_key_value(name) {
            Some((key, handle))
                if matches!(handle.spec.launch, switchboard_core::spec::Launch::Remote { .. }) =>
            {
                Err(Error::RemoteNotSupervised(key.to_string()))
            }
            _ => Ok(()),
        }
    }

    /// Stops a server gracefully and waits until it is gone.
    pub async fn stop(&self, name: &str) -> Result<ServerStatus> {
        self.ask(name, Command::Stop).await
    }

    /// Stops a lazy server that has gone without calls; it stays idle, and the next call through
    /// the gateway starts it again. A server that is not lazy, or not running, is left alone.
    pub async fn park(&self, name: &str) -> Result<ServerStatus> {
        self.ask(name, Command::Park).await
    }

    pub async fn restart(&self, name: &str) -> Result<ServerStatus> {
        self.refuse_remote(name)?;
        self.ask(name, Command::Restart).await
    }

    async fn ask(
        &self,
        name: &str,
        command: impl FnOnce(server::Reply) -> Command,
    ) -> Result<ServerStatus> {
        let (reply, answer) = oneshot::channel();
        {
            let servers = self.lock();
            let handle = servers.get(name).ok_or_else(|| Error::UnknownServer(name.to_owned()))?;
            handle.commands.send(command(reply)).map_err(|_| Error::ShuttingDown)?;
        }
        answer.await.map_err(|_| Error::ShuttingDown)?
    }

    /// Starts every enabled server that is not lazy, concurrently; returns each failure.
    pub async fn start_enabled(&self) -> Vec<(ServerName, Error)> {
        let names: Vec<ServerName> = self
            .lock()
            .iter()
            .filter(|(_, h)| {
                h.spec.enabled
                    && !h.spec.lazy
                    && matches!(h.spec.launch, switchboard_core::spec::Launch::Stdio { .. })
            })
            .map(|(name, _)| name.clone())
            .collect();
        let starts = names.into_iter().map(|name| async move {
            let result = self.start(name.as_str()).await;
            result.err().map(|e| (name, e))
        });
        futures::future::join_all(starts).await.into_iter().flatten().collect()
    }

    pub fn status(&self) -> Vec<ServerStatus> {
        self.lock().values().map(|h| h.shared.status()).collect()
    }

    /// The MCP session of a running server (`None` while it is not running): every host's
    /// calls share it.
    pub fn connection(&self, name: &str) -> Option<Arc<Session>> {
        self.lock().get(name).and_then(|h| h.shared.connection())
    }

    pub fn status_of(&self, name: &str) -> Result<ServerStatus> {
        self.lock()
            .get(name)
            .map(|h| h.shared.status())
            .ok_or_else(|| Error::UnknownServer(name.to_owned()))
    }

    /// The in-memory log ring of a server, oldest first.
    pub fn logs(&self, name: &str) -> Result<Vec<LogLine>> {
        self.lock()
            .get(name)
            .map(|h| h.shared.log.snapshot())
            .ok_or_else(|| Error::UnknownServer(name.to_owned()))
    }

    /// Stops every server gracefully (in parallel) and ends their tasks.
    pub async fn shutdown(&self) {
        let handles: Vec<mpsc::UnboundedSender<Command>> = {
            let mut servers = self.lock();
            std::mem::take(&mut *servers).into_values().map(|h| h.commands).collect()
        };
        let stops = handles.into_iter().map(|commands| async move {
            let (done, wait) = oneshot::channel();
            if commands.send(Command::Shutdown(done)).is_ok() {
                let _ = wait.await;
            }
        });
        futures::future::join_all(stops).await;
        self.inner.ctx.pids.close_run();
    }

    fn sample_stats(&self, sampler: &mut stats::Sampler) {
        let running: Vec<(ServerName, u32, Arc<Shared>)> = self
            .lock()
            .iter()
            .filter_map(|(name, h)| {
                h.shared.status().pid().map(|pid| (name.clone(), pid, h.shared.clone()))
            })
            .collect();
        let pids: Vec<u32> = running.iter().map(|(_, pid, _)| *pid).collect();
        let samples = sampler.sample(&pids);
        for ((name, pid, shared), stats) in running.into_iter().zip(samples) {
            let Some(stats) = stats else { continue };
            let still_same = shared.edit(|s| {
                let same = s.pid() == Some(pid);
                if same {
                    s.stats = Some(stats);
                }
                same
            });
            if still_same {
                self.events().send(Event::Stats { name, stats });
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<ServerName, Handle>> {
        self.inner.servers.lock().unwrap_or_else(|p| p.into_inner())
    }
}
