//! AI hosts' MCP configuration: which hosts there are, where each keeps its config on Linux,
//! macOS and Windows (from an injected [`HostEnv`]), in which format and under which key, and the
//! exact entry shape each host reads for a server (`shape`).
//!
//! This is the first part of the host writers (issue #6): locations and entry shapes, as pure
//! functions. Editing the files losslessly, the journal, diff, undo and the guardian build on it.
//! Sources for every path and shape: `shared/design/hosts.md`.

pub mod edit;
mod env;
mod guardian;
mod ops;
pub mod receipt;
mod shape;
mod store;

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

pub use edit::{Container, EditError};
pub use env::{HostEnv, Os};
pub use guardian::{DriftReport, Guardian, GuardianOptions};
#[cfg(debug_assertions)]
pub use ops::test_hooks;
pub use ops::{
    Action, Bridge, Change, ChangeKind, EntryState, EntryStatus, FileStatus, HostStatus, Hosts,
    Plan, Preview, Skipped, Written, journal,
};
pub use shape::{HostServer, Launch, Unsupported, shape};
pub use store::{BACKUPS_KEPT, JournalRecord, Op};

use crate::{Error, Result};

/// Every host Switchboard writes to, by the id the CLI uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostId {
    ClaudeDesktop,
    Cursor,
    VsCode,
    Windsurf,
    ClaudeCode,
    Zed,
    Cline,
    GeminiCli,
    Codex,
    LmStudio,
    Continue,
    Goose,
    RooCode,
}

impl HostId {
    pub const ALL: [HostId; 13] = [
        HostId::ClaudeDesktop,
        HostId::Cursor,
        HostId::VsCode,
        HostId::Windsurf,
        HostId::ClaudeCode,
        HostId::Zed,
        HostId::Cline,
        HostId::GeminiCli,
        HostId::Codex,
        HostId::LmStudio,
        HostId::Continue,
        HostId::Goose,
        HostId::RooCode,
    ];

    pub fn id(self) -> &'static str {
        match self {
            HostId::ClaudeDesktop => "claude-desktop",
            HostId::Cursor => "cursor",
            HostId::VsCode => "vscode",
            HostId::Windsurf => "windsurf",
            HostId::ClaudeCode => "claude-code",
            HostId::Zed => "zed",
            HostId::Cline => "cline",
            HostId::GeminiCli => "gemini-cli",
            HostId::Codex => "codex",
            HostId::LmStudio => "lm-studio",
            HostId::Continue => "continue",
            HostId::Goose => "goose",
            HostId::RooCode => "roo-code",
        }
    }

    /// The host's product name.
    pub fn display_name(self) -> &'static str {
        match self {
            HostId::ClaudeDesktop => "Claude Desktop",
            HostId::Cursor => "Cursor",
            HostId::VsCode => "VS Code",
            HostId::Windsurf => "Windsurf",
            HostId::ClaudeCode => "Claude Code",
            HostId::Zed => "Zed",
            HostId::Cline => "Cline",
            HostId::GeminiCli => "Gemini CLI",
            HostId::Codex => "Codex",
            HostId::LmStudio => "LM Studio",
            HostId::Continue => "Continue",
            HostId::Goose => "Goose",
            HostId::RooCode => "Roo Code",
        }
    }

    /// Hosts launched from a desktop GUI do not get the login shell's PATH: their entries need
    /// absolute command paths.
    pub fn is_gui(self) -> bool {
        !matches!(self, HostId::ClaudeCode | HostId::GeminiCli | HostId::Codex)
    }
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for HostId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        HostId::ALL.into_iter().find(|h| h.id() == s).ok_or_else(|| {
            let ids: Vec<&str> = HostId::ALL.iter().map(|h| h.id()).collect();
            Error::InvalidSpec(format!("unknown host {s:?}; the hosts are {}", ids.join(", ")))
        })
    }
}

/// A config file's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Strict JSON: comments and trailing commas are errors for the host.
    Json,
    /// JSON with comments and trailing commas.
    Jsonc,
    Toml,
    Yaml,
}

/// Which of a host's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    User,
    /// A VS Code profile other than the default, by its folder id.
    Profile(String),
    /// A project (or workspace) folder's own file.
    Project,
}

/// One config file of one host, and where in it the servers live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    pub host: HostId,
    pub scope: Scope,
    pub path: PathBuf,
    pub format: Format,
    /// Where the servers are in the file.
    pub container: Container,
}

