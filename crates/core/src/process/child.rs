//! [`ManagedChild`]: a started command with everything its owner needs until it is gone. One task
//! owns the OS child: it waits for the leader, passes on signals meanwhile, kills whatever is left
//! of the group (or job) once the leader is gone, and publishes the exit on a watch any number of
//! parties can await. Another task drains stderr into a bounded ring (and, if asked, hands each
//! line on). Dropping the handle while the child runs starts the stop ladder in the background.

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use process_wrap::tokio::{ChildWrapper, CommandWrap};
use tokio::{
    io::BufReader,
    process::{ChildStderr, ChildStdin, ChildStdout},
    sync::{mpsc, watch},
};

use super::{CommandSpec, Exit, Resolved};
use crate::{
    Error, Result,
    logs::{LineRing, ReadBounds, read_lines_within},
};

/// Called with each stderr line as it is read.
pub type LineSink = Box<dyn FnMut(&str) + Send>;

/// How a child's stderr is read and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StderrOptions {
    /// Longer lines are cut (and marked) at this many bytes.
    pub max_line_bytes: usize,
    /// Past this many bytes the rest is read and dropped (a one-shot command's output); `None`
    /// reads lines for as long as the child writes them (a server's log).
    pub max_total_bytes: Option<u64>,
    /// The ring ([`ManagedChild::stderr_tail`]) keeps at most this many of the newest lines…
    pub ring_lines: usize,
    /// …and at most this many bytes of them.
    pub ring_bytes: usize,
}

impl Default for StderrOptions {
    fn default() -> Self {
        StderrOptions {
            max_line_bytes: 16 * 1024,
            max_total_bytes: None,
            ring_lines: 200,
            ring_bytes: 256 * 1024,
        }
    }
}

/// How long each rung of the stop ladder waits for the leader to exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopLadder {
    /// After stdin is closed, before SIGTERM (Windows: before the job is terminated).
    pub after_stdin_close: Duration,
    /// After SIGTERM, before SIGKILL.
    pub after_terminate: Duration,
    /// After SIGKILL, before giving up on learning the exit.
    pub after_kill: Duration,
}

impl Default for StopLadder {
    fn default() -> Self {
        StopLadder {
            after_stdin_close: Duration::from_secs(3),
            after_terminate: Duration::from_secs(5),
            after_kill: Duration::from_secs(10),
        }
    }
}

/// A rung of the ladder about to be climbed, for the owner's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopStep {
    /// Still running `waited` after stdin closed: SIGTERM to the group (Windows: the job ends).
    Terminate { waited: Duration },
    /// Still running `waited` after SIGTERM: SIGKILL to the group.
    Kill { waited: Duration },
}

/// How [`ManagedChild::spawn`] runs a child.
#[derive(Default)]
pub struct ChildOptions {
    pub stderr: StderrOptions,
    /// Each stderr line, as it is read, before the ring keeps it (the supervisor's log).
    pub on_stderr: Option<LineSink>,
    /// The ladder climbed in the background when the handle is dropped while the child runs.
    pub on_drop: StopLadder,
}

impl std::fmt::Debug for ChildOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildOptions")
            .field("stderr", &self.stderr)
            .field("on_stderr", &self.on_stderr.is_some())
            .field("on_drop", &self.on_drop)
            .finish()
    }
}

/// The child's stdin and stdout, for its owner to speak through (an MCP session) or to read. Its
/// stderr is the [`ManagedChild`]'s.
#[derive(Debug)]
pub struct Pipes {
    pub stdin: ChildStdin,
    pub stdout: ChildStdout,
}

enum Control {
    Terminate,
    Kill,
}

/// A running (or finished) child process and its group. See the module docs.
pub struct ManagedChild {
    pid: u32,
    control: mpsc::UnboundedSender<Control>,
    exit: watch::Receiver<Option<Exit>>,
    stderr: Arc<Mutex<LineRing<String>>>,
    drained: watch::Receiver<bool>,
}

impl std::fmt::Debug for ManagedChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedChild")
            .field("pid", &self.pid)
            .field("exit", &*self.exit.borrow())
            .finish_non_exhaustive()
    }
}

impl ManagedChild {
    /// Starts `spec` as `resolved` with piped stdio, in a new process group (Unix) or job object
    /// (Windows). Must be called inside a Tokio runtime.
    pub fn spawn(
        spec: &CommandSpec,
        resolved: &Resolved,
        options: ChildOptions,
    ) -> Result<(ManagedChild, Pipes)> {
        let (child, pid, stdin, stdout, stderr) = start(spec, resolved)?;

        let ring = Arc::new(Mutex::new(LineRing::new(
            options.stderr.ring_lines,
            options.stderr.ring_bytes,
        )));
        let (drained_tx, drained) = watch::channel(false);
        let bounds = ReadBounds {
            max_line_bytes: options.stderr.max_line_bytes,
            max_total_bytes: options.stderr.max_total_bytes,
        };
        let mut on_stderr = options.on_stderr;
        let kept = ring.clone();
        tokio::spawn(async move {
            read_lines_within(BufReader::new(stderr), bounds, |line| {
                if let Some(sink) = on_stderr.as_mut() {
                    sink(&line);
                }
                kept.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            })
            .await;
            drained_tx.send_replace(true);
        });

        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (exit_tx, exit) = watch::channel(None);
        tokio::spawn(own(child, control_rx, exit_tx, options.on_drop));

        let managed = ManagedChild { pid, control: control_tx, exit, stderr: ring, drained };
        Ok((managed, Pipes { stdin, stdout }))
    }

    /// The leader's pid, which is also its process group's id (Unix).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit, once the leader has exited and the rest of its group has been sent SIGKILL.
    pub fn exit(&self) -> Option<Exit> {
        self.exit.borrow().clone()
    }

