//! Windsurf: JSON `mcpServers` in `~/.codeium/windsurf/mcp_config.json`; remote servers by
//! `serverUrl`.

use std::path::Path;

use serde_json::{Value, json};

use super::{Host, Remote, Stdio, command_entry, file, no_cwd, with_headers};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Scope, Unsupported};

pub struct Windsurf;

impl Host for Windsurf {
    fn limits(&self) -> crate::budget::Limits {
        crate::budget::Limits { tools: Some(100), source: "H4" }
    }

    /// The refresh button of its MCP panel.
    fn pickup(&self) -> crate::Pickup {
        crate::Pickup::Refresh
    }

    fn id(&self) -> HostId {
        HostId::Windsurf
    }

    fn locations(&self, env: &HostEnv, _project: Option<&Path>) -> Vec<ConfigFile> {
        let path = env.home.join(".codeium/windsurf/mcp_config.json");
        vec![file(self.id(), Scope::User, path, Format::Json, Container::map("mcpServers"))]
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        no_cwd(self.id(), s)?;
        Ok(command_entry(s, vec![], vec![]))
    }

    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        Ok(with_headers(r, vec![("serverUrl", json!(r.url))], "headers"))
    }

    fn programs(&self) -> &'static [&'static str] {
        &["windsurf"]
    }
}
