//! The operations that need no running owner, as methods of a [`Context`]: the CLI calls them
//! with a context of its own (then tells a running owner to reload), the app's commands with the
//! owner's ([`Context::of`]) and then start what changed. Blocking file I/O runs off the async
//! runtime.

use std::{sync::Arc, time::Duration};

use serde::Serialize;
use switchboard_catalog::{self as catalog, Card, Catalog, Query, ServerJson};
use switchboard_core::{Env, Paths, Registry, ServerName, ServerSpec, clock::Clock, settings};
use switchboard_install::{
    InstallRecord, Installed, Installer, Plan, PreparedUpdate, Progress, Request,
};
use switchboard_runtime::{
    EventBus, Owner,
    pins::{Pins, ToolDiff},
};

use crate::{Removed, Result, blocking, remove_entry};

/// What an operation works on: the state folders, the environment the binary read at its edge,
/// the clock, and the event stream install progress is published on (the owner's, if any).
#[derive(Debug, Clone)]
pub struct Context {
    pub paths: Paths,
    pub env: Env,
    pub clock: Arc<dyn Clock>,
    pub events: Option<EventBus>,
}

/// What approving a server's tools did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Approval {
    /// Nothing was pinned (added by hand): its current tools are pinned now.
    Pinned { tools: usize },
    /// Its changed tools are the approved ones now.
    Approved { diff: ToolDiff },
}

/// An installed server's record and the catalog's latest version of its entry.
#[derive(Debug, Clone)]
pub struct UpdateCheck {
    pub record: InstallRecord,
    pub latest: ServerJson,
}

impl UpdateCheck {
    pub fn is_current(&self) -> bool {
        self.latest.version == self.record.version
    }
}

impl Context {
    /// For a process that is not the owner: the system clock, no event stream.
    pub fn new(paths: Paths, env: Env, clock: Arc<dyn Clock>) -> Self {
        Context { paths, env, clock, events: None }
    }

    /// The owner's folders, environment, clock and event stream.
    pub fn of(owner: &Owner) -> Self {
        Context {
            paths: owner.paths().clone(),
            env: owner.env().clone(),
            clock: owner.clock().clone(),
            events: Some(owner.supervisor().events().clone()),
        }
    }

    /// An installer over these folders, finding runtimes through the environment.
    pub fn installer(&self) -> Installer {
        let mut installer = Installer::new(&self.paths, &self.env);
        installer.clock = self.clock.clone();
        installer
    }

    /// Registers a server (an owner runs it once it reloads).
    pub async fn add_server(&self, name: &str, spec: ServerSpec) -> Result<()> {
        let name: ServerName = name.parse()?;
        let registry = Registry::new(&self.paths);
        blocking(move || registry.add(name, spec)).await?;
        self.follow_connections().await;
        Ok(())
    }

    /// Replaces a server's definition.
    pub async fn update_server(&self, name: &str, spec: ServerSpec) -> Result<()> {
        let name: ServerName = name.parse()?;
        let registry = Registry::new(&self.paths);
        blocking(move || registry.replace(&name, spec)).await?;
        self.follow_connections().await;
        Ok(())
    }

    /// Unregisters a server; one installed from the catalog is uninstalled, so its package,
    /// secrets and pins do not linger (an owner stops it once it reloads).
    pub async fn remove_server(&self, name: &str) -> Result<Removed> {
        let name: ServerName = name.parse()?;
        let paths = self.paths.clone();
        let removed = blocking(move || remove_entry(&paths, &name)).await?;
        self.follow_connections().await;
        Ok(removed)
    }

    /// Hosts connected per server get an entry for each enabled server, and lose the entries
    /// of servers gone or disabled (`connect::follow_registry`). A host that cannot be written
    /// is logged; the registry change stands. Returns the hosts written to, with what it takes
    /// each to see the change.
    pub async fn follow_connections(
        &self,
    ) -> Vec<(switchboard_hosts::HostId, switchboard_hosts::Pickup)> {
        let Some(hosts) = crate::host_files::hosts(&self.paths, &self.env) else {
            return Vec::new();
        };
        match crate::connect::follow_registry(hosts, &self.paths, self.clock.clone()).await {
            Ok(wrote) => wrote.into_iter().map(|(host, done)| (host, done.pickup)).collect(),
            Err(e) => {
                tracing::warn!("the connected hosts could not be brought in line: {e}");
                Vec::new()
            }
        }
    }

    /// The catalog: bundled entries plus the last refresh (works offline).
    pub async fn catalog(&self) -> Result<Catalog> {
        let paths = self.paths.clone();
        blocking(move || Catalog::load(&paths.data_dir)).await
    }

