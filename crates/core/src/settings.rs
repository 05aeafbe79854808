//! User settings that belong to Switchboard itself (not to any server), in
//! `config/settings.json`, written atomically. Unknown keys from a newer version are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result, fsutil::write_atomic, paths::Paths, spec::RestartPolicy};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The restart policy new servers get.
    #[serde(default)]
    pub default_restart: RestartPolicy,
    /// The built-in knowledge-base server was registered once (so removing it sticks).
    #[serde(default)]
    pub knowledge_base_offered: bool,
    /// The first start offered to connect the AI apps found here (answered either way: it is not
    /// offered again).
    #[serde(default)]
    pub hosts_offered: bool,
    /// The host guardian writes our entries back when a host or a person removes or changes them.
    #[serde(default)]
    pub hosts_auto_reapply: bool,
    /// The MCP Registry the catalog refreshes from (default: the official one;
    /// `SWITCHBOARD_REGISTRY_URL` overrides both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub registry_url: Option<String>,
    /// The gateway's loopback port: chosen once, then kept, so the hosts' entries stay valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub gateway_port: Option<u16>,
    /// Servers installed from the catalog are lazy: started by a host's first call, not with
    /// the owner.
    #[serde(default = "yes")]
    pub lazy_installs: bool,
    /// A lazy server with no call through the gateway for this many seconds is stopped (it
    /// starts again on the next call); 0 never stops one. Default: 10 minutes.
    #[serde(default = "ten_minutes")]
    pub idle_stop_seconds: u64,
    /// How long a call through the gateway may take before it is cancelled at the server.
    #[serde(default = "two_minutes")]
    pub call_timeout_seconds: u64,
    /// Per server, its own call deadline instead of `callTimeoutSeconds`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub server_call_timeout_seconds: BTreeMap<String, u64>,
    /// Per host (its gateway token's name), the most any of its calls may take.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub host_call_timeout_seconds: BTreeMap<String, u64>,
    /// Per host (its gateway token's name): which servers and tools it sees through the
    /// gateway. A host with no view sees everything.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub host_views: BTreeMap<String, HostView>,
    /// Quitting the app stops the servers it runs. Off, the app runs them in a headless owner
    /// that keeps serving the hosts after the app quits (`switchboard shutdown` stops it).
    #[serde(default = "yes")]
    pub quit_stops_servers: bool,
}

/// What one host sees through the gateway: every server but the hidden ones, and of each, the
/// tools its filter lets through. Enforced by the gateway from the caller's token, so every
/// protocol revision sees the same lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct HostView {
    /// Servers this host does not see at all.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub hidden_servers: std::collections::BTreeSet<String>,
    /// Per server, which of its tools this host sees (a server not named: all of them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tools: BTreeMap<String, ToolFilter>,
}

/// Which tools of one server a host sees: the ones `allow` names, not the ones `deny` names,
/// and the rest as `default` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolFilter {
    /// Whether a tool named in neither list is seen (the server-wide default).
    #[serde(default = "yes")]
    pub default_allow: bool,
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub allow: std::collections::BTreeSet<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub deny: std::collections::BTreeSet<String>,
}

impl Default for ToolFilter {
    fn default() -> Self {
        ToolFilter { default_allow: true, allow: Default::default(), deny: Default::default() }
    }
}

impl HostView {
    pub fn sees_server(&self, server: &str) -> bool {
        !self.hidden_servers.contains(server)
    }

    pub fn sees_tool(&self, server: &str, tool: &str) -> bool {
        if !self.sees_server(server) {
            return false;
        }
        let Some(filter) = self.tools.get(server) else { return true };
        if filter.allow.contains(tool) {
            return true;
        }
        if filter.deny.contains(tool) {
            return false;
        }
        filter.default_allow
    }
}

fn two_minutes() -> u64 {
    120
}

fn yes() -> bool {
    true
}

fn ten_minutes() -> u64 {
    600
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_restart: RestartPolicy::OnFailure,
            knowledge_base_offered: false,
            hosts_offered: false,
            hosts_auto_reapply: false,
            registry_url: None,
            gateway_port: None,
            lazy_installs: true,
            idle_stop_seconds: 600,
            call_timeout_seconds: 120,
            server_call_timeout_seconds: BTreeMap::new(),
            host_call_timeout_seconds: BTreeMap::new(),
            host_views: BTreeMap::new(),
            quit_stops_servers: true,
        }
    }
}

/// Where Switchboard keeps its state, as the Settings view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DataLocations {
    pub registry_file: String,
    pub config_dir: String,
    pub data_dir: String,
    pub log_dir: String,
    pub run_dir: String,
}

