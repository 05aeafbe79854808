//! Connecting AI hosts to the gateway, as the CLI's `hosts connect`/`disconnect` and the window
//! do it: the gateway's port (chosen now if no owner has chosen it yet, then kept), the host's
//! token when its entries carry one, the servers it may see, and the write itself
//! (`switchboard_hosts::connect`). Registry changes keep per-server connections in step
//! ([`follow_registry`]).

use std::sync::Arc;

use switchboard_core::{Paths, Registry, ServerName, clock::Clock, settings};
use switchboard_gateway::Tokens;
use switchboard_hosts::{Connection, Gateway, HostId, Hosts, Mode, Pickup, Plan, Reach, Written};

use crate::{Error, Result, blocking};

/// What connecting a host did (or, dry, would do).
#[derive(Debug)]
pub struct Connected {
    pub change: HostChange,
    pub mode: Mode,
    pub reach: Reach,
    /// What it takes for the host to see the change.
    pub pickup: Pickup,
}

/// A write to a host's file (or, dry, its plan), and the host's token when the entries carry it,
/// to mask wherever the diff is shown.
#[derive(Debug)]
pub struct HostChange {
    pub plan: Plan,
    pub written: Option<Written>,
    pub token: Option<String>,
}

impl HostChange {
    /// The diff with the host's token masked.
    pub fn diff(&self) -> String {
        redact(self.plan.diff(), self.token.as_deref())
    }

    /// As the window shows it (the diff masked likewise).
    pub fn to_preview(&self) -> switchboard_hosts::Preview {
        let mut preview = switchboard_hosts::Preview::of(&self.plan, self.written.clone());
        preview.diff = redact(preview.diff, self.token.as_deref());
        preview
    }
}

/// What connecting (or, dry, would connect) a host looks like to the window: the change with the
/// token masked, the mode and reach, and what the host needs to see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectPreview {
    pub preview: switchboard_hosts::Preview,
    pub mode: Mode,
    pub reach: Reach,
    pub pickup: Pickup,
}

impl Connected {
    /// As the window shows it.
    pub fn to_preview(&self) -> ConnectPreview {
        let preview = self.change.to_preview();
        ConnectPreview { preview, mode: self.mode, reach: self.reach, pickup: self.pickup }
    }
}

/// `text` with `token` replaced by a placeholder.
pub fn redact(text: String, token: Option<&str>) -> String {
    match token {
        Some(token) if !token.is_empty() => text.replace(token, "<this host's gateway token>"),
        _ => text,
    }
}

/// Points `host` at the gateway in `mode` (its default when `None`); with `dry_run`, plans only.
pub async fn connect(
    hosts: Arc<Hosts>,
    paths: &Paths,
    clock: Arc<dyn Clock>,
    host: HostId,
    mode: Option<Mode>,
    dry_run: bool,
) -> Result<Connected> {
    let paths = paths.clone();
    blocking(move || {
        let imp = switchboard_hosts::host(host);
        let mode = mode.unwrap_or_else(|| imp.default_mode());
        let reach = imp.reach();
        let port = gateway_port(&paths)?;
        let token = match reach {
            Reach::Url => Some(Tokens::new(&paths).token_for(host.id(), clock.now_ms())?),
            Reach::Command => None,
        };
        let servers = visible_servers(&paths)?;
        let gateway = Gateway { port, token: token.as_deref() };
        let (plan, written) = hosts.connect(host, mode, gateway, &servers, dry_run)?;
        let change = HostChange { plan, written, token };
        Ok::<_, Error>(Connected { change, mode, reach, pickup: imp.pickup() })
    })
    .await
}

/// Removes what connecting wrote to `host`'s file and, unless `dry_run`, revokes its token.
pub async fn disconnect(
    hosts: Arc<Hosts>,
    paths: &Paths,
    host: HostId,
    dry_run: bool,
) -> Result<HostChange> {
    let paths = paths.clone();
    blocking(move || {
        let tokens = Tokens::new(&paths);
        let token = tokens.existing(host.id())?;
        let (plan, written) = hosts.disconnect(host, dry_run)?;
        if !dry_run {
            tokens.revoke(host.id())?;
        }
        Ok::<_, Error>(HostChange { plan, written, token })
    })
    .await
}

