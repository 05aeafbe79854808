//! The guardian watches every host file that holds entries of ours (`notify`, on the folders, so
//! atomic renames by hosts and editors are seen) and reports drift: one of our entries changed or
//! removed by someone else. With automatic re-apply on, it writes the entries back, at most
//! `REAPPLY_LIMIT` times a minute per file, so a host that keeps stripping them is reported, not
//! fought.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use notify::{RecursiveMode, Watcher};
use serde::Serialize;
use tokio::sync::broadcast;

use super::{Action, EntryStatus, HostId, Hosts};
use switchboard_core::Registry;

use crate::{Error, Result};

/// Re-applies allowed per file per minute.
const REAPPLY_LIMIT: usize = 3;
/// How often the set of watched files is re-read from the ledger.
const RESCAN: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DriftReport {
    pub host: String,
    #[ts(type = "string")]
    pub path: PathBuf,
    /// Our entries that changed or went missing.
    pub drifted: Vec<EntryStatus>,
    /// They were written back.
    pub reapplied: bool,
    /// Why re-applying failed or was not tried.
    #[ts(optional)]
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct GuardianOptions {
    pub auto_reapply: bool,
    /// Quiet time after the last change before a file is checked.
    pub debounce: Duration,
}

impl Default for GuardianOptions {
    fn default() -> Self {
        GuardianOptions { auto_reapply: false, debounce: Duration::from_millis(300) }
    }
}

/// Runs until dropped.
#[derive(Debug)]
pub struct Guardian {
    reports: broadcast::Sender<DriftReport>,
    stop: Arc<AtomicBool>,
    auto: Arc<AtomicBool>,
}

impl Drop for Guardian {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Guardian {
    pub fn start(hosts: Hosts, registry: Registry, options: GuardianOptions) -> Result<Self> {
        let (reports, _) = broadcast::channel(64);
        let stop = Arc::new(AtomicBool::new(false));
        let auto = Arc::new(AtomicBool::new(options.auto_reapply));
        let (tx, rx) = mpsc::channel::<PathBuf>();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event {
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
        })
        .map_err(|e| Error::Guardian(format!("cannot watch host files: {e}")))?;
        let mut worker = Worker {
            hosts,
            registry,
            debounce: options.debounce,
            auto: auto.clone(),
            reports: reports.clone(),
            watcher,
            watched_dirs: BTreeSet::new(),
            files: BTreeMap::new(),
            pending: BTreeMap::new(),
            reapplied: BTreeMap::new(),
        };
        let stop_flag = stop.clone();
        std::thread::Builder::new()
            .name("hosts-guardian".into())
            .spawn(move || worker.run(&rx, &stop_flag))
            .map_err(|e| Error::Guardian(format!("cannot start the host guardian: {e}")))?;
        Ok(Guardian { reports, stop, auto })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DriftReport> {
        self.reports.subscribe()
    }

    pub fn set_auto_reapply(&self, on: bool) {
        self.auto.store(on, Ordering::SeqCst);
    }
}

struct Worker {
    hosts: Hosts,
    registry: Registry,
    debounce: Duration,
    auto: Arc<AtomicBool>,
    reports: broadcast::Sender<DriftReport>,
    watcher: notify::RecommendedWatcher,
    watched_dirs: BTreeSet<PathBuf>,
    /// The files with entries of ours, and their host.
    files: BTreeMap<PathBuf, HostId>,
    /// Files changed, checked once quiet.
    pending: BTreeMap<PathBuf, Instant>,
    /// When each file was last re-applied.
    reapplied: BTreeMap<PathBuf, Vec<Instant>>,
}

impl Worker {
    fn run(&mut self, rx: &mpsc::Receiver<PathBuf>, stop: &AtomicBool) {
        let mut next_scan = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            if Instant::now() >= next_scan {
                self.rescan();
                next_scan = Instant::now() + RESCAN;
            }
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(path) => {
                    if self.files.contains_key(&path) {
                        self.pending.insert(path, Instant::now() + self.debounce);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            let due: Vec<PathBuf> = self
                .pending
                .iter()
                .filter(|(_, at)| **at <= Instant::now())
                .map(|(p, _)| p.clone())
                .collect();
            for path in due {
                self.pending.remove(&path);
                self.check(&path);
            }
        }
    }

    fn rescan(&mut self) {
        let Ok(files) = self.hosts.written_files() else { return };
        let files: BTreeMap<PathBuf, HostId> =
            files.into_iter().map(|(host, path)| (path, host)).collect();
        // A file new to the watch may have changed before the watch began: check it once.
        for path in files.keys().filter(|p| !self.files.contains_key(*p)) {
            self.pending.insert(path.clone(), Instant::now() + self.debounce);
        }
        self.files = files;
        let dirs: BTreeSet<PathBuf> =
            self.files.keys().filter_map(|p| p.parent().map(PathBuf::from)).collect();
        for dir in dirs.difference(&self.watched_dirs.clone()) {
            // A folder that does not exist (yet) is tried again on the next scan.
            if self.watcher.watch(dir, RecursiveMode::NonRecursive).is_ok() {
                self.watched_dirs.insert(dir.clone());
            }
        }
        for dir in self.watched_dirs.clone().difference(&dirs) {
            let _ = self.watcher.unwatch(dir);
            self.watched_dirs.remove(dir);
        }
    }

    fn check(&mut self, path: &PathBuf) {
        let Some(&host) = self.files.get(path) else { return };
        let servers = self.registry.load().unwrap_or_default();
        let Ok(Some(status)) = self.hosts.file_drift(host, path, &servers) else { return };
        let drifted: Vec<EntryStatus> =
            status.entries.into_iter().filter(|e| e.state.is_drift()).collect();
        if drifted.is_empty() {
            return;
        }
        let mut report = DriftReport {
            host: host.id().into(),
            path: path.clone(),
            drifted: drifted.clone(),
            reapplied: false,
            note: None,
        };
        tracing::warn!(host = %host, path = %path.display(), entries = drifted.len(), "our host entries drifted");
        let connected = self.hosts.connection(host).ok().flatten().is_some_and(|c| &c.path == path);
        if connected && self.auto.load(Ordering::SeqCst) {
            // Its entries point at the gateway, not at the servers: writing the servers' own
            // entries back would undo the connection.
            report.note = Some(format!(
                "{host} is connected to the gateway; run `switchboard hosts connect {host}` to \
                 write its entries again"
            ));
        } else if self.auto.load(Ordering::SeqCst) {
            let now = Instant::now();
            let recent = self.reapplied.entry(path.clone()).or_default();
            recent.retain(|t| now.duration_since(*t) < Duration::from_secs(60));
            if recent.len() >= REAPPLY_LIMIT {
                report.note = Some(format!(
                    "{host} keeps changing these entries; re-applied {REAPPLY_LIMIT} times in a \
                     minute, so Switchboard stopped. Re-apply by hand once the host is settled"
                ));
            } else {
                recent.push(now);
                let wanted: Vec<_> = drifted
                    .iter()
                    .filter_map(|e| {
                        let name = e.server.as_deref()?.parse().ok()?;
                        let spec = servers.get(&name)?.clone();
                        Some((name, spec))
                    })
                    .collect();
                match self
                    .hosts
                    .target_of(host, path)
                    .and_then(|file| self.hosts.write(&file, &Action::Apply(wanted), false))
                {
                    Ok(_) => report.reapplied = true,
                    Err(e) => report.note = Some(format!("re-applying failed: {e}")),
                }
            }
        }
        let _ = self.reports.send(report);
    }
}
