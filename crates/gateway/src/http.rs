//! The gateway's HTTP face: Streamable HTTP (rmcp's server, both protocol eras) on `/mcp` and
//! `/mcp/<server>`, and `GET /gateway/status` for the CLI. In front of all of it one guard:
//! a loopback `Host` (DNS rebinding), no foreign `Origin` (403), a bounded body (413), and a
//! bearer token — a host's on the MCP endpoints (401 otherwise), the owner's on the status.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{any, get},
    serve::ListenerExt,
};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use serde::{Deserialize, Serialize};
use switchboard_core::{Paths, clock::Clock};
use tokio_util::sync::CancellationToken;

use crate::{
    Error, Result,
    audit::AuditLog,
    handler::{Caller, GatewayHandler, Shared},
    stats::{ServerTraffic, SessionInfo, Stats},
    timeouts::Timeouts,
    tokens::{self, Tokens},
    upstream::Upstreams,
};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How the gateway runs.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The owner's control token: it alone may read `/gateway/status`.
    pub admin_token: String,
    /// Forwarded requests' deadlines; past one, the request is cancelled upstream.
    pub timeouts: Timeouts,
    pub max_body_bytes: usize,
}

impl GatewayConfig {
    pub fn new(admin_token: String) -> Self {
        GatewayConfig {
            admin_token,
            timeouts: Timeouts::flat(Duration::from_secs(120)),
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

/// What `switchboard gateway status` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub url: String,
    pub port: u16,
    pub sessions: Vec<SessionInfo>,
    pub servers: Vec<ServerTraffic>,
}

/// Tells the gateway's sessions that a server's tools, prompts and resources changed for hosts
/// (it started, stopped, crashed or was held): they get `list_changed`.
#[derive(Debug, Clone)]
pub struct Changes {
    sender: tokio::sync::broadcast::Sender<String>,
}

impl Changes {
    pub fn server_changed(&self, server: &str) {
        // No session listens: nobody to tell.
        let _ = self.sender.send(server.to_owned());
    }
}

/// What the owner's own tasks keep an eye on and adjust while the gateway runs: whether
/// servers are being called, and the call deadlines.
#[derive(Clone)]
pub struct Activity {
    shared: Arc<Shared>,
    stopped: CancellationToken,
}

impl std::fmt::Debug for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activity").finish_non_exhaustive()
    }
}

impl Activity {
    pub fn quiet(&self, server: &str) -> crate::Quiet {
        self.shared.stats.quiet(server)
    }

    /// Per server (`names` and any with traffic), the hosts connected and the calls made.
    pub fn servers(&self, names: &[String], now_ms: u64) -> Vec<ServerTraffic> {
        self.shared.stats.servers(names, now_ms)
    }

    /// Replaces the call deadlines (the owner's settings changed); calls in flight keep theirs.
    pub fn set_timeouts(&self, timeouts: Timeouts) {
        *self.shared.timeouts.write().unwrap_or_else(|p| p.into_inner()) = timeouts;
    }

    /// Replaces what each host sees (the owner's settings changed). Hosts are told their
    /// lists changed.
    pub fn set_views(
        &self,
        views: std::collections::BTreeMap<String, switchboard_core::settings::HostView>,
    ) {
        let changed = {
            let mut now = self.shared.views.write().unwrap_or_else(|p| p.into_inner());
            let changed = *now != views;
            *now = views;
            changed
        };
        if changed {
            for server in self.shared.upstreams.servers() {
                let _ = self.shared.changes.send(server);
            }
        }
    }

    /// Stops the per-session servers' processes kept for 2026-07-28 hosts (which have no
    /// session to end) that have had no request for `idle` and none in flight; how many.
    pub async fn release_idle_processes(&self, idle: Duration) -> usize {
        self.shared.dedicated.release_idle(idle).await
    }

    /// Resolves once the gateway stopped (or was dropped).
    pub async fn stopped(&self) {
        self.stopped.cancelled().await;
    }
}

/// The running gateway. Dropping it stops it.
pub struct Gateway {
    addr: SocketAddr,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("addr", &self.addr).finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Guard {
    tokens: Arc<Tokens>,
    upstreams: Arc<dyn Upstreams>,
    config: Arc<GatewayConfig>,
    shared: Arc<Shared>,
    port: u16,
}

/// The address the gateway of `paths` listens on when its port is `port`.
pub fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/mcp")
}