/// What importing a user's own entry did (or, dry, would do).
#[derive(Debug)]
pub struct Imported {
    pub change: HostChange,
    /// The values moved to the secret store instead of the registry.
    pub secrets: Vec<String>,
}

/// Takes the server `name` that the user wrote into connected `host`'s file themselves into
/// Switchboard: registered (its secret-looking values to the secret store, not the registry),
/// and its entry replaced by the gateway's (per server) or removed (the aggregate entry serves
/// it). With `dry_run`, only the change to the host's file is worked out.
pub async fn import(
    hosts: Arc<Hosts>,
    paths: &Paths,
    clock: Arc<dyn Clock>,
    host: HostId,
    name: &str,
    dry_run: bool,
) -> Result<Imported> {
    let (paths, name) = (paths.clone(), name.to_owned());
    blocking(move || {
        let connection =
            hosts.connection(host)?.ok_or(switchboard_hosts::Error::NotConnected(host))?;
        let entry = hosts
            .user_entry(host, &name)?
            .ok_or_else(|| Error::NotAnEntry { host: host.to_string(), name: name.clone() })?;
        let mut spec = switchboard_hosts::import::spec_of(&entry)
            .ok_or_else(|| Error::NotAnEntry { host: host.to_string(), name: name.clone() })?;
        let server: ServerName = name.parse()?;
        let registry = Registry::new(&paths);
        if registry.load()?.contains_key(&server) {
            return Err(switchboard_core::Error::DuplicateServer(server.to_string()).into());
        }
        let imp = switchboard_hosts::host(host);
        let token = match imp.reach() {
            Reach::Url => Some(Tokens::new(&paths).token_for(host.id(), clock.now_ms())?),
            Reach::Command => None,
        };
        let port = gateway_port(&paths)?;
        let gateway = Gateway { port, token: token.as_deref() };
        let file = hosts.target_of(host, &connection.path)?;
        let action = match connection.mode {
            Mode::PerServer => switchboard_hosts::Action::Apply(hosts.gateway_entries(
                host,
                Mode::PerServer,
                gateway,
                std::slice::from_ref(&server),
            )?),
            Mode::Aggregate => switchboard_hosts::Action::Remove(Some(vec![name.clone()])),
        };
        let secrets = spec.secrets.clone();
        if dry_run {
            let plan = hosts.plan(&file, &action, true)?;
            return Ok(Imported { change: HostChange { plan, written: None, token }, secrets });
        }
        // The secrets go to the store; the registry keeps only their names.
        let store = switchboard_core::secrets::SecretStore::open(&paths);
        let values = match &mut spec.launch {
            switchboard_core::Launch::Stdio { env, .. } => env,
            switchboard_core::Launch::Remote { headers, .. } => headers,
        };
        for key in &secrets {
            if let Some(value) = values.remove(key) {
                store.set(&server, key, &value)?;
            }
        }
        registry.add(server, spec)?;
        let (plan, written) = hosts.write(&file, &action, true)?;
        Ok::<_, Error>(Imported { change: HostChange { plan, written, token }, secrets })
    })
    .await
}

/// Every connected host.
pub async fn connections(hosts: Arc<Hosts>) -> Result<Vec<Connection>> {
    blocking(move || Ok::<_, Error>(hosts.connections()?.into_values().collect())).await
}

