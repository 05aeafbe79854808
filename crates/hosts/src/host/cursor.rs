//! Cursor: JSON `mcpServers` in `~/.cursor/mcp.json` and a project's `.cursor/mcp.json`.

use std::path::Path;

use serde_json::Value;

use super::{Host, Remote, Stdio, command_entry, no_cwd, typed_remote, user_and_project};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Unsupported};

pub struct Cursor;

impl Host for Cursor {
    fn limits(&self) -> crate::budget::Limits {
        crate::budget::Limits { tools: Some(80), source: "H2" }
    }

    /// It does not shorten names; over the limit the model API refuses them.
    fn checked_name(&self, entry: &str, tool: &str) -> Option<(String, usize)> {
        Some((format!("{entry}{tool}"), 60))
    }

    /// It does not list tools again on `list_changed` (cursor#2980).
    fn list_changed(&self) -> bool {
        false
    }

    /// It does not re-list on `list_changed` (cursor#2980) but picks up file edits.
    fn default_mode(&self) -> crate::Mode {
        crate::Mode::PerServer
    }

    /// Settings → MCP → refresh.
    fn pickup(&self) -> crate::Pickup {
        crate::Pickup::Refresh
    }

    fn id(&self) -> HostId {
        HostId::Cursor
    }

    fn locations(&self, env: &HostEnv, project: Option<&Path>) -> Vec<ConfigFile> {
        let user = env.home.join(".cursor/mcp.json");
        user_and_project(
            self.id(),
            user,
            project,
            ".cursor/mcp.json",
            Format::Json,
            Container::map("mcpServers"),
        )
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        no_cwd(self.id(), s)?;
        Ok(command_entry(s, vec![], vec![]))
    }

    /// `type` is optional for Cursor, and some versions want it: always written.
    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        Ok(typed_remote(r, "http"))
    }

    fn programs(&self) -> &'static [&'static str] {
        &["cursor"]
    }
}
