//! One-shot commands run to their end (install steps: `npm install`, `uv tool install`, `docker
//! pull`): stdin closed, both output streams read as bounded lines, a deadline after which the
//! group is killed.

use std::{ffi::OsString, time::Duration};

use tokio::{io::BufReader, sync::mpsc};

use super::{ChildOptions, CommandSpec, ManagedChild, Search, StderrOptions, StopLadder, resolve};
use crate::{
    Result,
    logs::{LineRing, ReadBounds, read_lines_within},
};

/// How a command run to its end ([`run_to_end`]) finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub success: bool,
    /// `exited with code 1`, `killed by signal 9`, …
    pub status: String,
    /// The last lines it wrote (stdout and stderr interleaved), for error messages.
    pub tail: Vec<String>,
}

/// How much of a one-shot command's output is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// Longer lines are cut (and marked) at this many bytes.
    pub max_line_bytes: usize,
    /// Per stream: past this many bytes the rest is read and dropped, and counted in a last line.
    pub max_stream_bytes: u64,
    /// How many of the last lines [`Finished::tail`] keeps.
    pub tail_lines: usize,
}

impl Default for OutputLimits {
    fn default() -> Self {
        OutputLimits { max_line_bytes: 2000, max_stream_bytes: 4 * 1024 * 1024, tail_lines: 40 }
    }
}

/// After the leader exited (and the rest of its group was killed), how long the output of
/// anything outside the group that still holds the pipes is waited for.
const AFTER_EXIT: Duration = Duration::from_secs(1);

/// The ladder for a run abandoned half-way (its future dropped): stdin is closed from the start.
const ABANDONED: StopLadder = StopLadder {
    after_stdin_close: Duration::ZERO,
    after_terminate: Duration::from_secs(2),
    after_kill: Duration::from_secs(10),
};

/// Runs `spec` (resolved like every command: on the `PATH` in its own env, else through
/// `search`) with stdin closed, passing each line of its output to `on_line`, until it exits or
/// `timeout` passes (then its whole group is killed and the result says so), within the default
/// [`OutputLimits`].
pub async fn run_to_end(
    spec: &CommandSpec,
    search: Search<'_>,
    timeout: Duration,
    on_line: impl FnMut(&str) + Send,
) -> Result<Finished> {
    run_to_end_within(spec, search, timeout, OutputLimits::default(), on_line).await
}

/// [`run_to_end`] with chosen limits: at most `limits.max_stream_bytes` of each stream are read
/// into lines; the rest is drained and dropped as it arrives, never held.
pub async fn run_to_end_within(
    spec: &CommandSpec,
    search: Search<'_>,
    timeout: Duration,
    limits: OutputLimits,
    mut on_line: impl FnMut(&str) + Send,
) -> Result<Finished> {
    let own_path = spec.env.get("PATH").map(OsString::from);
    let search = Search { path: own_path.as_deref().or(search.path), ..search };
    let resolved = resolve(&spec.program, spec.cwd.as_deref(), search)?;
    let bounds = ReadBounds {
        max_line_bytes: limits.max_line_bytes,
        max_total_bytes: Some(limits.max_stream_bytes),
    };
    // Holds at most `max_stream_bytes` (plus the cut marks) per stream, whatever is written.
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let from_stderr = tx.clone();
    let options = ChildOptions {
        stderr: StderrOptions {
            max_line_bytes: bounds.max_line_bytes,
            max_total_bytes: bounds.max_total_bytes,
            // Its lines go to the interleaved tail below instead.
            ring_lines: 0,
            ring_bytes: 0,
        },
        on_stderr: Some(Box::new(move |line: &str| {
            let _ = from_stderr.send(line.to_owned());
        })),
        on_drop: ABANDONED,
    };
    let (child, pipes) = ManagedChild::spawn(spec, &resolved, options)?;
    drop(pipes.stdin);
    let stdout = tokio::spawn(read_lines_within(BufReader::new(pipes.stdout), bounds, move |l| {
        let _ = tx.send(l);
    }));

    let mut tail: LineRing<String> = LineRing::new(limits.tail_lines, usize::MAX);
    let mut take = |line: String| {
        on_line(&line);
        tail.push(line);
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let mut stop_reading = deadline;
    let mut exit = None;
    loop {
        tokio::select! {
            line = rx.recv() => match line {
                Some(line) => take(line),
                None => break,
            },
            ended = child.exited(), if exit.is_none() => {
                exit = Some(ended);
                stop_reading = deadline.min(tokio::time::Instant::now() + AFTER_EXIT);
            }
            () = tokio::time::sleep_until(stop_reading) => break,
        }
    }
    if exit.is_none() {
        exit = tokio::time::timeout_at(deadline, child.exited()).await.ok();
    }
    let (success, status) = match exit {
        Some(exit) => (exit.is_success(), exit.to_string()),
        None => {
            child.kill();
            let _ = child.exited_within(ABANDONED.after_kill).await;
            (false, format!("did not finish within {} s and was stopped", timeout.as_secs()))
        }
    };
    stdout.abort();
    while let Ok(line) = rx.try_recv() {
        take(line);
    }
    Ok(Finished { success, status, tail: tail.iter().cloned().collect() })
}
