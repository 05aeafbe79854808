//! A per-session server's own process for one host session. A server that cannot be shared
//! (`ServerSpec::per_session`: it keeps state per client, such as a browser or a login) gets a
//! process for each host session that uses it through the gateway, started the way the shared
//! one is (secrets filled in, found on the PATH, its own process group), recorded for the
//! orphan sweep, its stderr in the server's log under a `[pid N]` prefix, and stopped with the
//! stop ladder when the session lets go of its [`Instance`].

use std::sync::Arc;

use switchboard_core::{
    process::{ChildOptions, LineSink, ManagedChild, StderrOptions},
    spec::ServerName,
};
use switchboard_mcp::{ConnectOptions, Session};

use super::{
    Supervisor,
    server::{Context, Shared, ladder, log_sink, prepare},
};
use crate::{Error, Result};

/// One host session's process of a per-session server; dropping it stops the process.
pub struct Instance {
    session: Arc<Session>,
    pid: u32,
    name: ServerName,
    shared: Arc<Shared>,
    ctx: Arc<Context>,
    /// Last: dropped after the session, it runs the stop ladder.
    _child: ManagedChild,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").field("name", &self.name).field("pid", &self.pid).finish()
    }
}

impl Instance {
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.session.end();
        self.ctx.pids.forget_key(&key(&self.name, self.pid));
        self.shared.edit(|s| s.instances = s.instances.saturating_sub(1));
        self.shared.log.push(&switchboard_core::logs::LogLine {
            at_ms: switchboard_core::clock::millis(self.ctx.clock.now()),
            source: switchboard_core::logs::LogSource::Supervisor,
            text: format!("a host session ended: stopping its process (pid {})", self.pid),
        });
    }
}

fn key(name: &ServerName, pid: u32) -> String {
    format!("{name}#{pid}")
}

impl Supervisor {
    /// Starts a process of `name` of its own for one host session (the server must be
    /// per-session and enabled) and returns it once it answered the MCP handshake.
    pub async fn instance(&self, name: &str) -> Result<Instance> {
        let (name, spec, shared) = {
            let servers = self.lock();
            let (name, handle) = servers
                .iter()
                .find(|(n, _)| n.as_str() == name)
                .ok_or_else(|| Error::UnknownServer(name.to_owned()))?;
            (name.clone(), handle.spec.clone(), handle.shared.clone())
        };
        let failed = |reason: String| Error::StartFailed { name: name.to_string(), reason };
        if !spec.per_session {
            return Err(failed("it is shared: it has no per-session processes".into()));
        }
        if !spec.enabled {
            return Err(failed("it is disabled in Switchboard".into()));
        }
        let ctx = self.inner.ctx.clone();
        let (command, resolved) = prepare(&ctx, &name, &spec).await.map_err(failed)?;
        // Its lines go to the server's log, marked with the process they came from.
        let pid_of_sink = Arc::new(std::sync::OnceLock::new());
        let mut sink = log_sink(&ctx, shared.clone(), name.clone(), "");
        let pid_cell = pid_of_sink.clone();
        let on_stderr: LineSink = Box::new(move |text: &str| {
            sink(&format!("[pid {}] {text}", pid_cell.get().copied().unwrap_or(0)));
        });
        let options = ChildOptions {
            stderr: StderrOptions {
                max_line_bytes: ctx.config.logs.max_line_bytes,
                max_total_bytes: None,
                ring_lines: 0,
                ring_bytes: 0,
            },
            on_stderr: Some(on_stderr),
            on_drop: ladder(&ctx),
        };
        let (child, pipes) =
            ManagedChild::spawn(&command, &resolved, options).map_err(|e| failed(e.to_string()))?;
        let pid = child.pid();
        let _ = pid_of_sink.set(pid);
        ctx.pids.record_key(&key(&name, pid), pid);
        shared.edit(|s| s.instances += 1);
        // From here on, dropping `instance` undoes all of the above.
        let options = ConnectOptions { timeout: ctx.config.startup_timeout, ..Default::default() };
        let handshake = switchboard_mcp::connect(pipes.stdout, pipes.stdin, &options);
        let session = tokio::select! {
            result = handshake => result,
            exit = child.exited() => {
                ctx.pids.forget_key(&key(&name, pid));
                shared.edit(|s| s.instances = s.instances.saturating_sub(1));
                return Err(failed(format!("its process for a host session {exit} before answering the MCP handshake")));
            }
        };
        let session = match session {
            Ok(session) => Arc::new(session),
            Err(e) => {
                ctx.pids.forget_key(&key(&name, pid));
                shared.edit(|s| s.instances = s.instances.saturating_sub(1));
                return Err(failed(format!("its process for a host session: {e}")));
            }
        };
        Ok(Instance { session, pid, name, shared, ctx, _child: child })
    }
}
