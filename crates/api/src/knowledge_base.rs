//! The built-in knowledge-base server as a registry entry: a stdio server named
//! `knowledge-base` whose command is our own executable with `kb serve --root DIR...`. The
//! registry stays the one source of truth: its folders are the entry's `--root` arguments.
//!
//! [`ensure`] registers it once (enabled, over a default folder created with a welcome
//! document). If the user removes it, it stays removed (`settings.json` remembers it was offered).

use std::path::{Path, PathBuf};

use crate::{Action, Link};

use crate::{Error, Result};

use switchboard_core::{
    Paths, Registry, ServerName, ServerSpec, fsutil::write_atomic, settings, spec::Launch,
};

pub const NAME: &str = "knowledge-base";

const WELCOME: &str = "---\ntitle: Welcome to your knowledge base\ntags: [switchboard, welcome]\n---\n\n# Welcome to your knowledge base\n\nEvery Markdown (`.md`, `.mdx`) and text (`.txt`) file in this folder is searchable by your AI\nassistants through Switchboard's built-in **knowledge-base** MCP server.\n\n## Adding documents\n\nSave or copy files here, or add more folders in Switchboard's Knowledge base view. New and\nchanged files are indexed within a second; deleted ones disappear from search.\n\n## What assistants can do\n\n- `search`: ranked full-text search; results point at the matching section.\n- `read_document`: read a document or one section of it.\n- `create_ticket` and `add_note`: write new Markdown files into `tickets/` and `notes/` here.\n\nFront matter (`title:`, `tags:`) at the top of a file sets its title and tags.\n";

/// How to run our own executable as the knowledge-base server.
#[derive(Debug, Clone)]
pub struct SelfCommand {
    pub program: PathBuf,
    /// Arguments before the server's own, e.g. `["kb", "serve"]`.
    pub prefix: Vec<String>,
}

impl SelfCommand {
    /// `switchboard kb serve`: the command-line program beside the running executable when
    /// there is one, else the running executable (both accept `kb serve`). The app's own
    /// executable links GTK and WebKit, whose pages a server started from it maps at load: the
    /// knowledge base idled at 86 MiB that way and at 23 MiB as `switchboard`.
    pub fn current() -> Result<Self> {
        let me = std::env::current_exe()
            .map_err(Error::io("locating", Path::new("the running program")))?;
        Ok(SelfCommand { program: lightest(&me), prefix: vec!["kb".into(), "serve".into()] })
    }
}

/// The `switchboard` program beside `me` (same folder, same extension), or `me`.
fn lightest(me: &Path) -> PathBuf {
    let name = match me.extension() {
        Some(ext) => format!("switchboard.{}", ext.to_string_lossy()),
        None => "switchboard".to_owned(),
    };
    let cli = me.with_file_name(name);
    if cli != me && cli.is_file() { cli } else { me.to_path_buf() }
}

/// The folder indexed by default: `Documents/Switchboard` (`knowledge-base` under
/// `SWITCHBOARD_HOME` when that is set, so tests and portable setups stay self-contained).
pub fn default_folder(paths: &Paths, home_override: bool) -> PathBuf {
    if home_override && let Some(home) = paths.config_dir.parent() {
        return home.join("knowledge-base");
    }
    directories::UserDirs::new()
        .and_then(|d| d.document_dir().map(Path::to_path_buf))
        .map_or_else(|| paths.data_dir.join("knowledge-base"), |d| d.join("Switchboard"))
}

/// What [`ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensured {
    /// Registered now, over this folder.
    Registered(PathBuf),
    /// It was there; its command now points at this executable.
    Refreshed,
    /// The user removed it earlier; left alone.
    Declined,
}

/// Registers the built-in server once; afterwards keeps its command pointing at `me`.
pub fn ensure(paths: &Paths, me: &SelfCommand, folder: &Path) -> Result<Ensured> {
    let registry = Registry::new(paths);
    let name = NAME.parse::<ServerName>()?;
    let mut prefs = settings::load(paths)?;
    let existing = registry.load()?.get(&name).cloned();
    match existing {
        Some(spec) => {
            if is_builtin(&spec) {
                let roots = roots(&spec);
                let mut updated = spec_for(me, &roots);
                updated.enabled = spec.enabled;
                updated.restart = spec.restart;
                if updated != spec {
                    registry.replace(&name, updated)?;
                }
            }
            Ok(Ensured::Refreshed)
        }
        None if prefs.knowledge_base_offered => Ok(Ensured::Declined),
        None => {
            create_folder(folder)?;
            registry.add(name, spec_for(me, &[folder.to_path_buf()]))?;
            prefs.knowledge_base_offered = true;
            settings::save(paths, &prefs)?;
            Ok(Ensured::Registered(folder.to_path_buf()))
        }
    }
}

