//! AI hosts' MCP configuration: which hosts there are, where each keeps its config on Linux,
//! macOS and Windows (from an injected [`HostEnv`]), in which format and under which key, and the
//! exact entry shape each host reads for a server (`shape`).
//!
//! - `host/`: one module per host behind the [`Host`] trait (paths, entry shapes, detection);
//! - `shape`: a server as the entry a host reads (Windows shims wrapped, then the host's shape);
//! - `edit` and `receipt` (the `switchboard-config-edit` crate): lossless editors (JSON/JSONC
//!   CST, TOML, block YAML), each checked against the parse, and the splice an apply made, to
//!   remove an entry byte for byte;
//! - `inputs`: secrets as prompted inputs for hosts that have them (VS Code);
//! - `store`: the ledger of our entries, the journal of writes, backups;
//! - `ops`: plan (diff), write (atomic, never over a concurrent edit), undo, status with drift;
//! - `guardian`: watches the files we wrote and reports (or repairs) drift;
//! - `connect`: a host's entries pointed at the gateway (aggregate or per server, by URL or by
//!   the stdio bridge), and which hosts are connected.
//!
//! Sources for every path and shape: `docs/hosts.md`.

pub mod budget;
mod connect;
mod connections;
mod env;
mod error;
mod guardian;
mod host;
pub mod import;
mod ops;
pub mod prompted_secrets;
mod reach;
mod shape;
mod store;

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

pub use connect::Gateway;
pub use connections::Connection;
pub use env::{HostEnv, Os};
pub use error::{Error, Result};
pub use guardian::{DriftReport, Guardian, GuardianOptions};
pub use host::{Host, Remote, Stdio, host};
#[cfg(feature = "test-hooks")]
pub use ops::test_hooks;
pub use ops::{
    Action, Bridge, Change, ChangeKind, EntryState, EntryStatus, FileStatus, HostEntry, HostStatus,
    Hosts, Plan, Preview, Skipped, Written, journal,
};
pub use reach::{AGGREGATE_ENTRY, Mode, Pickup, Reach};
pub use shape::{HostServer, Launch, Unsupported, shape};
pub use store::{BACKUPS_KEPT, JournalRecord, Op};
pub use switchboard_config_edit::{self as edit, Container, EditError, Format, receipt};

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
            Error::UnknownHost { name: s.to_owned(), known: ids.join(", ") }
        })
    }
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
    host::host(host).locations(env, project)
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
