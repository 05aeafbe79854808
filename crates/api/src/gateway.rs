//! The gateway in the owner: its port (chosen once, kept in the settings), and the supervisor
//! as the gateway's [`Upstreams`]: hosts see the servers that run, reach each one's single
//! session, and never the ones stopped or held.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures::future::BoxFuture;
use switchboard_core::{clock::Clock, settings};
use switchboard_gateway::{
    Activity, Changes, Dedicated, Gateway, GatewayConfig, Quiet, Resting, Timeouts, Unavailable,
    Upstreams,
};
use switchboard_mcp::Session;
use switchboard_runtime::{Event, HostTraffic, Owner, ServerState, Supervisor, pins::Pins};
use tokio::sync::broadcast::error::RecvError;

use crate::{Error, Result};

/// The running servers, as the gateway sees them.
struct Supervised {
    supervisor: Supervisor,
    clock: Arc<dyn Clock>,
}

impl Upstreams for Supervised {
    fn servers(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .supervisor
            .status()
            .into_iter()
            .filter(|s| {
                s.enabled && matches!(s.state, ServerState::Running { .. } | ServerState::Idle)
            })
            .map(|s| s.name.to_string())
            .collect();
        names.sort();
        names
    }

    fn resting(&self, server: &str) -> BoxFuture<'_, Option<Resting>> {
        let server = server.to_owned();
        Box::pin(async move {
            let status = self.supervisor.status_of(&server).ok()?;
            if status.state != ServerState::Idle {
                return None;
            }
            let pins = Pins::new(&self.supervisor.paths().data_dir);
            let name = status.name.clone();
            let tools = match crate::blocking(move || pins.load(&name)).await {
                Ok(Some(record)) => Some(
                    record
                        .tools
                        .into_iter()
                        .filter_map(|pin| {
                            serde_json::from_value(serde_json::Value::Object(pin.definition)).ok()
                        })
                        .collect(),
                ),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!("{server}: its pinned tools could not be read: {e}");
                    None
                }
            };
            Some(Resting { tools })
        })
    }

    fn knows(&self, server: &str) -> bool {
        self.supervisor.status_of(server).is_ok()
    }

    fn running(&self, server: &str) -> Option<Arc<Session>> {
        self.supervisor.connection(server)
    }

    fn session(&self, server: &str) -> BoxFuture<'_, Result<Arc<Session>, Unavailable>> {
        let server = server.to_owned();
        Box::pin(async move {
            if let Some(session) = self.supervisor.connection(&server) {
                return Ok(session);
            }
            let status = self
                .supervisor
                .status_of(&server)
                .map_err(|_| Unavailable::Unknown(server.clone()))?;
            match status.state {
                ServerState::BackingOff { until_ms, .. } => Err(Unavailable::Failed(format!(
                    "{server} exited and Switchboard restarts it in {} s",
                    until_ms.saturating_sub(self.clock.now_ms()).div_ceil(1000)
                ))),
                // A start under way, or a lazy server's first call: start it (or wait for the
                // start under way) and go through.
                ServerState::Starting { .. } | ServerState::Idle => {
                    self.supervisor
                        .start(&server)
                        .await
                        .map_err(|e| Unavailable::Failed(e.to_string()))?;
                    self.supervisor.connection(&server).ok_or(Unavailable::Stopped(server))
                }
                ServerState::Failed { reason } => {
                    Err(Unavailable::Failed(format!("{server} is not running: {reason}")))
                }
                ServerState::Running { .. } => Err(Unavailable::Failed(format!(
                    "{server} is a remote server; the gateway does not reach remote servers yet"
                ))),
                _ => Err(Unavailable::Stopped(server)),
            }
        })
    }

    fn per_session(&self, server: &str) -> bool {
        self.supervisor.status_of(server).is_ok_and(|s| s.per_session)
    }

    fn instance(&self, server: &str) -> BoxFuture<'_, Result<Dedicated, Unavailable>> {
        let server = server.to_owned();
        Box::pin(async move {
            let status = self
                .supervisor
                .status_of(&server)
                .map_err(|_| Unavailable::Unknown(server.clone()))?;
            // Hosts reach it while it runs, or rests idle (lazy); not when stopped or held.
            if !matches!(status.state, ServerState::Running { .. } | ServerState::Idle) {
                return Err(Unavailable::Stopped(server));
            }
            let instance = self
                .supervisor
                .instance(&server)
                .await
                .map_err(|e| Unavailable::Failed(e.to_string()))?;
            Ok(Dedicated { session: instance.session().clone(), keep: Box::new(instance) })
        })
    }
}

