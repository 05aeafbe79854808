//! Zed: JSONC `context_servers` in its `settings.json` and a project's `.zed/settings.json`.
//! Entries carry both the old `"source": "custom"` tag and the fields the current untagged
//! form reads, and `enabled`.

use std::path::Path;

use serde_json::{Value, json};

use super::{Host, Remote, Stdio, command_entry, no_cwd, user_and_project, with_headers};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Os, Unsupported};

pub struct Zed;

impl Host for Zed {
    fn limits(&self) -> crate::budget::Limits {
        crate::budget::Limits { tools: Some(128), source: "H6" }
    }

    /// `settings.json` is the editor's whole configuration, often kept in dotfiles: no token in it.
    fn reach(&self) -> crate::Reach {
        crate::Reach::Command
    }

    fn id(&self) -> HostId {
        HostId::Zed
    }

    fn locations(&self, env: &HostEnv, project: Option<&Path>) -> Vec<ConfigFile> {
        let dir = match env.os {
            Os::Windows => env.appdata.join("Zed"),
            Os::MacOs => env.home.join(".config/zed"),
            Os::Linux => env.xdg_config_home.join("zed"),
        };
        let container = Container::map("context_servers");
        user_and_project(
            self.id(),
            dir.join("settings.json"),
            project,
            ".zed/settings.json",
            Format::Jsonc,
            container,
        )
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        no_cwd(self.id(), s)?;
        Ok(command_entry(s, vec![("source", json!("custom"))], vec![("enabled", json!(true))]))
    }

    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        if r.sse {
            return Err(Unsupported::NoSse(self.id()));
        }
        Ok(with_headers(r, vec![("url", json!(r.url)), ("enabled", json!(true))], "headers"))
    }

    fn programs(&self) -> &'static [&'static str] {
        &["zed", "zeditor"]
    }
}