/// Brings each host connected per server in line with the registry (an entry per enabled
/// server): called after a server is added, removed, installed or uninstalled. Returns, per
/// host it wrote to, what was written; a host that could not be written is logged and skipped.
pub async fn follow_registry(
    hosts: Arc<Hosts>,
    paths: &Paths,
    clock: Arc<dyn Clock>,
) -> Result<Vec<(HostId, Connected)>> {
    let connected = connections(hosts.clone()).await?;
    let mut wrote = Vec::new();
    for connection in connected.into_iter().filter(|c| c.mode == Mode::PerServer) {
        let Ok(host) = connection.host.parse::<HostId>() else { continue };
        let done =
            connect(hosts.clone(), paths, clock.clone(), host, Some(Mode::PerServer), false).await;
        match done {
            Ok(done) if done.change.written.is_some() => wrote.push((host, done)),
            Ok(_) => {}
            Err(e) => tracing::warn!("{host}: its per-server entries could not be updated: {e}"),
        }
    }
    Ok(wrote)
}

/// Where a server added now becomes available, and what each host needs to see it.
pub async fn availability(hosts: Arc<Hosts>) -> Result<Vec<(HostId, Pickup)>> {
    Ok(connections(hosts)
        .await?
        .into_iter()
        .filter_map(|c| {
            let host = c.host.parse::<HostId>().ok()?;
            let imp = switchboard_hosts::host(host);
            let pickup = match c.mode {
                Mode::PerServer => imp.pickup(),
                Mode::Aggregate if imp.list_changed() => Pickup::Live,
                Mode::Aggregate if imp.pickup() == Pickup::Restart => Pickup::Restart,
                Mode::Aggregate => Pickup::Refresh,
            };
            Some((host, pickup))
        })
        .collect())
}

/// Where a server added now is available, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub host: String,
    pub name: String,
    pub pickup: Pickup,
    /// What the host sees now, when that is over its limits ("92 tools (it takes 80), ~31,200
    /// tokens of definitions"): the warning an install or a change gives, with a way back.
    #[ts(optional)]
    pub over_budget: Option<String>,
}

/// [`availability`] with each host's budget: where a server just added is available, and which
/// hosts it took over their limits. `now_ms`: the time "today" is counted to.
pub async fn availability_for_window(
    paths: &Paths,
    hosts: Arc<Hosts>,
    now_ms: u64,
) -> Result<Vec<Availability>> {
    let mut each = Vec::new();
    for (host, pickup) in availability(hosts.clone()).await? {
        let over_budget =
            match crate::budget::budget(paths, Some(hosts.clone()), host, now_ms).await {
                Ok(budget) if budget.over() => Some(budget.summary()),
                Ok(_) => None,
                Err(e) => {
                    tracing::debug!("{}'s budget: {e}", host.display_name());
                    None
                }
            };
        each.push(Availability {
            host: host.id().into(),
            name: host.display_name().into(),
            pickup,
            over_budget,
        });
    }
    Ok(each)
}

/// "Cursor (refresh its MCP servers to see it), Claude Code", or `None` when no host is
/// connected.
pub fn describe_availability(available: &[(HostId, Pickup)]) -> Option<String> {
    if available.is_empty() {
        return None;
    }
    let each: Vec<String> = available
        .iter()
        .map(|(host, pickup)| match pickup {
            Pickup::Live => host.display_name().to_owned(),
            Pickup::Refresh => {
                format!("{} (refresh its MCP servers to see it)", host.display_name())
            }
            Pickup::Restart => format!("{} (restart it to see it)", host.display_name()),
        })
        .collect();
    Some(each.join(", "))
}

/// The servers a connected host gets an entry for in per-server mode: the enabled ones.
fn visible_servers(paths: &Paths) -> Result<Vec<ServerName>> {
    let servers = Registry::new(paths).load()?;
    Ok(servers.into_iter().filter(|(_, spec)| spec.enabled).map(|(name, _)| name).collect())
}

/// The gateway's port: the one the owner chose, or one chosen now (free on loopback) and kept,
/// so the owner binds it when it starts.
fn gateway_port(paths: &Paths) -> Result<u16> {
    let mut saved = settings::load(paths)?;
    if let Some(port) = saved.gateway_port {
        return Ok(port);
    }
    let probe = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map_err(|source| Error::Io {
            action: "finding a free port on",
            path: "127.0.0.1".into(),
            source,
        })?;
    saved.gateway_port = Some(probe.port());
    settings::save(paths, &saved)?;
    Ok(probe.port())
}
