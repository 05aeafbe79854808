//! LM Studio: Cursor's notation in `~/.lmstudio/mcp.json`.

use std::path::Path;

use serde_json::Value;

use super::{Host, Remote, Stdio, command_entry, file, no_cwd, typed_remote};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Scope, Unsupported};

pub struct LmStudio;

impl Host for LmStudio {
    /// It does not list tools again on `list_changed` (not known to).
    fn list_changed(&self) -> bool {
        false
    }

    /// Whether it honours `list_changed` is unknown; it reloads its file when saved.
    fn default_mode(&self) -> crate::Mode {
        crate::Mode::PerServer
    }

    fn id(&self) -> HostId {
        HostId::LmStudio
    }

    fn locations(&self, env: &HostEnv, _project: Option<&Path>) -> Vec<ConfigFile> {
        let path = env.home.join(".lmstudio/mcp.json");
        vec![file(self.id(), Scope::User, path, Format::Json, Container::map("mcpServers"))]
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        no_cwd(self.id(), s)?;
        Ok(command_entry(s, vec![], vec![]))
    }

    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        Ok(typed_remote(r, "http"))
    }

    fn programs(&self) -> &'static [&'static str] {
        &["lms"]
    }
}
