//! A long-lived helper started in the background: the owner `switchboard connect` starts when
//! none runs. It gets its own process group (Unix) or a detached console-less process (Windows),
//! so it outlives whoever started it and a host that kills the bridge's group does not kill it;
//! stdin is closed and its output goes to a log file.

use std::{path::Path, process::Stdio};

use crate::{Error, Result};

/// Starts `program` with `args` in the background, its stdout and stderr appended to `log`.
/// Returns its pid. The caller does not wait for it; a thread reaps it if it exits first.
#[allow(clippy::disallowed_methods)] // this module is part of the one place that spawns
pub fn spawn_detached(program: &Path, args: &[&str], log: &Path) -> Result<u32> {
    let spawn_error =
        |source: std::io::Error| Error::Spawn { command: program.display().to_string(), source };
    if let Some(dir) = log.parent() {
        crate::owner_only::create_dir(dir).map_err(spawn_error)?;
    }
    let out = crate::owner_only::append(log).map_err(spawn_error)?;
    let err = out.try_clone().map_err(spawn_error)?;
    let mut command = std::process::Command::new(program);
    command.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const DETACHED_PROCESS: u32 = 0x0000_0008;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        command.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
    }
    let mut child = command.spawn().map_err(spawn_error)?;
    let pid = child.id();
    // Reap it if it ends while we still run (no zombie); if we end first, init adopts it.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(pid)
}
