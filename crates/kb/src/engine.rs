//! The knowledge base: folders, index and manifest kept in step, incrementally and live.
//!
//! One indexer per index (a lock held for the process's life, and a mutex around the writer). A
//! sync walks a folder (or takes the paths a watcher reported), re-indexes only files whose
//! modification time or size changed *and* whose content hash differs, deletes what
//! disappeared, commits, then saves the manifest. The writer exists only during a sync that
//! changes something, sized to its work ([`crate::index::WriterBudget`]): an idle knowledge base
//! holds no indexing threads or buffers.
//! Every sync reports the documents it touched on a broadcast channel, which the MCP server turns
//! into resource notifications.

mod generated;
mod notes;
mod query;
mod status;
mod sync;
mod watch;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, MutexGuard, Once, RwLock, RwLockReadGuard, RwLockWriteGuard,
        atomic::{AtomicBool, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use tantivy::IndexWriter;
use tokio::sync::broadcast;

pub(crate) use notes::yaml_list;
pub use notes::{Created, yaml_string};
pub use query::{DocumentInfo, DocumentPage, DocumentText, MAX_READ_BYTES};
pub use status::{RootInfo, Skipped, Status};
pub use watch::Watch;

use crate::{
    embed::Embedder,
    error::{Error, Result},
    index::{IndexerLock, SearchIndex, WriterBudget},
    manifest::Manifest,
    roots::Roots,
};

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

pub struct Engine {
    roots: Roots,
    index: SearchIndex,
    index_dir: PathBuf,
    manifest_path: PathBuf,
    /// `None`: another process holds the index's indexer lock and keeps it up to date; this one
    /// follows its commits (searches, reads and writes files, but indexes nothing itself).
    /// Held for the whole of a sync.
    indexer: Mutex<Option<Indexer>>,
    /// Whether `indexer` is `Some`, for searches and the status, which must not wait for a sync.
    indexes_here: AtomicBool,
    /// Read from `manifest_path` on first use (see [`Engine::manifest`]).
    manifest: RwLock<Manifest>,
    manifest_read: Once,
    /// The saved manifest has not been checked yet: the indexer's first sync starts the index
    /// over if it turns out empty (unreadable, or from another version).
    unchecked_manifest: AtomicBool,
    status: Mutex<Status>,
    skipped: Mutex<BTreeMap<String, String>>,
    changes: broadcast::Sender<Change>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("index_dir", &self.index_dir).finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens (or creates) the index. Does not index yet: call [`Engine::sync_all`].
    pub fn open(config: &Config) -> Result<Arc<Engine>> {
        Engine::open_with(config, None)
    }

    /// [`Engine::open`], and with an embedder each section gets a vector too (kept in
    /// `vectors.bin`), for searches that ask for [`crate::rank::Ranking::semantic`]. Vectors
    /// made by another embedder are dropped and every document indexed again.
    pub fn open_with(config: &Config, embedder: Option<Arc<dyn Embedder>>) -> Result<Arc<Engine>> {
        let roots = Roots::new(&config.roots)?;
        std::fs::create_dir_all(&config.index_dir).map_err(|e| Error::io(&config.index_dir, e))?;
        // Until this process has opened (or created) the index and knows whether it indexes:
        // two servers starting together on a brand-new index would otherwise both create it,
        // each clearing the other's files.
        let _opening = opening_lock(&config.index_dir)?;
        let manifest_path = config.index_dir.join("manifest.json");
        let (mut index, fresh) = SearchIndex::open_or_create(&config.index_dir.join("tantivy"))?;
        let vectors_valid = embedder.is_none_or(|embedder| index.set_embedder(embedder));
        let indexer = match index.indexer_lock() {
            Ok(lock) => Some(Indexer { _lock: lock, writer: None }),
            Err(Error::IndexBusy(path)) => {
                tracing::info!(
                    "another knowledge-base server is indexing {}; following its index",
                    path.display()
                );
                None
            }
            Err(e) => return Err(e),
        };
        // The manifest (20 MB of JSON at 10,000 documents) is read when first needed, which is
        // the start-up sync, not before the first search: searches read only the index.
        let missing = !fresh && !manifest_path.exists();
        let known_empty = fresh || !vectors_valid || missing;
        if fresh || !vectors_valid {
            // Every document is indexed again (and so gets its vectors).
            index.clear_vectors();
        }
        if indexer.is_some() && known_empty && !fresh {
            // No manifest, or vectors to make again: start the index over, so nothing in it is
            // unaccounted for. (One from another version is found when it is read: see `sync`.)
            start_over(&index, &config.index_dir)?;
        }
        let manifest_read = Once::new();
        if known_empty {
            manifest_read.call_once(|| {});
        }
        let manifest = Manifest { version: crate::manifest::VERSION, ..Manifest::default() };
        let status = Status {
            state: if indexer.is_some() { "starting" } else { "following" }.into(),
            files_done: 0,
            files_total: 0,
            // Until the manifest is read.
            documents: 0,
            documents_by_format: BTreeMap::new(),
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
            indexes_here: AtomicBool::new(indexer.is_some()),
            indexer: Mutex::new(indexer),
            manifest: RwLock::new(manifest),
            manifest_read,
            unchecked_manifest: AtomicBool::new(!known_empty),
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

    /// Does this process index (rather than follow another that does)?
    pub fn is_indexer(&self) -> bool {
        self.indexes_here.load(Ordering::Acquire)
    }

    /// Is an index writer open? Only while a sync changes the index: an idle knowledge base
    /// holds none (nor its threads and buffers).
    pub fn has_writer(&self) -> bool {
        lock(&self.indexer).as_ref().is_some_and(|indexer| indexer.writer.is_some())
    }

    /// A follower whose indexer has gone away takes the writer lock and becomes the indexer,
    /// then catches up with a full sync. Returns whether this process is the indexer now.
    pub fn try_promote(&self) -> Result<bool> {
        {
            let mut guard = lock(&self.indexer);
            if guard.is_some() {
                return Ok(true);
            }
            match self.index.indexer_lock() {
                Ok(lock) => *guard = Some(Indexer { _lock: lock, writer: None }),
                Err(Error::IndexBusy(_)) => return Ok(false),
                Err(e) => return Err(e),
            }
            self.indexes_here.store(true, Ordering::Release);
        }
        tracing::info!("the previous indexer is gone; this server indexes the folders now");
        self.reload_manifest();
        self.index.reload()?;
        self.sync_all()?;
        Ok(true)
    }

    pub fn index_dir(&self) -> &Path {
        &self.index_dir
    }

    /// The manifest, read from disk the first time (by the first caller; others wait for it).
    fn manifest(&self) -> RwLockReadGuard<'_, Manifest> {
        self.read_manifest_once();
        read(&self.manifest)
    }

    fn manifest_mut(&self) -> RwLockWriteGuard<'_, Manifest> {
        self.read_manifest_once();
        write(&self.manifest)
    }

    /// Reads the manifest from disk again (a follower catching up, a failed sync).
    fn reload_manifest(&self) {
        let mut loaded = Some(Manifest::load(&self.manifest_path));
        self.manifest_read.call_once(|| {
            if let Some(manifest) = loaded.take() {
                self.set_manifest(manifest);
            }
        });
        if let Some(manifest) = loaded {
            self.set_manifest(manifest);
        }
    }

    pub(super) fn read_manifest_once(&self) {
        self.manifest_read.call_once(|| self.set_manifest(Manifest::load(&self.manifest_path)));
    }

    fn set_manifest(&self, manifest: Manifest) {
        let (documents, by_format) = (manifest.files.len() as u64, status::by_format(&manifest));
        *write(&self.manifest) = manifest;
        self.set_status(|s| {
            s.documents = documents;
            s.documents_by_format = by_format;
        });
    }

    /// The indexer's first sync: an index whose saved manifest is empty is started over.
    fn check_manifest(&self) -> Result<()> {
        if self.unchecked_manifest.swap(false, Ordering::AcqRel) && self.manifest().files.is_empty()
        {
            tracing::warn!(
                "the index's manifest is unreadable or from another version; indexing again"
            );
            start_over(&self.index, &self.index_dir)?;
        }
        Ok(())
    }
}

/// Empties the index (a manifest that was lost: nothing in the index may be unaccounted for).
fn start_over(index: &SearchIndex, dir: &Path) -> Result<()> {
    let mut writer = index.writer(WriterBudget::here(0))?;
    writer
        .delete_all_documents()
        .map_err(|e| Error::Index { path: dir.to_path_buf(), message: e.to_string() })?;
    index.commit(&mut writer)?;
    index.close_writer(writer);
    Ok(())
}

/// An exclusive lock on `<index dir>/open.lock`, held only while a server opens the index.
/// Waits for another server that is opening it (briefly: it holds the lock for no longer than
/// its own open), up to [`OPENING_WAIT`].
fn opening_lock(index_dir: &Path) -> Result<std::fs::File> {
    let path = index_dir.join("open.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    let deadline = std::time::Instant::now() + OPENING_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Index {
                    path: index_dir.to_path_buf(),
                    message: format!(
                        "another knowledge-base server has been opening it for over {} s",
                        OPENING_WAIT.as_secs()
                    ),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
    }
}

/// How long a server waits for another to finish opening the same index.
const OPENING_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// This process as the index's indexer: the lock, and a writer while a sync changes the index.
struct Indexer {
    _lock: IndexerLock,
    writer: Option<IndexWriter>,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::index::SearchQuery;

    /// The start-up cost over a persisted index is the index alone: a search answers without
    /// the manifest, which the status (and the start-up sync) read when they first need it.
    #[test]
    fn a_search_over_a_persisted_index_does_not_read_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path().join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("a.md"), "# Alpha\n\nThe zebrafish plugin.\n").unwrap();
        let config = Config { roots: vec![docs], index_dir: dir.path().join("index") };
        Engine::open(&config).unwrap().sync_all().unwrap();

        let engine = Engine::open(&config).unwrap();
        assert!(!engine.manifest_read.is_completed(), "read at open");
        let query = SearchQuery { text: "zebrafish".into(), limit: 5, ..SearchQuery::default() };
        assert_eq!(engine.search(&query).unwrap().len(), 1);
        assert!(!engine.manifest_read.is_completed(), "read by a search");
        assert_eq!(engine.status().documents, 1);
        assert!(engine.manifest_read.is_completed());
        assert!(engine.sync_all().unwrap().updated.is_empty(), "nothing to index again");
    }
}
