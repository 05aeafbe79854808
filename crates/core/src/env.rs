//! The process environment Switchboard acts on, read once where a binary starts
//! ([`Env::from_process`]) and passed down as a value: the code below reads no environment
//! variables of its own, and tests describe the environment instead of setting it.

use std::ffi::OsString;

use crate::paths::HOME_VAR;

/// `SWITCHBOARD_REGISTRY_URL`: the MCP Registry to use instead of the setting or the official one.
pub const REGISTRY_URL_VAR: &str = "SWITCHBOARD_REGISTRY_URL";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// `PATH`: where bare commands are found (then on the login shell's PATH).
    pub path: Option<OsString>,
    /// `SWITCHBOARD_HOME` is set: Switchboard's state, and the knowledge base's default folder,
    /// live under it rather than in the user's folders.
    pub home_override: bool,
    /// `SWITCHBOARD_REGISTRY_URL`, when set and not blank.
    pub registry_url: Option<String>,
}

impl Env {
    /// This process's environment.
    pub fn from_process() -> Self {
        Self::from_lookup(|key| std::env::var_os(key))
    }

    /// The environment `lookup` describes.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Self {
        let text = |key: &str| {
            lookup(key).and_then(|v| v.into_string().ok()).filter(|v| !v.trim().is_empty())
        };
        Env {
            path: lookup("PATH"),
            home_override: lookup(HOME_VAR).is_some_and(|v| !v.is_empty()),
            registry_url: text(REGISTRY_URL_VAR),
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
}
