//! The process environment Switchboard acts on, read once where a binary starts
//! ([`Env::from_process`]) and passed down as a value: the code below reads no environment
//! variables of its own, and tests describe the environment instead of setting it.

use std::{collections::BTreeMap, ffi::OsString};

use crate::paths::HOME_VAR;

/// `SWITCHBOARD_REGISTRY_URL`: the MCP Registry to use instead of the setting or the official one.
pub const REGISTRY_URL_VAR: &str = "SWITCHBOARD_REGISTRY_URL";

/// The variables hosts' config folders are computed from, kept as they were read.
pub const FOLDER_VARS: &[&str] =
    &["HOME", "USERPROFILE", "XDG_CONFIG_HOME", "APPDATA", "LOCALAPPDATA", "CODEX_HOME"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// `PATH`: where bare commands are found (then on the login shell's PATH).
    pub path: Option<OsString>,
    /// `SHELL`: the login shell asked for its PATH when a command is not on `path` (GUI
    /// launches do not inherit it).
    pub shell: Option<OsString>,
    /// `SWITCHBOARD_HOME` is set: Switchboard's state, and the knowledge base's default folder,
    /// live under it rather than in the user's folders.
    pub home_override: bool,
    /// `SWITCHBOARD_REGISTRY_URL`, when set and not blank.
    pub registry_url: Option<String>,
    /// The [`FOLDER_VARS`] that were set.
    pub folders: BTreeMap<String, OsString>,
}

impl Env {
    /// This process's environment.
    pub fn from_process() -> Self {
        Self::from_lookup(|key| std::env::var_os(key))
    }

    /// A variable as it was read: `PATH`, `SHELL` and the [`FOLDER_VARS`] (others are not kept).
    pub fn var(&self, key: &str) -> Option<OsString> {
        match key {
            "PATH" => self.path.clone(),
            "SHELL" => self.shell.clone(),
            _ => self.folders.get(key).cloned(),
        }
    }

    /// The user's home folder: `HOME`, else `USERPROFILE`.
    pub fn home(&self) -> Option<&std::ffi::OsStr> {
        ["HOME", "USERPROFILE"]
            .iter()
            .find_map(|k| self.folders.get(*k).filter(|v| !v.is_empty()))
            .map(OsString::as_os_str)
    }

    /// Where bare commands are looked for.
    pub fn search(&self) -> crate::process::Search<'_> {
        crate::process::Search { path: self.path.as_deref(), shell: self.shell.as_deref() }
    }

    /// The environment `lookup` describes.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Self {
        let text = |key: &str| {
            lookup(key).and_then(|v| v.into_string().ok()).filter(|v| !v.trim().is_empty())
        };
        Env {
            path: lookup("PATH"),
            shell: lookup("SHELL").filter(|v| !v.is_empty()),
            home_override: lookup(HOME_VAR).is_some_and(|v| !v.is_empty()),
            registry_url: text(REGISTRY_URL_VAR),
            folders: FOLDER_VARS
                .iter()
                .filter_map(|key| Some(((*key).to_owned(), lookup(key)?)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_count_as_unset() {
        let env = Env::from_lookup(|key| match key {
            "PATH" => Some("/usr/bin".into()),
            "SWITCHBOARD_HOME" => Some("".into()),
            "SWITCHBOARD_REGISTRY_URL" => Some("  ".into()),
            _ => None,
        });
        assert_eq!(env.path.as_deref(), Some(std::ffi::OsStr::new("/usr/bin")));
        assert!(!env.home_override);
        assert_eq!(env.registry_url, None);
        let env = Env::from_lookup(|key| match key {
            "SWITCHBOARD_HOME" => Some("/tmp/sb".into()),
            "SWITCHBOARD_REGISTRY_URL" => Some("http://127.0.0.1:9/".into()),
            _ => None,
        });
        assert!(env.home_override);
        assert_eq!(env.registry_url.as_deref(), Some("http://127.0.0.1:9/"));
        assert_eq!(env.path, None);
    }

    #[test]
    fn only_the_listed_variables_are_kept() {
        let env = Env::from_lookup(|key| match key {
            "HOME" => Some("/u/ada".into()),
            "SHELL" => Some("/bin/zsh".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("x".into()),
            _ => None,
        });
        assert_eq!(env.var("HOME"), Some("/u/ada".into()));
        assert_eq!(env.var("SHELL"), Some("/bin/zsh".into()));
        assert_eq!(env.var("AWS_SECRET_ACCESS_KEY"), None);
        assert_eq!(env.var("CODEX_HOME"), None);
        assert_eq!(env.folders.len(), 1);
    }
}
