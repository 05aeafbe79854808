//! Carrying a plan out: the file replaced atomically (never over a concurrent edit), backed up
//! and journalled; and undoing the newest write.

use std::path::{Path, PathBuf};

use serde::Serialize;
use switchboard_core::fsutil;

use super::{Action, ChangeKind, Hosts, Plan, io, read_text};
use crate::{
    ConfigFile, Error, HostId, Result,
    store::{JournalRecord, Op, Store, sha256},
};

/// How many times a write is recomputed when the file changed under it.
const WRITE_ATTEMPTS: usize = 3;

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
        let at = self.clock.now_ms();
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
                    set_new_file_mode(&target, &plan.file.scope);
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
        if let Err(e) = store.save() {
            return Err(put_back(path, plan.before.as_ref().map(String::as_bytes), e));
        }
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
        let at = self.clock.now_ms();
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
        if let Err(e) = store.save() {
            return Err(put_back(path, now.as_ref().map(String::as_bytes), e));
        }
        Ok(JournalRecord { id, ..undo })
    }
}

/// The ledger could not be saved after `path` was written (a full disk): puts the file back as it
/// was (`before`, or no file), so that a write that failed changed nothing. Left changed, its
/// entries would be unknown to the ledger, that is someone else's, from then on.
fn put_back(path: &Path, before: Option<&[u8]>, error: Error) -> Error {
    let undone = match before {
        Some(bytes) => fsutil::write_atomic(&write_target(path), bytes),
        None => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    };
    match undone {
        Ok(()) => error,
        Err(undo) => Error::HostFile {
            path: path.to_path_buf(),
            problem: format!(
                "it was written, but {error}, and putting it back failed too ({undo}): it holds \
                 a change Switchboard has no record of"
            ),
        },
    }
}

/// A project's file Switchboard creates is readable by others, like the ones hosts create (a
/// project's `.mcp.json` is shared); a user's own file is the user's alone (it may come to hold
/// the host's gateway token), as is our own state.
fn set_new_file_mode(path: &Path, scope: &crate::Scope) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if matches!(scope, crate::Scope::Project) { 0o644 } else { 0o600 };
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = (path, scope);
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
