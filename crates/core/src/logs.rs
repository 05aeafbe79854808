//! Per-server logs: a bounded in-memory ring (what `logs` and the UI show at once) and a rotating
//! file on disk. A server that floods stderr, with or without newlines, keeps both bounded. The
//! ring ([`LineRing`]) and the bounded line reader are also what every child's stderr is drained
//! through (`process::ManagedChild`).

use std::{collections::VecDeque, fs::File, io::Write, path::PathBuf, sync::Mutex};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LogSource {
    /// The server's stderr.
    Stderr,
    /// Switchboard itself: started, exited, signals sent.
    Supervisor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub at_ms: u64,
    pub source: LogSource,
    pub text: String,
}

/// Bounds for one server's logs.
#[derive(Debug, Clone, Copy)]
pub struct LogLimits {
    /// Longer lines are cut (and marked) at this many bytes.
    pub max_line_bytes: usize,
    pub ring_lines: usize,
    pub ring_bytes: usize,
    /// The file rotates past this size…
    pub file_bytes: u64,
    /// …keeping this many old files (`name.log.1` … `name.log.N`).
    pub file_keep: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            max_line_bytes: 8 * 1024,
            ring_lines: 2_000,
            ring_bytes: 1024 * 1024,
            file_bytes: 4 * 1024 * 1024,
            file_keep: 3,
        }
    }
}

/// What a [`LineRing`] weighs its lines by: the bytes of their text.
pub trait Weighed {
    fn weight(&self) -> usize;
}

impl Weighed for String {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weighed for LogLine {
    fn weight(&self) -> usize {
        self.text.len()
    }
}

/// The newest lines within a count and a byte bound: pushing past either drops the oldest.
#[derive(Debug)]
pub struct LineRing<T> {
    lines: VecDeque<T>,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
}

impl<T: Weighed> LineRing<T> {
    pub fn new(max_lines: usize, max_bytes: usize) -> Self {
        LineRing { lines: VecDeque::new(), bytes: 0, max_lines, max_bytes }
    }

    pub fn push(&mut self, line: T) {
        self.bytes += line.weight();
        self.lines.push_back(line);
        while self.lines.len() > self.max_lines || self.bytes > self.max_bytes {
            match self.lines.pop_front() {
                Some(old) => self.bytes -= old.weight(),
                None => break,
            }
        }
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.lines.iter()
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The weight of the lines held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// One server's log: ring plus file.
#[derive(Debug)]
pub struct ServerLog {
    limits: LogLimits,
    ring: Mutex<LineRing<LogLine>>,
    file: Mutex<RotatingFile>,
}

impl ServerLog {
    pub fn new(path: PathBuf, limits: LogLimits) -> Self {
        ServerLog {
            limits,
            ring: Mutex::new(LineRing::new(limits.ring_lines, limits.ring_bytes)),
            file: Mutex::new(RotatingFile { path, file: None, written: 0, failing: false }),
        }
    }

    /// Appends a line to the ring and the file. File errors are logged once (until the file takes
    /// lines again) through `tracing` and otherwise ignored: a full disk must not stop a server,
    /// and the ring keeps the lines meanwhile.
    pub fn push(&self, line: &LogLine) {
        self.ring.lock().unwrap_or_else(|p| p.into_inner()).push(line.clone());
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        match file.append(line, &self.limits) {
            Ok(()) if std::mem::take(&mut file.failing) => {
                tracing::info!("writing log file {} again", file.path.display());
            }
            Ok(()) => {}
            Err(e) if !std::mem::replace(&mut file.failing, true) => {
                tracing::warn!("cannot write log file {}: {e}", file.path.display());
            }
            Err(_) => {}
        }
    }

    /// The ring's lines, oldest first.
    pub fn snapshot(&self) -> Vec<LogLine> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }

    /// The last `n` stderr lines joined, for error messages.
    pub fn stderr_tail(&self, n: usize) -> String {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let mut tail: Vec<&str> = ring
            .iter()
            .rev()
            .filter(|l| l.source == LogSource::Stderr)
            .take(n)
            .map(|l| l.text.as_str())
            .collect();
        tail.reverse();
        tail.join("\n")
    }
}

#[derive(Debug)]
struct RotatingFile {
    path: PathBuf,
    file: Option<File>,
    written: u64,
    /// The last append failed (and said so).
    failing: bool,
}

impl RotatingFile {
    fn append(&mut self, line: &LogLine, limits: &LogLimits) -> std::io::Result<()> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent() {
                crate::owner_only::create_dir(dir)?;
            }
            let file = crate::owner_only::append(&self.path)?;
            self.written = file.metadata()?.len();
            self.file = Some(file);
        }
        let tag = match line.source {
            LogSource::Stderr => "stderr",
            LogSource::Supervisor => "switchboard",
        };
        let record = format!("{} {tag}: {}\n", format_ms(line.at_ms), line.text);
        if self.written + record.len() as u64 > limits.file_bytes && self.written > 0 {
            self.rotate(limits.file_keep)?;
            return self.append(line, limits);
        }
        if let Some(file) = self.file.as_mut()
            && let Err(e) = file.write_all(record.as_bytes())
        {
            // Part of the record may have fit (a full disk): take it back, so that the file
            // holds whole lines only and the next line does not run on from half of this one.
            let _ = file.set_len(self.written);
            return Err(e);
        }
        self.written += record.len() as u64;
        Ok(())
    }

