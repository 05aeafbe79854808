//! What Switchboard remembers about the host files it wrote, under `<data>/hosts/`:
//! - `ledger.json`: per file, the entries that are ours (the value written, its hash, the receipt);
//! - `journal.json`: every write with the file's hash before and after and its backup, for undo;
//! - `backups/`: the previous content of each written file, the newest `BACKUPS_KEPT` per file.
//!
//! All three change under one lock (`lock`), and each file is replaced atomically.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::receipt::Receipt;
use switchboard_core::fsutil;

use crate::{Error, Result};

/// Backups kept per host file.
pub const BACKUPS_KEPT: usize = 20;
/// Journal records kept.
const JOURNAL_KEPT: usize = 500;

/// An entry Switchboard wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnedEntry {
    pub name: String,
    /// The registry server it was written for.
    pub server: String,
    /// What was written (its meaning; the file's formatting is the file's).
    pub value: Value,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    pub written_at_ms: u64,
}

/// One host file Switchboard wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRecord {
    pub host: String,
    /// The file did not exist before Switchboard's first write: removing the last entry deletes it
    /// (when nothing else is left in it).
    pub created: bool,
    /// Ours, in the order they were added.
    pub entries: Vec<OwnedEntry>,
    /// Our items in the file's list of prompted inputs (VS Code), by id; `server` is the entry
    /// that uses each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<OwnedEntry>,
    /// The file's hash after Switchboard's last write.
    pub written_sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LedgerFile {
    version: u32,
    files: BTreeMap<String, FileRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    Apply,
    Remove,
    Undo,
}

/// One write to a host file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalRecord {
    pub id: u64,
    pub at_ms: u64,
    pub host: String,
    pub path: PathBuf,
    pub op: Op,
    pub entries: Vec<String>,
    /// `None`: the file did not exist.
    pub before_sha256: Option<String>,
    pub after_sha256: Option<String>,
    /// The content before the write, when there was a file.
    pub backup: Option<PathBuf>,
    /// The ledger's record of the file before the write.
    pub record_before: Option<FileRecord>,
    /// Undone by a later record (its id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_by: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct JournalFile {
    version: u32,
    next_id: u64,
    records: Vec<JournalRecord>,
}

pub use switchboard_core::digest::{sha256, value_sha256};

/// The state folder, locked while a `Store` is alive.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    _lock: fsutil::FileLock,
    ledger: LedgerFile,
    journal: JournalFile,
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io { action, path: path.to_path_buf(), source }
}

fn load<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Store {
            path: path.to_path_buf(),
            problem: format!("cannot be read ({e}); move it aside to start over"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(io("read", path)(e)),
    }
}

impl Store {
    /// Opens (and locks) the store under `dir`, waiting for another Switchboard's write to end.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let lock_path = dir.join("lock");
        let lock = fsutil::FileLock::exclusive(&lock_path).map_err(io("lock", &lock_path))?;
        Ok(Store {
            ledger: load(&dir.join("ledger.json"))?,
            journal: load(&dir.join("journal.json"))?,
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn record(&self, path: &Path) -> Option<&FileRecord> {
        self.ledger.files.get(&key(path))
    }

    pub fn records(&self) -> impl Iterator<Item = (PathBuf, &FileRecord)> {
        self.ledger.files.iter().map(|(k, v)| (PathBuf::from(k), v))
    }

    pub fn set_record(&mut self, path: &Path, record: Option<FileRecord>) {
        match record {
            Some(r) => self.ledger.files.insert(key(path), r),
            None => self.ledger.files.remove(&key(path)),
        };
    }

    pub fn journal(&self) -> &[JournalRecord] {
        &self.journal.records
    }

    pub fn mark_undone(&mut self, id: u64, by: u64) {
        if let Some(r) = self.journal.records.iter_mut().find(|r| r.id == id) {
            r.undone_by = Some(by);
        }
    }

    /// Keeps `content` as the newest backup of `path`, dropping the oldest beyond the bound.
    pub fn backup(&self, path: &Path, content: &[u8], at_ms: u64) -> Result<PathBuf> {
        let dir = self.backup_dir(path);
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let file = dir.join(format!("{at_ms:013}-{}-{name}", self.journal.next_id));
        fsutil::write_atomic(&file, content).map_err(io("write", &file))?;
        fsutil::restrict_to_owner(&file).map_err(io("protect", &file))?;
        let mut all: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(io("list", &dir))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        all.sort();
        let excess = all.len().saturating_sub(BACKUPS_KEPT);
        for old in &all[..excess] {
            let _ = std::fs::remove_file(old);
        }
        Ok(file)
    }

    /// One folder per host file, named by the file's name and a hash of its path.
    fn backup_dir(&self, path: &Path) -> PathBuf {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let hash = sha256(key(path).as_bytes());
        self.dir.join("backups").join(format!("{name}-{}", &hash[..12]))
    }

    /// Adds a journal record (its id is assigned here) and returns the id.
    pub fn journal_add(&mut self, mut record: JournalRecord) -> u64 {
        self.journal.next_id = self.journal.next_id.max(1);
        record.id = self.journal.next_id;
        self.journal.next_id += 1;
        self.journal.records.push(record);
        let excess = self.journal.records.len().saturating_sub(JOURNAL_KEPT);
        self.journal.records.drain(..excess);
        self.journal.next_id - 1
    }

    /// Writes the ledger and the journal.
    pub fn save(&mut self) -> Result<()> {
        self.ledger.version = 1;
        self.journal.version = 1;
        for (name, value) in [
            ("ledger.json", serde_json::to_vec_pretty(&self.ledger)),
            ("journal.json", serde_json::to_vec_pretty(&self.journal)),
        ] {
            let path = self.dir.join(name);
            let bytes =
                value.map_err(|e| Error::Store { path: path.clone(), problem: e.to_string() })?;
            fsutil::write_atomic(&path, &bytes).map_err(io("write", &path))?;
        }
        Ok(())
    }
}

fn key(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
