//! Live re-indexing: the folders watched with `notify`, changes debounced and synced.

use std::{path::PathBuf, sync::Arc, time::Duration};

use super::Engine;
use crate::error::{Error, Result};

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
}
