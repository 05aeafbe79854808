//! What is in the host files now: every host, detected or not, its files, and their entries
//! (ours with their drift, and others').

use std::path::{Path, PathBuf};

use serde::Serialize;
use switchboard_core::spec::ServerName;

use super::{Hosts, file_error, read_text};
use crate::{
    ConfigFile, HostId, Result, Scope, edit, locations,
    store::{Store, value_sha256},
};

/// The state of one entry in a host file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum EntryState {
    /// Ours, as we wrote it, and what we would write now.
    InSync,
    /// Ours, as we wrote it, but the server's definition has changed since.
    Outdated,
    /// Ours, but someone changed it in the file.
    Changed,
    /// Ours, but someone removed it from the file.
    Missing,
    /// Someone else's.
    Theirs,
}

impl EntryState {
    pub fn is_drift(self) -> bool {
        matches!(self, EntryState::Changed | EntryState::Missing)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct EntryStatus {
    pub name: String,
    pub state: EntryState,
    /// The registry server, for ours.
    #[ts(optional)]
    pub server: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FileStatus {
    pub scope: String,
    #[ts(type = "string")]
    pub path: PathBuf,
    pub format: String,
    pub exists: bool,
    /// Why the file could not be read, when it could not.
    #[ts(optional)]
    pub error: Option<String>,
    pub entries: Vec<EntryStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct HostStatus {
    pub id: String,
    pub name: String,
    /// Found on this machine, and what showed it.
    pub detected: bool,
    #[ts(optional)]
    pub detected_by: Option<String>,
    pub files: Vec<FileStatus>,
}

impl HostStatus {
    pub fn drifted(&self) -> usize {
        self.files.iter().flat_map(|f| &f.entries).filter(|e| e.state.is_drift()).count()
    }
}

impl Hosts {
    /// Every host: detected or not, its files, and the entries in them (ours with their drift,
    /// and others'). `servers` is the registry, to tell entries that are out of date.
    pub fn status(
        &self,
        servers: &switchboard_core::Servers,
        project: Option<&Path>,
    ) -> Result<Vec<HostStatus>> {
        let store = Store::open(&self.state_dir)?;
        let connections = crate::connections::paths(&self.state_dir)?;
        Ok(HostId::ALL
            .into_iter()
            .map(|host| {
                let files = locations(host, &self.env, project)
                    .into_iter()
                    .map(|file| {
                        let connected = connections.contains(&file.path);
                        self.file_status(&store, &file, servers, connected)
                    })
                    .collect();
                let detected_by = self.detect(host);
                HostStatus {
                    id: host.id().into(),
                    name: host.display_name().into(),
                    detected: detected_by.is_some(),
                    detected_by,
                    files,
                }
            })
            .collect())
    }

    /// `connected`: the file's entries of ours point at the gateway (`connect`), so they are
    /// in sync while they are as written and their server is still registered.
    fn file_status(
        &self,
        store: &Store,
        file: &ConfigFile,
        servers: &switchboard_core::Servers,
        connected: bool,
    ) -> FileStatus {
        let mut status = FileStatus {
            scope: match &file.scope {
                Scope::User => "user".into(),
                Scope::Profile(id) => format!("profile {id}"),
                Scope::Project => "project".into(),
            },
            path: file.path.clone(),
            format: format!("{:?}", file.format).to_lowercase(),
            exists: file.path.exists(),
            error: None,
            entries: Vec::new(),
        };
        let existing = match read_text(&file.path).and_then(|t| {
            let doc = edit::document(file.format, t.as_deref().unwrap_or(""))
                .map_err(|e| file_error(file, e))?;
            edit::entries(&doc, file.container).map_err(|e| file_error(file, e))
        }) {
            Ok(e) => e,
            Err(e) => {
                status.error = Some(e.to_string());
                return status;
            }
        };
        let ours = store.record(&file.path).map(|r| r.entries.as_slice()).unwrap_or_default();
        for (name, value) in &existing {
            let state = match ours.iter().find(|e| &e.name == name) {
                None => EntryState::Theirs,
                Some(e) if value_sha256(value) != e.sha256 => EntryState::Changed,
                Some(e) if connected => {
                    let registered = e.server == crate::AGGREGATE_ENTRY
                        || e.server.parse::<ServerName>().is_ok_and(|n| servers.contains_key(&n));
                    if registered { EntryState::InSync } else { EntryState::Outdated }
                }
                Some(e) => {
                    let now = e
                        .server
                        .parse::<ServerName>()
                        .ok()
                        .and_then(|n| Some((servers.get(&n)?, n)))
                        .and_then(|(spec, n)| self.entry_for(file.host, &n, spec).ok());
                    match now {
                        Some(now) if &now.value == value => EntryState::InSync,
                        _ => EntryState::Outdated,
                    }
                }
            };
            let server = ours.iter().find(|e| &e.name == name).map(|e| e.server.clone());
            status.entries.push(EntryStatus { name: name.clone(), state, server });
        }
        for e in ours {
            if !existing.iter().any(|(n, _)| n == &e.name) {
                status.entries.push(EntryStatus {
                    name: e.name.clone(),
                    state: EntryState::Missing,
                    server: Some(e.server.clone()),
                });
            }
        }
        status
    }

    /// The status of one file (ours and others' entries, with drift).
    pub fn file_drift(
        &self,
        host: HostId,
        path: &Path,
        servers: &switchboard_core::Servers,
    ) -> Result<Option<FileStatus>> {
        let file = self.target_of(host, path)?;
        let store = Store::open(&self.state_dir)?;
        let connected = crate::connections::paths(&self.state_dir)?.contains(&file.path);
        Ok(Some(self.file_status(&store, &file, servers, connected)))
    }

    /// Every host file that holds entries of ours: what the guardian watches.
    pub fn written_files(&self) -> Result<Vec<(HostId, PathBuf)>> {
        let store = Store::open(&self.state_dir)?;
        Ok(store
            .records()
            .filter_map(|(path, record)| Some((record.host.parse().ok()?, path)))
            .collect())
    }

    /// What shows that `host` is installed: its config folder or file, or its program on PATH.
    pub fn detect(&self, host: HostId) -> Option<String> {
        let env = &self.env;
        let user = locations(host, env, None);
        for file in &user {
            if file.path.exists() {
                return Some(format!("{} exists", file.path.display()));
            }
        }
        let imp = crate::host(host);
        if let Some(dir) = imp.marker_dirs(env).into_iter().find(|d| d.is_dir()) {
            return Some(format!("{} exists", dir.display()));
        }
        let programs = imp.programs();
        programs
            .iter()
            .find_map(|p| which::which(p).ok())
            .map(|p| format!("{} is installed", p.display()))
    }
}
