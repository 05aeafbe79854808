//! The operations on host files: plan (what an apply or a remove would change, as a diff), write
//! (atomically, journalled, backed up, never over a concurrent edit), undo, and status (ours,
//! others', drifted).

mod entry;
mod plan;
mod status;
mod write;

use std::path::{Path, PathBuf};

pub use entry::HostEntry;
pub use plan::{Action, Change, ChangeKind, Plan, Preview, Skipped};
pub use status::{EntryState, EntryStatus, FileStatus, HostStatus};
#[cfg(feature = "test-hooks")]
pub use write::test_hooks;
pub use write::{Written, journal};

use super::{ConfigFile, EditError, HostEnv, HostId, Scope, locations};
use crate::{Error, Result};

/// How our own executable bridges stdio to a remote server, for hosts that only run commands.
#[derive(Debug, Clone)]
pub struct Bridge {
    pub program: PathBuf,
    /// Arguments before the URL, e.g. `["bridge"]`.
    pub prefix: Vec<String>,
}

impl Bridge {
    /// The running executable with `bridge`: both `switchboard` and the app accept it.
    pub fn current() -> Option<Self> {
        let program = std::env::current_exe().ok()?;
        Some(Bridge { program, prefix: vec!["bridge".into()] })
    }
}

/// Everything the operations need: the environment the host paths come from, where our state
/// lives, and how commands are made absolute.
#[derive(Debug, Clone)]
pub struct Hosts {
    pub env: HostEnv,
    /// `<data>/hosts`.
    pub state_dir: PathBuf,
    pub bridge: Option<Bridge>,
    /// Make bare commands absolute for GUI hosts (off in tests that want fixed text).
    pub resolve_commands: bool,
    /// Where servers' secrets are read from when an entry must carry them.
    pub paths: switchboard_core::Paths,
    /// Dates the ledger's entries, the journal and backups.
    pub clock: std::sync::Arc<dyn switchboard_core::clock::Clock>,
}

fn file_error(file: &ConfigFile, e: EditError) -> Error {
    Error::HostFile { path: file.path.clone(), problem: e.to_string() }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io { action, path: path.to_path_buf(), source }
}

/// [`read_text`] for the crate's other modules.
pub(crate) fn read_text_of(path: &Path) -> Result<Option<String>> {
    read_text(path)
}

/// The file's text, `None` when there is none. Not UTF-8 is an error: nothing is written then.
fn read_text(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| Error::HostFile {
            path: path.to_path_buf(),
            problem: "it is not UTF-8 text".into(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path)(e)),
    }
}

impl Hosts {
    /// State under `paths`' data folder; commands made absolute for GUI hosts.
    pub fn new(paths: &switchboard_core::Paths, env: HostEnv, bridge: Option<Bridge>) -> Self {
        Hosts {
            env,
            state_dir: paths.data_dir.join("hosts"),
            bridge,
            resolve_commands: true,
            paths: paths.clone(),
            clock: std::sync::Arc::new(switchboard_core::clock::SystemClock),
        }
    }

    /// The file `host` is written to: its user file, or with `project` that folder's file.
    pub fn target(&self, host: HostId, project: Option<&Path>) -> Result<ConfigFile> {
        self.target_in(host, project, None)
    }

    /// Like [`Hosts::target`], or a VS Code profile's file by the profile's folder id.
    pub fn target_in(
        &self,
        host: HostId,
        project: Option<&Path>,
        profile: Option<&str>,
    ) -> Result<ConfigFile> {
        let files = locations(host, &self.env, project);
        let wanted = match (profile, project) {
            (Some(id), _) => Scope::Profile(id.to_string()),
            (None, Some(_)) => Scope::Project,
            (None, None) => Scope::User,
        };
        if let Some(file) = files.iter().find(|f| f.scope == wanted) {
            return Ok(file.clone());
        }
        Err(Error::NoSuchFile(match wanted {
            Scope::Profile(id) => {
                let ids: Vec<String> = files
                    .iter()
                    .filter_map(|f| match &f.scope {
                        Scope::Profile(id) => Some(id.clone()),
                        _ => None,
                    })
                    .collect();
                format!(
                    "{host} has no profile {id:?}; its profiles are: {}",
                    if ids.is_empty() { "none besides the default".into() } else { ids.join(", ") }
                )
            }
            _ => format!("{host} has no project-level config file"),
        }))
    }

    /// The config file of `host` at `path` (a user, profile or project file).
    pub fn target_of(&self, host: HostId, path: &Path) -> Result<ConfigFile> {
        let user = self.target(host, None)?;
        if user.path == path {
            return Ok(user);
        }
        let scope = locations(host, &self.env, None)
            .into_iter()
            .find(|f| f.path == path)
            .map_or(Scope::Project, |f| f.scope);
        Ok(ConfigFile { scope, path: path.to_path_buf(), ..user })
    }
}
