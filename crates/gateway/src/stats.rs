//! What `gateway status` shows: per host and endpoint, the sessions open and the requests made
//! (a 2026-07-28 client has no session: it shows while it made a request in the last
//! [`RECENT_MS`]); and per server, how many calls went through, how many failed, and which hosts
//! are connected.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use serde::{Deserialize, Serialize};

/// How long a host without an open session still counts as connected after its last request.
pub const RECENT_MS: u64 = 10 * 60 * 1000;

/// A host on one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub host: String,
    /// The server of `/mcp/<server>`; `None` for the aggregate `/mcp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Stateful sessions open now (0 for a stateless client between requests).
    pub open: u32,
    pub since_ms: u64,
    pub last_ms: u64,
    pub calls: u64,
    pub errors: u64,
}

/// One server's traffic through the gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTraffic {
    pub name: String,
    /// Hosts connected that reached it.
    pub hosts: Vec<String>,
    pub calls: u64,
    pub errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    calls: u64,
    errors: u64,
    /// Host → the time of its latest request here.
    hosts: BTreeMap<String, u64>,
    /// Requests forwarded and not answered yet.
    in_flight: u32,
    /// When the latest request began or ended.
    last_ms: u64,
}

/// Whether a server has had requests lately: what decides that a lazy server may be stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quiet {
    /// A request is in flight.
    Busy,
    /// Nothing in flight; the latest request began or ended then.
    Since(u64),
    /// No request ever reached it through the gateway.
    Never,
}

/// A request in flight to a server; dropping it (answered, failed or abandoned) ends it.
#[derive(Debug)]
pub struct InFlight {
    stats: Arc<Stats>,
    server: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = self.stats.clock_ms.load(std::sync::atomic::Ordering::Relaxed);
        let mut tables = self.stats.tables();
        if let Some(counters) = tables.servers.get_mut(&self.server) {
            counters.in_flight = counters.in_flight.saturating_sub(1);
            counters.last_ms = counters.last_ms.max(now);
        }
    }
}

type Key = (String, Option<String>);

#[derive(Debug, Default)]
struct Tables {
    connections: BTreeMap<Key, SessionInfo>,
    servers: BTreeMap<String, Counters>,
}

/// The live tables, shared by every session.
#[derive(Debug, Default)]
pub struct Stats {
    tables: Mutex<Tables>,
    /// The latest time any request began or was recorded: what an [`InFlight`] ending is dated
    /// with (it has no clock of its own).
    clock_ms: std::sync::atomic::AtomicU64,
}

/// A session's hold on its (host, endpoint) entry; dropping it closes the session.
#[derive(Debug)]
pub struct SessionSlot {
    stats: Arc<Stats>,
    key: Key,
}

impl Stats {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A session of `host` on `server`'s endpoint (or the aggregate) opens.
    pub fn open(self: &Arc<Self>, host: &str, server: Option<&str>, now_ms: u64) -> SessionSlot {
        let key = (host.to_owned(), server.map(str::to_owned));
        let mut tables = self.tables();
        let entry = tables.connections.entry(key.clone()).or_insert_with(|| SessionInfo {
            host: host.to_owned(),
            server: server.map(str::to_owned),
            open: 0,
            since_ms: now_ms,
            last_ms: now_ms,
            calls: 0,
            errors: 0,
        });
        entry.open += 1;
        SessionSlot { stats: self.clone(), key }
    }

    /// A request to `server` begins; it is in flight until the result is dropped.
    pub fn begin(self: &Arc<Self>, server: &str, now_ms: u64) -> InFlight {
        self.clock_ms.fetch_max(now_ms, std::sync::atomic::Ordering::Relaxed);
        let mut tables = self.tables();
        let counters = tables.servers.entry(server.to_owned()).or_default();
        counters.in_flight += 1;
        counters.last_ms = counters.last_ms.max(now_ms);
        InFlight { stats: self.clone(), server: server.to_owned() }
    }

    /// Whether `server` has a request in flight, else since when it has had none.
    pub fn quiet(&self, server: &str) -> Quiet {
        match self.tables().servers.get(server) {
            Some(c) if c.in_flight > 0 => Quiet::Busy,
            Some(c) => Quiet::Since(c.last_ms),
            None => Quiet::Never,
        }
    }

    /// Counts a request of the slot's host that went to `server` (`None`: answered by the
    /// gateway alone, like an aggregate listing).
    pub fn record(&self, slot: &SessionSlot, server: Option<&str>, failed: bool, now_ms: u64) {
        self.clock_ms.fetch_max(now_ms, std::sync::atomic::Ordering::Relaxed);
        let mut tables = self.tables();
        if let Some(entry) = tables.connections.get_mut(&slot.key) {
            entry.calls += 1;
            entry.errors += u64::from(failed);
            entry.last_ms = now_ms;
        }
        if let Some(server) = server {
            let counters = tables.servers.entry(server.to_owned()).or_default();
            counters.calls += 1;
            counters.errors += u64::from(failed);
            counters.hosts.insert(slot.key.0.clone(), now_ms);
            counters.last_ms = counters.last_ms.max(now_ms);
        }
    }

