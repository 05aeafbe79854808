//! The one place that starts processes: argv only (never a shell), its own process group (Unix)
//! or job object (Windows), piped stdio, and a command resolved on PATH — or, for GUI launches that
//! did not inherit the login shell's PATH (nvm, Homebrew, `~/.local/bin`), on the login shell's PATH.
//!
//! `clippy.toml` forbids `Command::new` everywhere else.

use std::{
    collections::BTreeMap,
    ffi::{OsStr, OsString},
    path::{Path, PathBuf},
    process::Stdio,
    sync::OnceLock,
    time::Duration,
};

use process_wrap::tokio::{ChildWrapper, CommandWrap};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub program: String,
    pub args: Vec<String>,
    /// Added to (and overriding) the inherited environment.
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
}

/// Where a command was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum FoundVia {
    /// The command was a path.
    Path,
    /// On this process's PATH.
    Environment,
    /// Only on the login shell's PATH; the child gets that PATH too.
    LoginShell,
}

/// A command resolved to an absolute program path, plus the PATH the child should see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub program: PathBuf,
    pub via: FoundVia,
    pub path_var: Option<OsString>,
}

/// Resolves `program`: a path is used as it is (relative to `cwd`); a bare name is looked up on
/// `path_var`, then on the login shell's PATH.
pub fn resolve(program: &str, cwd: Option<&Path>, path_var: Option<&OsStr>) -> Result<Resolved> {
    if Path::new(program).components().count() > 1 || Path::new(program).is_absolute() {
        let path = match cwd {
            Some(cwd) if Path::new(program).is_relative() => cwd.join(program),
            _ => PathBuf::from(program),
        };
        return Ok(Resolved {
            program: path,
            via: FoundVia::Path,
            path_var: path_var.map(Into::into),
        });
    }
    let here = cwd.map_or_else(|| std::env::current_dir().unwrap_or_default(), Path::to_path_buf);
    if let Ok(found) = which::which_in(program, path_var, &here) {
        return Ok(Resolved {
            program: found,
            via: FoundVia::Environment,
            path_var: path_var.map(Into::into),
        });
    }
    if let Some(login_path) = login_shell_path()
        && let Ok(found) = which::which_in(program, Some(login_path), &here)
    {
        let merged = merge_paths(path_var, login_path);
        return Ok(Resolved { program: found, via: FoundVia::LoginShell, path_var: Some(merged) });
    }
    Err(Error::CommandNotFound {
        command: program.to_owned(),
        searched_login_shell: login_shell_path().is_some(),
    })
}

/// The current PATH followed by the login shell's entries it lacks.
fn merge_paths(current: Option<&OsStr>, login: &OsStr) -> OsString {
    let mut entries: Vec<PathBuf> =
        current.map(|p| std::env::split_paths(p).collect()).unwrap_or_default();
    for entry in std::env::split_paths(login) {
        if !entries.contains(&entry) {
            entries.push(entry);
        }
    }
    std::env::join_paths(entries).unwrap_or_else(|_| login.to_owned())
}

/// The PATH an interactive login shell of the user's `$SHELL` has, asked once per process.
/// Runs the shell with a fixed script (`env`), never with user input.
pub fn login_shell_path() -> Option<&'static OsStr> {
    static CACHE: OnceLock<Option<OsString>> = OnceLock::new();
    CACHE.get_or_init(query_login_shell_path).as_deref()
}

#[cfg(unix)]
fn query_login_shell_path() -> Option<OsString> {
    let shell = std::env::var_os("SHELL").filter(|s| !s.is_empty())?;
    let is_fish = Path::new(&shell).file_name().is_some_and(|n| n == "fish");
    let args: &[&str] = if is_fish { &["-l", "-c", "env"] } else { &["-i", "-l", "-c", "env"] };
    let mut command = std_command(&shell);
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = command.spawn().ok()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::warn!("the login shell {shell:?} did not print its environment in 5 s");
                return None;
            }
        }
    }
    let output = child.wait_with_output().ok()?;
    use std::os::unix::ffi::OsStrExt;
    output
        .stdout
        .split(|b| *b == b'\n')
        .rev()
        .find_map(|line| line.strip_prefix(b"PATH="))
        .map(|p| OsStr::from_bytes(p).to_owned())
}

#[cfg(not(unix))]
fn query_login_shell_path() -> Option<OsString> {
    None
}

/// A blocking `std::process::Command` for short fixed helper invocations (the login-shell query).
#[allow(clippy::disallowed_methods)] // this module is the one place allowed to build commands
fn std_command(program: impl AsRef<OsStr>) -> std::process::Command {
    std::process::Command::new(program)
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

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// The exit status could not be read.
    Unknown(String),
}

impl Exit {
    pub fn from_status(status: std::io::Result<std::process::ExitStatus>) -> Exit {
        match status {
            Err(e) => Exit::Unknown(e.to_string()),
            Ok(status) => {
                if let Some(code) = status.code() {
                    return Exit::Code(code);
                }
                #[cfg(unix)]
                {
                    use std::os::unix::process::ExitStatusExt;
                    if let Some(signal) = status.signal() {
                        return Exit::Signal(signal);
                    }
                }
                Exit::Unknown(status.to_string())
            }
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, Exit::Code(0))
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exited with code {code}"),
            Exit::Signal(signal) => write!(f, "killed by signal {signal}{}", signal_name(*signal)),
            Exit::Unknown(why) => write!(f, "ended ({why})"),
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        15 => " (SIGTERM)",
        _ => "",
    }
}

/// Sends `signal` to every process in the group led by `pgid` (a process we may no longer own: the
/// orphan sweep). Returns false when no such group exists.
#[cfg(unix)]
pub fn signal_group(pgid: u32, signal: nix::sys::signal::Signal) -> bool {
    let Ok(raw) = i32::try_from(pgid) else { return false };
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(raw), signal).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_used_as_given() {
        let r = resolve("./bin/x", Some(Path::new("/srv")), None).expect("resolves");
        assert_eq!(r.program, Path::new("/srv/./bin/x"));
        assert_eq!(r.via, FoundVia::Path);
    }

    #[test]
    fn a_bare_name_is_found_on_the_given_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exe = dir.path().join("sb-probe-tool");
        std::fs::write(&exe, "#!/bin/sh\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let r = resolve("sb-probe-tool", None, Some(dir.path().as_os_str())).expect("found");
        assert_eq!(r.program, exe);
        assert_eq!(r.via, FoundVia::Environment);
    }

    #[test]
    fn a_missing_command_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = resolve("sb-surely-missing-cmd", None, Some(dir.path().as_os_str()))
            .expect_err("not found");
        assert_eq!(err.code(), "command_not_found");
        assert!(err.to_string().contains("sb-surely-missing-cmd"), "{err}");
    }

    #[test]
    fn login_shell_entries_are_appended_without_duplicates() {
        let merged = merge_paths(Some(OsStr::new("/a:/b")), OsStr::new("/b:/c"));
        assert_eq!(merged, OsString::from("/a:/b:/c"));
    }
}