impl From<&Paths> for DataLocations {
    fn from(paths: &Paths) -> Self {
        let show = |p: &std::path::Path| p.display().to_string();
        DataLocations {
            registry_file: show(&paths.registry_file()),
            config_dir: show(&paths.config_dir),
            data_dir: show(&paths.data_dir),
            log_dir: show(&paths.log_dir),
            run_dir: show(&paths.run_dir),
        }
    }
}

fn file(paths: &Paths) -> std::path::PathBuf {
    paths.config_dir.join("settings.json")
}

/// The saved settings; defaults when there are none. A file that does not parse is an error
/// (and is left alone), not silently replaced by defaults.
pub fn load(paths: &Paths) -> Result<Settings> {
    let path = file(paths);
    let invalid = |e: serde_json::Error| Error::Settings {
        path: path.clone(),
        problem: format!("is not valid at line {}, column {}: {e}", e.line(), e.column()),
    };
    match std::fs::read(&path) {
        Ok(bytes) => {
            let settings = serde_json::from_slice(&bytes).map_err(invalid)?;
            // `save` keeps the keys it does not know by reading the file back as a JSON object.
            // Read as settings, more passes (the values of unknown keys are skipped unchecked,
            // invalid UTF-8 and all; an array fills the fields in order): such a file is refused
            // here too, not loaded and then refused by every save.
            match serde_json::from_slice::<serde_json::Value>(&bytes).map_err(invalid)? {
                serde_json::Value::Object(_) => Ok(settings),
                _ => Err(Error::Settings {
                    path: path.clone(),
                    problem: "is not a JSON object of settings".into(),
                }),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(e) => Err(Error::io("reading", path)(e)),
    }
}

/// Saves `settings`, keeping any keys this version does not know.
/// Every key [`Settings`] writes, the optional ones included (filled in so none is skipped).
fn known_keys() -> Vec<String> {
    let probe = Settings {
        registry_url: Some(String::new()),
        gateway_port: Some(0),
        server_call_timeout_seconds: BTreeMap::from([(String::new(), 0)]),
        host_call_timeout_seconds: BTreeMap::from([(String::new(), 0)]),
        host_views: BTreeMap::from([(String::new(), HostView::default())]),
        ..Settings::default()
    };
    match serde_json::to_value(probe) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().map(|(k, _)| k).collect(),
        _ => Vec::new(),
    }
}

pub fn save(paths: &Paths, settings: &Settings) -> Result<()> {
    let path = file(paths);
    std::fs::create_dir_all(&paths.config_dir).map_err(Error::io("creating", &paths.config_dir))?;
    let mut value = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .filter(serde_json::Value::is_object)
            .ok_or_else(|| Error::Settings {
                path: path.clone(),
                problem: "is not valid JSON; not overwriting it".into(),
            })?,
        Err(_) => serde_json::json!({}),
    };
    let ours = serde_json::to_value(settings)
        .map_err(|source| Error::Encode { what: "the settings", source })?;
    if let (Some(target), Some(ours)) = (value.as_object_mut(), ours.as_object()) {
        // Our own keys are ours to write or (an optional one now empty) to drop; the rest are
        // a newer version's and stay.
        target.retain(|k, _| !known_keys().contains(k));
        for (k, v) in ours {
            target.insert(k.clone(), v.clone());
        }
    }
    let mut bytes = serde_json::to_vec_pretty(&value)
        .map_err(|source| Error::Encode { what: "the settings", source })?;
    bytes.push(b'\n');
    write_atomic(&path, &bytes).map_err(Error::io("writing", &path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_keep_unknown_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(dir.path());
        assert_eq!(load(&paths).expect("defaults"), Settings::default());
        std::fs::create_dir_all(&paths.config_dir).expect("mkdir");
        std::fs::write(file(&paths), r#"{"futureKey": [1, 2], "defaultRestart": "never"}"#)
            .expect("write");
        let old = load(&paths).expect("load");
        assert_eq!(old.default_restart, RestartPolicy::Never);
        // A file from before lazy servers existed gets the defaults.
        assert_eq!((old.lazy_installs, old.idle_stop_seconds), (true, 600));
        // ... and Quit stopping the servers, as it always did.
        assert!(old.quit_stops_servers);
        save(
            &paths,
            &Settings {
                default_restart: RestartPolicy::Always,
                knowledge_base_offered: false,
                hosts_offered: false,
                hosts_auto_reapply: false,
                registry_url: Some("http://127.0.0.1:8080/".into()),
                gateway_port: None,
                lazy_installs: false,
                idle_stop_seconds: 3,
                call_timeout_seconds: 30,
                server_call_timeout_seconds: BTreeMap::from([("slow".to_owned(), 600)]),
                host_call_timeout_seconds: BTreeMap::new(),
                host_views: BTreeMap::new(),
                quit_stops_servers: false,
            },
        )
        .expect("save");
        let text = std::fs::read_to_string(file(&paths)).expect("read");
        assert!(text.contains("futureKey"), "{text}");
        let loaded = load(&paths).expect("load");
        assert_eq!(loaded.default_restart, RestartPolicy::Always);
        assert_eq!((loaded.lazy_installs, loaded.idle_stop_seconds), (false, 3));
        assert!(!loaded.quit_stops_servers);
        assert_eq!(loaded.server_call_timeout_seconds["slow"], 600);
        assert!(!text.contains("hostCallTimeoutSeconds"), "empty maps are left out: {text}");
    }

    #[test]
    fn a_broken_settings_file_is_reported_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(dir.path());
        std::fs::create_dir_all(&paths.config_dir).expect("mkdir");
        std::fs::write(file(&paths), "{oops").expect("write");
        assert!(load(&paths).is_err());
        assert!(save(&paths, &Settings::default()).is_err());
        assert_eq!(std::fs::read_to_string(file(&paths)).expect("read"), "{oops");
    }

    #[test]
    fn settings_that_every_save_would_refuse_are_refused_at_load() {
        // Found by fuzzing (core_files): these loaded (an unknown key's value is skipped
        // unchecked; an array fills the fields in order), then every save refused the file.
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(dir.path());
        std::fs::create_dir_all(&paths.config_dir).expect("mkdir");
        let invalid_utf8 = b"{\"defaultRestart\": \"never\", \"newerKey\": \"\x8f\"}";
        for bytes in [&invalid_utf8[..], b" [ ]", b"[\"never\", true]"] {
            std::fs::write(file(&paths), bytes).expect("write");
            let error = load(&paths).expect_err("refused");
            assert!(error.to_string().contains("is not"), "{error}");
            assert!(save(&paths, &Settings::default()).is_err());
            assert_eq!(std::fs::read(file(&paths)).expect("read"), bytes, "the file is left alone");
        }
    }

    #[test]
    fn a_host_view_hides_servers_and_filters_tools_by_allow_deny_and_default() {
        let view: HostView = serde_json::from_str(
            r#"{"hiddenServers": ["secret"],
                "tools": {"github": {"deny": ["delete_repo"]},
                          "fs": {"defaultAllow": false, "allow": ["read_file"], "deny": ["read_file"]}}}"#,
        )
        .expect("view");
        assert!(!view.sees_server("secret") && !view.sees_tool("secret", "anything"));
        assert!(
            view.sees_tool("github", "create_issue") && !view.sees_tool("github", "delete_repo")
        );
        // Allow wins over deny; the server-wide default decides the rest.
        assert!(view.sees_tool("fs", "read_file") && !view.sees_tool("fs", "write_file"));
        assert!(view.sees_tool("other", "x"), "a server with no filter shows every tool");
        assert!(HostView::default().sees_tool("any", "thing"));
    }

    #[test]
    fn an_optional_setting_cleared_leaves_the_file_and_unknown_keys_stay() {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = Paths::under(dir.path());
        let full = Settings {
            registry_url: Some("http://127.0.0.1:1/".into()),
            gateway_port: Some(4242),
            server_call_timeout_seconds: BTreeMap::from([("slow".into(), 600)]),
            host_call_timeout_seconds: BTreeMap::from([("zed".into(), 30)]),
            host_views: BTreeMap::from([("cursor".into(), HostView::default())]),
            ..Settings::default()
        };
        save(&paths, &full).expect("save");
        let text = std::fs::read_to_string(file(&paths)).expect("read");
        let mut value: serde_json::Value = serde_json::from_str(&text).expect("json");
        value["fromTheFuture"] = serde_json::json!(true);
        std::fs::write(file(&paths), value.to_string()).expect("write");
        save(&paths, &Settings::default()).expect("save");
        let text = std::fs::read_to_string(file(&paths)).expect("read");
        for key in [
            "registryUrl",
            "gatewayPort",
            "serverCallTimeoutSeconds",
            "hostCallTimeoutSeconds",
            "hostViews",
        ] {
            assert!(!text.contains(key), "{key} outlived being cleared:\n{text}");
        }
        assert!(text.contains("fromTheFuture"), "{text}");
        assert_eq!(load(&paths).expect("load"), Settings::default());
    }
}
