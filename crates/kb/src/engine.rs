//! The knowledge base: folders, index and manifest kept in step, incrementally and live.
//!
//! One writer at a time (a mutex around tantivy's `IndexWriter`). A sync walks a folder (or takes
//! the paths a watcher reported), re-indexes only files whose modification time or size changed
//! *and* whose content hash differs, deletes what disappeared, commits, then saves the manifest.
//! Every sync reports the documents it touched on a broadcast channel, which the MCP server turns
//! into resource notifications.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, RwLock},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tantivy::IndexWriter;
use tokio::sync::broadcast;

use crate::{
    error::{Error, Result},
    index::{Hit, SearchIndex, SearchQuery},
    manifest::{FileRecord, Manifest, SectionRef},
    roots::{Roots, uri_of},
    source::{self, Skip},
};

/// How many skipped files the status lists by name (the count is always exact).
const SKIPPED_LISTED: usize = 100;
/// Commit (and make searchable) at least this often during a long sync.
const COMMIT_EVERY: Duration = Duration::from_secs(2);
/// Most bytes `read_document` returns.
pub const MAX_READ_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    pub roots: Vec<PathBuf>,
    /// Holds `tantivy/` (the index) and `manifest.json`.
    pub index_dir: PathBuf,
}

/// What changed in one sync.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// URIs of documents created, changed or deleted.
    pub updated: Vec<String>,
    /// Documents were created or deleted.
    pub list_changed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Status {
    /// `starting`, `indexing`, `ready` or `failed`.
    pub state: String,
    /// Files examined so far in the current (or last) sync.
    pub files_done: u64,
    /// Files the current (or last) sync has to examine.
    pub files_total: u64,
    /// Documents in the index.
    pub documents: u64,
    /// Sections in the index (one search unit each).
    pub sections: u64,
    /// Files not indexed, with the reason (the first 100).
    pub skipped: Vec<Skipped>,
    pub skipped_total: u64,
    pub roots: Vec<RootInfo>,
    pub index_dir: String,
    pub index_bytes: u64,
    /// How long the last sync took, in milliseconds.
    pub last_sync_ms: u64,
    /// When the index last changed (Unix milliseconds).
    pub updated_at_ms: u64,
    pub watching: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RootInfo {
    pub label: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DocumentInfo {
    pub uri: String,
    pub key: String,
    pub title: String,
    pub tags: Vec<String>,
    pub size: u64,
    pub modified_ms: u64,
    pub sections: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DocumentPage {
    pub documents: Vec<DocumentInfo>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Documents matching the prefix, over all pages.
    pub total: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DocumentText {
    pub uri: String,
    pub key: String,
    pub title: String,
    pub tags: Vec<String>,
    /// The section returned, when one was asked for.
    pub section: Option<String>,
    /// The document's outline.
    pub sections: Vec<SectionRef>,
    /// Markdown or plain text, as in the file.
    pub text: String,
    /// The text was cut at 256 KiB.
    pub truncated: bool,
    pub mime_type: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Created {
    pub uri: String,
    pub key: String,
    pub path: String,
}

pub struct Engine {
    roots: Roots,
    index: SearchIndex,
    index_dir: PathBuf,
    manifest_path: PathBuf,
    /// `None`: another process holds the index's writer lock and keeps it up to date; this one
    /// follows its commits (searches, reads and writes files, but indexes nothing itself).
    writer: Mutex<Option<IndexWriter>>,
    manifest: RwLock<Manifest>,
    status: Mutex<Status>,
    skipped: Mutex<BTreeMap<String, String>>,
    changes: broadcast::Sender<Change>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("index_dir", &self.index_dir).finish_non_exhaustive()
    }
}

/// Keeps the folders watched; dropping it stops watching.
pub struct Watch {
    _debouncer: notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

impl Engine {
    /// Opens (or creates) the index. Does not index yet: call [`Engine::sync_all`].
    pub fn open(config: &Config) -> Result<Arc<Engine>> {
        let roots = Roots::new(&config.roots)?;
        std::fs::create_dir_all(&config.index_dir).map_err(|e| Error::io(&config.index_dir, e))?;
        let manifest_path = config.index_dir.join("manifest.json");
        let (index, fresh) = SearchIndex::open_or_create(&config.index_dir.join("tantivy"))?;
        let manifest = if fresh {
            Manifest { version: crate::manifest::VERSION, ..Manifest::default() }
        } else {
            Manifest::load(&manifest_path)
        };
        let mut writer = match index.writer() {
            Ok(writer) => Some(writer),
            Err(Error::IndexBusy(path)) => {
                tracing::info!(
                    "another knowledge-base server is indexing {}; following its index",
                    path.display()
                );
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(writer) = writer.as_mut().filter(|_| manifest.files.is_empty() && !fresh) {
            // A manifest that was lost or is from another version: start the index over, so
            // nothing in it is unaccounted for.
            writer.delete_all_documents().map_err(|e| Error::Index {
                path: config.index_dir.clone(),
                message: e.to_string(),
            })?;
            index.commit(writer)?;
        }
        let status = Status {
            state: if writer.is_some() { "starting" } else { "following" }.into(),
            files_done: 0,
            files_total: 0,
            documents: manifest.files.len() as u64,
            sections: index.sections(),
            skipped: Vec::new(),
            skipped_total: 0,
            roots: roots
                .iter()
                .map(|r| RootInfo { label: r.label.clone(), path: r.dir.display().to_string() })
                .collect(),
            index_dir: config.index_dir.display().to_string(),
            index_bytes: index.size_on_disk(),
            last_sync_ms: 0,
            updated_at_ms: 0,
            watching: false,
            error: None,
        };
        let (changes, _) = broadcast::channel(256);
        Ok(Arc::new(Engine {
            roots,
            index,
            index_dir: config.index_dir.clone(),
            manifest_path,
            writer: Mutex::new(writer),
            manifest: RwLock::new(manifest),
            status: Mutex::new(status),
            skipped: Mutex::new(BTreeMap::new()),
            changes,
        }))
    }

    pub fn roots(&self) -> &Roots {
        &self.roots
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// The indexer's status: this process's, or when following another, the one it saved.
    pub fn status(&self) -> Status {
        if lock(&self.writer).is_none()
            && let Some(mut saved) = std::fs::read(self.status_path())
                .ok()
                .and_then(|b| serde_json::from_slice::<Status>(&b).ok())
        {
            saved.watching = lock(&self.status).watching;
            return saved;
        }
        lock(&self.status).clone()
    }

    /// Does this process index (rather than follow another that does)?
    pub fn is_indexer(&self) -> bool {
        lock(&self.writer).is_some()
    }

    /// A follower whose indexer has gone away takes the writer lock and becomes the indexer,
    /// then catches up with a full sync. Returns whether this process is the indexer now.
    pub fn try_promote(&self) -> Result<bool> {
        {
            let mut guard = lock(&self.writer);
            if guard.is_some() {
                return Ok(true);
            }
            match self.index.writer() {
                Ok(writer) => *guard = Some(writer),
                Err(Error::IndexBusy(_)) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        tracing::info!("the previous indexer is gone; this server indexes the folders now");
        *write(&self.manifest) = Manifest::load(&self.manifest_path);
        self.index.reload()?;
        self.sync_all()?;
        Ok(true)
    }

    fn status_path(&self) -> PathBuf {
        self.index_dir.join("status.json")
    }

    /// Saves the status for followers (best effort: it is informational).
    fn save_status(&self) {
        let status = lock(&self.status).clone();
        if let Ok(bytes) = serde_json::to_vec(&status) {
            let path = self.status_path();
            let tmp = path.with_extension("json.tmp");
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
    }

    /// A follower's sync: pick up the indexer's latest commit and manifest.
    fn follow(&self, targets: &[Target]) -> Result<Change> {
        self.index.reload()?;
        *write(&self.manifest) = Manifest::load(&self.manifest_path);
        let mut change = Change::default();
        for target in targets {
            let key = match target {
                Target::Tree(_, key) | Target::File(_, key) | Target::Gone(key) => key,
            };
            if key.contains('/') {
                change.updated.push(uri_of(key));
                change.list_changed |= !matches!(target, Target::File(..));
            }
        }
        if !change.updated.is_empty() {
            let _ = self.changes.send(change.clone());
        }
        Ok(change)
    }

    /// Brings the index in line with every folder: the start-up sync.
    pub fn sync_all(&self) -> Result<Change> {
        let targets: Vec<(PathBuf, String)> =
            self.roots.iter().map(|r| (r.dir.clone(), r.label.clone())).collect();
        self.sync(targets.into_iter().map(|(p, k)| Target::Tree(p, k)).collect())
    }

    /// Brings the index in line with these paths (files or folders, present or gone), as a
    /// watcher reports them. Paths outside the folders are ignored.
    pub fn sync_paths(&self, paths: &[PathBuf]) -> Result<Change> {
        let mut targets = Vec::new();
        let mut seen = BTreeSet::new();
        for path in paths {
            let Some(key) = self.roots.key_of(path) else { continue };
            if !seen.insert(key.clone()) {
                continue;
            }
            if path.is_dir() {
                targets.push(Target::Tree(path.clone(), key));
            } else if path.exists() {
                if source::is_document(path) {
                    targets.push(Target::File(path.clone(), key));
                }
            } else {
                targets.push(Target::Gone(key));
            }
        }
        if targets.is_empty() {
            return Ok(Change::default());
        }
        self.sync(targets)
    }

    fn sync(&self, targets: Vec<Target>) -> Result<Change> {
        let started = Instant::now();
        let mut guard = lock(&self.writer);
        let Some(writer) = guard.as_mut() else {
            drop(guard);
            if matches!(targets.first(), Some(Target::Tree(..)))
                && targets.len() == self.roots.iter().count()
            {
                // The start-up sync of a follower: nothing to announce.
                self.index.reload()?;
                *write(&self.manifest) = Manifest::load(&self.manifest_path);
                return Ok(Change::default());
            }
            // Give the indexer a moment to commit what the watcher saw.
            std::thread::sleep(Duration::from_millis(300));
            return self.follow(&targets);
        };
        self.set_status(|s| {
            s.state = "indexing".into();
            s.files_done = 0;
            s.files_total = 0;
        });
        self.save_status();
        let result = self.sync_locked(writer, targets);
        let elapsed = started.elapsed().as_millis() as u64;
        match &result {
            Ok(change) => {
                self.set_status(|s| {
                    s.state = "ready".into();
                    s.last_sync_ms = elapsed;
                    s.error = None;
                    if !change.updated.is_empty() {
                        s.updated_at_ms = now_ms();
                    }
                });
                self.save_status();
                if !change.updated.is_empty() {
                    let _ = self.changes.send(change.clone());
                }
            }
            Err(e) => {
                tracing::error!("indexing failed: {e}");
                // Whatever was added since the last commit is dropped, not half-kept.
                let _ = writer.rollback();
                *write(&self.manifest) = Manifest::load(&self.manifest_path);
                self.set_status(|s| {
                    s.state = "failed".into();
                    s.error = Some(e.to_string());
                });
                self.save_status();
            }
        }
        result
    }

    fn sync_locked(&self, writer: &mut IndexWriter, targets: Vec<Target>) -> Result<Change> {
        // Work out every file to look at first, so progress has a total.
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        let mut gone: Vec<String> = Vec::new();
        for target in targets {
            match target {
                Target::File(path, key) => files.push((path, key)),
                Target::Gone(key) => gone.extend(self.keys_under(&key)),
                Target::Tree(dir, key) => {
                    let found = self.walk(&dir);
                    let present: BTreeSet<&String> = found.iter().map(|(_, k)| k).collect();
                    gone.extend(self.keys_under(&key).into_iter().filter(|k| !present.contains(k)));
                    files.extend(found);
                }
            }
        }
        self.set_status(|s| s.files_total = files.len() as u64);
        let mut change = Change::default();
        let mut last_commit = Instant::now();
        let mut dirty = false;
        for key in gone {
            self.index.delete(writer, &key);
            write(&self.manifest).files.remove(&key);
            lock(&self.skipped).remove(&key);
            change.updated.push(uri_of(&key));
            change.list_changed = true;
            dirty = true;
        }
        for (done, (path, key)) in files.iter().enumerate() {
            match self.upsert(writer, path, key)? {
                Outcome::Unchanged => {}
                Outcome::Touched => dirty = true,
                Outcome::Indexed { new } => {
                    change.updated.push(uri_of(key));
                    change.list_changed |= new;
                    dirty = true;
                }
                Outcome::Removed => {
                    change.updated.push(uri_of(key));
                    change.list_changed = true;
                    dirty = true;
                }
            }
            if dirty && last_commit.elapsed() >= COMMIT_EVERY {
                self.commit(writer)?;
                dirty = false;
                last_commit = Instant::now();
            }
            if done % 32 == 31 {
                self.set_status(|s| s.files_done = done as u64 + 1);
            }
        }
        if dirty {
            self.commit(writer)?;
        }
        self.set_status(|s| s.files_done = files.len() as u64);
        Ok(change)
    }

    fn commit(&self, writer: &mut IndexWriter) -> Result<()> {
        self.index.commit(writer)?;
        let manifest = read(&self.manifest).clone();
        manifest.save(&self.manifest_path)?;
        let skipped = lock(&self.skipped);
        let listed = skipped
            .iter()
            .take(SKIPPED_LISTED)
            .map(|(path, reason)| Skipped { path: path.clone(), reason: reason.clone() })
            .collect();
        let skipped_total = skipped.len() as u64;
        drop(skipped);
        let sections = self.index.sections();
        let bytes = self.index.size_on_disk();
        self.set_status(|s| {
            s.documents = manifest.files.len() as u64;
            s.sections = sections;
            s.index_bytes = bytes;
            s.skipped = listed;
            s.skipped_total = skipped_total;
            s.updated_at_ms = now_ms();
        });
        self.save_status();
        Ok(())
    }

    /// Indexes one file if it changed.
    fn upsert(&self, writer: &IndexWriter, path: &Path, key: &str) -> Result<Outcome> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => return Ok(self.skip(writer, key, Skip::Unreadable(e.to_string()))),
        };
        let modified_ms = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64);
        let size = meta.len();
        let previous = read(&self.manifest).files.get(key).cloned();
        if let Some(prev) = &previous
            && prev.modified_ms == modified_ms
            && prev.size == size
        {
            return Ok(Outcome::Unchanged);
        }
        if size > source::MAX_FILE_BYTES {
            return Ok(self.skip(writer, key, Skip::TooLarge(size)));
        }
        if let Err(e) = self.roots.check_inside(path, key) {
            return Ok(self.skip(writer, key, Skip::Unreadable(e.to_string())));
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return Ok(self.skip(writer, key, Skip::Unreadable(e.to_string()))),
        };
        let hash = format!("{:x}", Sha256::digest(&bytes));
        if let Some(prev) = &previous
            && prev.hash == hash
        {
            let mut manifest = write(&self.manifest);
            if let Some(record) = manifest.files.get_mut(key) {
                record.modified_ms = modified_ms;
                record.size = size;
            }
            return Ok(Outcome::Touched);
        }
        let text = match source::decode(bytes) {
            Ok(t) => t,
            Err(skip) => return Ok(self.skip(writer, key, skip)),
        };
        let doc = source::parse(path, &text);
        self.index.replace(writer, key, &doc)?;
        let record = FileRecord {
            modified_ms,
            size,
            hash,
            title: doc.title.clone(),
            tags: doc.tags.clone(),
            sections: doc.sections.iter().map(SectionRef::from).collect(),
        };
        write(&self.manifest).files.insert(key.to_string(), record);
        lock(&self.skipped).remove(key);
        Ok(Outcome::Indexed { new: previous.is_none() })
    }

    /// Records why a file is not indexed, and drops what the index had of it.
    fn skip(&self, writer: &IndexWriter, key: &str, why: Skip) -> Outcome {
        tracing::info!(file = key, "skipped: {why}");
        lock(&self.skipped).insert(key.to_string(), why.to_string());
        if write(&self.manifest).files.remove(key).is_some() {
            self.index.delete(writer, key);
            Outcome::Removed
        } else {
            Outcome::Unchanged
        }
    }

    /// Every document file under `dir`, following symlinks (loops and unreadable folders are
    /// recorded as skipped), hidden folders left out.
    fn walk(&self, dir: &Path) -> Vec<(PathBuf, String)> {
        let mut found = Vec::new();
        let walker = walkdir::WalkDir::new(dir)
            .follow_links(true)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            match entry {
                Ok(entry) => {
                    if entry.file_type().is_file()
                        && source::is_document(entry.path())
                        && let Some(key) = self.roots.key_of(entry.path())
                    {
                        found.push((entry.path().to_path_buf(), key));
                    }
                }
                Err(e) => {
                    let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf());
                    let name =
                        self.roots.key_of(&path).unwrap_or_else(|| path.display().to_string());
                    let reason = if e.loop_ancestor().is_some() {
                        "a symlink loop".to_string()
                    } else {
                        format!(
                            "unreadable: {}",
                            e.io_error().map_or(e.to_string(), |io| io.to_string())
                        )
                    };
                    tracing::info!(file = name, "skipped: {reason}");
                    lock(&self.skipped).insert(name, reason);
                }
            }
        }
        found
    }

    /// Keys of the manifest equal to `key` or under it as a folder.
    fn keys_under(&self, key: &str) -> Vec<String> {
        let folder = format!("{key}/");
        read(&self.manifest)
            .files
            .keys()
            .filter(|k| *k == key || k.starts_with(&folder))
            .cloned()
            .collect()
    }

    fn set_status(&self, f: impl FnOnce(&mut Status)) {
        f(&mut lock(&self.status));
    }

    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        if !self.is_indexer() {
            self.index.reload()?;
        }
        let labels: Vec<String> = self.roots.iter().map(|r| r.label.clone()).collect();
        self.index.search(query, &labels)
    }

    /// Documents whose key (or path within its folder) starts with `prefix`, in key order,
    /// a page at a time. The cursor is the last key of the previous page.
    pub fn list(&self, prefix: Option<&str>, cursor: Option<&str>, limit: usize) -> DocumentPage {
        if !self.is_indexer() {
            *write(&self.manifest) = Manifest::load(&self.manifest_path);
        }
        let prefix =
            prefix.map(|p| p.trim_start_matches(crate::roots::SCHEME).trim_start_matches("./"));
        let manifest = read(&self.manifest);
        let labels: Vec<&str> = self.roots.iter().map(|r| r.label.as_str()).collect();
        // A prefix that starts with a folder's label (`docs/guides`) is matched against keys;
        // any other against paths within the folders.
        let by_key = prefix.is_some_and(|p| {
            let first = p.split('/').next().unwrap_or_default();
            labels.contains(&first) && (p.contains('/') || p == first)
        });
        let matching = |key: &String| match prefix {
            None | Some("") => true,
            Some(p) if by_key => key.starts_with(p),
            Some(p) => key.split_once('/').is_some_and(|(_, rel)| rel.starts_with(p)),
        };
        let total = manifest.files.keys().filter(|k| matching(k)).count();
        let limit = limit.clamp(1, 500);
        let mut documents = Vec::new();
        let mut next_cursor = None;
        for (key, record) in manifest.files.iter().filter(|(k, _)| matching(k)) {
            if cursor.is_some_and(|c| key.as_str() <= c) {
                continue;
            }
            if documents.len() == limit {
                next_cursor = documents.last().map(|d: &DocumentInfo| d.key.clone());
                break;
            }
            documents.push(DocumentInfo {
                uri: uri_of(key),
                key: key.clone(),
                title: record.title.clone(),
                tags: record.tags.clone(),
                size: record.size,
                modified_ms: record.modified_ms,
                sections: record.sections.len(),
            });
        }
        DocumentPage { documents, next_cursor, total }
    }

    /// Documents whose key or title contains `typed` (case-insensitive), keys in order, at most
    /// `max`; and how many matched in all. For argument completion.
    pub fn complete(&self, typed: &str, max: usize) -> (Vec<String>, usize) {
        if !self.is_indexer() {
            *write(&self.manifest) = Manifest::load(&self.manifest_path);
        }
        let typed = typed.trim_start_matches(crate::roots::SCHEME).to_lowercase();
        let manifest = read(&self.manifest);
        let matching: Vec<&String> = manifest
            .files
            .iter()
            .filter(|(key, record)| {
                key.to_lowercase().contains(&typed) || record.title.to_lowercase().contains(&typed)
            })
            .map(|(key, _)| key)
            .collect();
        (matching.iter().take(max).map(|k| (*k).clone()).collect(), matching.len())
    }

    /// A document's text (all of it, or one section by anchor or heading), read from disk now.
    pub fn read(&self, input: &str, section: Option<&str>) -> Result<DocumentText> {
        let (key, path) = self.roots.resolve(input)?;
        if !source::is_document(&path) {
            return Err(Error::Invalid(format!("{key} is not a Markdown or text document")));
        }
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let text = source::decode(bytes).map_err(|why| Error::Invalid(format!("{key}: {why}")))?;
        let doc = source::parse(&path, &text);
        let outline: Vec<SectionRef> = doc.sections.iter().map(SectionRef::from).collect();
        let (body, section_name) = match section.map(str::trim).filter(|s| !s.is_empty()) {
            None => (text.as_str(), None),
            Some(wanted) => {
                let wanted_anchor = wanted.trim_start_matches('#');
                let position = doc.sections.iter().position(|s| {
                    s.anchor == wanted_anchor || s.heading.eq_ignore_ascii_case(wanted)
                });
                let Some(i) = position else {
                    let names: Vec<&str> = doc
                        .sections
                        .iter()
                        .filter(|s| !s.anchor.is_empty())
                        .map(|s| s.anchor.as_str())
                        .collect();
                    return Err(Error::NotFound(format!(
                        "section {wanted:?} in {key}; its sections are: {}",
                        names.join(", ")
                    )));
                };
                let start = doc.sections[i].start;
                let level = doc.sections[i].level;
                // The section runs to the next heading of the same or a higher level.
                let end = doc.sections[i + 1..]
                    .iter()
                    .find(|s| s.level <= level || level == 0)
                    .map_or(text.len(), |s| s.start);
                (text.get(start..end).unwrap_or_default(), Some(doc.sections[i].heading.clone()))
            }
        };
        let mut end = body.len().min(MAX_READ_BYTES);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        let mime_type = if path.extension().is_some_and(|e| e == "txt" || e == "text") {
            "text/plain"
        } else {
            "text/markdown"
        };
        Ok(DocumentText {
            uri: uri_of(&key),
            key,
            title: doc.title,
            tags: doc.tags,
            section: section_name,
            sections: outline,
            truncated: end < body.len(),
            text: body[..end].to_string(),
            mime_type: mime_type.into(),
        })
    }

    /// Writes a new Markdown file with front matter under `<first folder>/<folder>/`, indexes it
    /// at once, and returns its names. Never overwrites: a taken name gets a numeric suffix.
    pub fn create_file(
        &self,
        folder: &str,
        title: &str,
        front: &[(&str, String)],
        body: &str,
    ) -> Result<Created> {
        let title = title.trim();
        if title.is_empty() {
            return Err(Error::Invalid("the title is empty".into()));
        }
        let dir = self.roots.first().dir.join(folder);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut slug: String = source::slug(title).chars().take(60).collect();
        if slug.is_empty() {
            slug = "untitled".into();
        }
        let date = today();
        let mut content = String::from("---\n");
        content.push_str(&format!("title: {}\n", yaml_string(title)));
        for (k, v) in front {
            content.push_str(&format!("{k}: {v}\n"));
        }
        content.push_str(&format!("created: {date}\n---\n\n# {title}\n\n{}\n", body.trim_end()));
        for n in 1..1000 {
            let name =
                if n == 1 { format!("{date}-{slug}.md") } else { format!("{date}-{slug}-{n}.md") };
            let path = dir.join(&name);
            let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path);
            let mut file = match file {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, e)),
            };
            let written = std::io::Write::write_all(&mut file, content.as_bytes())
                .and_then(|()| file.sync_all());
            if let Err(e) = written {
                let _ = std::fs::remove_file(&path);
                return Err(Error::io(&path, e));
            }
            let key = self
                .roots
                .key_of(&path)
                .ok_or_else(|| Error::OutsideRoots(path.display().to_string()))?;
            self.sync_paths(std::slice::from_ref(&path))?;
            return Ok(Created { uri: uri_of(&key), key, path: path.display().to_string() });
        }
        Err(Error::Invalid(format!("too many files named {date}-{slug} in {}", dir.display())))
    }

    /// Watches every folder and re-indexes what changes, debounced.
    pub fn watch(self: &Arc<Self>) -> Result<Watch> {
        let (tx, rx) = std::sync::mpsc::channel::<notify_debouncer_full::DebounceEventResult>();
        let mut debouncer =
            notify_debouncer_full::new_debouncer(Duration::from_millis(200), None, tx)
                .map_err(|e| Error::Watch(e.to_string()))?;
        for root in self.roots.iter() {
            debouncer
                .watch(&root.dir, notify::RecursiveMode::Recursive)
                .map_err(|e| Error::Watch(format!("{}: {e}", root.dir.display())))?;
        }
        let engine = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("kb-watch".into())
            .spawn(move || {
                for result in rx {
                    let Some(engine) = engine.upgrade() else { break };
                    match result {
                        Ok(events) => {
                            let mut paths: Vec<PathBuf> = Vec::new();
                            for event in events {
                                if matches!(event.kind, notify::EventKind::Access(_)) {
                                    continue;
                                }
                                paths.extend(event.event.paths.iter().cloned());
                            }
                            if paths.is_empty() {
                                continue;
                            }
                            match engine.sync_paths(&paths) {
                                Ok(change) if !change.updated.is_empty() => {
                                    tracing::info!(
                                        documents = change.updated.len(),
                                        "re-indexed changed documents"
                                    );
                                }
                                Ok(_) => {}
                                Err(e) => tracing::error!("re-indexing failed: {e}"),
                            }
                        }
                        Err(errors) => {
                            for e in errors {
                                tracing::warn!("watch error: {e}");
                            }
                            // Events may have been lost: look at everything again.
                            if let Err(e) = engine.sync_all() {
                                tracing::error!("re-indexing failed: {e}");
                            }
                        }
                    }
                }
            })
            .map_err(|e| Error::Watch(e.to_string()))?;
        self.set_status(|s| s.watching = true);
        Ok(Watch { _debouncer: debouncer })
    }

    pub fn index_dir(&self) -> &Path {
        &self.index_dir
    }
}

enum Target {
    Tree(PathBuf, String),
    File(PathBuf, String),
    Gone(String),
}

enum Outcome {
    Unchanged,
    /// Only the modification time moved.
    Touched,
    Indexed {
        new: bool,
    },
    /// It was indexed and now cannot be.
    Removed,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Today's date (UTC) as YYYY-MM-DD, from days since the epoch (Howard Hinnant's algorithm).
fn today() -> String {
    let days = (now_ms() / 86_400_000) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A YAML double-quoted scalar.
pub fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}