    /// Hosts with a session open, or a request in the last [`RECENT_MS`].
    pub fn sessions(&self, now_ms: u64) -> Vec<SessionInfo> {
        self.tables()
            .connections
            .values()
            .filter(|c| c.open > 0 || now_ms.saturating_sub(c.last_ms) < RECENT_MS)
            .cloned()
            .collect()
    }

    /// Per server, in name order; `names` lists servers with no traffic yet too.
    pub fn servers(&self, names: &[String], now_ms: u64) -> Vec<ServerTraffic> {
        let live = self.sessions(now_ms);
        let tables = self.tables();
        let mut all: BTreeMap<String, ServerTraffic> = names
            .iter()
            .map(|n| (n.clone(), ServerTraffic { name: n.clone(), ..Default::default() }))
            .collect();
        for (name, c) in &tables.servers {
            let entry = all
                .entry(name.clone())
                .or_insert_with(|| ServerTraffic { name: name.clone(), ..Default::default() });
            entry.calls = c.calls;
            entry.errors = c.errors;
        }
        for traffic in all.values_mut() {
            let reached = tables.servers.get(&traffic.name).map(|c| &c.hosts);
            let mut hosts: Vec<String> = live
                .iter()
                .filter(|s| match &s.server {
                    Some(server) => *server == traffic.name,
                    None => reached.is_some_and(|h| h.contains_key(&s.host)),
                })
                .map(|s| s.host.clone())
                .collect();
            hosts.sort();
            hosts.dedup();
            traffic.hosts = hosts;
        }
        all.into_values().collect()
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        if let Some(entry) = self.stats.tables().connections.get_mut(&self.key) {
            entry.open = entry.open.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_show_while_a_session_is_open_or_they_called_recently() {
        let stats = Arc::new(Stats::default());
        let cursor = stats.open("cursor", Some("echo"), 1);
        let zed = stats.open("zed", None, 2);
        stats.record(&cursor, Some("echo"), false, 10);
        stats.record(&cursor, Some("echo"), true, 11);
        stats.record(&zed, Some("echo"), false, 12);
        stats.record(&zed, Some("notes"), false, 13);
        stats.record(&zed, None, false, 14);
        let servers = stats.servers(&["echo".into(), "idle".into(), "notes".into()], 20);
        assert_eq!(servers[0].name, "echo");
        assert_eq!((servers[0].calls, servers[0].errors), (3, 1));
        assert_eq!(servers[0].hosts, ["cursor", "zed"]);
        assert_eq!((servers[1].name.as_str(), servers[1].calls), ("idle", 0));
        assert_eq!(servers[2].hosts, ["zed"]);
        let sessions = stats.sessions(20);
        assert_eq!(sessions.len(), 2);
        let zed_info = sessions.iter().find(|s| s.host == "zed").expect("zed");
        assert_eq!((zed_info.calls, zed_info.open, zed_info.last_ms), (3, 1, 14));
        // A stateless client: its session closes after each request, yet it shows until idle.
        drop(cursor);
        assert_eq!(stats.sessions(20).len(), 2);
        assert_eq!(stats.sessions(11 + RECENT_MS).len(), 1, "cursor went quiet");
        assert_eq!(stats.servers(&[], 11 + RECENT_MS)[0].hosts, ["zed"]);
        // Reopening keeps the counts.
        let again = stats.open("cursor", Some("echo"), 30);
        let cursor_info =
            stats.sessions(30).into_iter().find(|s| s.host == "cursor").expect("cursor");
        assert_eq!((cursor_info.calls, cursor_info.open, cursor_info.since_ms), (2, 1, 1));
        drop(again);
    }

    #[test]
    fn a_server_is_busy_while_a_request_is_in_flight_then_quiet_since_its_end() {
        let stats = Arc::new(Stats::default());
        assert_eq!(stats.quiet("echo"), Quiet::Never);
        let first = stats.begin("echo", 100);
        let second = stats.begin("echo", 150);
        assert_eq!(stats.quiet("echo"), Quiet::Busy);
        drop(first);
        assert_eq!(stats.quiet("echo"), Quiet::Busy, "one is still in flight");
        let slot = stats.open("cursor", Some("echo"), 100);
        stats.record(&slot, Some("echo"), false, 400);
        drop(second);
        assert_eq!(stats.quiet("echo"), Quiet::Since(400));
        assert_eq!(stats.quiet("other"), Quiet::Never);
    }
}