/// The config files of `host`: its user-level file(s) and, with `project`, that folder's file.
/// Directory listings are read only to find what has no fixed name (VS Code profiles, the Claude
/// Desktop MSIX package folder); a missing folder means none.
pub fn locations(host: HostId, env: &HostEnv, project: Option<&Path>) -> Vec<ConfigFile> {
    let file = |scope: Scope, path: PathBuf, format: Format, container: Container| ConfigFile {
        host,
        scope,
        path,
        format,
        container,
    };
    let home = &env.home;
    let vscode_user = env.app_config_dir().join("Code").join("User");
    let mut files = Vec::new();
    match host {
        HostId::ClaudeDesktop => {
            let name = "claude_desktop_config.json";
            let user = match env.os {
                Os::MacOs => env.app_config_dir().join("Claude").join(name),
                Os::Windows => {
                    msix_claude_dir(env).unwrap_or_else(|| env.appdata.join("Claude")).join(name)
                }
                Os::Linux => env.xdg_config_home.join("Claude").join(name),
            };
            files.push(file(Scope::User, user, Format::Json, Container::map("mcpServers")));
        }
        HostId::Cursor => {
            files.push(file(
                Scope::User,
                home.join(".cursor/mcp.json"),
                Format::Json,
                Container::map("mcpServers"),
            ));
            if let Some(p) = project {
                files.push(file(
                    Scope::Project,
                    p.join(".cursor/mcp.json"),
                    Format::Json,
                    Container::map("mcpServers"),
                ));
            }
        }
        HostId::VsCode => {
            files.push(file(
                Scope::User,
                vscode_user.join("mcp.json"),
                Format::Jsonc,
                Container::map("servers"),
            ));
            for id in subdirs(&vscode_user.join("profiles")) {
                let path = vscode_user.join("profiles").join(&id).join("mcp.json");
                files.push(file(
                    Scope::Profile(id),
                    path,
                    Format::Jsonc,
                    Container::map("servers"),
                ));
            }
            if let Some(p) = project {
                files.push(file(
                    Scope::Project,
                    p.join(".vscode/mcp.json"),
                    Format::Jsonc,
                    Container::map("servers"),
                ));
            }
        }
        HostId::Windsurf => {
            let path = home.join(".codeium/windsurf/mcp_config.json");
            files.push(file(Scope::User, path, Format::Json, Container::map("mcpServers")));
        }
        HostId::ClaudeCode => {
            files.push(file(
                Scope::User,
                home.join(".claude.json"),
                Format::Json,
                Container::map("mcpServers"),
            ));
            if let Some(p) = project {
                files.push(file(
                    Scope::Project,
                    p.join(".mcp.json"),
                    Format::Json,
                    Container::map("mcpServers"),
                ));
            }
        }
        HostId::Zed => {
            let dir = match env.os {
                Os::Windows => env.appdata.join("Zed"),
                Os::MacOs => home.join(".config/zed"),
                Os::Linux => env.xdg_config_home.join("zed"),
            };
            files.push(file(
                Scope::User,
                dir.join("settings.json"),
                Format::Jsonc,
                Container::map("context_servers"),
            ));
            if let Some(p) = project {
                files.push(file(
                    Scope::Project,
                    p.join(".zed/settings.json"),
                    Format::Jsonc,
                    Container::map("context_servers"),
                ));
            }
        }
        HostId::Cline => {
            let path = vscode_user
                .join("globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json");
            files.push(file(Scope::User, path, Format::Json, Container::map("mcpServers")));
        }
        HostId::GeminiCli => {
            files.push(file(
                Scope::User,
                home.join(".gemini/settings.json"),
                Format::Jsonc,
                Container::map("mcpServers"),
            ));
            if let Some(p) = project {
                files.push(file(
                    Scope::Project,
                    p.join(".gemini/settings.json"),
                    Format::Jsonc,
                    Container::map("mcpServers"),
                ));
            }
        }
        HostId::Codex => {
            let dir = env.codex_home.clone().unwrap_or_else(|| home.join(".codex"));
            files.push(file(
                Scope::User,
                dir.join("config.toml"),
                Format::Toml,
                Container::map("mcp_servers"),
            ));
            if let Some(p) = project {
                files.push(file(
                    Scope::Project,
                    p.join(".codex/config.toml"),
                    Format::Toml,
                    Container::map("mcp_servers"),
                ));
            }
        }
        HostId::LmStudio => {
            files.push(file(
                Scope::User,
                home.join(".lmstudio/mcp.json"),
                Format::Json,
                Container::map("mcpServers"),
            ));
        }
        HostId::Continue => {
            files.push(file(
                Scope::User,
                home.join(".continue/config.yaml"),
                Format::Yaml,
                Container::named_list("mcpServers"),
            ));
        }
        HostId::Goose => {
            let path = match env.os {
                Os::Windows => env.appdata.join("Block/goose/config/config.yaml"),
                Os::MacOs | Os::Linux => home.join(".config/goose/config.yaml"),
            };
            files.push(file(Scope::User, path, Format::Yaml, Container::map("extensions")));
        }
        HostId::RooCode => {
            let path = vscode_user
                .join("globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json");
            files.push(file(Scope::User, path, Format::Json, Container::map("mcpServers")));
            if let Some(p) = project {
                files.push(file(
                    Scope::Project,
                    p.join(".roo/mcp.json"),
                    Format::Json,
                    Container::map("mcpServers"),
                ));
            }
        }
    }
    files
}

/// Windows MSIX installs of Claude Desktop read their config inside the package's folder; the
/// plain `%APPDATA%\Claude` file is ignored there.
fn msix_claude_dir(env: &HostEnv) -> Option<PathBuf> {
    let packages = env.local_appdata.join("Packages");
    let package = subdirs(&packages).into_iter().find(|name| name.starts_with("Claude_"))?;
    Some(packages.join(package).join("LocalCache/Roaming/Claude"))
}

fn subdirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[cfg(test)]
mod tests;