/// Tells the gateway's sessions when a server appears in or leaves hosts' lists: it started,
/// stopped, failed or was held. Ends with the owner's event stream.
pub(crate) fn forward_changes(owner: &Owner, changes: Changes) {
    let mut events = owner.supervisor().subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(Event::StateChanged { name, state, .. }) => {
                    if matches!(
                        state,
                        ServerState::Running { .. }
                            | ServerState::Stopped
                            | ServerState::Failed { .. }
                    ) {
                        changes.server_changed(name.as_str());
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => changes.server_changed(""),
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// Stops each lazy server that has had no request through the gateway for the `idleStopSeconds`
/// setting (`idle_after`, kept current by [`follow_settings`]); it goes back to idle and the next
/// call starts it. Likewise a per-session server's process kept for a 2026-07-28 host. Ends with
/// the gateway.
pub(crate) fn reap_idle(owner: &Owner, activity: Activity, idle_after: Arc<AtomicU64>) {
    let (supervisor, clock) = (owner.supervisor().clone(), owner.clock().clone());
    tokio::spawn(async move {
        loop {
            let idle_after = idle_after.load(Ordering::Relaxed);
            // Checked at least twice per idle period, and at least every 30 s.
            let every = Duration::from_millis((idle_after * 500).clamp(500, 30_000));
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = activity.stopped() => return,
            }
            if idle_after == 0 {
                continue;
            }
            let ended = activity.release_idle_processes(Duration::from_secs(idle_after)).await;
            if ended > 0 {
                tracing::info!("stopped {ended} per-session process(es) idle for {idle_after} s");
            }
            let now = clock.now_ms();
            for status in supervisor.status() {
                let ServerState::Running { since_ms, .. } = status.state else { continue };
                if !status.lazy {
                    continue;
                }
                let last = match activity.quiet(status.name.as_str()) {
                    Quiet::Busy => continue,
                    Quiet::Since(last) => last.max(since_ms),
                    Quiet::Never => since_ms,
                };
                if now.saturating_sub(last) >= idle_after * 1000 {
                    tracing::info!("{}: idle for {idle_after} s, stopping it", status.name);
                    if let Err(e) = supervisor.park(status.name.as_str()).await {
                        tracing::warn!("{}: could not be stopped when idle: {e}", status.name);
                    }
                }
            }
        }
    });
}

/// The running owner's gateway status (its sessions and servers), read from the gateway with the
/// owner's control token.
pub async fn status(paths: &switchboard_core::Paths) -> Result<switchboard_gateway::Status> {
    switchboard_runtime::control::ControlClient::connect(paths)?;
    let info = switchboard_runtime::OwnerInfo::read(paths)
        .ok_or_else(|| Error::Bridge("the owner's address cannot be read".into()))?;
    let port = settings::load(paths)?.gateway_port.ok_or_else(|| {
        Error::Bridge(
            "the gateway has not run yet: start Switchboard (the app or `switchboard serve`) once"
                .into(),
        )
    })?;
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/gateway/status"))
        .bearer_auth(&info.token)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| {
            Error::Bridge(format!("the gateway does not answer on 127.0.0.1:{port}: {e}"))
        })?;
    if !response.status().is_success() {
        return Err(Error::Bridge(format!("the gateway answered {}", response.status())));
    }
    response.json().await.map_err(|e| Error::Bridge(format!("the gateway's status: {e}")))
}

/// The call deadlines `settings` ask for.
pub(crate) fn timeouts(settings: &settings::Settings) -> Timeouts {
    let secs = |s: &u64| Duration::from_secs((*s).max(1));
    Timeouts {
        default: secs(&settings.call_timeout_seconds),
        servers: settings
            .server_call_timeout_seconds
            .iter()
            .map(|(k, v)| (k.clone(), secs(v)))
            .collect(),
        hosts: settings
            .host_call_timeout_seconds
            .iter()
            .map(|(k, v)| (k.clone(), secs(v)))
            .collect(),
    }
}

/// Follows the settings the gateway depends on, read now and every two seconds (a broken file
/// keeps what is in force): the call deadlines, applied when they change, and the idle period the
/// reaper reads (returned). Ends with the gateway.
pub(crate) async fn follow_settings(owner: &Owner, activity: Activity) -> Arc<AtomicU64> {
    let paths = owner.paths().clone();
    let idle_after = Arc::new(AtomicU64::new(settings::Settings::default().idle_stop_seconds));
    // Read once before returning, so the reaper starts with the configured period.
    let mut last = apply_settings(&paths, &activity, &idle_after, None).await;
    let idle = idle_after.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
                () = activity.stopped() => return,
            }
            last = apply_settings(&paths, &activity, &idle, last).await;
        }
    });
    idle_after
}

