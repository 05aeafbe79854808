//! Records of the children an owner runs (pid and start time, in `run/children.json`), so that the
//! next owner can end servers left behind by one that crashed — and only those: a pid that has
//! since been reused by another program has a different start time and is left alone.
//!
//! A record is written just after its child is spawned, so an owner killed in between would leave
//! a child nobody knows of. Every child therefore also carries the owner's run id in its
//! environment ([`RUN_VAR`]), and that id is in `run/runs.json` before the first spawn, until a
//! clean shutdown. The next owner ends every process whose environment names a run that did not
//! end cleanly: what a record missed, and descendants that left their group (Linux, where
//! `/proc/PID/environ` tells; elsewhere the records are all there is).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use switchboard_core::{fsutil::write_atomic, spec::ServerName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildRecord {
    /// The leader's pid, which is also its process group id.
    pub pid: u32,
    /// Seconds since the Unix epoch, as the OS reports it.
    pub start_time: u64,
}

/// The environment variable every child of an owner carries: the owner's run id.
pub const RUN_VAR: &str = "SWITCHBOARD_RUN";

#[derive(Debug, Clone)]
pub(crate) struct PidBook {
    path: PathBuf,
    records: Arc<Mutex<BTreeMap<String, ChildRecord>>>,
    /// This owner's run id: pid and start time in nanoseconds, unique on this machine.
    run: String,
}

impl PidBook {
    pub fn new(path: PathBuf) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let run = format!("{}-{nanos}", std::process::id());
        PidBook { path, records: Arc::default(), run }
    }

    pub fn run_id(&self) -> &str {
        &self.run
    }

    /// Adds this run to `runs.json`, before any child is spawned.
    pub fn open_run(&self) {
        let path = runs_file(&self.path);
        let mut runs = read_runs(&path);
        runs.insert(self.run.clone());
        save_runs(&path, &runs);
    }

    /// Takes this run out of `runs.json`: every child has been stopped.
    pub fn close_run(&self) {
        let path = runs_file(&self.path);
        let mut runs = read_runs(&path);
        if runs.remove(&self.run) {
            save_runs(&path, &runs);
        }
    }

    pub fn record(&self, name: &ServerName, pid: u32) {
        self.record_key(name.as_str(), pid);
    }

    /// Records a process under `key` (a per-session server's `name#pid`).
    pub fn record_key(&self, key: &str, pid: u32) {
        let start_time = process_start_time(pid).unwrap_or(0);
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.insert(key.to_owned(), ChildRecord { pid, start_time });
        self.save(&records);
    }

    pub fn forget_key(&self, key: &str) {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if records.remove(key).is_some() {
            self.save(&records);
        }
    }

    pub fn forget(&self, name: &ServerName) {
        self.forget_key(name.as_str());
    }

    fn save(&self, records: &BTreeMap<String, ChildRecord>) {
        let result = serde_json::to_vec_pretty(records)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_atomic(&self.path, &bytes));
        if let Err(e) = result {
            tracing::warn!("cannot record child pids in {}: {e}", self.path.display());
        }
    }
}

fn process_start_time(pid: u32) -> Option<u64> {
    let mut system = System::new();
    let pid = Pid::from_u32(pid);
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    system.process(pid).map(sysinfo::Process::start_time)
}

/// What the sweep found for one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Swept {
    pub server: String,
    pub pid: u32,
    /// How many live processes of its group were ended.
    pub ended: usize,
}

fn runs_file(children: &Path) -> PathBuf {
    children.with_file_name("runs.json")
}

fn read_runs(path: &Path) -> std::collections::BTreeSet<String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!("ignoring unreadable {}: {e}", path.display());
            Default::default()
        }),
        Err(_) => Default::default(),
    }
}

fn save_runs(path: &Path, runs: &std::collections::BTreeSet<String>) {
    let result = serde_json::to_vec(runs)
        .map_err(std::io::Error::other)
        .and_then(|bytes| write_atomic(path, &bytes));
    if let Err(e) = result {
        tracing::warn!("cannot record this owner's run in {}: {e}", path.display());
    }
}

/// Ends every process group recorded in `path` whose processes are still the ones we started,
/// and every process marked with a run that did not end cleanly, then empties both records.
/// Called by a new owner before it starts anything.
pub fn sweep_orphans(path: &Path) -> Vec<Swept> {
    let mut swept = sweep_records(path);
    let runs_path = runs_file(path);
    let runs = read_runs(&runs_path);
    if !runs.is_empty() {
        swept.extend(sweep_marked(&runs));
        if let Err(e) = write_atomic(&runs_path, b"[]") {
            tracing::warn!("cannot clear {}: {e}", runs_path.display());
        }
    }
    swept
}