/// Creates the folder with a welcome document, unless it exists.
pub fn create_folder(folder: &Path) -> Result<()> {
    if folder.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(folder).map_err(Error::io("creating", folder))?;
    let welcome = folder.join("Welcome.md");
    write_atomic(&welcome, WELCOME.as_bytes()).map_err(Error::io("writing", &welcome))
}

/// Is this entry our built-in server (whatever its folders)?
pub fn is_builtin(spec: &ServerSpec) -> bool {
    matches!(&spec.launch, Launch::Stdio { args, .. } if args.len() >= 2 && args[0] == "kb" && args[1] == "serve")
}

/// The folders of a built-in entry, from its `--root` arguments.
pub fn roots(spec: &ServerSpec) -> Vec<PathBuf> {
    let Launch::Stdio { args, .. } = &spec.launch else { return Vec::new() };
    args.windows(2).filter(|w| w[0] == "--root").map(|w| PathBuf::from(&w[1])).collect()
}

fn spec_for(me: &SelfCommand, roots: &[PathBuf]) -> ServerSpec {
    let mut args = me.prefix.clone();
    for root in roots {
        args.push("--root".into());
        args.push(root.display().to_string());
    }
    ServerSpec::stdio(me.program.display().to_string(), args)
}

/// Replaces the built-in server's folders (each must be an existing directory). The caller
/// restarts the server for them to take effect.
pub fn set_roots(paths: &Paths, folders: &[PathBuf]) -> Result<ServerSpec> {
    if folders.is_empty() {
        return Err(Error::NoFolders);
    }
    let mut canonical = Vec::new();
    for folder in folders {
        let dir = folder
            .canonicalize()
            .ok()
            .filter(|d| d.is_dir())
            .ok_or_else(|| Error::NotAFolder(folder.clone()))?;
        if !canonical.contains(&dir) {
            canonical.push(dir);
        }
    }
    let registry = Registry::new(paths);
    let name = NAME.parse::<ServerName>()?;
    registry.update(|servers| -> Result<ServerSpec> {
        let spec = servers
            .get_mut(&name)
            .ok_or_else(|| switchboard_core::Error::UnknownServer(NAME.into()))?;
        let Launch::Stdio { args, .. } = &mut spec.launch else {
            return Err(Error::NotBuiltIn(NAME.into()));
        };
        if !(args.len() >= 2 && args[0] == "kb" && args[1] == "serve") {
            return Err(Error::NotBuiltIn(NAME.into()));
        }
        let mut kept: Vec<String> = Vec::new();
        let mut rest = args.iter().skip(2);
        while let Some(arg) = rest.next() {
            if arg == "--root" {
                rest.next();
            } else {
                kept.push(arg.clone());
            }
        }
        let mut new_args = vec!["kb".to_string(), "serve".to_string()];
        for dir in &canonical {
            new_args.push("--root".into());
            new_args.push(dir.display().to_string());
        }
        new_args.extend(kept);
        *args = new_args;
        Ok(spec.clone())
    })
}

/// What the Knowledge base view shows about the built-in server's registration.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "KbInfo")]
pub struct Info {
    /// Whether the built-in server is in the registry.
    pub registered: bool,
    pub folders: Vec<String>,
    /// Its live status, when this process owns the servers.
    pub status: Option<switchboard_runtime::ServerStatus>,
}

pub fn info(
    servers: &switchboard_core::Servers,
    status: Option<switchboard_runtime::ServerStatus>,
) -> Info {
    let spec = servers.iter().find(|(name, _)| name.as_str() == NAME).map(|(_, s)| s);
    Info {
        registered: spec.is_some_and(is_builtin),
        folders: spec
            .map(roots)
            .unwrap_or_default()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        status,
    }
}

/// A connection to the built-in server for the app's Knowledge base view: a second instance of
/// the server, which follows the running one's index (tantivy allows one writer; the second
/// process searches the first one's commits and reports its status). Calls are not recorded in
/// the tester's history.
pub struct Client {
    session: switchboard_runtime::tester::TesterSession,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("knowledge_base::Client")
    }
}