    fn rotate(&mut self, keep: usize) -> std::io::Result<()> {
        self.file = None;
        let numbered = |n: usize| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        if keep == 0 {
            return std::fs::remove_file(&self.path);
        }
        let _ = std::fs::remove_file(numbered(keep));
        for n in (1..keep).rev() {
            let _ = std::fs::rename(numbered(n), numbered(n + 1));
        }
        std::fs::rename(&self.path, numbered(1))
    }
}

/// `2026-11-22T10:01:02.345Z`: milliseconds since the Unix epoch as RFC 3339 UTC, by the `time`
/// crate (the same one the knowledge base dates its notes with).
pub fn format_ms(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return format!("@{ms}ms");
    };
    let (date, clock) = (at.date(), at.time());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        clock.hour(),
        clock.minute(),
        clock.second(),
        clock.millisecond()
    )
}

/// How much of one output stream is read into lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBounds {
    /// Longer lines are cut (and marked) at this many bytes; the rest of such a line is dropped,
    /// not buffered.
    pub max_line_bytes: usize,
    /// After this many bytes of the stream the rest is still read, so that the writer never
    /// blocks, but dropped; a last line says how much. `None`: no limit (a server's stderr, whose
    /// lines go to a ring and a rotating file).
    pub max_total_bytes: Option<u64>,
}

/// Reads `reader` line by line and calls `on_line` with each, cutting lines longer than
/// `max_line_bytes` (the rest of such a line is dropped, not buffered) and replacing invalid UTF-8.
pub async fn read_bounded_lines<R: AsyncBufRead + Unpin>(
    reader: R,
    max_line_bytes: usize,
    on_line: impl FnMut(String),
) {
    read_lines_within(reader, ReadBounds { max_line_bytes, max_total_bytes: None }, on_line).await;
}

/// [`read_bounded_lines`], and past `bounds.max_total_bytes` the rest of the stream is read into
/// the reader's buffer and dropped, then counted in one last line (`…[N more bytes not shown]`).
/// Memory stays bounded by the line bound however much is written.
pub async fn read_lines_within<R: AsyncBufRead + Unpin>(
    mut reader: R,
    bounds: ReadBounds,
    mut on_line: impl FnMut(String),
) {
    let mut line: Vec<u8> = Vec::new();
    let mut truncated = false;
    let mut room_left = bounds.max_total_bytes.unwrap_or(u64::MAX);
    loop {
        let chunk = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(chunk) => chunk,
        };
        let allowed = usize::try_from(room_left).unwrap_or(usize::MAX).min(chunk.len());
        if allowed == 0 {
            break;
        }
        let (take, newline) = match chunk[..allowed].iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (allowed, false),
        };
        let body = &chunk[..if newline { take - 1 } else { take }];
        let room = bounds.max_line_bytes.saturating_sub(line.len());
        if body.len() > room {
            truncated = true;
        }
        line.extend_from_slice(&body[..body.len().min(room)]);
        reader.consume(take);
        room_left -= take as u64;
        if newline {
            on_line(finish_line(&mut line, &mut truncated));
        }
    }
    if room_left == 0 {
        // Over the stream's bound: a line it was in the middle of is cut there.
        let mut dropped: u64 = 0;
        loop {
            let len = match reader.fill_buf().await {
                Ok([]) | Err(_) => break,
                Ok(chunk) => chunk.len(),
            };
            if !line.is_empty() {
                truncated = true;
            }
            reader.consume(len);
            dropped += len as u64;
        }
        if !line.is_empty() || truncated {
            on_line(finish_line(&mut line, &mut truncated));
        }
        if dropped > 0 {
            on_line(format!("…[{dropped} more bytes not shown]"));
        }
        return;
    }
    if !line.is_empty() || truncated {
        on_line(finish_line(&mut line, &mut truncated));
    }
}

