//! Every operation the app's window and the CLI offer, as plain functions over an [`Owner`] (or
//! over [`Paths`](switchboard_core::Paths) where no owner is needed), and the one way an owner
//! starts ([`launch`]). The Tauri commands are one-line adapters over these; the CLI calls them
//! directly or through the owner's control endpoint; tests call them directly.

pub mod budget;
pub mod connect;
mod context;
mod error;
mod gateway;
pub use gateway::{status as gateway_status, traffic};
pub mod headless;
mod host_files;
pub mod knowledge_base;
mod launch;
mod link;

pub use context::{Approval, Context, UpdateCheck};
pub use error::{Error, Result};
pub use host_files::{Entries, HostWrite, host_status, host_undo, host_write, hosts};
pub use launch::{Launch, Launched, launch};
pub use link::{Action, Attached, Link};

use serde::{Deserialize, Serialize};

use switchboard_runtime::supervisor::ServerStatus;

use switchboard_catalog::ServerJson;

use switchboard_install::{Field, Installed, Installer, Request, Way};

use switchboard_core::{
    logs::LogLine,
    settings::{self, DataLocations, Settings},
    spec::{ServerName, ServerSpec},
};

/// A registered server: what it is and how it is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ServerEntry {
    pub name: ServerName,
    pub spec: ServerSpec,
    pub status: ServerStatus,
}

/// Every registered server, by name.
pub async fn servers(link: &Link) -> Result<Vec<ServerEntry>> {
    let registry = switchboard_core::Registry::new(link.paths());
    let specs = blocking(move || registry.load()).await?;
    let statuses = link.status().await?;
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

/// Registers a server and runs it if it is enabled.
pub async fn add_server(link: &Link, name: &str, spec: ServerSpec) -> Result<()> {
    link.context().add_server(name, spec).await?;
    link.reload().await
}

pub async fn update_server(link: &Link, name: &str, spec: ServerSpec) -> Result<()> {
    link.context().update_server(name, spec).await?;
    link.reload().await
}

/// Unregisters a server; a running one is stopped first (by the reload). A server installed
/// from the catalog is uninstalled: its package, secrets and pins go too.
pub async fn remove_server(link: &Link, name: &str) -> Result<()> {
    link.context().remove_server(name).await?;
    link.reload().await
}

/// What removing a server took away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// Installed from the catalog: uninstalled, with these things gone (package, secrets, pins…).
    Uninstalled(Vec<String>),
    /// Added by hand: its registry entry is gone.
    Unregistered,
}

/// Removes a server from the registry; one installed from the catalog is uninstalled, so its
/// package, secrets and pins do not linger. Needs no owner: whoever runs one reloads after.
/// Blocking (file I/O under the registry's lock).
fn remove_entry(paths: &switchboard_core::Paths, name: &ServerName) -> Result<Removed> {
    let installer = Installer::without_runtimes(paths);
    if installer.record(name)?.is_some() {
        return Ok(installer.uninstall(name.as_str()).map(Removed::Uninstalled)?);
    }
    switchboard_core::Registry::new(paths).remove(name)?;
    Ok(Removed::Unregistered)
}

pub async fn start(link: &Link, name: &str) -> Result<ServerStatus> {
    link.act(name, Action::Start).await
}

pub async fn stop(link: &Link, name: &str) -> Result<ServerStatus> {
    link.act(name, Action::Stop).await
}

pub async fn restart(link: &Link, name: &str) -> Result<ServerStatus> {
    link.act(name, Action::Restart).await
}

/// Starts every stdio server that is not running; returns the failures.
pub async fn start_all(link: &Link) -> Vec<(String, Error)> {
    let statuses = match link.status().await {
        Ok(statuses) => statuses,
        Err(e) => return vec![("the owner".to_owned(), e)],
    };
    let names: Vec<ServerName> = statuses
        .into_iter()
        .filter(|s| {
            s.transport == switchboard_core::spec::ServerTransport::Stdio && s.pid().is_none()
        })
        .map(|s| s.name)
        .collect();
    let starts = names.into_iter().map(|name| async move {
        link.act(name.as_str(), Action::Start).await.err().map(|e| (name.to_string(), e))
    });
    futures::future::join_all(starts).await.into_iter().flatten().collect()
}

/// Stops every running server, in parallel.
pub async fn stop_all(link: &Link) {
    let Ok(statuses) = link.status().await else { return };
    let names: Vec<ServerName> =
        statuses.into_iter().filter(|s| s.pid().is_some()).map(|s| s.name).collect();
    let stops = names.iter().map(|name| link.act(name.as_str(), Action::Stop));
    futures::future::join_all(stops).await;
}