    /// A watch of the exit for another party to await.
    pub fn exit_watch(&self) -> watch::Receiver<Option<Exit>> {
        self.exit.clone()
    }

    /// Waits for the exit. Cancel-safe.
    pub async fn exited(&self) -> Exit {
        let mut exit = self.exit.clone();
        match exit.wait_for(Option::is_some).await {
            Ok(exit) => exit.clone().unwrap_or_else(|| Exit::Unknown("waiter ended".into())),
            // The owning task is gone without a word: only when the runtime shuts down.
            Err(_) => Exit::Unknown("waiter ended".into()),
        }
    }

    /// Waits at most `within` for the exit.
    pub async fn exited_within(&self, within: Duration) -> Option<Exit> {
        tokio::time::timeout(within, self.exited()).await.ok()
    }

    /// SIGTERM to the whole group (Windows: the job is terminated). Ignored once it has exited.
    pub fn terminate(&self) {
        let _ = self.control.send(Control::Terminate);
    }

    /// SIGKILL to the whole group (Windows: the job is terminated). Ignored once it has exited.
    pub fn kill(&self) {
        let _ = self.control.send(Control::Kill);
    }

    /// The stop ladder: waits for the exit after stdin closed, then SIGTERM and wait, then SIGKILL
    /// and wait. `on_step` hears each signal before it is sent. `None` when even SIGKILL did not
    /// end it within `ladder.after_kill`.
    ///
    /// Closing stdin, the first rung, is the owner's: drop [`Pipes::stdin`] (or close the session
    /// that holds it) before calling this.
    pub async fn stop(
        &self,
        ladder: StopLadder,
        mut on_step: impl FnMut(StopStep),
    ) -> Option<Exit> {
        if let Some(exit) = self.exited_within(ladder.after_stdin_close).await {
            return Some(exit);
        }
        on_step(StopStep::Terminate { waited: ladder.after_stdin_close });
        self.terminate();
        if let Some(exit) = self.exited_within(ladder.after_terminate).await {
            return Some(exit);
        }
        on_step(StopStep::Kill { waited: ladder.after_terminate });
        self.kill();
        self.exited_within(ladder.after_kill).await
    }

    /// The last `lines` lines of the ring, oldest first.
    pub fn stderr_tail(&self, lines: usize) -> Vec<String> {
        let ring = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        let skip = ring.len().saturating_sub(lines);
        ring.iter().skip(skip).cloned().collect()
    }

    /// Waits at most `within` for stderr to reach its end (every holder of the pipe is gone), so
    /// that the last lines are in the ring. Cancel-safe.
    pub async fn stderr_drained(&self, within: Duration) {
        let mut drained = self.drained.clone();
        let _ = tokio::time::timeout(within, drained.wait_for(|done| *done)).await;
    }
}

/// The task that owns the OS child until the leader has exited.
async fn own(
    mut child: Box<dyn ChildWrapper>,
    mut control: mpsc::UnboundedReceiver<Control>,
    exit: watch::Sender<Option<Exit>>,
    on_drop: StopLadder,
) {
    let status = loop {
        let next = tokio::select! {
            status = child.wait() => break status,
            next = control.recv() => next,
        };
        match next {
            Some(Control::Terminate) => terminate(child.as_mut()),
            Some(Control::Kill) => kill(child.as_mut()),
            // The handle is gone (its stdin with it, unless the owner holds it elsewhere).
            None => break abandoned(child.as_mut(), on_drop).await,
        }
    };
    // The leader is gone; end the rest of its group. ESRCH (nothing left) is the usual case.
    let _ = child.start_kill();
    exit.send_replace(Some(Exit::from_status(status)));
}

/// The stop ladder for a child nobody holds any more; it waits for the exit after SIGKILL, so the
/// leader is always reaped.
async fn abandoned(
    child: &mut dyn ChildWrapper,
    ladder: StopLadder,
) -> std::io::Result<std::process::ExitStatus> {
    if let Ok(status) = tokio::time::timeout(ladder.after_stdin_close, child.wait()).await {
        return status;
    }
    terminate(child);
    if let Ok(status) = tokio::time::timeout(ladder.after_terminate, child.wait()).await {
        return status;
    }
    kill(child);
    child.wait().await
}

#[cfg(unix)]
fn terminate(child: &mut dyn ChildWrapper) {
    if let Err(e) = child.signal(nix::sys::signal::Signal::SIGTERM as i32) {
        tracing::debug!("SIGTERM: {e}");
    }
}

/// A job object has no gentle signal: terminating it is all there is.
#[cfg(not(unix))]
fn terminate(child: &mut dyn ChildWrapper) {
    kill(child);
}

/// SIGKILL to the group (Unix); the job is terminated (Windows).
fn kill(child: &mut dyn ChildWrapper) {
    if let Err(e) = child.start_kill() {
        tracing::debug!("SIGKILL: {e}");
    }
}

type Started = (Box<dyn ChildWrapper>, u32, ChildStdin, ChildStdout, ChildStderr);

/// Builds and starts the OS process: piped stdio, its own group or job, killed if the handle is
/// dropped.
fn start(spec: &CommandSpec, resolved: &Resolved) -> Result<Started> {
    let program = &resolved.program;
    let describe = || program.display().to_string();
    #[allow(clippy::disallowed_methods)] // this module is the one place allowed to build commands
    let mut inner = tokio::process::Command::new(program);
    inner.args(&spec.args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let super::Inherit::Only(vars) = &spec.inherit {
        inner.env_clear();
        inner.envs(vars);
    }
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
    Ok((child, pid, stdin, stdout, stderr))
}
