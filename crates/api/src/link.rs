//! The owner of the servers as the window and the tray reach it. Either this process owns them
//! (the app started first: [`Link::Own`]), or another one does — a headless owner that
//! `switchboard connect` started for a host at login, or `switchboard serve` — and the app
//! *attaches* to it through its control endpoint ([`Link::Attached`]): same servers, same
//! events, nothing restarted, no host's session interrupted. Every operation the window offers
//! works through either.

use std::sync::Arc;

use switchboard_core::{Env, Paths, clock::Clock};
use switchboard_runtime::{Event, EventBus, Owner, ServerStatus, control::ControlClient};
use tokio::sync::broadcast;

use crate::{Context, Result};

/// Where the servers are owned (module docs).
#[derive(Clone)]
pub enum Link {
    Own(Arc<Owner>),
    Attached(Arc<Attached>),
}

/// Another process's owner, reached through its control endpoint.
pub struct Attached {
    client: ControlClient,
    context: Context,
    /// The owner's events, read from its `/v1/events` stream and published here.
    events: EventBus,
}

impl Attached {
    /// Attaches to the owner running over `paths`, if one does; its events start flowing to
    /// [`Link::subscribe`] at once.
    pub fn connect(paths: &Paths, env: &Env, clock: Arc<dyn Clock>) -> Result<Arc<Attached>> {
        let client = ControlClient::connect(paths)?;
        let events = EventBus::default();
        let attached = Arc::new(Attached {
            client,
            context: Context::new(paths.clone(), env.clone(), clock),
            events,
        });
        tokio::spawn(follow(attached.client.clone(), attached.events.clone()));
        Ok(attached)
    }
}

/// Republishes the owner's events until it stops (then publishes nothing more).
async fn follow(client: ControlClient, bus: EventBus) {
    use futures::StreamExt;
    let lines = match client.events().await {
        Ok(lines) => lines,
        Err(e) => return tracing::warn!("the owner's events cannot be followed: {e}"),
    };
    futures::pin_mut!(lines);
    while let Some(line) = lines.next().await {
        match line.map(|l| serde_json::from_str::<Event>(&l)) {
            Ok(Ok(event)) => bus.send(event),
            Ok(Err(e)) => tracing::debug!("an event of the owner's could not be read: {e}"),
            Err(e) => {
                tracing::warn!("the owner's event stream ended: {e}");
                break;
            }
        }
    }
}

impl Link {
    pub fn paths(&self) -> &Paths {
        match self {
            Link::Own(owner) => owner.paths(),
            Link::Attached(attached) => &attached.context.paths,
        }
    }

    pub fn env(&self) -> &Env {
        match self {
            Link::Own(owner) => owner.env(),
            Link::Attached(attached) => &attached.context.env,
        }
    }

    /// The folders, environment, clock and (for our own owner) event stream operations use.
    pub fn context(&self) -> Context {
        match self {
            Link::Own(owner) => Context::of(owner),
            Link::Attached(attached) => attached.context.clone(),
        }
    }

    /// Whether another process owns the servers.
    pub fn is_attached(&self) -> bool {
        matches!(self, Link::Attached(_))
    }

    /// Every server's status.
    pub async fn status(&self) -> Result<Vec<ServerStatus>> {
        match self {
            Link::Own(owner) => Ok(owner.supervisor().status()),
            Link::Attached(attached) => Ok(attached.client.status().await?),
        }
    }

    /// The owner re-reads the registry (after a change to `servers.json`).
    pub async fn reload(&self) -> Result<()> {
        match self {
            Link::Own(owner) => Ok(owner.reload().await?),
            Link::Attached(attached) => Ok(attached.client.reload().await?),
        }
    }

    /// Starts, stops or restarts `name`.
    pub async fn act(&self, name: &str, action: Action) -> Result<ServerStatus> {
        match self {
            Link::Own(owner) => {
                let supervisor = owner.supervisor();
                Ok(match action {
                    Action::Start => supervisor.start(name).await,
                    Action::Stop => supervisor.stop(name).await,
                    Action::Restart => supervisor.restart(name).await,
                }?)
            }
            Link::Attached(attached) => Ok(attached.client.action(name, action.as_str()).await?),
        }
    }

    /// `name`'s recent log lines.
    pub async fn logs(&self, name: &str) -> Result<Vec<switchboard_core::logs::LogLine>> {
        match self {
            Link::Own(owner) => Ok(owner.supervisor().logs(name)?),
            Link::Attached(attached) => Ok(attached.client.logs(name).await?),
        }
    }

    /// Who reaches each server through the attached owner's gateway (`None` for our own
    /// owner, whose gateway is asked directly).
    pub async fn attached_traffic(&self) -> Option<Result<Vec<switchboard_runtime::HostTraffic>>> {
        match self {
            Link::Own(_) => None,
            Link::Attached(attached) => {
                Some(attached.client.traffic().await.map_err(crate::Error::from))
            }
        }
    }

    /// The owner's events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        match self {
            Link::Own(owner) => owner.supervisor().subscribe(),
            Link::Attached(attached) => attached.events.subscribe(),
        }
    }

    /// Our own owner, when this process has one.
    pub fn own(&self) -> Option<&Arc<Owner>> {
        match self {
            Link::Own(owner) => Some(owner),
            Link::Attached(_) => None,
        }
    }
}

/// What [`Link::act`] does to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Restart,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Restart => "restart",
        }
    }
}
