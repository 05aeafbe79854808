//! The operations on host files: plan (what an apply or a remove would change, as a diff), write
//! (atomically, journalled, backed up, never over a concurrent edit), undo, and status (ours,
//! others', drifted).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Serialize;
use serde_json::Value;

use super::{
    ConfigFile, Container, EditError, HostEnv, HostId, HostServer, Launch, Scope, Unsupported,
    edit, inputs, locations,
    receipt::Receipt,
    shape,
    store::{FileRecord, JournalRecord, Op, OwnedEntry, Store, sha256, value_sha256},
};
use switchboard_core::{
    fsutil,
    spec::{self, RemoteTransport, ServerName, ServerSpec},
};

use crate::{Error, Result};

/// How many times a write is recomputed when the file changed under it.
const WRITE_ATTEMPTS: usize = 3;

/// How our own executable bridges stdio to a remote server, for hosts that only run commands.
#[derive(Debug, Clone)]
pub struct Bridge {
    pub program: PathBuf,
    /// Arguments before the URL, e.g. `["bridge"]`.
    pub prefix: Vec<String>,
}

impl Bridge {
    /// The running executable with `bridge`: both `switchboard` and the app accept it.
    pub fn current() -> Option<Self> {
        let program = std::env::current_exe().ok()?;
        Some(Bridge { program, prefix: vec!["bridge".into()] })
    }
}

/// Everything the operations need: the environment the host paths come from, where our state
/// lives, and how commands are made absolute.
#[derive(Debug, Clone)]
pub struct Hosts {
    pub env: HostEnv,
    /// `<data>/hosts`.
    pub state_dir: PathBuf,
    pub bridge: Option<Bridge>,
    /// Make bare commands absolute for GUI hosts (off in tests that want fixed text).
    pub resolve_commands: bool,
    /// Where servers' secrets are read from when an entry must carry them.
    pub paths: switchboard_core::Paths,
}

/// The entry a host gets for one server.
#[derive(Debug, Clone, PartialEq)]
pub struct HostEntry {
    pub value: Value,
    /// How it was made (bridges, absolute paths, secrets as inputs).
    pub notes: Vec<String>,
    /// The prompted inputs it refers to, by id (VS Code).
    pub inputs: Vec<(String, Value)>,
}

/// What to do to a host file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Add or update the entries of these servers.
    Apply(Vec<(ServerName, ServerSpec)>),
    /// Remove our entries; `None`: all of ours in the file.
    Remove(Option<Vec<String>>),
    /// Make ours exactly these: add or update them, remove our other entries.
    Sync(Vec<(ServerName, ServerSpec)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Add,
    Update,
    Remove,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub name: String,
    pub kind: ChangeKind,
}

/// An entry left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// What an apply or remove will do to one file. Nothing is written until [`Hosts::write`].
#[derive(Debug, Clone)]
pub struct Plan {
    pub file: ConfigFile,
    /// The text now (`None`: no file).
    pub before: Option<String>,
    /// The text to write (`None`: delete the file, which Switchboard created).
    pub after: Option<String>,
    pub changes: Vec<Change>,
    pub skipped: Vec<Skipped>,
    /// Notes on what was written and why (bridges, absolute paths).
    pub notes: Vec<String>,
    record: Option<FileRecord>,
    op: Op,
}

impl Plan {
    pub fn changes_anything(&self) -> bool {
        self.before != self.after
    }

    /// A unified diff of the file, `---` before and `+++` after.
    pub fn diff(&self) -> String {
        let before = self.before.as_deref().unwrap_or("");
        let after = self.after.as_deref().unwrap_or("");
        let path = self.file.path.display().to_string();
        similar::TextDiff::from_lines(before, after)
            .unified_diff()
            .context_radius(3)
            .header(
                &if self.before.is_some() { path.clone() } else { "/dev/null".into() },
                &if self.after.is_some() { path } else { "/dev/null".into() },
            )
            .to_string()
    }
}

/// A plan as the window shows it: the diff, what changes, what was skipped and why; after a
/// write, where the backup went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "HostPreview")]
pub struct Preview {
    pub host: String,
    pub path: String,
    pub diff: String,
    pub changes: Vec<Change>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
    pub written: bool,
    #[ts(optional)]
    pub backup: Option<String>,
}

