//! Where Switchboard keeps its state. `SWITCHBOARD_HOME=DIR` puts everything under DIR; otherwise
//! the per-OS folders from `directories::ProjectDirs`. Paths are values: nothing in the core looks
//! at the environment except [`Paths::from_env`] (which also reads the forced secret store) and
//! [`crate::Env::from_process`].

use std::path::{Path, PathBuf};

use crate::{Error, Result, spec::ServerName};

/// The environment variable that puts all state under one folder.
pub const HOME_VAR: &str = "SWITCHBOARD_HOME";
/// `SWITCHBOARD_SECRET_STORE=keychain|file` forces a secret store.
pub const STORE_VAR: &str = "SWITCHBOARD_SECRET_STORE";

/// Which store holds the secrets: the keychain when one answers, else the owner-only file
/// ([`crate::secrets::SecretStore::open`]), or one forced by [`STORE_VAR`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StoreChoice {
    #[default]
    Auto,
    Keychain,
    File,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `servers.json` lives here.
    pub config_dir: PathBuf,
    /// Indexes, caches, pinned fingerprints.
    pub data_dir: PathBuf,
    /// One rotating log per server.
    pub log_dir: PathBuf,
    /// The owner lock, the owner's address and token, the records of running children.
    pub run_dir: PathBuf,
    /// Where secrets go.
    pub secrets: StoreChoice,
}

impl Paths {
    /// All state under one folder.
    pub fn under(home: &Path) -> Self {
        Paths {
            config_dir: home.join("config"),
            data_dir: home.join("data"),
            log_dir: home.join("logs"),
            run_dir: home.join("run"),
            secrets: StoreChoice::Auto,
        }
    }

    /// `SWITCHBOARD_HOME` if set and not empty, else the OS's per-user folders.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|key| std::env::var_os(key))
    }

    /// Like [`Paths::from_env`], reading variables through `lookup` (for tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Self> {
        let secrets = match lookup(STORE_VAR).as_ref().and_then(|v| v.to_str()) {
            Some("file") => StoreChoice::File,
            Some("keychain") => StoreChoice::Keychain,
            _ => StoreChoice::Auto,
        };
        if let Some(home) = lookup(HOME_VAR).filter(|v| !v.is_empty()) {
            return Ok(Paths { secrets, ..Self::under(Path::new(&home)) });
        }
        let dirs = directories::ProjectDirs::from("dev", "switchboard", "Switchboard")
            .ok_or(Error::NoHomeFolder { var: HOME_VAR })?;
        let data_dir = dirs.data_local_dir().to_path_buf();
        Ok(Paths {
            config_dir: dirs.config_dir().to_path_buf(),
            log_dir: data_dir.join("logs"),
            run_dir: dirs.runtime_dir().map_or_else(|| data_dir.join("run"), Path::to_path_buf),
            data_dir,
            secrets,
        })
    }

    pub fn registry_file(&self) -> PathBuf {
        self.config_dir.join("servers.json")
    }

    pub fn server_log(&self, name: &ServerName) -> PathBuf {
        self.log_dir.join(format!("{name}.log"))
    }

    /// Held (exclusive file lock) by the one process that owns running servers.
    pub fn owner_lock(&self) -> PathBuf {
        self.run_dir.join("owner.lock")
    }

    /// The owner's pid, control address and token; readable by the user only.
    pub fn owner_file(&self) -> PathBuf {
        self.run_dir.join("owner.json")
    }

    /// Pids and start times of the servers the owner runs, for the next owner's orphan sweep.
    pub fn children_file(&self) -> PathBuf {
        self.run_dir.join("children.json")
    }

    /// Creates the folders (the run folder readable by the user only).
    pub fn ensure(&self) -> Result<()> {
        for dir in [&self.config_dir, &self.data_dir, &self.log_dir, &self.run_dir] {
            std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
        }
        // Logs hold what servers print (a server may print its own secret) and who called what.
        for dir in [&self.log_dir, &self.run_dir] {
            crate::fsutil::restrict_to_owner(dir).map_err(Error::io("securing", dir))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn switchboard_home_puts_everything_under_one_folder() {
        let paths = Paths::from_lookup(|k| (k == HOME_VAR).then(|| OsString::from("/x/sb")))
            .expect("paths");
        assert_eq!(paths.registry_file(), Path::new("/x/sb/config/servers.json"));
        assert_eq!(paths.owner_file(), Path::new("/x/sb/run/owner.json"));
        let name: ServerName = "kb".parse().expect("name");
        assert_eq!(paths.server_log(&name), Path::new("/x/sb/logs/kb.log"));
    }

    #[test]
    fn empty_switchboard_home_falls_back_to_the_os_folders() {
        let paths = Paths::from_lookup(|k| (k == HOME_VAR).then(OsString::new));
        if let Ok(paths) = paths {
            assert!(!paths.config_dir.starts_with("config"), "{paths:?}");
        }
    }
}
