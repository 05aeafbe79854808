//! Cline (a VS Code extension): JSON `mcpServers` in its global storage. Remote entries need an
//! explicit `type`: without one Cline assumes SSE.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Host, Remote, Stdio, command_entry, file, vscode_user, with_headers};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Scope, Unsupported};

pub struct Cline;

impl Host for Cline {
    fn id(&self) -> HostId {
        HostId::Cline
    }

    fn locations(&self, env: &HostEnv, _project: Option<&Path>) -> Vec<ConfigFile> {
        let path = vscode_user(env)
            .join("globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json");
        vec![file(self.id(), Scope::User, path, Format::Json, Container::map("mcpServers"))]
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        Ok(command_entry(s, vec![("type", json!("stdio"))], vec![("disabled", json!(false))]))
    }

    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        let kind = if r.sse { "sse" } else { "streamableHttp" };
        let pairs = vec![("type", json!(kind)), ("url", json!(r.url)), ("disabled", json!(false))];
        Ok(with_headers(r, pairs, "headers"))
    }

    /// Its settings folder appears only once the extension has run.
    fn marker_dirs(&self, _env: &HostEnv) -> Vec<PathBuf> {
        Vec::new()
    }
}
