//! The audit log: one JSON line per request through the gateway — when, which host, which
//! server, which method and name, how long, how it ended. Never arguments, results or secrets.
//! Bounded: past [`MAX_BYTES`] the file becomes `gateway.jsonl.1` (the previous one is dropped).

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Mutex,
};

use serde::{Deserialize, Serialize};
use switchboard_core::Paths;

/// Size at which the log is rotated.
pub const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// One request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub at_ms: u64,
    pub host: String,
    /// The server the request went to (`None`: answered by the gateway itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The JSON-RPC method.
    pub method: String,
    /// The tool, prompt or resource named, as the server knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub duration_ms: f64,
    /// `ok`, `tool-error` or `error`.
    pub outcome: String,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The log file, appended to by the owner.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    max_bytes: u64,
    file: Mutex<Option<std::fs::File>>,
}

/// Where the audit log of `paths` is.
pub fn path(paths: &Paths) -> PathBuf {
    paths.log_dir.join("gateway.jsonl")
}

impl AuditLog {
    pub fn new(paths: &Paths) -> Self {
        AuditLog::at(path(paths), MAX_BYTES)
    }

    pub fn at(path: PathBuf, max_bytes: u64) -> Self {
        AuditLog { path, max_bytes, file: Mutex::new(None) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `record`; a failure is logged, never passed on (the call itself went through).
    pub fn append(&self, record: &Record) {
        let Ok(mut line) = serde_json::to_vec(record) else { return };
        line.push(b'\n');
        let mut slot = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = self.write(&mut slot, &line) {
            tracing::warn!("could not write the gateway's audit log {}: {e}", self.path.display());
            *slot = None;
        }
    }

    fn write(&self, slot: &mut Option<std::fs::File>, line: &[u8]) -> std::io::Result<()> {
        if slot.is_none() {
            if let Some(dir) = self.path.parent() {
                switchboard_core::owner_only::create_dir(dir)?;
            }
            *slot = Some(switchboard_core::owner_only::append(&self.path)?);
        }
        let Some(file) = slot.as_mut() else { return Ok(()) };
        if file.metadata()?.len() + line.len() as u64 > self.max_bytes {
            let old = self.path.with_extension("jsonl.1");
            std::fs::rename(&self.path, old)?;
            *file = switchboard_core::owner_only::append(&self.path)?;
        }
        file.write_all(line)
    }
}

/// The records in the log at `path` (the rotated file first), skipping lines that do not parse.
pub fn read(path: &Path) -> Vec<Record> {
    let rotated = path.with_extension("jsonl.1");
    [rotated.as_path(), path]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|text| {
            text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect::<Vec<Record>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: u64) -> Record {
        Record {
            at_ms: i,
            host: "cursor".into(),
            server: Some("everything".into()),
            method: "tools/call".into(),
            name: Some("echo".into()),
            duration_ms: 0.5,
            outcome: "ok".into(),
            error: None,
        }
    }

    #[test]
    fn records_are_appended_as_lines_and_the_file_rotates_at_its_bound() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::at(dir.path().join("logs/gateway.jsonl"), 1024);
        for i in 0..40 {
            log.append(&record(i));
        }
        let size = std::fs::metadata(log.path()).expect("log").len();
        assert!(size <= 1024, "{size}");
        assert!(log.path().with_extension("jsonl.1").exists(), "rotated");
        let read = read(log.path());
        assert_eq!(read.last(), Some(&record(39)));
        // Every record kept is whole and in order; the oldest were dropped with the rotation.
        assert!(read.windows(2).all(|w| w[0].at_ms + 1 == w[1].at_ms));
        assert!(read.len() < 40 && read.len() > 5, "{}", read.len());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(log.path()), 0o600);
            assert_eq!(mode(&log.path().with_extension("jsonl.1")), 0o600, "the rotated file");
            assert_eq!(mode(dir.path().join("logs").as_path()), 0o700);
        }
    }
}