impl Gateway {
    /// Serves on `listener` (bound to loopback by the caller) until stopped.
    pub fn start(
        listener: tokio::net::TcpListener,
        paths: &Paths,
        config: GatewayConfig,
        upstreams: Arc<dyn Upstreams>,
        clock: Arc<dyn Clock>,
    ) -> Result<Gateway> {
        let addr = listener.local_addr().map_err(|e| Error::Bind(e.to_string()))?;
        if !addr.ip().is_loopback() {
            return Err(Error::Bind(format!("{addr} is not a loopback address")));
        }
        let shared = Arc::new(Shared {
            upstreams: upstreams.clone(),
            audit: AuditLog::new(paths),
            stats: Arc::new(Stats::default()),
            timeouts: std::sync::RwLock::new(config.timeouts.clone()),
            clock,
            tools: Mutex::new(HashMap::new()),
            listed: Mutex::new(HashMap::new()),
            prompts: Mutex::new(HashMap::new()),
            resources: Mutex::new(HashMap::new()),
            changes: tokio::sync::broadcast::channel(64).0,
            watched: Mutex::new(HashMap::new()),
            subscribed: Arc::default(),
            callers: Arc::default(),
            parking: Default::default(),
            dedicated: Default::default(),
            views: Default::default(),
        });
        let cancel = CancellationToken::new();
        let mcp_config =
            StreamableHttpServerConfig::default().with_cancellation_token(cancel.child_token());
        // Two faces: rmcp opens every SSE stream with a priming event (an id and empty data),
        // which 2025-11-25 asks for, but which clients of earlier revisions parse as a message
        // and fail on (Gemini CLI 0.61 drops the server). A session of an earlier revision is
        // served by the same handler without priming, from a session store of its own.
        let factory = |shared: Arc<Shared>| move || Ok(GatewayHandler::new(shared.clone()));
        let mut plain_sessions = LocalSessionManager::default();
        plain_sessions.session_config.sse_retry = None;
        let plain_sessions = Arc::new(plain_sessions);
        let service = ByRevision {
            primed: StreamableHttpService::new(
                factory(shared.clone()),
                Arc::new(LocalSessionManager::default()),
                mcp_config.clone(),
            ),
            plain: StreamableHttpService::new(
                factory(shared.clone()),
                plain_sessions.clone(),
                mcp_config.with_sse_retry(None),
            ),
            plain_sessions,
            max_body_bytes: config.max_body_bytes,
        };
        let guard = Guard {
            tokens: Arc::new(Tokens::new(paths)),
            upstreams,
            config: Arc::new(config),
            shared: shared.clone(),
            port: addr.port(),
        };
        let router = Router::new()
            .route("/mcp", any(mcp).with_state(service.clone()))
            .route("/mcp/{server}", any(mcp).with_state(service))
            .route("/gateway/status", get(status))
            .layer(middleware::from_fn_with_state(guard.clone(), guard_request))
            .with_state(guard);
        let stop = cancel.clone();
        // Small answers go out at once: without TCP_NODELAY an SSE answer written in pieces
        // waits for the client's delayed ACK (about 40 ms per call, measured by the bench).
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!("TCP_NODELAY on a gateway connection: {e}");
            }
        });
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::error!("the gateway stopped: {e}");
            }
        });
        tracing::info!("gateway listening on {}", url(addr.port()));
        Ok(Gateway { addr, shared, cancel, task: Some(task) })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn url(&self) -> String {
        url(self.port())
    }

    pub fn status(&self) -> Status {
        status_of(&self.shared, self.port())
    }

    /// Whether `server` has a request in flight through the gateway, else since when it has had
    /// none: what stops an idle lazy server.
    pub fn quiet(&self, server: &str) -> crate::Quiet {
        self.shared.stats.quiet(server)
    }

    /// A handle on the gateway's traffic and deadlines that outlives this borrow.
    pub fn activity(&self) -> Activity {
        Activity { shared: self.shared.clone(), stopped: self.cancel.clone() }
    }

    /// Where the owner says which server changed for hosts.
    pub fn changes(&self) -> Changes {
        Changes { sender: self.shared.changes.clone() }
    }

    /// Stops serving; open sessions end.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

type McpService = StreamableHttpService<GatewayHandler, LocalSessionManager>;

/// The MCP endpoint's two faces: `primed` for clients of 2025-11-25 and later, `plain` (no SSE
/// priming events, sessions in `plain_sessions`) for earlier ones.
#[derive(Clone)]
struct ByRevision {
    primed: McpService,
    plain: McpService,
    plain_sessions: Arc<LocalSessionManager>,
    max_body_bytes: usize,
}

/// Whether a revision (`YYYY-MM-DD`) has SSE priming events: 2025-11-25 and later.
fn primes(revision: &str) -> bool {
    revision.trim() >= "2025-11-25"
}

