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

/// What an MCP server inherits of Switchboard's own environment; everything else it gets from its
/// own `env` (and its secrets from the store). The official MCP SDKs' list (TypeScript SDK
/// `getDefaultEnvironment`: HOME, LOGNAME, PATH, SHELL, TERM, USER), plus what servers need to
/// work as they would from a terminal and that holds no secret: the locale and time zone, the
/// temp and XDG folders, proxies and extra CA certificates (for a server behind a corporate
/// proxy), the Docker daemon's address (a server run with `docker run`, rootless Docker), the
/// display and session bus (a server that asks the system keychain or opens a browser), and
/// `SWITCHBOARD_HOME` (the built-in knowledge base keeps its index there). A secret
/// exported in the shell that started Switchboard, or another server's, never reaches a server.
#[cfg(not(windows))]
pub const SERVER_VARS: &[&str] = &[
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "TERM",
    "USER",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_ADDRESS",
    "LC_COLLATE",
    "LC_CTYPE",
    "LC_IDENTIFICATION",
    "LC_MEASUREMENT",
    "LC_MESSAGES",
    "LC_MONETARY",
    "LC_NAME",
    "LC_NUMERIC",
    "LC_PAPER",
    "LC_TELEPHONE",
    "LC_TIME",
    "TZ",
    "TMPDIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_DIRS",
    "XDG_DATA_DIRS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    HOME_VAR,
];

/// Windows: the TypeScript SDK's list, plus the same additions.
#[cfg(windows)]
pub const SERVER_VARS: &[&str] = &[
    "APPDATA",
    "HOMEDRIVE",
    "HOMEPATH",
    "LOCALAPPDATA",
    "PATH",
    "PATHEXT",
    "PROCESSOR_ARCHITECTURE",
    "PROGRAMDATA",
    "PROGRAMFILES",
    "SYSTEMDRIVE",
    "SYSTEMROOT",
    "COMSPEC",
    "TEMP",
    "TMP",
    "USERNAME",
    "USERPROFILE",
    "WINDIR",
    "TZ",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    HOME_VAR,
];

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
    /// The [`SERVER_VARS`] that were set: all a server inherits.
    pub for_servers: BTreeMap<String, OsString>,
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
            for_servers: SERVER_VARS
                .iter()
                .filter_map(|key| Some(((*key).to_owned(), lookup(key)?)))
                .collect(),
        }
    }

    /// How a server's process inherits from this environment: [`SERVER_VARS`] only.
    pub fn server_inherit(&self) -> crate::process::Inherit {
        crate::process::Inherit::Only(self.for_servers.clone())
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
        let servers: Vec<&str> = env.for_servers.keys().map(String::as_str).collect();
        assert_eq!(servers, ["HOME", "SHELL"], "no secret in what servers inherit");
    }
}
