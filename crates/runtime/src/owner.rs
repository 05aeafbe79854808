//! The one process that owns running servers (the app or `switchboard serve`). It holds an
//! exclusive lock on `run/owner.lock` for its whole life (released by the OS even on SIGKILL),
//! ends servers a crashed predecessor left behind, runs the supervisor and serves the control
//! endpoint, whose address and token it publishes in `run/owner.json` (owner-only permissions).

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

pub use crate::control::{OwnerInfo, owner_running};
use crate::{
    Error, Result, control,
    events::EventBus,
    supervisor::{Supervisor, SupervisorConfig, Swept, sweep_orphans},
};
use switchboard_core::{
    Env,
    clock::{Clock, SystemClock, millis},
    fsutil::{FileLock, restrict_to_owner, write_atomic},
    paths::Paths,
    registry::Registry,
};

/// A running owner. Dropping it without [`Owner::shutdown`] still kills the children (their
/// handles kill on drop), but not gracefully.
pub struct Owner {
    clock: Arc<dyn Clock>,
    env: Env,
    paths: Paths,
    registry: Registry,
    supervisor: Supervisor,
    info: OwnerInfo,
    swept: Vec<Swept>,
    cancel: CancellationToken,
    /// Cancelled when a client asks the owner to quit (`POST /v1/quit`).
    quit: CancellationToken,
    control: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    _lock: FileLock,
}

impl std::fmt::Debug for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Owner").field("info", &self.info).finish_non_exhaustive()
    }
}

impl Owner {
    /// Becomes the owner of `paths` or explains who already is. Reads the registry (a corrupt
    /// one is an error: the owner refuses to start rather than guess), sweeps orphans, and serves
    /// the control endpoint. Does not start any server: see [`Supervisor::start_enabled`].
    /// With the system clock and this process's environment (what the binaries and most tests
    /// want; see [`Owner::start_with`]).
    pub async fn start(paths: Paths, config: SupervisorConfig, kind: &str) -> Result<Owner> {
        Self::start_with(paths, config, kind, Arc::new(SystemClock), Env::from_process()).await
    }

    /// With the clock and environment the operations over this owner use.
    pub async fn start_with(
        paths: Paths,
        config: SupervisorConfig,
        kind: &str,
        clock: Arc<dyn Clock>,
        env: Env,
    ) -> Result<Owner> {
        paths.ensure()?;
        let lock_path = paths.owner_lock();
        let lock = FileLock::try_exclusive(&lock_path)
            .map_err(Error::io("locking", &lock_path))?
            .ok_or_else(|| Error::AlreadyOwned {
            state_dir: paths.run_dir.clone(),
            pid: OwnerInfo::read(&paths).map_or_else(|| "unknown".into(), |i| i.pid.to_string()),
        })?;
        let registry = Registry::new(&paths);
        let servers = registry.load()?;
        let children = paths.children_file();
        let swept =
            tokio::task::spawn_blocking(move || sweep_orphans(&children)).await.unwrap_or_default();

        let supervisor =
            Supervisor::new(paths.clone(), env.clone(), config, clock.clone(), EventBus::default());
        supervisor.sync(&servers).await;

        let token = control::new_token();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| Error::Control(format!("cannot listen on 127.0.0.1: {e}")))?;
        let port = listener.local_addr().map_err(|e| Error::Control(e.to_string()))?.port();
        let cancel = CancellationToken::new();
        let quit = CancellationToken::new();
        let state = control::ControlState {
            supervisor: supervisor.clone(),
            registry: registry.clone(),
            token: token.clone(),
            port,
            cancel: cancel.clone(),
            quit: quit.clone(),
            traffic: control::LatestTraffic::follow(supervisor.events(), cancel.clone()),
        };
        let control = tokio::spawn(control::serve(listener, state));
        let info = OwnerInfo {
            pid: std::process::id(),
            kind: kind.to_owned(),
            port,
            token,
            started_ms: millis(clock.now()),
        };
        let owner_file = paths.owner_file();
        let bytes = serde_json::to_vec_pretty(&info).map_err(|e| Error::Control(e.to_string()))?;
        write_atomic(&owner_file, &bytes).map_err(Error::io("writing", &owner_file))?;
        restrict_to_owner(&owner_file).map_err(Error::io("securing", &owner_file))?;
        Ok(Owner {
            clock,
            env,
            paths,
            registry,
            supervisor,
            info,
            swept,
            cancel,
            quit,
            control: std::sync::Mutex::new(Some(control)),
            _lock: lock,
        })
    }

    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn info(&self) -> &OwnerInfo {
        &self.info
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The environment the owner was started in (PATH for installs, the registry URL).
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// Process groups a crashed predecessor left behind, ended at start-up.
    pub fn swept(&self) -> &[Swept] {
        &self.swept
    }

    /// Re-reads the registry and applies it to the supervisor.
    pub async fn reload(&self) -> Result<()> {
        control::reload(&self.registry, &self.supervisor).await
    }

    /// Resolves when a client (`switchboard shutdown`, an app quitting an owner it started) has
    /// asked this owner to quit. What quitting means is the process's to do: `serve` and the app
    /// end, calling [`Owner::shutdown`].
    pub async fn quit_requested(&self) {
        self.quit.cancelled().await;
    }

    /// Stops serving the control endpoint and stops every server gracefully. Ownership (the
    /// lock) ends when the `Owner` is dropped. Calling it again does nothing more.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        let control = self.control.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(control) = control {
            let _ = tokio::time::timeout(Duration::from_secs(2), control).await;
        }
        self.supervisor.shutdown().await;
        let _ = std::fs::remove_file(self.paths.owner_file());
    }
}
