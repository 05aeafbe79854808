//! The hosts' config files as operations: status, a planned or real write, undo. The CLI's
//! `hosts` commands and the window's Hosts view both come through here; the files are read and
//! written off the async runtime.

use std::{path::PathBuf, sync::Arc};

use switchboard_core::{Env, Paths, Registry, ServerName, ServerSpec};
use switchboard_hosts::{
    Action, Bridge, HostEnv, HostId, HostStatus, Hosts, JournalRecord, Plan, Written,
};

use crate::{Error, Result, blocking};

/// Which of our entries a write is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entries {
    /// Add or update these registered servers; `None`: every enabled one.
    Apply(Option<Vec<String>>),
    /// Remove these of our entries; `None`: all of ours in the file.
    Remove(Option<Vec<String>>),
    /// Make ours exactly these registered servers.
    Sync(Vec<String>),
}

/// A write to one of a host's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostWrite {
    pub host: HostId,
    /// A project's file instead of the user's (an absolute folder).
    pub project: Option<PathBuf>,
    /// A VS Code profile's file.
    pub profile: Option<String>,
    pub entries: Entries,
    /// Also replace or remove entries Switchboard did not write.
    pub force: bool,
    /// Plan only; write nothing.
    pub dry_run: bool,
}

/// The hosts' config files as this user's home has them; `None` (logged) without a home folder.
/// A process that is not the owner (the app while `serve` runs) still reads and writes them.
pub fn hosts(paths: &Paths, env: &Env) -> Option<Arc<Hosts>> {
    let Some(env) = HostEnv::from_core(env) else {
        tracing::warn!("no home folder: hosts' config files cannot be located");
        return None;
    };
    Some(Arc::new(Hosts::new(paths, env, Bridge::current())))
}

/// Every host: detected or not, its files, our entries and others', drift.
pub async fn host_status(
    hosts: Arc<Hosts>,
    paths: &Paths,
    project: Option<PathBuf>,
) -> Result<Vec<HostStatus>> {
    let registry = Registry::new(paths);
    blocking(move || {
        let servers = registry.load()?;
        Ok::<_, Error>(hosts.status(&servers, project.as_deref())?)
    })
    .await
}

/// Plans the write and, unless it is a dry run, does it (journalled, backed up, undoable).
pub async fn host_write(
    hosts: Arc<Hosts>,
    paths: &Paths,
    write: HostWrite,
) -> Result<(Plan, Option<Written>)> {
    let registry = Registry::new(paths);
    blocking(move || {
        let file =
            hosts.target_in(write.host, write.project.as_deref(), write.profile.as_deref())?;
        let action = match write.entries {
            Entries::Apply(names) => Action::Apply(selected(&registry, names.as_deref())?),
            Entries::Remove(names) => Action::Remove(names),
            Entries::Sync(names) => Action::Sync(selected(&registry, Some(&names))?),
        };
        if write.dry_run {
            return Ok((hosts.plan(&file, &action, write.force)?, None));
        }
        Ok::<_, Error>(hosts.write(&file, &action, write.force)?)
    })
    .await
}

/// Undoes Switchboard's last write to `host`'s files; refuses over a later edit unless `force`.
pub async fn host_undo(hosts: Arc<Hosts>, host: HostId, force: bool) -> Result<JournalRecord> {
    blocking(move || hosts.undo(host, force)).await
}

/// The registered servers named (`None`: every enabled one), with their definitions.
fn selected(
    registry: &Registry,
    names: Option<&[String]>,
) -> Result<Vec<(ServerName, ServerSpec)>> {
    let servers = registry.load()?;
    match names {
        None => Ok(servers.into_iter().filter(|(_, s)| s.enabled).collect()),
        Some(names) => names
            .iter()
            .map(|n| {
                let name: ServerName = n.parse()?;
                let spec =
                    servers.get(&name).cloned().ok_or_else(|| Error::NotRegistered(n.clone()))?;
                Ok((name, spec))
            })
            .collect(),
    }
}
