//! Roo Code (a VS Code extension): like Cline, with `streamable-http` for remote servers and a
//! project file `.roo/mcp.json`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{
    Host, Remote, Stdio, command_entry, no_cwd, typed_remote, user_and_project, vscode_user,
};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Unsupported};

pub struct RooCode;

impl Host for RooCode {
    /// It does not list tools again on `list_changed` (no notification handlers).
    fn list_changed(&self) -> bool {
        false
    }

    /// It registers no notification handlers; it watches its file.
    fn default_mode(&self) -> crate::Mode {
        crate::Mode::PerServer
    }

    fn id(&self) -> HostId {
        HostId::RooCode
    }

    fn locations(&self, env: &HostEnv, project: Option<&Path>) -> Vec<ConfigFile> {
        let user = vscode_user(env)
            .join("globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json");
        user_and_project(
            self.id(),
            user,
            project,
            ".roo/mcp.json",
            Format::Json,
            Container::map("mcpServers"),
        )
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        no_cwd(self.id(), s)?;
        Ok(command_entry(s, vec![("type", json!("stdio"))], vec![]))
    }

    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        Ok(typed_remote(r, "streamable-http"))
    }

    fn marker_dirs(&self, _env: &HostEnv) -> Vec<PathBuf> {
        Vec::new()
    }
}