fn finish_line(line: &mut Vec<u8>, truncated: &mut bool) -> String {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    let mut text = String::from_utf8_lossy(line).into_owned();
    if *truncated {
        text.push_str(" …[line cut]");
    }
    line.clear();
    *truncated = false;
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> LogLine {
        LogLine { at_ms: 0, source: LogSource::Stderr, text: text.into() }
    }

    #[test]
    fn the_ring_keeps_the_newest_lines_within_bounds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = LogLimits { ring_lines: 3, ring_bytes: 1_000, ..Default::default() };
        let log = ServerLog::new(dir.path().join("s.log"), limits);
        for i in 0..10 {
            log.push(&line(&format!("l{i}")));
        }
        let texts: Vec<_> = log.snapshot().into_iter().map(|l| l.text).collect();
        assert_eq!(texts, ["l7", "l8", "l9"]);
        assert_eq!(log.stderr_tail(2), "l8\nl9");
    }

    #[test]
    fn the_file_rotates_and_keeps_a_bounded_number_of_old_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = LogLimits { file_bytes: 200, file_keep: 2, ..Default::default() };
        let path = dir.path().join("s.log");
        let log = ServerLog::new(path.clone(), limits);
        for i in 0..100 {
            log.push(&line(&format!("line number {i}")));
        }
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["s.log", "s.log.1", "s.log.2"]);
        for name in &names {
            let size = std::fs::metadata(dir.path().join(name)).expect("meta").len();
            assert!(size <= 200, "{name} is {size} bytes");
        }
        let newest = std::fs::read_to_string(&path).expect("read");
        assert!(newest.trim_end().ends_with("stderr: line number 99"), "{newest}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &std::path::Path| {
                std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
            };
            for name in &names {
                assert_eq!(mode(&dir.path().join(name)), 0o600, "{name} after rotations");
            }
            assert_eq!(mode(dir.path()), 0o700);
        }
    }

    #[tokio::test]
    async fn long_lines_are_cut_and_the_rest_is_not_buffered() {
        let mut input = vec![b'x'; 100_000];
        input.extend_from_slice(b"\nshort\r\nno newline");
        let mut lines = Vec::new();
        read_bounded_lines(&input[..], 16, |l| lines.push(l)).await;
        assert_eq!(lines, ["xxxxxxxxxxxxxxxx …[line cut]", "short", "no newline"]);
    }

    #[tokio::test]
    async fn past_the_stream_bound_the_rest_is_read_and_counted_not_kept() {
        let mut input = b"one\ntwo\n".to_vec();
        input.extend(vec![b'z'; 100_000]);
        let bounds = ReadBounds { max_line_bytes: 16, max_total_bytes: Some(12) };
        let mut lines = Vec::new();
        read_lines_within(&input[..], bounds, |l| lines.push(l)).await;
        assert_eq!(lines, ["one", "two", "zzzz …[line cut]", "…[99996 more bytes not shown]"]);
    }

    #[tokio::test]
    async fn a_stream_that_ends_at_its_bound_is_whole() {
        let bounds = ReadBounds { max_line_bytes: 16, max_total_bytes: Some(8) };
        let mut lines = Vec::new();
        read_lines_within(&b"one\ntwo\n"[..], bounds, |l| lines.push(l)).await;
        assert_eq!(lines, ["one", "two"]);
    }

    #[test]
    fn a_line_ring_is_bounded_by_bytes_as_well_as_lines() {
        let mut ring = LineRing::new(100, 10);
        for text in ["aaaa", "bbbb", "cccc"] {
            ring.push(text.to_owned());
        }
        assert_eq!(ring.iter().cloned().collect::<Vec<_>>(), ["bbbb", "cccc"]);
        assert_eq!(ring.bytes(), 8);
    }

    #[tokio::test]
    async fn invalid_utf8_is_replaced_not_fatal() {
        let mut lines = Vec::new();
        read_bounded_lines(&b"ok\n\xff\xfe bad\n"[..], 64, |l| lines.push(l)).await;
        assert_eq!(lines[0], "ok");
        assert!(lines[1].ends_with(" bad"));
    }

    #[test]
    fn timestamps_are_iso8601_utc() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
    }
}
