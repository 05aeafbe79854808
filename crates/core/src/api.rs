//! The operations the app's window offers, as plain async functions over an [`Owner`]. The Tauri
//! commands are one-line adapters over these; tests call them directly.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Owner, Result,
    logs::LogLine,
    settings::{self, DataLocations, Settings},
    spec::{ServerName, ServerSpec},
    supervisor::ServerStatus,
};

/// A registered server: what it is and how it is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ServerEntry {
    pub name: ServerName,
    pub spec: ServerSpec,
    pub status: ServerStatus,
}

/// Every registered server, by name.
pub async fn servers(owner: &Owner) -> Result<Vec<ServerEntry>> {
    let registry = owner.registry().clone();
    let specs = blocking(move || registry.load()).await?;
    let statuses = owner.supervisor().status();
    Ok(specs
        .into_iter()
        .map(|(name, spec)| {
            let status = statuses
                .iter()
                .find(|s| s.name == name)
                .cloned()
                .unwrap_or_else(|| ServerStatus::new(name.clone(), &spec));
            ServerEntry { name, spec, status }
        })
        .collect())
}

pub async fn add_server(owner: &Owner, name: &str, spec: ServerSpec) -> Result<()> {
    let name: ServerName = name.parse()?;
    let registry = owner.registry().clone();
    blocking(move || registry.add(name, spec)).await?;
    owner.reload().await
}

pub async fn update_server(owner: &Owner, name: &str, spec: ServerSpec) -> Result<()> {
    let name: ServerName = name.parse()?;
    let registry = owner.registry().clone();
    blocking(move || registry.replace(&name, spec)).await?;
    owner.reload().await
}

/// Unregisters a server; a running one is stopped first (by the reload).
pub async fn remove_server(owner: &Owner, name: &str) -> Result<()> {
    let name: ServerName = name.parse()?;
    let registry = owner.registry().clone();
    blocking(move || registry.remove(&name)).await?;
    owner.reload().await
}

pub async fn start(owner: &Owner, name: &str) -> Result<ServerStatus> {
    owner.supervisor().start(name).await
}

pub async fn stop(owner: &Owner, name: &str) -> Result<ServerStatus> {
    owner.supervisor().stop(name).await
}

pub async fn restart(owner: &Owner, name: &str) -> Result<ServerStatus> {
    owner.supervisor().restart(name).await
}

/// Starts every stdio server that is not running; returns the failures.
pub async fn start_all(owner: &Owner) -> Vec<(ServerName, Error)> {
    let supervisor = owner.supervisor();
    let names: Vec<ServerName> = supervisor
        .status()
        .into_iter()
        .filter(|s| s.transport == "stdio" && s.pid().is_none())
        .map(|s| s.name)
        .collect();
    let starts = names
        .into_iter()
        .map(|name| async move { supervisor.start(name.as_str()).await.err().map(|e| (name, e)) });
    futures::future::join_all(starts).await.into_iter().flatten().collect()
}

/// Stops every running server, in parallel.
pub async fn stop_all(owner: &Owner) {
    let supervisor = owner.supervisor();
    let names: Vec<ServerName> =
        supervisor.status().into_iter().filter(|s| s.pid().is_some()).map(|s| s.name).collect();
    let stops = names.iter().map(|name| supervisor.stop(name.as_str()));
    futures::future::join_all(stops).await;
}

pub fn logs(owner: &Owner, name: &str) -> Result<Vec<LogLine>> {
    owner.supervisor().logs(name)
}

pub async fn settings(owner: &Owner) -> Result<Settings> {
    let paths = owner.paths().clone();
    blocking(move || settings::load(&paths)).await
}

pub async fn save_settings(owner: &Owner, new: Settings) -> Result<()> {
    let paths = owner.paths().clone();
    blocking(move || settings::save(&paths, &new)).await
}

pub fn locations(owner: &Owner) -> DataLocations {
    DataLocations::from(owner.paths())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Control(e.to_string()))?
}
