//! VS Code (GitHub Copilot): JSONC `servers` in the profile's `mcp.json` (the default profile's
//! `User/mcp.json`, other profiles' `User/profiles/<id>/mcp.json`) and `.vscode/mcp.json`.

use std::path::Path;

use serde_json::{Value, json};

use super::{Host, Remote, Stdio, command_entry, file, no_cwd, typed_remote, vscode_user};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Scope, Unsupported, subdirs};

pub struct VsCode;

const SERVERS: Container = Container::map("servers");

impl Host for VsCode {
    fn limits(&self) -> crate::budget::Limits {
        crate::budget::Limits { tools: Some(128), source: "H3" }
    }

    /// Its user `mcp.json` travels with Settings Sync: no token in it.
    fn reach(&self) -> crate::Reach {
        crate::Reach::Command
    }

    /// A new server is started from its list (or by `chat.mcp.autostart`).
    fn pickup(&self) -> crate::Pickup {
        crate::Pickup::Refresh
    }

    fn id(&self) -> HostId {
        HostId::VsCode
    }

    fn locations(&self, env: &HostEnv, project: Option<&Path>) -> Vec<ConfigFile> {
        let user = vscode_user(env);
        let mut files =
            vec![file(self.id(), Scope::User, user.join("mcp.json"), Format::Jsonc, SERVERS)];
        for id in subdirs(&user.join("profiles")) {
            let path = user.join("profiles").join(&id).join("mcp.json");
            files.push(file(self.id(), Scope::Profile(id), path, Format::Jsonc, SERVERS));
        }
        if let Some(p) = project {
            files.push(file(
                self.id(),
                Scope::Project,
                p.join(".vscode/mcp.json"),
                Format::Jsonc,
                SERVERS,
            ));
        }
        files
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        no_cwd(self.id(), s)?;
        Ok(command_entry(s, vec![("type", json!("stdio"))], vec![]))
    }

    /// With `http` VS Code tries Streamable HTTP and falls back to SSE by itself.
    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        Ok(typed_remote(r, "http"))
    }

    /// `${input:ID}` in `env` and `headers`, prompted for once and kept in VS Code's secret
    /// storage.
    fn inputs(&self) -> Option<Container> {
        Some(Container::list_by("inputs", "id"))
    }

    fn programs(&self) -> &'static [&'static str] {
        &["code"]
    }
}