fn sweep_records(path: &Path) -> Vec<Swept> {
    let records: BTreeMap<String, ChildRecord> = match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!("ignoring unreadable {}: {e}", path.display());
            BTreeMap::new()
        }),
        Err(_) => return Vec::new(),
    };
    let mut swept = Vec::new();
    for (server, record) in records {
        let members = live_members(&record);
        if members.is_empty() {
            continue;
        }
        tracing::warn!(
            "ending {} process(es) of {server} (pid {}) left behind by a previous owner",
            members.len(),
            record.pid
        );
        end_group(&record);
        swept.push(Swept { server, pid: record.pid, ended: members.len() });
    }
    if let Err(e) = write_atomic(path, b"{}") {
        tracing::warn!("cannot clear {}: {e}", path.display());
    }
    swept
}

/// Ends the live processes whose environment carries one of `runs` (see the module's docs):
/// SIGTERM, two seconds, then SIGKILL to those still the same processes.
#[cfg(target_os = "linux")]
fn sweep_marked(runs: &std::collections::BTreeSet<String>) -> Vec<Swept> {
    use nix::{sys::signal::Signal, unistd::Pid};
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let marked: Vec<(u32, u64, String)> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter_map(|pid| {
            let run = run_of(pid).filter(|run| runs.contains(run))?;
            let stat = proc_stat(pid).filter(|s| !matches!(s.state, 'Z' | 'X'))?;
            Some((pid, stat.start_ticks, run))
        })
        .collect();
    if marked.is_empty() {
        return Vec::new();
    }
    let same = |pid: u32, ticks: u64| {
        proc_stat(pid).is_some_and(|s| s.start_ticks == ticks && !matches!(s.state, 'Z' | 'X'))
    };
    for (pid, _, run) in &marked {
        tracing::warn!(
            "ending pid {pid}, started by a previous owner (run {run}) and not recorded"
        );
        let _ = nix::sys::signal::kill(Pid::from_raw(*pid as i32), Signal::SIGTERM);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < deadline && marked.iter().any(|(p, t, _)| same(*p, *t)) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for (pid, ticks, _) in &marked {
        if same(*pid, *ticks) {
            let _ = nix::sys::signal::kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
        }
    }
    marked
        .into_iter()
        .map(|(pid, _, run)| Swept { server: format!("run {run}"), pid, ended: 1 })
        .collect()
}

#[cfg(not(target_os = "linux"))]
fn sweep_marked(_runs: &std::collections::BTreeSet<String>) -> Vec<Swept> {
    Vec::new()
}

/// The run id in a process's environment, when it has one and we may read it.
#[cfg(target_os = "linux")]
fn run_of(pid: u32) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{RUN_VAR}=");
    environ
        .split(|b| *b == 0)
        .find_map(|var| var.strip_prefix(prefix.as_bytes()))
        .map(|value| String::from_utf8_lossy(value).into_owned())
}

/// Live (not zombie) processes of the recorded group that started no earlier than the leader.
/// The leader itself may be gone or a zombie (its children outlive it); if its pid now belongs to a
/// different process that leads a group, that group is somebody else's and is left alone.
#[cfg(target_os = "linux")]
fn live_members(record: &ChildRecord) -> Vec<u32> {
    let boot = boot_time_secs();
    let ticks = ticks_per_second();
    let started = |stat: &ProcStat| boot + stat.start_ticks / ticks;
    if let Some(leader) = proc_stat(record.pid) {
        let ours = started(&leader).abs_diff(record.start_time) <= 1;
        if !ours && leader.pgrp == record.pid {
            return Vec::new();
        }
    }
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            proc_stat(*pid).is_some_and(|stat| {
                // Ours all started at or after the leader (a second of rounding allowed).
                stat.pgrp == record.pid
                    && !matches!(stat.state, 'Z' | 'X')
                    && started(&stat) + 1 >= record.start_time
            })
        })
        .collect()
}

#[cfg(all(unix, not(target_os = "linux")))]
fn live_members(record: &ChildRecord) -> Vec<u32> {
    match process_start_time(record.pid) {
        Some(start) if start.abs_diff(record.start_time) <= 1 => vec![record.pid],
        _ => Vec::new(),
    }
}

#[cfg(not(unix))]
fn live_members(_record: &ChildRecord) -> Vec<u32> {
    Vec::new()
}

#[cfg(unix)]
fn end_group(record: &ChildRecord) {
    use nix::sys::signal::Signal;
    switchboard_core::process::signal_group(record.pid, Signal::SIGTERM);
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < deadline && !live_members(record).is_empty() {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !live_members(record).is_empty() {
        switchboard_core::process::signal_group(record.pid, Signal::SIGKILL);
    }
}

#[cfg(not(unix))]
fn end_group(_record: &ChildRecord) {}

#[cfg(target_os = "linux")]
struct ProcStat {
    state: char,
    pgrp: u32,
    start_ticks: u64,
}

/// Fields of `/proc/PID/stat` (see proc(5)); the command name may contain spaces and parentheses,
/// so fields are counted from the last `)`.
#[cfg(target_os = "linux")]
fn proc_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        pgrp: fields.get(2)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

#[cfg(target_os = "linux")]
fn boot_time_secs() -> u64 {
    sysinfo::System::boot_time()
}

#[cfg(target_os = "linux")]
fn ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|t| u64::try_from(t).ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}
