//! Claude Desktop: strict JSON, `mcpServers`, stdio only. Windows MSIX installs read the file
//! inside their package folder, not `%APPDATA%\Claude`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Host, Remote, Stdio, command_entry, file, no_cwd};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Os, Scope, Unsupported, subdirs};

pub struct ClaudeDesktop;

impl Host for ClaudeDesktop {
    /// It does not list tools again on `list_changed` (claude-ai-mcp#960).
    fn list_changed(&self) -> bool {
        false
    }

    /// It reads no URLs from its file.
    fn reach(&self) -> crate::Reach {
        crate::Reach::Command
    }

    /// It ignores `list_changed` (claude-ai-mcp#960); its own settings toggle each entry.
    fn default_mode(&self) -> crate::Mode {
        crate::Mode::PerServer
    }

    /// It reads its file only at start (a full quit).
    fn pickup(&self) -> crate::Pickup {
        crate::Pickup::Restart
    }

    fn id(&self) -> HostId {
        HostId::ClaudeDesktop
    }

    fn locations(&self, env: &HostEnv, _project: Option<&Path>) -> Vec<ConfigFile> {
        let name = "claude_desktop_config.json";
        let path = match env.os {
            Os::MacOs => env.app_config_dir().join("Claude").join(name),
            Os::Windows => msix_dir(env).unwrap_or_else(|| env.appdata.join("Claude")).join(name),
            Os::Linux => env.xdg_config_home.join("Claude").join(name),
        };
        vec![file(self.id(), Scope::User, path, Format::Json, Container::map("mcpServers"))]
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        no_cwd(self.id(), s)?;
        Ok(command_entry(s, vec![], vec![]))
    }

    /// Remote entries in this file are skipped by the app: they go through a stdio bridge.
    fn remote(&self, _: &Remote<'_>) -> Result<Value, Unsupported> {
        Err(Unsupported::RemoteNeedsBridge(self.id()))
    }
}

/// `%LOCALAPPDATA%\Packages\Claude_*\LocalCache\Roaming\Claude`, when such a package exists.
fn msix_dir(env: &HostEnv) -> Option<PathBuf> {
    let packages = env.local_appdata.join("Packages");
    let package = subdirs(&packages).into_iter().find(|name| name.starts_with("Claude_"))?;
    Some(packages.join(package).join("LocalCache/Roaming/Claude"))
}
