//! Connecting a host to Switchboard's gateway: the entries that point the host at the gateway
//! instead of at each server's own command, written through the same lossless writers (diff,
//! backup, journal, undo), and the record of which hosts are connected and how.
//!
//! - **How a host reaches the gateway** ([`Reach`]): its URL with the host's own token in a
//!   header, for hosts that read Streamable HTTP URLs and headers from a file no one shares; or
//!   `<switchboard> connect --host HOST` (the stdio bridge, which reads the token itself), for
//!   hosts that only run commands or whose file is commonly synced or committed.
//! - **Modes** ([`Mode`]): one `switchboard` entry for the aggregate endpoint (servers come and
//!   go live through `list_changed`), or one entry per server (the host's own UI lists and
//!   toggles each; Switchboard adds and removes them as servers are installed and removed).
//!
//! Connecting makes the host's entries of ours exactly the gateway's (`Action::Sync`): entries an
//! earlier version wrote with the server's own command are replaced in place, the user's own
//! entries are left alone. No server's secret is in any of them. Disconnecting removes what
//! connecting wrote, byte for byte. Per-host and per-mode choices are explained in
//! `docs/hosts.md`.

use std::collections::BTreeMap;

use switchboard_core::{
    ServerName, ServerSpec,
    spec::{Launch, RemoteTransport},
};

use crate::{
    AGGREGATE_ENTRY, Action, ConfigFile, Connection, Error, HostId, Hosts, Mode, Plan, Reach,
    Result, Written, connections, host, store::Store,
};

/// Where the gateway listens and, for hosts reached by URL, the host's token.
#[derive(Debug, Clone, Copy)]
pub struct Gateway<'a> {
    pub port: u16,
    /// Required for [`Reach::Url`]; the bridge reads its own.
    pub token: Option<&'a str>,
}

impl Hosts {
    /// The entries `host` gets in `mode` for `servers` (the ones it may see), as registry-like
    /// specs the writers shape for the host.
    pub fn gateway_entries(
        &self,
        host: HostId,
        mode: Mode,
        gateway: Gateway<'_>,
        servers: &[ServerName],
    ) -> Result<Vec<(ServerName, ServerSpec)>> {
        let names: Vec<Option<&ServerName>> = match mode {
            Mode::Aggregate => vec![None],
            Mode::PerServer => servers.iter().map(Some).collect(),
        };
        let aggregate: ServerName =
            AGGREGATE_ENTRY.parse().map_err(|_| Error::UnknownMode(AGGREGATE_ENTRY.into()))?;
        names
            .into_iter()
            .map(|server| {
                let name = server.cloned().unwrap_or_else(|| aggregate.clone());
                let spec = match host::host(host).reach() {
                    Reach::Url => {
                        let token = gateway.token.ok_or(Error::NoGatewayToken(host))?;
                        let path = server.map_or_else(String::new, |s| format!("/{s}"));
                        let mut spec = ServerSpec::remote(
                            format!("http://127.0.0.1:{}/mcp{path}", gateway.port),
                            RemoteTransport::StreamableHttp,
                        );
                        if let Launch::Remote { headers, .. } = &mut spec.launch {
                            headers.insert("Authorization".into(), format!("Bearer {token}"));
                        }
                        spec
                    }
                    Reach::Command => {
                        let bridge = self.bridge.as_ref().ok_or(Error::NoBridge(host))?;
                        let mut args = vec!["connect".into(), "--host".into(), host.id().into()];
                        if let Some(server) = server {
                            args.extend(["--server".into(), server.to_string()]);
                        }
                        ServerSpec::stdio(bridge.program.to_string_lossy(), args)
                    }
                };
                Ok((name, spec))
            })
            .collect()
    }

    /// Points `host`'s user file at the gateway: our entries there become exactly the
    /// gateway's for `servers`, written (unless `dry_run`) and recorded as connected.
    pub fn connect(
        &self,
        host: HostId,
        mode: Mode,
        gateway: Gateway<'_>,
        servers: &[ServerName],
        dry_run: bool,
    ) -> Result<(Plan, Option<Written>)> {
        let file = self.target(host, None)?;
        let action = Action::Sync(self.gateway_entries(host, mode, gateway, servers)?);
        if dry_run {
            return Ok((self.plan(&file, &action, false)?, None));
        }
        let (plan, written) = self.write(&file, &action, false)?;
        if gateway.token.is_some() {
            // The file now holds a credential: only its owner may read it.
            owner_only(&file.path);
        }
        let connection = Connection {
            host: host.id().into(),
            mode,
            reach: host::host(host).reach(),
            path: file.path.clone(),
            connected_ms: self.clock.now_ms(),
        };
        connections::record(&self.state_dir, host, Some(connection))?;
        Ok((plan, written))
    }

    /// Removes what connecting wrote to `host`'s file (all our entries there) and forgets the
    /// connection. Not connected: [`Error::NotConnected`].
    pub fn disconnect(&self, host: HostId, dry_run: bool) -> Result<(Plan, Option<Written>)> {
        let connection = self.connection(host)?.ok_or(Error::NotConnected(host))?;
        let file = self.connected_file(host, &connection)?;
        let action = Action::Remove(None);
        if dry_run {
            return Ok((self.plan(&file, &action, false)?, None));
        }
        let done = self.write(&file, &action, false)?;
        connections::record(&self.state_dir, host, None)?;
        Ok(done)
    }

    /// Every connected host, by id.
    pub fn connections(&self) -> Result<BTreeMap<String, Connection>> {
        let _store = Store::open(&self.state_dir)?;
        Ok(connections::read(&self.state_dir)?.hosts)
    }

    /// `host`'s connection, if it is connected.
    pub fn connection(&self, host: HostId) -> Result<Option<Connection>> {
        Ok(self.connections()?.remove(host.id()))
    }

    /// The file a connection's entries are in.
    fn connected_file(&self, host: HostId, connection: &Connection) -> Result<ConfigFile> {
        self.target_of(host, &connection.path)
    }
}

/// Takes group and other permissions off `path` (the file a symlink points at, if one does).
fn owner_only(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0
                && let Err(e) =
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & !0o077))
            {
                tracing::warn!("cannot make {} owner-only: {e}", path.display());
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