pub async fn logs(link: &Link, name: &str) -> Result<Vec<LogLine>> {
    link.logs(name).await
}

pub async fn settings(link: &Link) -> Result<Settings> {
    let paths = link.paths().clone();
    blocking(move || settings::load(&paths)).await
}

pub async fn save_settings(link: &Link, new: Settings) -> Result<()> {
    let paths = link.paths().clone();
    blocking(move || settings::save(&paths, &new)).await
}

pub fn locations(link: &Link) -> DataLocations {
    DataLocations::from(link.paths())
}

/// What the install dialog shows for an entry: the entry, the way it would be installed here,
/// the form that way declares, the local name, and why it cannot be installed, if it cannot.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct InstallForm {
    pub server: ServerJson,
    pub name: String,
    #[ts(optional)]
    pub way: Option<Way>,
    pub fields: Vec<Field>,
    /// The commands that will run, one line each (shown before anything runs).
    pub commands: Vec<String>,
    pub notes: Vec<String>,
    /// Why it cannot be installed here (a missing runtime), if so.
    #[ts(optional)]
    pub blocked: Option<String>,
}

pub async fn install_form(ctx: &Context, entry: &str) -> Result<InstallForm> {
    let server = ctx.lookup(entry, None).await?;
    let installer = ctx.installer();
    let request = Request { server: server.clone(), name: None, way: None, answers: Vec::new() };
    let name = switchboard_install::local_name(&server.name);
    let (fields, unreadable) = match installer.fields(&request).await {
        Ok(fields) => (fields, None),
        // A bundle that cannot be downloaded or fails its checksum cannot be installed either.
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    // The plan with stand-in answers that pass the checks: its commands do not depend on them.
    let stand_in = |f: &switchboard_install::Field| match f.format.as_str() {
        _ if !f.choices.is_empty() => f.choices[0].clone(),
        "filepath" => std::env::temp_dir().display().to_string(),
        "number" => "0".into(),
        "boolean" => "false".into(),
        _ => "…".into(),
    };
    let placeholders: Vec<(String, String)> = fields
        .iter()
        .filter(|f| f.required && f.default.is_none())
        .map(|f| (f.key.clone(), stand_in(f)))
        .collect();
    let (way, commands, notes, blocked) =
        match installer.plan(&Request { answers: placeholders, ..request.clone() }) {
            Ok(plan) => (
                Some(plan.way),
                plan.steps
                    .iter()
                    .map(|s| if s.argv.is_empty() { s.label.clone() } else { s.argv.join(" ") })
                    .collect(),
                plan.notes,
                None,
            ),
            // Answers that fail the checks are the form's business; a missing runtime is not.
            Err(switchboard_install::Error::InvalidInputs { .. }) => {
                (None, Vec::new(), Vec::new(), None)
            }
            Err(e) => (None, Vec::new(), Vec::new(), Some(e.to_string())),
        };
    let blocked = unreadable.or(blocked);
    Ok(InstallForm { server, name, way, fields, commands, notes, blocked })
}

/// Installs a catalog entry (fetch, verify, register), then starts it. Each step is published
/// on the owner's event stream as [`Event::InstallProgress`](switchboard_runtime::Event).
pub async fn install(
    link: &Link,
    entry: &str,
    name: Option<String>,
    answers: Vec<(String, String)>,
) -> Result<Installed> {
    let ctx = link.context();
    let server = ctx.lookup(entry, None).await?;
    let request = Request { server, name, way: None, answers };
    let installed = ctx.install(request, None, &|_| {}).await?;
    link.reload().await?;
    // A remote server has no process to start: hosts reach it by its URL.
    match link.act(&installed.name, Action::Start).await {
        Err(e) if e.code() == switchboard_core::ErrorCode::RemoteNotSupervised => {}
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    Ok(installed)
}

/// Uninstalls a server: everything its install created goes; a running one is stopped.
pub async fn uninstall(link: &Link, name: &str) -> Result<Vec<String>> {
    let removed = link.context().uninstall(name).await?;
    link.reload().await?;
    Ok(removed)
}

/// Approves a held server's new tools and starts it.
pub async fn pins_approve(link: &Link, name: &str) -> Result<ServerStatus> {
    link.context().approve_tools(name).await?;
    link.act(name, Action::Start).await
}

/// Runs file I/O off the async runtime.
async fn blocking<T: Send + 'static, E: Into<Error> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Task(e.to_string()))?
        .map_err(Into::into)
}