/// Reads the settings and applies what changed since `last`; returns what is in force.
async fn apply_settings(
    paths: &switchboard_core::Paths,
    activity: &Activity,
    idle: &AtomicU64,
    last: Option<Timeouts>,
) -> Option<Timeouts> {
    let paths = paths.clone();
    let Ok(settings) = crate::blocking(move || settings::load(&paths)).await else {
        return last;
    };
    idle.store(settings.idle_stop_seconds, Ordering::Relaxed);
    activity.set_views(settings.host_views.clone());
    let now = timeouts(&settings);
    if last.as_ref() != Some(&now) {
        activity.set_timeouts(now.clone());
    }
    Some(now)
}

/// Every registered server as hosts reach it through `activity` now.
pub fn traffic(owner: &Owner, activity: &Activity) -> Vec<HostTraffic> {
    let statuses = owner.supervisor().status();
    let names: Vec<String> = statuses.iter().map(|s| s.name.to_string()).collect();
    let instances =
        |name: &str| statuses.iter().find(|s| s.name.as_str() == name).map_or(0, |s| s.instances);
    activity
        .servers(&names, owner.clock().now_ms())
        .into_iter()
        .map(|t| HostTraffic {
            instances: instances(&t.name),
            name: t.name,
            hosts: t.hosts,
            calls: t.calls,
            errors: t.errors,
        })
        .collect()
}

/// Tells the owner's event stream (the window, `switchboard events`) who reaches the servers,
/// whenever that changed, checked once a second. Ends with the gateway.
pub(crate) fn publish_traffic(owner: &Arc<Owner>, activity: Activity) {
    let owner = Arc::downgrade(owner);
    tokio::spawn(async move {
        let mut last = Vec::new();
        loop {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = activity.stopped() => return,
            }
            let Some(owner) = owner.upgrade() else { return };
            let now = traffic(&owner, &activity);
            if now != last {
                owner.supervisor().events().send(Event::Traffic { servers: now.clone() });
                last = now;
            }
        }
    });
}

/// Starts the owner's gateway on its kept port (a free one is chosen and kept the first time).
pub(crate) async fn start(owner: &Owner) -> Result<Gateway> {
    let paths = owner.paths().clone();
    let saved = {
        let paths = paths.clone();
        crate::blocking(move || settings::load(&paths)).await?
    };
    let listener = match saved.gateway_port {
        Some(port) => tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            Error::Gateway(switchboard_gateway::Error::Bind(format!(
                "port {port} on 127.0.0.1 (kept in the settings as gatewayPort so hosts' entries \
                 stay valid) is taken: {e}. Free it, or set another gatewayPort and reconnect the hosts"
            )))
        })?,
        None => {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(|e| Error::Gateway(switchboard_gateway::Error::Bind(e.to_string())))?;
            let port = listener
                .local_addr()
                .map_err(|e| Error::Gateway(switchboard_gateway::Error::Bind(e.to_string())))?
                .port();
            let mut chosen = saved.clone();
            chosen.gateway_port = Some(port);
            crate::blocking(move || settings::save(&paths, &chosen)).await?;
            listener
        }
    };
    let upstreams = Arc::new(Supervised {
        supervisor: owner.supervisor().clone(),
        clock: owner.clock().clone(),
    });
    let mut config = GatewayConfig::new(owner.info().token.clone());
    config.timeouts = timeouts(&saved);
    Ok(Gateway::start(listener, owner.paths(), config, upstreams, owner.clock().clone())?)
}
