//! The headless owner: `switchboard serve`, the owner `switchboard connect` starts for a host
//! when none runs, and the one the app starts when its servers must outlive it (the
//! `quitStopsServers` setting off). One loop serves them all: until a signal or a quit request
//! (`switchboard shutdown`, an app quitting an owner it started), then every server stops.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use switchboard_core::{Paths, process::spawn_detached};
use switchboard_runtime::control::{ControlClient, owner_running};

use crate::{Error, Launched, Result};

/// How long a started owner may take before its control endpoint answers.
const OWNER_START_LIMIT: Duration = Duration::from_secs(60);

/// Why a headless owner stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quit {
    /// SIGINT or SIGTERM (Ctrl-C elsewhere).
    Signal,
    /// A client asked through the control endpoint.
    Requested,
}

impl std::fmt::Display for Quit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Quit::Signal => "signal received",
            Quit::Requested => "asked to quit",
        })
    }
}

/// Resolves when the owner should stop: a signal or a quit request.
pub async fn until_quit(owner: &switchboard_runtime::Owner) -> Quit {
    tokio::select! {
        () = termination() => Quit::Signal,
        () = owner.quit_requested() => Quit::Requested,
    }
}

/// Stops what [`crate::launch`] started: the host guardian, the gateway, every server.
pub async fn stop(launched: Launched) {
    drop(launched.guardian);
    if let Some(gateway) = launched.gateway {
        gateway.stop().await;
    }
    launched.owner.shutdown().await;
}

#[cfg(unix)]
async fn termination() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn termination() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Who owns the servers once [`ensure_owner`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// An owner was running already (the app, `serve`, one a host's bridge started).
    Running,
    /// We started this one (its pid).
    Started(u32),
}

/// Makes sure an owner runs over `paths`: when none does, starts `program serve` in the
/// background (its own process group, output appended to `serve.log`) and waits until its
/// control endpoint answers.
pub async fn ensure_owner(paths: &Paths, program: &Path) -> Result<Ensured> {
    if owner_running(paths) {
        return Ok(Ensured::Running);
    }
    let log = serve_log(paths);
    let pid = spawn_detached(program, &["serve"], &log)?;
    tracing::info!("no owner was running; started one (pid {pid}, log {})", log.display());
    let deadline = Instant::now() + OWNER_START_LIMIT;
    loop {
        if let Ok(client) = ControlClient::connect(paths)
            && client.status().await.is_ok()
        {
            return Ok(Ensured::Started(pid));
        }
        if Instant::now() > deadline {
            return Err(Error::OwnerDidNotStart { log, seconds: OWNER_START_LIMIT.as_secs() });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where a headless owner started in the background writes its output.
pub fn serve_log(paths: &Paths) -> std::path::PathBuf {
    paths.log_dir.join("serve.log")
}

/// Asks the running owner to quit and waits (up to a minute) until it has stopped its servers
/// and let go of the state folder. `Ok(false)` when no owner was running.
pub async fn quit_owner(paths: &Paths) -> Result<bool> {
    let client = match ControlClient::connect(paths) {
        Ok(client) => client,
        Err(switchboard_runtime::Error::NoOwner { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    client.quit().await?;
    let deadline = Instant::now() + OWNER_START_LIMIT;
    while owner_running(paths) {
        if Instant::now() > deadline {
            return Err(Error::OwnerDidNotQuit { seconds: OWNER_START_LIMIT.as_secs() });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(true)
}
