//! The gateway in the owner: its port (chosen once, kept in the settings), and the supervisor
//! as the gateway's [`Upstreams`]: hosts see the servers that run, reach each one's single
//! session, and never the ones stopped or held.

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard_core::{clock::Clock, settings};
use switchboard_gateway::{Changes, Gateway, GatewayConfig, Unavailable, Upstreams};
use switchboard_mcp::Session;
use switchboard_runtime::{Event, Owner, ServerState, Supervisor};
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
            .filter(|s| s.enabled && matches!(s.state, ServerState::Running { .. }))
            .map(|s| s.name.to_string())
            .collect();
        names.sort();
        names
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
                // A start under way: wait for it to settle.
                ServerState::Starting { .. } => {
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
    let config = GatewayConfig::new(owner.info().token.clone());
    Ok(Gateway::start(listener, owner.paths(), config, upstreams, owner.clock().clone())?)
}
