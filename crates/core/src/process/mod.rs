//! The one place that starts processes: argv only (never a shell), its own process group (Unix)
//! or job object (Windows), piped stdio, and a command resolved on PATH — or, for GUI launches that
//! did not inherit the login shell's PATH (nvm, Homebrew, `~/.local/bin`), on the login shell's PATH
//! ([`resolve`]).
//!
//! `clippy.toml` forbids `Command::new` everywhere else.

mod exit;
mod resolve;

use std::{collections::BTreeMap, ffi::OsString, path::PathBuf, process::Stdio, time::Duration};

use process_wrap::tokio::{ChildWrapper, CommandWrap};

use crate::{Error, Result};

pub use exit::Exit;
pub use resolve::{FoundVia, Resolved, login_shell_path, resolve};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub program: String,
    pub args: Vec<String>,
    /// Added to (and overriding) the inherited environment.
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
}

/// A child started by [`spawn`], with its stdio taken out.
pub struct Spawned {
    pub child: Box<dyn ChildWrapper>,
    pub pid: u32,
    pub stdin: tokio::process::ChildStdin,
    pub stdout: tokio::process::ChildStdout,
    pub stderr: tokio::process::ChildStderr,
}

impl std::fmt::Debug for Spawned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawned").field("pid", &self.pid).finish_non_exhaustive()
    }
}

/// Starts `spec` as `resolved` with piped stdio, in a new process group (Unix) or job object
/// (Windows), killed if the handle is dropped.
pub fn spawn(spec: &CommandSpec, resolved: &Resolved) -> Result<Spawned> {
    let describe = || resolved.program.display().to_string();
    #[allow(clippy::disallowed_methods)] // this module is the one place allowed to build commands
    let mut inner = tokio::process::Command::new(&resolved.program);
    inner.args(&spec.args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(path_var) = &resolved.path_var {
        inner.env("PATH", path_var);
    }
    inner.envs(&spec.env);
    if let Some(cwd) = &spec.cwd {
        inner.current_dir(cwd);
    }
    let mut command = CommandWrap::from(inner);
    #[cfg(unix)]
    command.wrap(process_wrap::tokio::ProcessGroup::leader());
    #[cfg(windows)]
    command.wrap(process_wrap::tokio::JobObject);
    command.wrap(process_wrap::tokio::KillOnDrop);
    let mut child =
        command.spawn().map_err(|source| Error::Spawn { command: describe(), source })?;
    let missing = |what: &str| Error::Spawn {
        command: describe(),
        source: std::io::Error::other(format!("the child has no {what} pipe")),
    };
    let pid = child.id().ok_or_else(|| missing("pid"))?;
    let stdin = child.stdin().take().ok_or_else(|| missing("stdin"))?;
    let stdout = child.stdout().take().ok_or_else(|| missing("stdout"))?;
    let stderr = child.stderr().take().ok_or_else(|| missing("stderr"))?;
    Ok(Spawned { child, pid, stdin, stdout, stderr })
}

/// How a command run to its end ([`run_to_end`]) finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub success: bool,
    /// `exited with code 1`, `killed by signal 9`, …
    pub status: String,
    /// The last lines it wrote (stdout and stderr interleaved), for error messages.
    pub tail: Vec<String>,
}

/// Runs `spec` (resolved on PATH like every command) with stdin closed, passing each line of
/// its output to `on_line`, until it exits or `timeout` passes (then its whole group is killed
/// and the result says so). For install steps: `npm install`, `uv tool install`, `docker pull`.
pub async fn run_to_end(
    spec: &CommandSpec,
    timeout: Duration,
    mut on_line: impl FnMut(&str) + Send,
) -> Result<Finished> {
    use tokio::io::AsyncBufReadExt;
    let path_var = spec.env.get("PATH").map(OsString::from).or_else(|| std::env::var_os("PATH"));
    let resolved = resolve(&spec.program, spec.cwd.as_deref(), path_var.as_deref())?;
    let Spawned { mut child, stdin, stdout, stderr, .. } = spawn(spec, &resolved)?;
    drop(stdin);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let pump = |reader: Box<dyn tokio::io::AsyncRead + Send + Unpin>| {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(reader).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line.chars().take(2000).collect());
            }
        })
    };
    let (out, err) = (pump(Box::new(stdout)), pump(Box::new(stderr)));
    drop(tx);
    let mut tail: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut take = |line: String| {
        on_line(&line);
        if tail.len() == 40 {
            tail.pop_front();
        }
        tail.push_back(line);
    };
    let mut timed_out = false;
    loop {
        tokio::select! {
            line = rx.recv() => match line {
                Some(line) => take(line),
                None => break,
            },
            () = tokio::time::sleep_until(deadline) => {
                timed_out = true;
                break;
            }
        }
    }
    let status =
        if timed_out { None } else { tokio::time::timeout_at(deadline, child.wait()).await.ok() };
    let (success, status) = match status {
        Some(Ok(status)) => (status.success(), describe_status(status)),
        Some(Err(e)) => (false, format!("could not be waited for: {e}")),
        None => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            (false, format!("did not finish within {} s and was stopped", timeout.as_secs()))
        }
    };
    let _ = child.start_kill();
    out.abort();
    err.abort();
    while let Ok(line) = rx.try_recv() {
        take(line);
    }
    Ok(Finished { success, status, tail: tail.into_iter().collect() })
}

fn describe_status(status: std::process::ExitStatus) -> String {
    Exit::from_status(Ok(status)).to_string()
}

/// Sends `signal` to every process in the group led by `pgid` (a process we may no longer own: the
/// orphan sweep). Returns false when no such group exists.
#[cfg(unix)]
pub fn signal_group(pgid: u32, signal: nix::sys::signal::Signal) -> bool {
    let Ok(raw) = i32::try_from(pgid) else { return false };
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(raw), signal).is_ok()
}
