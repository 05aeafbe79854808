//! The one way an owner starts, used by the app and by `switchboard serve` alike, so the two
//! cannot drift apart: register the built-in knowledge base, take ownership of the servers (the
//! lock, the control endpoint, the sweep of a previous owner's orphans), watch the hosts' files
//! we wrote (their drift travels on the owner's event stream), and, once the caller listens,
//! start the enabled servers.

use std::sync::Arc;

use switchboard_core::{Env, Paths, ServerName, clock::SystemClock, settings};
use switchboard_gateway::Gateway;
use switchboard_hosts::{Guardian, GuardianOptions, Hosts};
use switchboard_runtime::{Event, EventBus, Owner, SupervisorConfig};
use tokio::sync::broadcast::error::RecvError;

use crate::{Result, knowledge_base};

/// How to launch: who is starting (recorded in `owner.json`), the supervisor's timings, and the
/// environment the binary read once when it started.
#[derive(Debug, Clone)]
pub struct Launch {
    /// `app` or `serve`.
    pub kind: &'static str,
    pub config: SupervisorConfig,
    pub env: Env,
}

/// A running owner and what runs beside it. Its servers are not started yet: the caller
/// subscribes to the owner's events first (the tray, the window), then calls
/// [`Launched::start_servers`], so no state change is missed.
#[derive(Debug)]
pub struct Launched {
    pub owner: Arc<Owner>,
    /// The hosts' config files, when a home folder was found.
    pub hosts: Option<Arc<Hosts>>,
    /// Watches the host files we wrote; `None` when there is no home folder or it failed to
    /// start (logged). Dropping it stops the watch.
    pub guardian: Option<Guardian>,
    /// Where hosts reach the servers; `None` (logged) when its port could not be had.
    pub gateway: Option<Gateway>,
}

impl Launched {
    /// Starts the enabled servers (spawn it: it ends when they are all up or failed); yields
    /// each failure.
    pub fn start_servers(
        &self,
    ) -> impl Future<Output = Vec<(ServerName, switchboard_runtime::Error)>> + Send + 'static {
        let supervisor = self.owner.supervisor().clone();
        async move { supervisor.start_enabled().await }
    }
}

/// Launches the owner of the servers in `paths`. Only taking ownership can fail (another owner
/// runs, the control port cannot be bound); the knowledge base and the guardian are logged and
/// skipped when they cannot be set up.
pub async fn launch(paths: Paths, launch: Launch) -> Result<Launched> {
    register_knowledge_base(&paths, &launch.env);
    let clock = Arc::new(SystemClock);
    let owner = Owner::start_with(paths, launch.config, launch.kind, clock, launch.env).await?;
    let owner = Arc::new(owner);
    let (hosts, guardian) = start_hosts(owner.paths(), owner.env(), owner.supervisor().events());
    let gateway = match crate::gateway::start(&owner).await {
        Ok(gateway) => {
            crate::gateway::forward_changes(&owner, gateway.changes());
            let idle_after = crate::gateway::follow_settings(&owner, gateway.activity()).await;
            crate::gateway::reap_idle(&owner, gateway.activity(), idle_after);
            crate::gateway::publish_traffic(&owner, gateway.activity());
            Some(gateway)
        }
        Err(e) => {
            tracing::error!("the gateway did not start: {e}");
            None
        }
    };
    Ok(Launched { owner, hosts, guardian, gateway })
}

/// The built-in knowledge-base server: registered on first start, its command kept pointing at
/// this executable. A failure is logged, never fatal.
fn register_knowledge_base(paths: &Paths, env: &Env) {
    let me = match knowledge_base::SelfCommand::current() {
        Ok(me) => me,
        Err(e) => return tracing::warn!("knowledge base: {e}"),
    };
    let folder = knowledge_base::default_folder(paths, env.home_override);
    match knowledge_base::ensure(paths, &me, &folder) {
        Ok(knowledge_base::Ensured::Registered(folder)) => {
            tracing::info!("registered the knowledge base over {}", folder.display());
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("knowledge base: {e}"),
    }
}

/// The hosts' files and their guardian, whose drift reports are forwarded to `events` as
/// [`Event::HostDrift`].
fn start_hosts(
    paths: &Paths,
    env: &Env,
    events: &EventBus,
) -> (Option<Arc<Hosts>>, Option<Guardian>) {
    let Some(hosts) = crate::host_files::hosts(paths, env) else { return (None, None) };
    let auto_reapply = settings::load(paths).is_ok_and(|s| s.hosts_auto_reapply);
    let options = GuardianOptions { auto_reapply, ..Default::default() };
    let guardian =
        match Guardian::start((*hosts).clone(), switchboard_core::Registry::new(paths), options) {
            Ok(guardian) => guardian,
            Err(e) => {
                tracing::warn!("the host guardian did not start: {e}");
                return (Some(hosts), None);
            }
        };
    let mut reports = guardian.subscribe();
    let events = events.clone();
    tokio::spawn(async move {
        loop {
            match reports.recv().await {
                Ok(report) => events.send(Event::HostDrift { report }),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            }
        }
    });
    (Some(hosts), Some(guardian))
}
