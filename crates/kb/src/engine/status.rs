//! The indexer's status, and its copy on disk for processes that follow another's index.

use std::{collections::BTreeMap, path::PathBuf};

use serde::{Deserialize, Serialize};

use super::{Engine, lock};
use crate::{manifest::Manifest, source};

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
    /// Documents in the index per format: `markdown`, `text`, `html`, `pdf`, `code`.
    #[serde(default)]
    pub documents_by_format: BTreeMap<String, u64>,
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

/// How many of the manifest's documents are in each format.
pub(super) fn by_format(manifest: &Manifest) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for key in manifest.files.keys() {
        let format = source::format_of(std::path::Path::new(key)).unwrap_or(source::Format::Text);
        *counts.entry(format.name().to_string()).or_insert(0) += 1;
    }
    counts
}

impl Engine {
    /// The indexer's status: this process's, or when following another, the one it saved.
    pub fn status(&self) -> Status {
        if let Some(mut saved) = self.followed_status() {
            saved.watching = lock(&self.status).watching;
            return saved;
        }
        // The document counts come from the manifest, read on first use.
        self.read_manifest_once();
        lock(&self.status).clone()
    }

    /// [`Engine::status`] without waiting for the manifest to be read: until it is (the
    /// start-up sync's first step), the document counts are 0. The state and the section count
    /// (the index's own, updated with the counts at each commit) are current.
    pub fn status_now(&self) -> Status {
        match self.followed_status() {
            Some(saved) => saved,
            None => lock(&self.status).clone(),
        }
    }

    /// When following another process, the status it saved.
    fn followed_status(&self) -> Option<Status> {
        if self.is_indexer() {
            return None;
        }
        std::fs::read(self.status_path())
            .ok()
            .and_then(|b| serde_json::from_slice::<Status>(&b).ok())
    }

    fn status_path(&self) -> PathBuf {
        self.index_dir.join("status.json")
    }

    /// Saves the status for followers (best effort: it is informational).
    pub(super) fn save_status(&self) {
        let status = lock(&self.status).clone();
        if let Ok(bytes) = serde_json::to_vec(&status) {
            let path = self.status_path();
            let tmp = path.with_extension("json.tmp");
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
    }

    pub(super) fn set_status(&self, f: impl FnOnce(&mut Status)) {
        f(&mut lock(&self.status));
    }
}
