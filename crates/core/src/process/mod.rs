//! The one place that starts processes: argv only (never a shell), each in its own process group
//! (Unix) or job object (Windows), with a command resolved on PATH or the login shell's PATH
//! ([`resolve`]). Every child runs as a [`ManagedChild`]: its stderr drained into a bounded ring,
//! its exit watched by whoever needs it, and the one stop ladder (close stdin, wait, SIGTERM the
//! group, wait, SIGKILL). The supervisor, the tester and one-shot commands ([`run_to_end`]) all use
//! it.
//!
//! `clippy.toml` forbids `Command::new` everywhere else.

mod child;
mod detached;
mod exit;
mod resolve;
mod run;

use std::{collections::BTreeMap, ffi::OsString, path::PathBuf};

pub use child::{ChildOptions, LineSink, ManagedChild, Pipes, StderrOptions, StopLadder, StopStep};
pub use detached::spawn_detached;
pub use exit::Exit;
pub use resolve::{FoundVia, Resolved, Search, login_shell_path, resolve};
pub use run::{Finished, OutputLimits, run_to_end, run_to_end_within};

/// What to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandSpec {
    pub program: String,
    pub args: Vec<String>,
    /// Added to (and overriding) the inherited environment.
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
    /// What the child gets of this process's environment before `env`.
    pub inherit: Inherit,
}

/// What a child inherits of this process's environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Inherit {
    /// All of it: Switchboard's own tools (package managers at install, the login shell), which
    /// may need the user's configuration (a registry token, proxies).
    #[default]
    All,
    /// These variables and nothing else: an MCP server (`Env::server_inherit`,
    /// [`crate::env::SERVER_VARS`]).
    Only(BTreeMap<String, OsString>),
}

/// Sends `signal` to every process in the group led by `pgid` (a process we may no longer own: the
/// orphan sweep). Returns false when no such group exists.
#[cfg(unix)]
pub fn signal_group(pgid: u32, signal: nix::sys::signal::Signal) -> bool {
    let Ok(raw) = i32::try_from(pgid) else { return false };
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(raw), signal).is_ok()
}
