//! The environment host config paths are computed from: the OS and its per-user folders, as
//! values, so every OS's paths are computed (and tested) on any OS.

use std::{ffi::OsString, path::PathBuf};

/// The OS whose path conventions apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
}

impl Os {
    pub fn current() -> Self {
        if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }
}

/// Home and the per-user folders that hosts put their configs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEnv {
    pub os: Os,
    /// `HOME` (`USERPROFILE` on Windows).
    pub home: PathBuf,
    /// `XDG_CONFIG_HOME` (Linux), default `~/.config`.
    pub xdg_config_home: PathBuf,
    /// `%APPDATA%` (Windows roaming), default `~\AppData\Roaming`.
    pub appdata: PathBuf,
    /// `%LOCALAPPDATA%` (Windows), default `~\AppData\Local`.
    pub local_appdata: PathBuf,
    /// `CODEX_HOME`, when set.
    pub codex_home: Option<PathBuf>,
    /// `PATH`: where a bare command is found, to write it absolute for GUI hosts.
    pub path: Option<OsString>,
    /// `SHELL`: whose login PATH is searched when `path` lacks the command.
    pub shell: Option<OsString>,
}

impl HostEnv {
    /// The environment the binary read at its edge, with this OS's conventions.
    pub fn from_core(env: &switchboard_core::Env) -> Option<Self> {
        Self::from_lookup(Os::current(), |key| env.var(key))
    }

    /// The environment `lookup` describes, with `os`'s conventions and defaults. `None` without a
    /// home folder.
    pub fn from_lookup(os: Os, lookup: impl Fn(&str) -> Option<OsString>) -> Option<Self> {
        let var = |key: &str| lookup(key).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = match os {
            Os::Windows => var("USERPROFILE").or_else(|| var("HOME"))?,
            _ => var("HOME")?,
        };
        Some(HostEnv {
            os,
            xdg_config_home: var("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config")),
            appdata: var("APPDATA").unwrap_or_else(|| home.join("AppData").join("Roaming")),
            local_appdata: var("LOCALAPPDATA")
                .unwrap_or_else(|| home.join("AppData").join("Local")),
            codex_home: var("CODEX_HOME"),
            path: lookup("PATH"),
            shell: lookup("SHELL").filter(|v| !v.is_empty()),
            home,
        })
    }

    /// Where bare commands are looked for.
    pub fn search(&self) -> switchboard_core::process::Search<'_> {
        switchboard_core::process::Search {
            path: self.path.as_deref(),
            shell: self.shell.as_deref(),
        }
    }

    /// Where the OS keeps per-user application settings: `~/Library/Application Support`,
    /// `%APPDATA%`, or `$XDG_CONFIG_HOME`.
    pub fn app_config_dir(&self) -> PathBuf {
        match self.os {
            Os::MacOs => self.home.join("Library").join("Application Support"),
            Os::Windows => self.appdata.clone(),
            Os::Linux => self.xdg_config_home.clone(),
        }
    }
}