impl Client {
    pub async fn open(paths: &Paths, env: &switchboard_core::Env) -> Result<Self> {
        let target = switchboard_runtime::tester::Target::Server { name: NAME.into() };
        let options = switchboard_mcp::SessionOptions::default();
        let session =
            switchboard_runtime::tester::TesterSession::open(paths, env, target, &options).await?;
        Ok(Client { session })
    }

    /// Calls a tool and returns its structured content; a tool error is an error.
    pub async fn call(
        &self,
        tool: &str,
        arguments: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let arguments = match arguments {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        let timeout = Some(std::time::Duration::from_secs(30));
        let outcome = match self.session.session().call_tool(tool, arguments, timeout, None).await {
            Ok(outcome) => outcome,
            Err(e) => return Err(self.session.error(e).await.into()),
        };
        let text = || {
            outcome
                .result
                .content
                .iter()
                .find_map(|c| c.as_text().map(|t| t.text.clone()))
                .unwrap_or_default()
        };
        if outcome.result.is_error == Some(true) {
            return Err(Error::ToolError(text()));
        }
        Ok(outcome.result.structured_content.clone().unwrap_or(serde_json::Value::Null))
    }

    pub async fn close(self) {
        self.session.close().await;
    }
}

/// What the Knowledge base view shows: the registration and the server's status.
pub async fn info_of(link: &Link) -> Result<Info> {
    let registry = switchboard_core::Registry::new(link.paths());
    let servers = tokio::task::spawn_blocking(move || registry.load())
        .await
        .map_err(|e| Error::Task(e.to_string()))??;
    let status = link.status().await?.into_iter().find(|s| s.name.as_str() == NAME);
    Ok(info(&servers, status))
}

/// A long-lived connection to the built-in server (the window's), opened on first use and
/// dropped after a failure that is not the tool's own, so the next call reopens it.
#[derive(Debug, Default)]
pub struct Connection {
    client: tokio::sync::Mutex<Option<Client>>,
}

impl Connection {
    /// Calls one of the built-in server's tools (`index_status`, `search`, ...) and returns its
    /// structured result.
    pub async fn call(
        &self,
        link: &Link,
        tool: &str,
        arguments: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let mut slot = self.client.lock().await;
        let client = match slot.take() {
            Some(client) => client,
            None => Client::open(link.paths(), link.env()).await?,
        };
        let result = client.call(tool, arguments).await;
        match &result {
            Err(e) if !matches!(e, Error::ToolError(_)) => client.close().await,
            _ => *slot = Some(client),
        }
        result
    }

