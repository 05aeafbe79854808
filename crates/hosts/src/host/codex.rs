//! Codex: TOML, one `[mcp_servers.NAME]` table per server in `$CODEX_HOME/config.toml`
//! (default `~/.codex`). Remote servers are Streamable HTTP only; headers go in `http_headers`.

use std::path::Path;

use serde_json::{Value, json};

use super::{Host, Remote, Stdio, command_entry, user_and_project, with_headers};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Unsupported};

pub struct Codex;

impl Host for Codex {
    fn limits(&self) -> crate::budget::Limits {
        crate::budget::Limits { tools: Some(100), source: "H9" }
    }

    /// It does not list tools again on `list_changed` (codex#10105).
    fn list_changed(&self) -> bool {
        false
    }

    /// `config.toml` is often kept in dotfiles, and Codex rejects inline bearer tokens.
    fn reach(&self) -> crate::Reach {
        crate::Reach::Command
    }

    /// It ignores `list_changed` (codex#10105, #37417).
    fn default_mode(&self) -> crate::Mode {
        crate::Mode::PerServer
    }

    /// It reads its file at start.
    fn pickup(&self) -> crate::Pickup {
        crate::Pickup::Restart
    }

    fn id(&self) -> HostId {
        HostId::Codex
    }

    fn locations(&self, env: &HostEnv, project: Option<&Path>) -> Vec<ConfigFile> {
        let dir = env.codex_home.clone().unwrap_or_else(|| env.home.join(".codex"));
        user_and_project(
            self.id(),
            dir.join("config.toml"),
            project,
            ".codex/config.toml",
            Format::Toml,
            Container::map("mcp_servers"),
        )
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        Ok(command_entry(s, vec![], vec![]))
    }

    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        if r.sse {
            return Err(Unsupported::NoSse(self.id()));
        }
        Ok(with_headers(r, vec![("url", json!(r.url))], "http_headers"))
    }

    fn programs(&self) -> &'static [&'static str] {
        &["codex"]
    }
}
