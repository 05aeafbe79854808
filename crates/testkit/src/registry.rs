//! A fake MCP Registry API on 127.0.0.1, on its own thread: `/v0.1/servers` (two entries per
//! page, whatever `limit` asks, so clients must follow the cursor; `search` filters by name and
//! description), `/v0.1/servers/{name}/versions/{version|latest}`. Under `/garbage/` every answer
//! is HTML, under `/broken/` HTTP 500, and under `/slow/` the answer never comes. `/files/{name}`
//! serves the files given to [`RegistryFixture::start_with_files`] (MCPB bundles); entries may
//! name them as `http://REGISTRY/files/NAME`, which is rewritten to the fixture's own address.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

/// Entries per page.
pub const PAGE: usize = 2;

#[derive(Clone)]
struct Shared {
    /// Every version of every server, `server.json` values.
    servers: Arc<Vec<Value>>,
    requests: Arc<AtomicUsize>,
    files: Arc<std::collections::HashMap<String, Vec<u8>>>,
}

/// A running fake registry. Dropping it stops the server.
pub struct RegistryFixture {
    pub addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl RegistryFixture {
    /// Serves `servers` (several versions of one name are allowed; the last is the latest).
    pub fn start(servers: Vec<Value>) -> Self {
        Self::start_with_files(servers, Vec::new())
    }

    /// Like [`RegistryFixture::start`], also serving `files` (name, bytes) under `/files/`.
    pub fn start_with_files(servers: Vec<Value>, files: Vec<(String, Vec<u8>)>) -> Self {
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
                let addr = listener.local_addr().expect("addr");
                let text = serde_json::to_string(&servers).expect("servers");
                let servers: Vec<Value> = serde_json::from_str(
                    &text.replace("http://REGISTRY", &format!("http://{addr}")),
                )
                .expect("servers");
                let shared = Shared {
                    servers: Arc::new(servers),
                    requests: counter,
                    files: Arc::new(files.into_iter().collect()),
                };
                ready_tx.send(addr).expect("report addr");
                let app = Router::new()
                    .route("/v0.1/servers", get(list))
                    .route("/v0.1/servers/{name}/versions/{version}", get(version))
                    .route("/files/{name}", get(file))
                    .route("/garbage/{*rest}", get(garbage))
                    .route("/broken/{*rest}", get(broken))
                    .route("/slow/{*rest}", get(slow))
                    .with_state(shared);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let addr = ready_rx.recv().expect("fixture registry started");
        RegistryFixture { addr, requests, _stop: stop }
    }

    /// `http://127.0.0.1:PORT` plus `prefix` (`""`, `/garbage`, `/broken`, `/slow`).
    pub fn url(&self, prefix: &str) -> String {
        format!("http://{}{prefix}", self.addr)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn file(State(shared): State<Shared>, Path(name): Path<String>) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    match shared.files.get(&name) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn wrap(server: &Value, latest: bool) -> Value {
    json!({
        "server": server,
        "_meta": {"io.modelcontextprotocol.registry/official": {"isLatest": latest, "status": "active"}}
    })
}

/// The latest version of each name, in first-seen order.
fn latest(servers: &[Value]) -> Vec<&Value> {
    let mut out: Vec<&Value> = Vec::new();
    for s in servers {
        match out.iter().position(|o| o["name"] == s["name"]) {
            Some(i) => out[i] = s,
            None => out.push(s),
        }
    }
    out
}

async fn list(
    State(shared): State<Shared>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let search = query.get("search").map(|s| s.to_lowercase());
    let matching: Vec<&Value> = latest(&shared.servers)
        .into_iter()
        .filter(|s| {
            search.as_ref().is_none_or(|q| {
                s["name"].as_str().unwrap_or("").to_lowercase().contains(q)
                    || s["description"].as_str().unwrap_or("").to_lowercase().contains(q)
            })
        })
        .collect();
    let start: usize = query.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = matching.iter().skip(start).take(PAGE).map(|s| wrap(s, true)).collect();
    let next = (start + PAGE < matching.len()).then(|| (start + PAGE).to_string());
    let mut metadata = json!({"count": page.len()});
    if let Some(next) = next {
        metadata["nextCursor"] = json!(next);
    }
    axum::Json(json!({"servers": page, "metadata": metadata})).into_response()
}

async fn version(
    State(shared): State<Shared>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let versions: Vec<&Value> = shared.servers.iter().filter(|s| s["name"] == name).collect();
    let found = if version == "latest" {
        versions.last().copied()
    } else {
        versions.iter().copied().find(|s| s["version"] == version)
    };
    match found {
        Some(s) => {
            let is_latest = versions.last().is_some_and(|l| std::ptr::eq(*l, s));
            axum::Json(wrap(s, is_latest)).into_response()
        }
        None => (StatusCode::NOT_FOUND, axum::Json(json!({"title": "Not Found"}))).into_response(),
    }
}

async fn garbage(State(shared): State<Shared>) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    ([("content-type", "text/html")], "<html><body>captive portal</body></html>").into_response()
}

async fn broken(State(shared): State<Shared>) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response()
}

async fn slow(State(shared): State<Shared>) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    StatusCode::OK.into_response()
}