    /// Closes the connection, if open.
    pub async fn close(&self) {
        if let Some(client) = self.client.lock().await.take() {
            client.close().await;
        }
    }
}

/// Replaces the knowledge base's folders and restarts the server on them (when it runs).
pub async fn set_folders(
    link: &Link,
    connection: &Connection,
    folders: Vec<PathBuf>,
) -> Result<Info> {
    let paths = link.paths().clone();
    tokio::task::spawn_blocking(move || set_roots(&paths, &folders))
        .await
        .map_err(|e| Error::Task(e.to_string()))??;
    connection.close().await;
    link.reload().await?;
    let statuses = link.status().await?;
    let running = statuses.iter().any(|s| s.name.as_str() == NAME && s.pid().is_some());
    if running {
        link.act(NAME, Action::Restart).await?;
    }
    info_of(link).await
}

/// Ticks, coalesced, whenever a knowledge-base index writes its status file: `kb serve` keeps
/// each index under `<data>/kb/<hash of its folders>/` and rewrites `status.json` there as it
/// indexes (see `switchboard_kb::serve::default_index_dir`). The window refreshes the index's
/// status on a tick instead of asking on a timer. Dropping it stops the watch.
#[derive(Debug)]
pub struct StatusWatch {
    _watcher: notify::RecommendedWatcher,
    changes: tokio::sync::mpsc::Receiver<()>,
}

impl StatusWatch {
    /// Waits for the next change; `None` once the watch has stopped.
    pub async fn changed(&mut self) -> Option<()> {
        self.changes.recv().await
    }
}

/// Starts watching `<data>/kb` (created if missing) for index status files.
pub fn watch_status(paths: &Paths) -> Result<StatusWatch> {
    use notify::Watcher;
    let dir = paths.data_dir.join("kb");
    std::fs::create_dir_all(&dir).map_err(Error::io("creating", &dir))?;
    let (tx, changes) = tokio::sync::mpsc::channel(1);
    let failed = |e: notify::Error| Error::Watch { path: dir.clone(), problem: e.to_string() };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let is_status = |p: &PathBuf| p.file_name().is_some_and(|n| n == "status.json");
        if event.is_ok_and(|e| e.paths.iter().any(is_status)) {
            // A full channel already holds a tick: the change is coalesced into it.
            let _ = tx.try_send(());
        }
    })
    .map_err(failed)?;
    watcher.watch(&dir, notify::RecursiveMode::Recursive).map_err(failed)?;
    Ok(StatusWatch { _watcher: watcher, changes })
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn an_index_writing_its_status_file_ticks_the_watch() {
        let home = tempfile::tempdir().expect("tempdir");
        let paths = switchboard_core::Paths::under(home.path());
        let mut watch = super::watch_status(&paths).expect("watch");
        // As `kb serve` writes it: a temp file renamed over status.json, in a new index folder.
        let index = paths.data_dir.join("kb").join("0123456789abcdef");
        std::fs::create_dir_all(&index).expect("index dir");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut ticked = false;
        while !ticked && std::time::Instant::now() < deadline {
            std::fs::write(index.join("status.json.tmp"), b"{}").expect("write");
            std::fs::rename(index.join("status.json.tmp"), index.join("status.json"))
                .expect("rename");
            let wait = std::time::Duration::from_millis(500);
            ticked = tokio::time::timeout(wait, watch.changed()).await.is_ok_and(|t| t.is_some());
        }
        assert!(ticked, "no tick for a written status.json");
    }

    use super::*;

    #[test]
    fn registers_once_refreshes_the_command_and_respects_removal() {
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under(home.path());
        let folder = default_folder(&paths, true);
        assert_eq!(folder, home.path().join("knowledge-base"));
        let me = SelfCommand {
            program: "/opt/a/switchboard".into(),
            prefix: vec!["kb".into(), "serve".into()],
        };
        assert_eq!(ensure(&paths, &me, &folder).unwrap(), Ensured::Registered(folder.clone()));
        assert!(std::fs::read_to_string(folder.join("Welcome.md")).unwrap().contains("# Welcome"));
        let name = NAME.parse::<ServerName>().unwrap();
        let spec = Registry::new(&paths).load().unwrap()[&name].clone();
        assert!(spec.enabled && is_builtin(&spec));
        assert_eq!(roots(&spec), vec![folder.clone()]);

        // A new executable path (an update, or the app instead of the CLI) is picked up.
        let moved = SelfCommand { program: "/opt/b/switchboard-app".into(), ..me.clone() };
        assert_eq!(ensure(&paths, &moved, &folder).unwrap(), Ensured::Refreshed);
        let spec = Registry::new(&paths).load().unwrap()[&name].clone();
        let Launch::Stdio { command, .. } = &spec.launch else { panic!() };
        assert_eq!(command, "/opt/b/switchboard-app");

        // More folders.
        let other = home.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        let spec = set_roots(&paths, &[folder.clone(), other.clone()]).unwrap();
        assert_eq!(
            roots(&spec),
            vec![folder.canonicalize().unwrap(), other.canonicalize().unwrap()]
        );
        assert!(set_roots(&paths, &[home.path().join("missing")]).is_err());
        assert!(set_roots(&paths, &[]).is_err());

        // Removed by the user: not brought back.
        Registry::new(&paths).remove(&name).unwrap();
        assert_eq!(ensure(&paths, &me, &folder).unwrap(), Ensured::Declined);
        assert!(!Registry::new(&paths).load().unwrap().contains_key(&name));
    }

    #[test]
    fn the_command_line_program_beside_the_app_serves_the_knowledge_base() {
        let dir = tempfile::tempdir().expect("dir");
        let app = dir.path().join("switchboard-app");
        std::fs::write(&app, "").expect("app");
        assert_eq!(lightest(&app), app, "no CLI beside it: the app itself");
        let cli = dir.path().join("switchboard");
        std::fs::write(&cli, "").expect("cli");
        assert_eq!(lightest(&app), cli);
        assert_eq!(lightest(&cli), cli);
    }
}
