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

/// The stdio bridge a host's entry runs (`switchboard connect`, `switchboard-app connect`):
/// makes sure an owner runs (starting `program serve` when none does) and its gateway listens,
/// then forwards stdin/stdout to `/mcp` (or `/mcp/<server>`) with `host`'s token, which it reads
/// (or makes) itself, so the host's file holds no secret. `announce` hears that an owner was
/// started, for the host's log.
pub async fn bridge(
    paths: &Paths,
    program: &Path,
    host: &str,
    server: Option<&str>,
    announce: impl Fn(&str),
) -> Result<()> {
    if let Ensured::Started(pid) = ensure_owner(paths, program).await? {
        announce(&format!(
            "no Switchboard was running; started one (pid {pid}, log {})",
            serve_log(paths).display()
        ));
    }
    let port = gateway_listening(paths).await?;
    let now = switchboard_core::clock::Clock::now_ms(&switchboard_core::clock::SystemClock);
    let token = switchboard_gateway::Tokens::new(paths).token_for(host, now)?;
    let url = match server {
        Some(server) => format!("http://127.0.0.1:{port}/mcp/{server}"),
        None => format!("http://127.0.0.1:{port}/mcp"),
    };
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|e| Error::Bridge(format!("the token is not a valid header value: {e}")))?;
    headers.insert(reqwest::header::AUTHORIZATION, value);
    switchboard_core::mcp::bridge::stdio_to_http(&url, headers, false)
        .await
        .map_err(|e| Error::Bridge(e.to_string()))
}

/// The gateway's port once the running owner's gateway accepts connections (up to a minute).
async fn gateway_listening(paths: &Paths) -> Result<u16> {
    let deadline = Instant::now() + OWNER_START_LIMIT;
    loop {
        if owner_running(paths)
            && let Ok(Some(port)) = switchboard_core::settings::load(paths).map(|s| s.gateway_port)
            && tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
        {
            return Ok(port);
        }
        if Instant::now() > deadline {
            return Err(Error::Bridge(format!(
                "Switchboard's gateway did not come up within {} s; see {}",
                OWNER_START_LIMIT.as_secs(),
                serve_log(paths).display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
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