    /// The catalog's cards matching `query`.
    pub async fn catalog_search(&self, query: Query) -> Result<Vec<Card>> {
        Ok(self.catalog().await?.search(&query))
    }

    /// Refreshes the catalog from `registry`, else the configured one (see `catalog::refresh`).
    pub async fn catalog_refresh(&self, registry: Option<String>) -> Result<catalog::CacheInfo> {
        Ok(catalog::refresh(&self.paths, &self.env, self.clock.as_ref(), registry).await?)
    }

    /// A catalog entry by full name, short name or title; `version` asks the registry for an
    /// exact version when the catalog has another.
    pub async fn lookup(&self, entry: &str, version: Option<&str>) -> Result<ServerJson> {
        Ok(catalog::lookup(&self.paths, &self.env, entry, version).await?)
    }

    /// The name `request` would be installed as, and what would run: shown before it does.
    pub fn install_plan(&self, request: &Request) -> Result<(ServerName, Plan)> {
        let installer = self.installer();
        Ok((installer.name_for(request)?, installer.plan(request)?))
    }

    /// Installs `request` (fetch, verify, register; undone on failure), reporting each step to
    /// `progress` and on the event stream. Nothing is started.
    pub async fn install(
        &self,
        request: Request,
        verify_timeout: Option<Duration>,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Installed> {
        let mut installer = self.installer();
        if let Some(timeout) = verify_timeout {
            installer.verify_timeout = timeout;
        }
        let paths = self.paths.clone();
        installer.lazy = blocking(move || settings::load(&paths)).await?.lazy_installs;
        let events = self.events.clone();
        let report = move |p: Progress| {
            if let Some(events) = &events {
                events.send(switchboard_runtime::Event::InstallProgress { progress: p.clone() });
            }
            progress(p);
        };
        let installed = installer.install(request, &report).await?;
        self.follow_connections().await;
        Ok(installed)
    }

    /// Uninstalls a server: everything its install created goes (the owner stops it when it
    /// reloads). Returns what was removed.
    pub async fn uninstall(&self, name: &str) -> Result<Vec<String>> {
        let mut installer = Installer::without_runtimes(&self.paths);
        installer.clock = self.clock.clone();
        let owned = name.to_owned();
        let removed = blocking(move || installer.uninstall(&owned)).await?;
        self.follow_connections().await;
        Ok(removed)
    }

    /// `name`'s install record and the catalog's latest version of its entry.
    pub async fn update_check(&self, name: &str) -> Result<UpdateCheck> {
        let server: ServerName = name.parse()?;
        let installer = self.installer();
        let record = blocking(move || installer.record(&server))
            .await?
            .ok_or_else(|| switchboard_install::Error::NotInstalled(name.to_owned()))?;
        let latest = self.lookup(&record.entry, None).await?;
        Ok(UpdateCheck { record, latest })
    }

    /// Fetches and verifies the new version beside the old one; nothing changes until
    /// [`Context::finish_update`].
    pub async fn prepare_update(
        &self,
        name: &str,
        latest: ServerJson,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<PreparedUpdate> {
        Ok(self.installer().prepare_update(name, latest, progress).await?)
    }

    /// Switches to the prepared version (all or nothing).
    pub async fn finish_update(&self, prepared: PreparedUpdate) -> Result<()> {
        let installer = self.installer();
        blocking(move || installer.finish_update(prepared)).await
    }

    /// Drops a prepared update; the installed version stays.
    pub fn discard_update(&self, prepared: PreparedUpdate) {
        self.installer().discard_update(prepared);
    }

    /// How a server's tools differ from the approved ones (`None`: they do not).
    pub async fn pins_diff(&self, name: &str) -> Result<Option<ToolDiff>> {
        let name: ServerName = name.parse()?;
        let pins = Pins::new(&self.paths.data_dir);
        blocking(move || pins.pending_diff(&name)).await
    }

    /// Approves a server's changed tools so it may start again; a server with nothing pinned
    /// (added by hand) gets the tools it offers now pinned.
    pub async fn approve_tools(&self, name: &str) -> Result<Approval> {
        let server: ServerName = name.parse()?;
        let pins = Pins::new(&self.paths.data_dir);
        let (loaded, key) = (pins.clone(), server.clone());
        if blocking(move || loaded.load(&key)).await?.is_none() {
            let tools = switchboard_runtime::pins::pin_current(
                &self.paths,
                &self.env,
                self.clock.as_ref(),
                &server,
            )
            .await?;
            return Ok(Approval::Pinned { tools: tools.len() });
        }
        let now = self.clock.now_ms();
        let diff = blocking(move || pins.approve_pending(&server, now)).await?;
        Ok(Approval::Approved { diff })
    }
}
