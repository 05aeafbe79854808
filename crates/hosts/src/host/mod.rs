//! One module per host behind the [`Host`] trait: where its config files are, under which key,
//! the exact entry it reads for a local command and for a remote URL, and what shows it is
//! installed. Sources for every path and shape: `docs/hosts.md`.

mod claude_code;
mod claude_desktop;
mod cline;
mod codex;
mod continue_dev;
mod cursor;
mod gemini_cli;
mod goose;
mod lm_studio;
mod roo_code;
mod vscode;
mod windsurf;
mod zed;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde_json::{Map, Value};

use super::{
    ConfigFile, Container, Format, HostEnv, HostId, Mode, Pickup, Reach, Scope, Unsupported,
};

/// A local command, as the entry should run it (Windows shims already wrapped).
#[derive(Debug, Clone, Copy)]
pub struct Stdio<'a> {
    pub name: &'a str,
    pub command: &'a str,
    pub args: &'a [String],
    pub env: &'a BTreeMap<String, String>,
    pub cwd: Option<&'a str>,
}

/// A remote server.
#[derive(Debug, Clone, Copy)]
pub struct Remote<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub headers: &'a BTreeMap<String, String>,
    /// The legacy HTTP+SSE transport.
    pub sse: bool,
}

pub trait Host: Sync {
    fn id(&self) -> HostId;
    /// Its user-level file(s) and, with `project`, that folder's file.
    fn locations(&self, env: &HostEnv, project: Option<&Path>) -> Vec<ConfigFile>;
    /// The entry for a local command.
    fn stdio(&self, server: &Stdio<'_>) -> Result<Value, Unsupported>;
    /// The entry for a remote server.
    fn remote(&self, server: &Remote<'_>) -> Result<Value, Unsupported>;
    /// The list of prompted inputs in its files, when it has one: secrets are then written as
    /// references to inputs instead of values (`hosts::prompted_secrets`).
    fn inputs(&self) -> Option<Container> {
        None
    }
    /// How its entries reach the gateway: by URL with its token in a header (the default), or
    /// through the stdio bridge where it only runs commands or its file is commonly synced or
    /// committed (`docs/hosts.md` says why for each).
    fn reach(&self) -> Reach {
        Reach::Url
    }
    /// The mode it is connected in unless asked otherwise (`docs/hosts.md` says why for each).
    fn default_mode(&self) -> Mode {
        Mode::Aggregate
    }
    /// Whether it lists a server's tools again when told `list_changed`, so a server added
    /// behind the aggregate entry shows up without a restart (`docs/hosts.md`).
    fn list_changed(&self) -> bool {
        true
    }
    /// The caps it enforces on tools (`budget`; none known by default).
    fn limits(&self) -> crate::budget::Limits {
        crate::budget::Limits { tools: None, source: "" }
    }
    /// The name it gives a tool of entry `entry`, and the length it (or its model API) refuses
    /// past, when it does not shorten names itself; `None` otherwise.
    fn checked_name(&self, entry: &str, tool: &str) -> Option<(String, usize)> {
        let _ = (entry, tool);
        None
    }
    /// What it takes for it to see an entry added to its file.
    fn pickup(&self) -> Pickup {
        Pickup::Live
    }
    /// Programs whose presence on PATH shows the host is installed.
    fn programs(&self) -> &'static [&'static str] {
        &[]
    }
    /// Folders whose presence shows the host is installed (default: its config files' folders).
    fn marker_dirs(&self, env: &HostEnv) -> Vec<PathBuf> {
        self.locations(env, None)
            .iter()
            .filter_map(|f| f.path.parent().map(PathBuf::from))
            .collect()
    }
}

/// The implementation of `id`.
pub fn host(id: HostId) -> &'static dyn Host {
    match id {
        HostId::ClaudeDesktop => &claude_desktop::ClaudeDesktop,
        HostId::Cursor => &cursor::Cursor,
        HostId::VsCode => &vscode::VsCode,
        HostId::Windsurf => &windsurf::Windsurf,
        HostId::ClaudeCode => &claude_code::ClaudeCode,
        HostId::Zed => &zed::Zed,
        HostId::Cline => &cline::Cline,
        HostId::GeminiCli => &gemini_cli::GeminiCli,
        HostId::Codex => &codex::Codex,
        HostId::LmStudio => &lm_studio::LmStudio,
        HostId::Continue => &continue_dev::Continue,
        HostId::Goose => &goose::Goose,
        HostId::RooCode => &roo_code::RooCode,
    }
}

// ---- helpers the hosts share -------------------------------------------------------------

fn file(
    host: HostId,
    scope: Scope,
    path: PathBuf,
    format: Format,
    container: Container,
) -> ConfigFile {
    ConfigFile { host, scope, path, format, container }
}

/// `user` always, and `project.join(rel)` when a project is given.
fn user_and_project(
    host: HostId,
    user: PathBuf,
    project: Option<&Path>,
    rel: &str,
    format: Format,
    container: Container,
) -> Vec<ConfigFile> {
    let mut files = vec![file(host, Scope::User, user, format, container)];
    if let Some(p) = project {
        files.push(file(host, Scope::Project, p.join(rel), format, container));
    }
    files
}

/// VS Code's user folder (extensions like Cline keep their files under it).
fn vscode_user(env: &HostEnv) -> PathBuf {
    env.app_config_dir().join("Code").join("User")
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        map.insert(k.to_string(), v);
    }
    Value::Object(map)
}

fn strings(map: &BTreeMap<String, String>) -> Value {
    Value::Object(map.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// `command`, `args`, `env` (when any) and `cwd` (when given), between `before` and `after`.
fn command_entry(s: &Stdio<'_>, before: Vec<(&str, Value)>, after: Vec<(&str, Value)>) -> Value {
    let mut pairs = before;
    pairs.push(("command", Value::from(s.command)));
    pairs.push(("args", Value::from(s.args.to_vec())));
    if !s.env.is_empty() {
        pairs.push(("env", strings(s.env)));
    }
    if let Some(cwd) = s.cwd {
        pairs.push(("cwd", Value::from(cwd)));
    }
    pairs.extend(after);
    object(pairs)
}

/// `pairs` plus `key: headers` when there are headers.
fn with_headers(r: &Remote<'_>, mut pairs: Vec<(&str, Value)>, key: &'static str) -> Value {
    if !r.headers.is_empty() {
        pairs.push((key, strings(r.headers)));
    }
    object(pairs)
}

/// `{"type": <sse or streamable>, "url": …, "headers": …}`: the remote entry most hosts read,
/// differing only in what they call the Streamable HTTP transport.
fn typed_remote(r: &Remote<'_>, streamable: &str) -> Value {
    let kind = if r.sse { "sse" } else { streamable };
    with_headers(r, vec![("type", Value::from(kind)), ("url", Value::from(r.url))], "headers")
}

fn no_cwd(host: HostId, s: &Stdio<'_>) -> Result<(), Unsupported> {
    if s.cwd.is_some() { Err(Unsupported::NoCwd(host)) } else { Ok(()) }
}