impl ByRevision {
    /// Which face serves `request`: a request naming a revision with priming in
    /// `MCP-Protocol-Version` (sent after `initialize` from 2025-06-18 on, and on every 2026-07-28
    /// request) goes to `primed`; a request of a session goes where that session lives; an
    /// `initialize` is read for the revision it asks for.
    async fn route(&self, request: Request) -> Result<(bool, Request), Response> {
        let headers = request.headers();
        if let Some(revision) = headers.get("mcp-protocol-version").and_then(|v| v.to_str().ok())
            && primes(revision)
        {
            return Ok((true, request));
        }
        if let Some(session) = headers.get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            let plain = self.plain_sessions.sessions.read().await.contains_key(session);
            return Ok((!plain, request));
        }
        if request.method() != axum::http::Method::POST {
            return Ok((true, request));
        }
        // An initialize (or a stray request without a session): its body says which revision.
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, self.max_body_bytes).await {
            Ok(bytes) => bytes,
            // Too large without a `Content-Length` (chunked): cut as it was read.
            Err(e) if is_too_large(&e) => {
                return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large"));
            }
            // Broken: rmcp answers an empty body with the right error.
            Err(_) => axum::body::Bytes::new(),
        };
        let revision = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|m| m.pointer("/params/protocolVersion")?.as_str().map(str::to_owned));
        let primed = revision.as_deref().is_none_or(primes);
        Ok((primed, Request::from_parts(parts, Body::from(bytes))))
    }
}

/// Whether reading a body failed on the size limit (`Limited` in the guard or `to_bytes`).
fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

async fn mcp(State(service): State<ByRevision>, request: Request) -> Response {
    let (primed, request) = match service.route(request).await {
        Ok(routed) => routed,
        Err(refused) => return refused,
    };
    let chosen = if primed { service.primed } else { service.plain };
    match tower::ServiceExt::oneshot(chosen, request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

fn status_of(shared: &Shared, port: u16) -> Status {
    let now = shared.clock.now_ms();
    Status {
        url: url(port),
        port,
        sessions: shared.stats.sessions(now),
        servers: shared.stats.servers(&shared.upstreams.servers(), now),
    }
}

async fn status(State(guard): State<Guard>) -> Json<Status> {
    Json(status_of(&guard.shared, guard.port))
}

/// `Host` names a loopback address (any port).
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

/// An `Origin` a page served from this machine's loopback would send.
fn loopback_origin(origin: &str) -> bool {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|rest| loopback_host(rest.trim_end_matches('/')))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32600, "message": message},
    });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

async fn guard_request(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !loopback_host(host) {
        return refuse(StatusCode::FORBIDDEN, "the gateway answers only to a loopback Host");
    }
    if let Some(origin) = headers.get(header::ORIGIN)
        && !origin.to_str().is_ok_and(loopback_origin)
    {
        return refuse(StatusCode::FORBIDDEN, "requests from web pages are refused");
    }
    let too_big = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n > guard.config.max_body_bytes);
    if too_big {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large");
    }
    let token = bearer(headers).unwrap_or("").to_owned();
    let path = request.uri().path().to_owned();
    if path == "/gateway/status" {
        if !tokens::same(token.as_bytes(), guard.config.admin_token.as_bytes()) {
            return refuse(StatusCode::UNAUTHORIZED, "the owner's token is required");
        }
        return next.run(request).await;
    }
    let server = match path.strip_prefix("/mcp") {
        Some("" | "/") => None,
        Some(rest) => Some(rest.trim_start_matches('/').trim_end_matches('/').to_owned()),
        None => return next.run(request).await,
    };
    let host = match guard.tokens.host_of(&token) {
        Ok(Some(host)) if !token.is_empty() => host,
        Ok(_) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "a host token is required: switchboard gateway token --host NAME",
            );
        }
        Err(e) => {
            tracing::error!("{e}");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
        }
    };
    if let Some(server) = &server
        && !guard.upstreams.knows(server)
    {
        return refuse(StatusCode::NOT_FOUND, &format!("no server named {server} in Switchboard"));
    }
    // Bodies without a length are bounded as they are read.
    let limit = guard.config.max_body_bytes;
    let request_body = std::mem::take(request.body_mut());
    *request.body_mut() = Body::new(http_body_util::Limited::new(request_body, limit));
    request.extensions_mut().insert(Caller { host, server });
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_and_origins_pass() {
        for ok in ["127.0.0.1:8080", "localhost", "localhost:1", "[::1]:9", "127.0.0.1"] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in ["evil.com", "127.0.0.1.evil.com:80", "", "[::2]:1", "localhost.evil:80"] {
            assert!(!loopback_host(bad), "{bad}");
        }
        assert!(loopback_origin("http://localhost:5173"));
        assert!(loopback_origin("http://127.0.0.1"));
        assert!(!loopback_origin("https://evil.example"));
        assert!(!loopback_origin("null"));
        assert!(!loopback_origin("http://127.0.0.1.nip.io"));
    }
}
