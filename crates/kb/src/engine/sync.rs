//! Keeping the index in step with the folders: a full walk at start-up, the paths a watcher
//! reports after that, and a follower's catching up with another process's commits.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    time::{Duration, Instant, UNIX_EPOCH},
};

use sha2::{Digest, Sha256};
use tantivy::IndexWriter;

use super::{Change, Engine, Indexer, Skipped, generated, lock, now_ms};
use crate::{
    error::{Error, Result},
    index::{SearchIndex, WriterBudget},
    manifest::{FileRecord, SectionRef},
    roots::uri_of,
    source::{self, Skip},
};

/// How many skipped files the status lists by name (the count is always exact).
const SKIPPED_LISTED: usize = 100;
/// Commit (and make searchable) at least this often during a long sync.
const COMMIT_EVERY: Duration = Duration::from_secs(2);

impl Engine {
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
                if self.in_skipped_folder(path) {
                    continue;
                }
                targets.push(Target::Tree(path.clone(), key));
            } else if path.exists() {
                if source::is_document(path) && !self.in_skipped_folder(path) {
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
        let mut guard = lock(&self.indexer);
        let Some(indexer) = guard.as_mut() else {
            drop(guard);
            if matches!(targets.first(), Some(Target::Tree(..)))
                && targets.len() == self.roots.iter().count()
            {
                // The start-up sync of a follower: nothing to announce.
                self.index.reload()?;
                self.reload_manifest();
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
        let result = self.check_manifest().and_then(|()| self.sync_locked(indexer, targets));
        if result.is_err()
            && let Some(writer) = indexer.writer.as_mut()
        {
            // Whatever was added since the last commit is dropped, not half-kept.
            let _ = writer.rollback();
        }
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
                self.reload_manifest();
                self.set_status(|s| {
                    s.state = "failed".into();
                    s.error = Some(e.to_string());
                });
                self.save_status();
            }
        }
        // Idle from here: the writer goes, with its threads and buffers, until the next change.
        // After the status says ready: what it committed is searchable already, and a search
        // must not be told the index is still being built while merges finish.
        if let Some(writer) = indexer.writer.take() {
            self.index.close_writer(writer);
        }
        result
    }

    fn sync_locked(&self, indexer: &mut Indexer, targets: Vec<Target>) -> Result<Change> {
        // Work out every file to look at first, so progress has a total.
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        let mut gone: Vec<String> = Vec::new();
        for target in targets {
            match target {
                Target::File(path, key) => files.push((path, key)),
                Target::Gone(key) => {
                    self.forget_skipped_under(&key);
                    gone.extend(self.keys_under(&key));
                }
                Target::Tree(dir, key) => {
                    // What is still there and still cannot be read is found again by the walk.
                    self.forget_skipped_under(&key);
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
        let mut writing = Writing { index: &self.index, indexer, files: &files, at: 0 };
        for key in gone {
            self.index.delete(writing.writer()?, &key);
            self.manifest_mut().files.remove(&key);
            lock(&self.skipped).remove(&key);
            change.updated.push(uri_of(&key));
            change.list_changed = true;
            dirty = true;
        }
        for (done, (path, key)) in files.iter().enumerate() {
            writing.at = done;
            match self.upsert(&mut writing, path, key)? {
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
                self.commit(writing.indexer.writer.as_mut())?;
                dirty = false;
                last_commit = Instant::now();
            }
            if done % 32 == 31 {
                self.set_status(|s| s.files_done = done as u64 + 1);
            }
        }
        if dirty {
            self.commit(writing.indexer.writer.as_mut())?;
        } else {
            self.list_skipped();
        }
        self.set_status(|s| s.files_done = files.len() as u64);
        Ok(change)
    }

    /// Commits what the writer has (none: only modification times moved) and saves the
    /// manifest that describes it.
    fn commit(&self, writer: Option<&mut IndexWriter>) -> Result<()> {
        if let Some(writer) = writer {
            self.index.commit(writer)?;
        }
        // Saved from under the read lock (searches do not take it; listings only read), not
        // from a copy: at 10,000 documents a copy is tens of megabytes per commit.
        let (documents, by_format) = {
            let manifest = self.manifest();
            manifest.save(&self.manifest_path)?;
            (manifest.files.len() as u64, super::status::by_format(&manifest))
        };
        self.list_skipped();
        let sections = self.index.sections();
        let bytes = self.index.size_on_disk();
        self.set_status(|s| {
            s.documents = documents;
            s.documents_by_format = by_format;
            s.sections = sections;
            s.index_bytes = bytes;
            s.updated_at_ms = now_ms();
        });
        self.save_status();
        Ok(())
    }

    /// Puts the skipped files in the status: at each commit, and after a sync that committed
    /// nothing (a new file that cannot be read changes no index, but is reported all the same).
    fn list_skipped(&self) {
        let skipped = lock(&self.skipped);
        let listed = skipped
            .iter()
            .take(SKIPPED_LISTED)
            .map(|(path, reason)| Skipped { path: path.clone(), reason: reason.clone() })
            .collect();
        let skipped_total = skipped.len() as u64;
        drop(skipped);
        self.set_status(|s| {
            s.skipped = listed;
            s.skipped_total = skipped_total;
        });
    }

    /// Indexes one file if it changed.
    fn upsert(&self, writing: &mut Writing<'_>, path: &Path, key: &str) -> Result<Outcome> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => return self.skip(writing, key, Skip::Unreadable(e.to_string())),
        };
        let modified_ms = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64);
        let size = meta.len();
        let previous = self.manifest().files.get(key).cloned();
        if let Some(prev) = &previous
            && prev.modified_ms == modified_ms
            && prev.size == size
        {
            return Ok(Outcome::Unchanged);
        }
        if size > source::MAX_FILE_BYTES {
            return self.skip(writing, key, Skip::TooLarge(size));
        }
        if let Err(e) = self.roots.check_inside(path, key) {
            return self.skip(writing, key, Skip::Unreadable(e.to_string()));
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return self.skip(writing, key, Skip::Unreadable(e.to_string())),
        };
        let hash = format!("{:x}", Sha256::digest(&bytes));
        if let Some(prev) = &previous
            && prev.hash == hash
        {
            let mut manifest = self.manifest_mut();
            if let Some(record) = manifest.files.get_mut(key) {
                record.modified_ms = modified_ms;
                record.size = size;
            }
            return Ok(Outcome::Touched);
        }
        let doc = match source::load(path, bytes) {
            Ok(loaded) => loaded.doc,
            Err(skip) => return self.skip(writing, key, skip),
        };
        self.index.replace(writing.writer()?, key, &doc)?;
        let record = FileRecord {
            modified_ms,
            size,
            hash,
            title: doc.title.clone(),
            tags: doc.tags.clone(),
            sections: doc.sections.iter().map(SectionRef::from).collect(),
        };
        self.manifest_mut().files.insert(key.to_string(), record);
        lock(&self.skipped).remove(key);
        Ok(Outcome::Indexed { new: previous.is_none() })
    }

    /// Records why a file is not indexed, and drops what the index had of it.
    fn skip(&self, writing: &mut Writing<'_>, key: &str, why: Skip) -> Result<Outcome> {
        tracing::info!(file = key, "skipped: {why}");
        lock(&self.skipped).insert(key.to_string(), why.to_string());
        if self.manifest_mut().files.remove(key).is_some() {
            self.index.delete(writing.writer()?, key);
            Ok(Outcome::Removed)
        } else {
            Ok(Outcome::Unchanged)
        }
    }

    /// Every document file under `dir`, following symlinks (loops and unreadable folders are
    /// recorded as skipped), hidden folders left out, and folders of generated or vendored files
    /// (`node_modules`, a build's output) recorded as skipped with that reason.
    fn walk(&self, dir: &Path) -> Vec<(PathBuf, String)> {
        let mut found = Vec::new();
        let walker = walkdir::WalkDir::new(dir).follow_links(true).into_iter().filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            if e.file_name().to_string_lossy().starts_with('.') {
                return false;
            }
            if e.file_type().is_dir() && generated::is_generated(e.path()) {
                if let Some(key) = self.roots.key_of(e.path()) {
                    tracing::info!(file = key, "skipped: {}", Skip::Generated);
                    lock(&self.skipped).insert(key, Skip::Generated.to_string());
                }
                return false;
            }
            true
        });
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

    /// Is `path` inside a hidden folder, or one of generated or vendored files, of its root? The
    /// watcher reports changes there too; the walk never goes in.
    fn in_skipped_folder(&self, path: &Path) -> bool {
        let Some(root) = self.roots.iter().find(|r| path.starts_with(&r.dir)) else { return false };
        let mut folder = Some(path);
        while let Some(dir) = folder.filter(|d| d.starts_with(&root.dir) && *d != root.dir) {
            let hidden = dir.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden || generated::is_generated(dir) {
                return true;
            }
            folder = dir.parent();
        }
        false
    }

    /// Drops the skipped files (and folders) at `key` or under it: they are gone, or about to be
    /// looked at again.
    fn forget_skipped_under(&self, key: &str) {
        let folder = format!("{key}/");
        lock(&self.skipped).retain(|k, _| k != key && !k.starts_with(&folder));
    }

    /// Keys of the manifest equal to `key` or under it as a folder.
    fn keys_under(&self, key: &str) -> Vec<String> {
        let folder = format!("{key}/");
        self.manifest()
            .files
            .keys()
            .filter(|k| *k == key || k.starts_with(&folder))
            .cloned()
            .collect()
    }

    /// A follower's sync: pick up the indexer's latest commit and manifest.
    fn follow(&self, targets: &[Target]) -> Result<Change> {
        self.index.reload()?;
        self.reload_manifest();
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
}

/// One sync's access to the writer, opened at its first change and sized to what is left to
/// look at then (`files[at..]`): a sync that changes nothing opens none.
struct Writing<'a> {
    index: &'a SearchIndex,
    indexer: &'a mut Indexer,
    files: &'a [(PathBuf, String)],
    at: usize,
}

impl Writing<'_> {
    fn writer(&mut self) -> Result<&mut IndexWriter> {
        if self.indexer.writer.is_none() {
            let bytes: u64 = self.files[self.at.min(self.files.len())..]
                .iter()
                .filter_map(|(path, _)| std::fs::metadata(path).ok())
                .map(|meta| meta.len())
                .sum();
            let budget = WriterBudget::here(bytes);
            tracing::debug!(bytes, ?budget, "opening the index writer");
            self.indexer.writer = Some(self.index.writer(budget)?);
        }
        self.indexer
            .writer
            .as_mut()
            .ok_or_else(|| Error::Invalid("the index writer did not open".into()))
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
