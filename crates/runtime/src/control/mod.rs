//! The control endpoint: how the CLI (and anything else) talks to the process that owns the
//! servers. Loopback HTTP on an ephemeral port; every request needs the owner's bearer token
//! (from the owner-only `run/owner.json`) and a loopback `Host`, and browser requests (any
//! `Origin`) are refused, so a web page cannot drive it (DNS rebinding, CSRF).

mod client;
mod server;

pub use client::ControlClient;
pub(crate) use server::{ControlState, LatestTraffic, serve};

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::{Result, supervisor::Supervisor};

use switchboard_core::{fsutil::FileLock, paths::Paths, registry::Registry};

/// 256 random bits, hex.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn reload(registry: &Registry, supervisor: &Supervisor) -> Result<()> {
    let registry = registry.clone();
    let servers = tokio::task::spawn_blocking(move || registry.load())
        .await
        .map_err(|e| crate::Error::Control(e.to_string()))??;
    supervisor.sync(&servers).await;
    Ok(())
}

/// What `run/owner.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerInfo {
    pub pid: u32,
    /// `serve` or `app`.
    pub kind: String,
    pub port: u16,
    pub token: String,
    pub started_ms: u64,
}

impl OwnerInfo {
    pub fn read(paths: &Paths) -> Option<OwnerInfo> {
        let bytes = std::fs::read(paths.owner_file()).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// True when some process holds the owner lock of `paths`.
pub fn owner_running(paths: &Paths) -> bool {
    match FileLock::try_exclusive(&paths.owner_lock()) {
        Ok(Some(_free)) => false,
        Ok(None) => true,
        Err(_) => false,
    }
}