impl Preview {
    pub fn of(plan: &Plan, written: Option<Written>) -> Self {
        Preview {
            host: plan.file.host.id().into(),
            path: plan.file.path.display().to_string(),
            diff: if plan.changes_anything() { plan.diff() } else { String::new() },
            changes: plan.changes.clone(),
            skipped: plan.skipped.clone(),
            notes: plan.notes.clone(),
            written: written.is_some(),
            backup: written.and_then(|w| w.backup).map(|b| b.display().to_string()),
        }
    }
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Written {
    pub path: PathBuf,
    pub journal_id: Option<u64>,
    pub backup: Option<PathBuf>,
    /// Times the file changed under us and the plan was recomputed.
    pub retries: usize,
}

/// The state of one entry in a host file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum EntryState {
    /// Ours, as we wrote it, and what we would write now.
    InSync,
    /// Ours, as we wrote it, but the server's definition has changed since.
    Outdated,
    /// Ours, but someone changed it in the file.
    Changed,
    /// Ours, but someone removed it from the file.
    Missing,
    /// Someone else's.
    Theirs,
}

impl EntryState {
    pub fn is_drift(self) -> bool {
        matches!(self, EntryState::Changed | EntryState::Missing)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct EntryStatus {
    pub name: String,
    pub state: EntryState,
    /// The registry server, for ours.
    #[ts(optional)]
    pub server: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FileStatus {
    pub scope: String,
    #[ts(type = "string")]
    pub path: PathBuf,
    pub format: String,
    pub exists: bool,
    /// Why the file could not be read, when it could not.
    #[ts(optional)]
    pub error: Option<String>,
    pub entries: Vec<EntryStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct HostStatus {
    pub id: String,
    pub name: String,
    /// Found on this machine, and what showed it.
    pub detected: bool,
    #[ts(optional)]
    pub detected_by: Option<String>,
    pub files: Vec<FileStatus>,
}

impl HostStatus {
    pub fn drifted(&self) -> usize {
        self.files.iter().flat_map(|f| &f.entries).filter(|e| e.state.is_drift()).count()
    }
}

fn file_error(file: &ConfigFile, e: EditError) -> Error {
    Error::HostFile { path: file.path.clone(), problem: e.to_string() }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io { action, path: path.to_path_buf(), source }
}

/// The file's text, `None` when there is none. Not UTF-8 is an error: nothing is written then.
fn read_text(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| Error::HostFile {
            path: path.to_path_buf(),
            problem: "it is not UTF-8 text".into(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path)(e)),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The path to write through: a symlinked config (a dotfiles repository) is written at its target.
fn write_target(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

impl Hosts {
    /// State under `paths`' data folder; commands made absolute for GUI hosts.
    pub fn new(paths: &switchboard_core::Paths, env: HostEnv, bridge: Option<Bridge>) -> Self {
        Hosts {
            env,
            state_dir: paths.data_dir.join("hosts"),
            bridge,
            resolve_commands: true,
            paths: paths.clone(),
        }
    }

    /// The file `host` is written to: its user file, or with `project` that folder's file.
    pub fn target(&self, host: HostId, project: Option<&Path>) -> Result<ConfigFile> {
        self.target_in(host, project, None)
    }

    /// Like [`Hosts::target`], or a VS Code profile's file by the profile's folder id.
    pub fn target_in(
        &self,
        host: HostId,
        project: Option<&Path>,
        profile: Option<&str>,
    ) -> Result<ConfigFile> {
        let files = locations(host, &self.env, project);
        let wanted = match (profile, project) {
            (Some(id), _) => Scope::Profile(id.to_string()),
            (None, Some(_)) => Scope::Project,
            (None, None) => Scope::User,
        };
        if let Some(file) = files.iter().find(|f| f.scope == wanted) {
            return Ok(file.clone());
        }
        Err(Error::NoSuchFile(match wanted {
            Scope::Profile(id) => {
                let ids: Vec<String> = files
                    .iter()
                    .filter_map(|f| match &f.scope {
                        Scope::Profile(id) => Some(id.clone()),
                        _ => None,
                    })
                    .collect();
                format!(
                    "{host} has no profile {id:?}; its profiles are: {}",
                    if ids.is_empty() { "none besides the default".into() } else { ids.join(", ") }
                )
            }
            _ => format!("{host} has no project-level config file"),
        }))
    }

    /// The entry `host` should have for a server, with notes on how it was made and, for hosts
    /// that prompt for secrets, the inputs it refers to.
    pub fn entry_for(
        &self,
        host: HostId,
        name: &ServerName,
        server: &ServerSpec,
    ) -> std::result::Result<HostEntry, Unsupported> {
        let (mut value, mut notes) = self.plain_entry_for(host, name, server)?;
        let inputs = match super::host(host).inputs() {
            Some(_) => inputs::promote(name.as_str(), &mut value),
            None => Vec::new(),
        };
        if !inputs.is_empty() {
            let ids: Vec<&str> = inputs.iter().map(|(id, _)| id.as_str()).collect();
            notes.push(format!(
                "{name}: its secrets are not written to the file; {host} asks for each once and \
                 keeps it in its secret storage (inputs {}). If a secret changes later, clear it \
                 there so it asks again",
                ids.join(", ")
            ));
        }
        Ok(HostEntry { value, notes, inputs })
    }

    fn plain_entry_for(
        &self,
        host: HostId,
        name: &ServerName,
        server: &ServerSpec,
    ) -> std::result::Result<(Value, Vec<String>), Unsupported> {
        let mut notes = Vec::new();
        // A host runs the server itself, so it needs the secret values (VS Code gets them as
        // prompted inputs instead, see `inputs`).
        let filled = switchboard_core::secrets::filled(&self.paths, name, server)
            .map_err(|e| Unsupported::MissingSecret(e.to_string()))?;
        let server = &filled;
        let launch = match &server.launch {
            spec::Launch::Stdio { command, args, env, cwd } => {
                let mut command = command.clone();
                if self.resolve_commands
                    && host.is_gui()
                    && !Path::new(&command).is_absolute()
                    && let Ok(found) = switchboard_core::process::resolve(
                        &command,
                        None,
                        std::env::var_os("PATH").as_deref(),
                    )
                {
                    notes.push(format!(
                        "{name}: {command} written as {} ({host} does not see your shell's PATH)",
                        found.program.display()
                    ));
                    command = found.program.to_string_lossy().into_owned();
                }
                Launch::Stdio {
                    command,
                    args: args.clone(),
                    env: env.clone(),
                    cwd: cwd.as_ref().map(|c| c.to_string_lossy().into_owned()),
                }
            }
            spec::Launch::Remote { url, transport, headers } => Launch::Remote {
                url: url.clone(),
                headers: headers.clone(),
                sse: *transport == RemoteTransport::Sse,
            },
        };
        let server_entry = HostServer { name: name.to_string(), launch };
        match shape(host, &server_entry, self.env.os) {
            Err(Unsupported::RemoteNeedsBridge(_)) if self.bridge.is_some() => {
                let (bridge, Launch::Remote { url, headers, sse }) = (
                    self.bridge.as_ref().ok_or(Unsupported::RemoteNeedsBridge(host))?,
                    &server_entry.launch,
                ) else {
                    return Err(Unsupported::RemoteNeedsBridge(host));
                };
                let mut args = bridge.prefix.clone();
                args.push(url.clone());
                for (k, v) in headers {
                    args.push("--header".into());
                    args.push(format!("{k}: {v}"));
                }
                if *sse {
                    args.push("--sse".into());
                }
                notes.push(format!(
                    "{name}: {host} runs only local commands from its config file, so it reaches \
                     {url} through Switchboard's stdio bridge"
                ));
                let bridged = HostServer {
                    name: name.to_string(),
                    launch: Launch::Stdio {
                        command: bridge.program.to_string_lossy().into_owned(),
                        args,
                        env: BTreeMap::new(),
                        cwd: None,
                    },
                };
                shape(host, &bridged, self.env.os).map(|v| (v, notes))
            }
            other => other.map(|v| (v, notes)),
        }
    }

    /// What `action` would do to `file`. Reads the file and the ledger; writes nothing.
    pub fn plan(&self, file: &ConfigFile, action: &Action, force: bool) -> Result<Plan> {
        let store = Store::open(&self.state_dir)?;
        self.plan_with(&store, file, action, force)
    }

    fn plan_with(
        &self,
        store: &Store,
        file: &ConfigFile,
        action: &Action,
        force: bool,
    ) -> Result<Plan> {
        let before = read_text(&file.path)?;
        let mut text = before.clone().unwrap_or_default();
        let doc = edit::document(file.format, &text).map_err(|e| file_error(file, e))?;
        let existing: BTreeMap<String, Value> = edit::entries(&doc, file.container)
            .map_err(|e| file_error(file, e))?
            .into_iter()
            .collect();
        let mut record = store.record(&file.path).cloned().unwrap_or_else(|| FileRecord {
            host: file.host.to_string(),
            created: before.is_none(),
            entries: Vec::new(),
            inputs: Vec::new(),
            written_sha256: String::new(),
        });
        let inputs_list = super::host(file.host).inputs();
        // The inputs each applied server needs now, by server.
        let mut wanted_inputs: Vec<(String, Vec<(String, Value)>)> = Vec::new();
        let mut changes = Vec::new();
        let mut skipped = Vec::new();
        let mut notes = Vec::new();
        let (to_apply, to_remove): (&[(ServerName, ServerSpec)], Option<Vec<String>>) = match action
        {
            Action::Apply(servers) => (servers, Some(Vec::new())),
            Action::Remove(names) => (&[], names.clone()),
            Action::Sync(servers) => {
                let keep: Vec<String> = servers.iter().map(|(n, _)| n.to_string()).collect();
                let drop =
                    record.entries.iter().map(|e| e.name.clone()).filter(|n| !keep.contains(n));
                (servers, Some(drop.collect()))
            }
        };
        let op = if to_apply.is_empty() { Op::Remove } else { Op::Apply };
        for (name, spec) in to_apply {
            let name_str = name.to_string();
            let HostEntry { value, notes: why, inputs } =
                match self.entry_for(file.host, name, spec) {
                    Ok(v) => v,
                    Err(e) => {
                        skipped.push(Skipped { name: name_str, reason: e.to_string() });
                        continue;
                    }
                };
            let ours = record.entries.iter().position(|e| e.name == name_str);
            let current = existing.get(&name_str);
            if ours.is_none() && current.is_some() && !force {
                skipped.push(Skipped {
                    name: name_str,
                    reason: "an entry of that name is already there, and Switchboard did \
                                     not write it; it was left alone (--force replaces it)"
                        .into(),
                });
                continue;
            }
            notes.extend(why);
            wanted_inputs.push((name_str.clone(), inputs));
            if current == Some(&value) {
                if let Some(i) = ours {
                    record.entries[i].value = value.clone();
                    record.entries[i].sha256 = value_sha256(&value);
                }
                changes.push(Change { name: name_str, kind: ChangeKind::Unchanged });
                continue;
            }
            // The file without this entry, exactly as it was before we first wrote it
            // where that can still be found.
            let without = match ours {
                Some(i) if current.is_some() => {
                    remove_exact(file, &text, &name_str, record.entries[i].receipt.as_ref())?
                }
                _ => match current {
                    Some(_) => edit::remove(file.format, file.container, &text, &name_str)
                        .map_err(|e| file_error(file, e))?,
                    None => text.clone(),
                },
            };
            let with = edit::upsert(file.format, file.container, &text, &name_str, &value)
                .map_err(|e| file_error(file, e))?;
            let entry = OwnedEntry {
                name: name_str.clone(),
                server: name_str.clone(),
                sha256: value_sha256(&value),
                value,
                receipt: (current.is_none() || ours.is_some())
                    .then(|| Receipt::between(&without, &with)),
                written_at_ms: now_ms(),
            };
            changes.push(Change {
                name: name_str,
                kind: if current.is_some() { ChangeKind::Update } else { ChangeKind::Add },
            });
            match ours {
                Some(i) => record.entries[i] = entry,
                None => record.entries.push(entry),
            }
            text = with;
        }
        let wanted: Vec<String> = match to_remove {
            Some(names) => names,
            None => record.entries.iter().map(|e| e.name.clone()).collect(),
        };
        // The inputs of servers about to go first: they were written after their entries.
        if let Some(list) = inputs_list {
            text =
                drop_inputs(file, list, text, &mut record, |input| wanted.contains(&input.server))?;
        }
        // Newest first, so each receipt meets the text it was taken from.
        let mut order: Vec<&String> = wanted.iter().collect();
        order.sort_by_key(|n| std::cmp::Reverse(record.entries.iter().position(|e| &&e.name == n)));
        for name in order {
            let ours = record.entries.iter().position(|e| &e.name == name);
            let present = existing.contains_key(name.as_str());
            match (ours, present) {
                (None, false) => skipped.push(Skipped {
                    name: name.clone(),
                    reason: "there is no entry of that name".into(),
                }),
                (None, true) if !force => skipped.push(Skipped {
                    name: name.clone(),
                    reason: "Switchboard did not write this entry; it was left alone \
                                     (--force removes it)"
                        .into(),
                }),
                (ours, present) => {
                    if present {
                        let receipt = ours.and_then(|i| record.entries[i].receipt.as_ref());
                        text = remove_exact(file, &text, name, receipt)?;
                    }
                    if let Some(i) = ours {
                        record.entries.remove(i);
                    }
                    changes.push(Change { name: name.clone(), kind: ChangeKind::Remove });
                }
            }
        }
        if let Some(list) = inputs_list {
            text = apply_inputs(file, list, text, &mut record, &wanted_inputs, &mut notes)?;
        }
        let after = if record.created && record.entries.is_empty() && text.trim().is_empty() {
            None
        } else {
            Some(text)
        };
        let record = (!record.entries.is_empty()).then_some(record);
        Ok(Plan { file: file.clone(), before, after, changes, skipped, notes, record, op })
    }

    /// Carries out `action` on `file`: backs the file up, journals the write, replaces the file
    /// atomically. When the file changes between our read and our write, the plan is recomputed
    /// on the new content (a few times), so another program's edit is never written over.
    pub fn write(
        &self,
        file: &ConfigFile,
        action: &Action,
        force: bool,
    ) -> Result<(Plan, Option<Written>)> {
        let mut store = Store::open(&self.state_dir)?;
        for attempt in 0..WRITE_ATTEMPTS {
            let plan = self.plan_with(&store, file, action, force)?;
            if !plan.changes_anything() {
                if store.record(&file.path) != plan.record.as_ref() {
                    store.set_record(&file.path, plan.record.clone());
                    store.save()?;
                }
                return Ok((plan, None));
            }
            #[cfg(feature = "test-hooks")]
            test_hooks::before_write(&file.path);
            // The file must still be what the plan was computed from.
            if read_text(&file.path)? != plan.before {
                tracing::info!(path = %file.path.display(), attempt, "changed while planning; recomputing");
                continue;
            }
            let written = self.commit(&mut store, &plan, attempt)?;
            return Ok((plan, Some(written)));
        }
        Err(Error::HostFile {
            path: file.path.clone(),
            problem: format!(
                "it kept changing while Switchboard was writing it ({WRITE_ATTEMPTS} attempts); \
                 nothing was written. Close the program editing it and try again"
            ),
        })
    }

    fn commit(&self, store: &mut Store, plan: &Plan, retries: usize) -> Result<Written> {
        let path = &plan.file.path;
        let at = now_ms();
        let backup = match &plan.before {
            Some(before) => Some(store.backup(path, before.as_bytes(), at)?),
            None => None,
        };
        match &plan.after {
            Some(after) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
                }
                let target = write_target(path);
                let new_file = !target.exists();
                fsutil::write_atomic_then(&target, after.as_bytes(), before_rename)
                    .map_err(io("write", &target))?;
                if new_file {
                    set_new_file_mode(&target);
                }
            }
            None => std::fs::remove_file(path).map_err(io("remove", path))?,
        }
        let mut record = plan.record.clone();
        if let (Some(r), Some(after)) = (record.as_mut(), &plan.after) {
            r.written_sha256 = sha256(after.as_bytes());
        }
        let record_before = store.record(path).cloned();
        store.set_record(path, record);
        let id = store.journal_add(JournalRecord {
            id: 0,
            at_ms: at,
            host: plan.file.host.to_string(),
            path: path.clone(),
            op: plan.op,
            entries: plan
                .changes
                .iter()
                .filter(|c| c.kind != ChangeKind::Unchanged)
                .map(|c| c.name.clone())
                .collect(),
            before_sha256: plan.before.as_ref().map(|t| sha256(t.as_bytes())),
            after_sha256: plan.after.as_ref().map(|t| sha256(t.as_bytes())),
            backup: backup.clone(),
            record_before,
            undone_by: None,
        });
        store.save()?;
        tracing::info!(host = %plan.file.host, path = %path.display(), journal = id, "host file written");
        Ok(Written { path: path.clone(), journal_id: Some(id), backup, retries })
    }

    /// Undoes the newest write to one of `host`'s files that is not undone yet, provided the file
    /// is still exactly what that write left (or `force`).
    pub fn undo(&self, host: HostId, force: bool) -> Result<JournalRecord> {
        let mut store = Store::open(&self.state_dir)?;
        let record = store
            .journal()
            .iter()
            .rev()
            .find(|r| r.host == host.id() && r.op != Op::Undo && r.undone_by.is_none())
            .cloned()
            .ok_or_else(|| Error::NothingToUndo(host.to_string()))?;
        let path = &record.path;
        let now = read_text(path)?;
        let now_sha = now.as_ref().map(|t| sha256(t.as_bytes()));
        if now_sha != record.after_sha256 && !force {
            return Err(Error::HostFile {
                path: path.clone(),
                problem: "it has changed since Switchboard wrote it; undoing would lose those \
                          changes, so nothing was done (--force undoes anyway)"
                    .into(),
            });
        }
        let restore = match &record.backup {
            Some(backup) => Some(std::fs::read(backup).map_err(io("read the backup", backup))?),
            None => None,
        };
        let at = now_ms();
        let backup = match &now {
            Some(text) => Some(store.backup(path, text.as_bytes(), at)?),
            None => None,
        };
        match &restore {
            Some(bytes) => {
                fsutil::write_atomic(&write_target(path), bytes).map_err(io("write", path))?
            }
            None if now.is_some() => std::fs::remove_file(path).map_err(io("remove", path))?,
            None => {}
        }
        let record_before = store.record(path).cloned();
        store.set_record(path, record.record_before.clone());
        let undo = JournalRecord {
            id: 0,
            at_ms: at,
            host: record.host.clone(),
            path: path.clone(),
            op: Op::Undo,
            entries: record.entries.clone(),
            before_sha256: now_sha,
            after_sha256: restore.as_ref().map(|b| sha256(b)),
            backup,
            record_before,
            undone_by: None,
        };
        let id = store.journal_add(undo.clone());
        store.mark_undone(record.id, id);
        store.save()?;
        Ok(JournalRecord { id, ..undo })
    }

    /// Every host: detected or not, its files, and the entries in them (ours with their drift,
    /// and others'). `servers` is the registry, to tell entries that are out of date.
    pub fn status(
        &self,
        servers: &switchboard_core::Servers,
        project: Option<&Path>,
    ) -> Result<Vec<HostStatus>> {
        let store = Store::open(&self.state_dir)?;
        Ok(HostId::ALL
            .into_iter()
            .map(|host| {
                let files = locations(host, &self.env, project)
                    .into_iter()
                    .map(|file| self.file_status(&store, &file, servers))
                    .collect();
                let detected_by = self.detect(host);
                HostStatus {
                    id: host.id().into(),
                    name: host.display_name().into(),
                    detected: detected_by.is_some(),
                    detected_by,
                    files,
                }
            })
            .collect())
    }

    fn file_status(
        &self,
        store: &Store,
        file: &ConfigFile,
        servers: &switchboard_core::Servers,
    ) -> FileStatus {
        let mut status = FileStatus {
            scope: match &file.scope {
                Scope::User => "user".into(),
                Scope::Profile(id) => format!("profile {id}"),
                Scope::Project => "project".into(),
            },
            path: file.path.clone(),
            format: format!("{:?}", file.format).to_lowercase(),
            exists: file.path.exists(),
            error: None,
            entries: Vec::new(),
        };
        let existing = match read_text(&file.path).and_then(|t| {
            let doc = edit::document(file.format, t.as_deref().unwrap_or(""))
                .map_err(|e| file_error(file, e))?;
            edit::entries(&doc, file.container).map_err(|e| file_error(file, e))
        }) {
            Ok(e) => e,
            Err(e) => {
                status.error = Some(e.to_string());
                return status;
            }
        };
        let ours = store.record(&file.path).map(|r| r.entries.as_slice()).unwrap_or_default();
        for (name, value) in &existing {
            let state = match ours.iter().find(|e| &e.name == name) {
                None => EntryState::Theirs,
                Some(e) if value_sha256(value) != e.sha256 => EntryState::Changed,
                Some(e) => {
                    let now = e
                        .server
                        .parse::<ServerName>()
                        .ok()
                        .and_then(|n| Some((servers.get(&n)?, n)))
                        .and_then(|(spec, n)| self.entry_for(file.host, &n, spec).ok());
                    match now {
                        Some(now) if &now.value == value => EntryState::InSync,
                        _ => EntryState::Outdated,
                    }
                }
            };
            let server = ours.iter().find(|e| &e.name == name).map(|e| e.server.clone());
            status.entries.push(EntryStatus { name: name.clone(), state, server });
        }
        for e in ours {
            if !existing.iter().any(|(n, _)| n == &e.name) {
                status.entries.push(EntryStatus {
                    name: e.name.clone(),
                    state: EntryState::Missing,
                    server: Some(e.server.clone()),
                });
            }
        }
        status
    }

    /// The config file of `host` at `path` (a user, profile or project file).
    pub fn target_of(&self, host: HostId, path: &Path) -> Result<ConfigFile> {
        let user = self.target(host, None)?;
        if user.path == path {
            return Ok(user);
        }
        let scope = locations(host, &self.env, None)
            .into_iter()
            .find(|f| f.path == path)
            .map_or(Scope::Project, |f| f.scope);
        Ok(ConfigFile { scope, path: path.to_path_buf(), ..user })
    }

    /// The status of one file (ours and others' entries, with drift).
    pub fn file_drift(
        &self,
        host: HostId,
        path: &Path,
        servers: &switchboard_core::Servers,
    ) -> Result<Option<FileStatus>> {
        let file = self.target_of(host, path)?;
        let store = Store::open(&self.state_dir)?;
        Ok(Some(self.file_status(&store, &file, servers)))
    }

    /// Every host file that holds entries of ours: what the guardian watches.
    pub fn written_files(&self) -> Result<Vec<(HostId, PathBuf)>> {
        let store = Store::open(&self.state_dir)?;
        Ok(store
            .records()
            .filter_map(|(path, record)| Some((record.host.parse().ok()?, path)))
            .collect())
    }

    /// What shows that `host` is installed: its config folder or file, or its program on PATH.
    pub fn detect(&self, host: HostId) -> Option<String> {
        let env = &self.env;
        let user = locations(host, env, None);
        for file in &user {
            if file.path.exists() {
                return Some(format!("{} exists", file.path.display()));
            }
        }
        let imp = super::host(host);
        if let Some(dir) = imp.marker_dirs(env).into_iter().find(|d| d.is_dir()) {
            return Some(format!("{} exists", dir.display()));
        }
        let programs = imp.programs();
        programs
            .iter()
            .find_map(|p| which::which(p).ok())
            .map(|p| format!("{} is installed", p.display()))
    }
}

/// Removes our inputs for which `gone` holds (newest first, so each receipt meets the text it
/// was taken from; byte for byte where the receipt still fits).
fn drop_inputs(
    file: &ConfigFile,
    list: Container,
    mut text: String,
    record: &mut FileRecord,
    gone: impl Fn(&OwnedEntry) -> bool,
) -> Result<String> {
    let doc = edit::document(file.format, &text).map_err(|e| file_error(file, e))?;
    let existing = edit::entries(&doc, list).map_err(|e| file_error(file, e))?;
    for i in (0..record.inputs.len()).rev() {
        if !gone(&record.inputs[i]) {
            continue;
        }
        let input = record.inputs.remove(i);
        if existing.iter().any(|(id, _)| id == &input.name) {
            text =
                edit::remove_exact(file.format, list, &text, &input.name, input.receipt.as_ref())
                    .map_err(|e| file_error(file, e))?;
        }
    }
    Ok(text)
}

/// Adds or updates the inputs the applied servers need (`wanted`, by server) and removes those
/// they no longer need. An input of the same id that Switchboard did not write is the user's
/// and is used as it is.
fn apply_inputs(
    file: &ConfigFile,
    list: Container,
    text: String,
    record: &mut FileRecord,
    wanted: &[(String, Vec<(String, Value)>)],
    notes: &mut Vec<String>,
) -> Result<String> {
    let mut text = drop_inputs(file, list, text, record, |input| {
        wanted.iter().any(|(server, needed)| {
            server == &input.server && !needed.iter().any(|(id, _)| id == &input.name)
        })
    })?;
    let doc = edit::document(file.format, &text).map_err(|e| file_error(file, e))?;
    let existing: BTreeMap<String, Value> =
        edit::entries(&doc, list).map_err(|e| file_error(file, e))?.into_iter().collect();
    for (server, needed) in wanted {
        for (id, value) in needed {
            let ours = record.inputs.iter().position(|e| &e.name == id);
            let current = existing.get(id);
            if ours.is_none() && current.is_some() {
                notes.push(format!(
                    "{server}: the input {id} is already in the file and not Switchboard's; it \
                     is used as it is"
                ));
                continue;
            }
            if current == Some(value) {
                if let Some(i) = ours {
                    record.inputs[i].value = value.clone();
                    record.inputs[i].sha256 = value_sha256(value);
                }
                continue;
            }
            let without = match (ours, current) {
                (Some(i), Some(_)) => edit::remove_exact(
                    file.format,
                    list,
                    &text,
                    id,
                    record.inputs[i].receipt.as_ref(),
                ),
                _ => Ok(text.clone()),
            }
            .map_err(|e| file_error(file, e))?;
            let with = edit::upsert(file.format, list, &text, id, value)
                .map_err(|e| file_error(file, e))?;
            let owned = OwnedEntry {
                name: id.clone(),
                server: server.clone(),
                sha256: value_sha256(value),
                value: value.clone(),
                receipt: Some(Receipt::between(&without, &with)),
                written_at_ms: now_ms(),
            };
            match ours {
                Some(i) => record.inputs[i] = owned,
                None => record.inputs.push(owned),
            }
            text = with;
        }
    }
    Ok(text)
}

fn remove_exact(
    file: &ConfigFile,
    text: &str,
    name: &str,
    receipt: Option<&Receipt>,
) -> Result<String> {
    edit::remove_exact(file.format, file.container, text, name, receipt)
        .map_err(|e| file_error(file, e))
}

/// A host file Switchboard creates is readable by others, like the ones hosts create (a
/// project's `.mcp.json` is shared); our own state stays owner-only.
fn set_new_file_mode(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644));
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Places where tests step in between a plan and its write. Compiled only with the `test-hooks`
/// feature, which the tests turn on and no shipped build does.
#[cfg(feature = "test-hooks")]
pub mod test_hooks {
    use std::{path::Path, sync::Mutex};

    type Hook = Box<dyn FnMut(&Path) + Send>;
    static BEFORE_WRITE: Mutex<Option<Hook>> = Mutex::new(None);

    /// Runs `hook` after each plan and before the check that precedes the write.
    pub fn set_before_write(hook: Option<Hook>) {
        if let Ok(mut slot) = BEFORE_WRITE.lock() {
            *slot = hook;
        }
    }

    pub(super) fn before_write(path: &Path) {
        if let Ok(mut slot) = BEFORE_WRITE.lock()
            && let Some(hook) = slot.as_mut()
        {
            hook(path);
        }
    }

    /// With `SWITCHBOARD_TEST_PAUSE_BEFORE_RENAME_MS` set, waits that long with the new content
    /// in the temp file and the old still in place, so a test can kill the writer there.
    pub(super) fn before_rename() {
        if let Some(ms) = std::env::var("SWITCHBOARD_TEST_PAUSE_BEFORE_RENAME_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }
}

#[cfg(feature = "test-hooks")]
use test_hooks::before_rename;
#[cfg(not(feature = "test-hooks"))]
fn before_rename() {}

/// Every record of the journal, newest last (for `hosts history`).
pub fn journal(state_dir: &Path) -> Result<Vec<JournalRecord>> {
    Ok(Store::open(state_dir)?.journal().to_vec())
}
