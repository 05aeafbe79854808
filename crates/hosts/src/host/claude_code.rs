//! Claude Code: user scope is the top-level `mcpServers` of `~/.claude.json` (which also holds the
//! app's own state, so every other key is kept); project scope is `.mcp.json`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Host, Remote, Stdio, command_entry, no_cwd, typed_remote, user_and_project};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Unsupported};

pub struct ClaudeCode;

impl Host for ClaudeCode {
    /// It does not shorten names; over the limit the model API refuses them.
    fn checked_name(&self, entry: &str, tool: &str) -> Option<(String, usize)> {
        Some((format!("mcp__{entry}__{tool}"), 64))
    }

    /// A new session reads the file.
    fn pickup(&self) -> crate::Pickup {
        crate::Pickup::Restart
    }

    fn id(&self) -> HostId {
        HostId::ClaudeCode
    }

    fn locations(&self, env: &HostEnv, project: Option<&Path>) -> Vec<ConfigFile> {
        let user = env.home.join(".claude.json");
        user_and_project(
            self.id(),
            user,
            project,
            ".mcp.json",
            Format::Json,
            Container::map("mcpServers"),
        )
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        no_cwd(self.id(), s)?;
        Ok(command_entry(s, vec![("type", json!("stdio"))], vec![]))
    }

    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        Ok(typed_remote(r, "http"))
    }

    fn programs(&self) -> &'static [&'static str] {
        &["claude"]
    }

    fn marker_dirs(&self, env: &HostEnv) -> Vec<PathBuf> {
        vec![env.home.join(".claude")]
    }
}
