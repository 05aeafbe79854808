//! The gateway over real parts: `sb-fixture` server processes behind it (each one MCP session,
//! as the supervisor would hand over), real HTTP on 127.0.0.1, rmcp's own client on the host
//! side and raw requests for what a client library would never send.

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration,
};

use futures::future::BoxFuture;
use serde_json::{Value, json};
use switchboard_core::{
    Paths,
    clock::SystemClock,
    process::{ChildOptions, CommandSpec, ManagedChild, Search, resolve},
};
use switchboard_gateway::{
    Dedicated, Gateway, GatewayConfig, Resting, Status, Timeouts, Tokens, Unavailable, Upstreams,
    audit, names,
};
use switchboard_mcp::{Session, SessionOptions};
use switchboard_testkit::{fixture, temp_home};

/// Real fixture servers, one process and one session each.
struct Fixtures {
    sessions: BTreeMap<String, Arc<Session>>,
    children: Vec<ManagedChild>,
}

impl Upstreams for Fixtures {
    fn servers(&self) -> Vec<String> {
        self.sessions.keys().cloned().collect()
    }
    fn resting(&self, _server: &str) -> BoxFuture<'_, Option<Resting>> {
        Box::pin(async { None })
    }
    fn knows(&self, server: &str) -> bool {
        self.sessions.contains_key(server)
    }
    fn running(&self, server: &str) -> Option<Arc<Session>> {
        self.sessions.get(server).cloned()
    }
    fn session(&self, server: &str) -> BoxFuture<'_, Result<Arc<Session>, Unavailable>> {
        let found = self.sessions.get(server).cloned();
        let server = server.to_owned();
        Box::pin(async move { found.ok_or(Unavailable::Unknown(server)) })
    }
    /// Servers named `solo…` cannot be shared.
    fn per_session(&self, server: &str) -> bool {
        server.starts_with("solo")
    }
    fn instance(&self, _server: &str) -> BoxFuture<'_, Result<Dedicated, Unavailable>> {
        Box::pin(async {
            let (child, session) = fixture_session_speaking(Some("2025-11-25")).await;
            Ok(Dedicated { session: Arc::new(session), keep: Box::new(child) })
        })
    }
}

/// `protocol`: the revision the upstream session speaks (`None`: the newest both know).
fn era(protocol: Option<&str>) -> SessionOptions {
    // As the supervisor opens its sessions: the server's requests to its client are relayed.
    let mut options = SessionOptions { relay_client_requests: true, ..SessionOptions::default() };
    if let Some(version) = protocol {
        options.connect.protocol = switchboard_mcp::ProtocolChoice::Force(version.to_owned());
    }
    options
}

async fn fixture_session_speaking(protocol: Option<&str>) -> (ManagedChild, Session) {
    let spec = CommandSpec {
        program: fixture().display().to_string(),
        args: vec!["ok".into()],
        env: BTreeMap::new(),
        cwd: None,
        inherit: Default::default(),
    };
    let resolved = resolve(&spec.program, None, Search::default()).expect("fixture path");
    let (child, pipes) =
        ManagedChild::spawn(&spec, &resolved, ChildOptions::default()).expect("spawn");
    let session =
        Session::stdio(pipes.stdout, pipes.stdin, &era(protocol)).await.expect("handshake");
    (child, session)
}

struct World {
    home: tempfile::TempDir,
    paths: Paths,
    gateway: Gateway,
    fixtures: Arc<Fixtures>,
    admin: String,
}

impl World {
    async fn new(servers: &[&str], call_timeout: Duration) -> World {
        World::speaking(servers, call_timeout, None).await
    }

    /// A world whose upstream sessions speak `protocol`.
    async fn speaking(servers: &[&str], call_timeout: Duration, protocol: Option<&str>) -> World {
        let home = temp_home();
        let paths = Paths::under(home.path());
        let mut sessions = BTreeMap::new();
        let mut children = Vec::new();
        for name in servers {
            let (child, session) = fixture_session_speaking(protocol).await;
            sessions.insert((*name).to_owned(), Arc::new(session));
            children.push(child);
        }
        let fixtures = Arc::new(Fixtures { sessions, children });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let admin = "owner-token".to_owned();
        let mut config = GatewayConfig::new(admin.clone());
        config.timeouts = Timeouts::flat(call_timeout);
        config.max_body_bytes = 64 * 1024;
        let gateway =
            Gateway::start(listener, &paths, config, fixtures.clone(), Arc::new(SystemClock))
                .expect("gateway");
        World { home, paths, gateway, fixtures, admin }
    }

    fn token(&self, host: &str) -> String {
        Tokens::new(&self.paths).token_for(host, 1).expect("token")
    }

    async fn client(&self, host: &str, path: &str) -> Session {
        self.client_speaking(host, path, None).await
    }

    async fn client_speaking(&self, host: &str, path: &str, protocol: Option<&str>) -> Session {
        let headers =
            HashMap::from([("Authorization".to_owned(), format!("Bearer {}", self.token(host)))]);
        let url = format!("http://127.0.0.1:{}{path}", self.gateway.port());
        Session::http(
            &url,
            &headers,
            Some(switchboard_mcp::HttpTransport::StreamableHttp),
            // A host client answers no sampling, elicitation or roots.
            &SessionOptions { relay_client_requests: false, ..era(protocol) },
        )
        .await
        .expect("connects through the gateway")
    }

    async fn raw(&self, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        let mut request = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}{path}", self.gateway.port()))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(body.to_owned());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// POSTs `body` with `Transfer-Encoding: chunked` (no `Content-Length`) over a plain socket;
    /// returns the status and the whole answer, headers included.
    fn chunked(&self, path: &str, bearer: &str, body: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let port = self.gateway.port();
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {bearer}\r\n\
             Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        for chunk in body.as_bytes().chunks(8192) {
            request.push_str(&format!(
                "{:x}\r\n{}\r\n",
                chunk.len(),
                String::from_utf8_lossy(chunk)
            ));
        }
        request.push_str("0\r\n\r\n");
        // The gateway may answer and close before it has read everything: a reset is fine.
        let _ = stream.write_all(request.as_bytes());
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, answer)
    }

    async fn status(&self) -> Status {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/gateway/status", self.gateway.port()))
            .bearer_auth(&self.admin)
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("json")
    }
}

fn args(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().expect("object")
}

fn text(result: &rmcp::model::CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect()
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_is_reached_under_its_own_names_and_every_host_shares_its_one_process() {
    let world = World::new(&["alpha"], Duration::from_secs(30)).await;
    let cursor = world.client("cursor", "/mcp/alpha").await;
    let zed = world.client("zed", "/mcp/alpha").await;
    let tools = cursor.list_tools().await.expect("tools");
    let names: Vec<&str> = tools.items.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"echo") && names.contains(&"pid"), "{names:?}");
    let echoed =
        cursor.call_tool("echo", args(json!({"message": "hi"})), None, None).await.expect("echo");
    assert_eq!(text(&echoed.result), "Echo: hi");
    let pid_a =
        text(&cursor.call_tool("pid", args(json!({})), None, None).await.expect("pid").result);
    let pid_b = text(&zed.call_tool("pid", args(json!({})), None, None).await.expect("pid").result);
    assert_eq!(pid_a, pid_b, "both hosts reach the same process");
    assert_eq!(pid_a, world.fixtures.children[0].pid().to_string());

    let status = world.status().await;
    assert_eq!(status.port, world.gateway.port());
    assert_eq!(status.url, format!("http://127.0.0.1:{}/mcp", world.gateway.port()));
    let alpha = status.servers.iter().find(|s| s.name == "alpha").expect("alpha");
    assert!(alpha.calls >= 4, "{status:?}");
    assert_eq!(alpha.hosts, ["cursor", "zed"]);
    assert!(
        status.sessions.iter().any(|s| s.host == "zed" && s.server.as_deref() == Some("alpha"))
    );

    // The audit log has a line per request, with no arguments in it.
    let log = audit::read(&audit::path(&world.paths));
    let calls: Vec<_> = log.iter().filter(|r| r.method == "tools/call").collect();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|r| r.server.as_deref() == Some("alpha") && r.outcome == "ok"));
    let text = std::fs::read_to_string(audit::path(&world.paths)).expect("log");
    assert!(!text.contains("\"hi\""), "arguments never reach the audit log: {text}");
    cursor.close(Duration::from_secs(2)).await;
    zed.close(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_endpoint_declares_what_the_server_declared_in_both_eras() {
    let world = World::new(&["alpha"], Duration::from_secs(30)).await;
    for protocol in ["2025-11-25", "2026-07-28"] {
        // `initialize` on the stateful revision, `server/discover` on the stateless one.
        let host = world.client_speaking("cursor", "/mcp/alpha", Some(protocol)).await;
        let details = host.details();
        assert_eq!(details.negotiated.protocol_version, protocol);
        assert_eq!(details.negotiated.server_name.as_deref(), Some("sb-fixture"), "{protocol}");
        assert_eq!(
            details.negotiated.instructions.as_deref(),
            Some("sb-fixture: Switchboard's test server."),
            "{protocol}"
        );
        let declared = &details.capabilities;
        // What the fixture declares: tools, logging, resources with subscribe; no prompts and
        // no completions, so neither is declared for it.
        assert!(declared.get("tools").is_some(), "{protocol}: {declared}");
        assert!(declared.get("logging").is_some(), "{protocol}: {declared}");
        assert_eq!(declared["resources"]["subscribe"], json!(true), "{protocol}: {declared}");
        assert!(declared.get("prompts").is_none(), "{protocol}: {declared}");
        assert!(declared.get("completions").is_none(), "{protocol}: {declared}");
        // The gateway tells hosts when a list changes (stopped, held, restarted).
        assert_eq!(declared["tools"]["listChanged"], json!(true), "{protocol}: {declared}");
        host.close(Duration::from_secs(2)).await;

        // The aggregate declares everything the gateway carries, under its own name.
        let aggregate = world.client_speaking("cursor", "/mcp", Some(protocol)).await;
        let details = aggregate.details();
        assert_eq!(details.negotiated.server_name.as_deref(), Some("switchboard"));
        assert!(details.capabilities.get("prompts").is_some(), "{protocol}");
        assert!(details.capabilities.get("completions").is_some(), "{protocol}");
        aggregate.close(Duration::from_secs(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aggregate_names_each_servers_tools_uniquely_and_routes_calls_back() {
    let world = World::new(&["alpha", "beta.two"], Duration::from_secs(30)).await;
    let host = world.client("claude", "/mcp").await;
    let tools = host.list_tools().await.expect("tools");
    let names: Vec<String> = tools.items.iter().map(|t| t.name.to_string()).collect();
    assert!(names.contains(&"alpha__echo".to_owned()), "{names:?}");
    assert!(names.contains(&names::exposed("beta.two", "echo")), "{names:?}");
    assert_eq!(names.len(), 2 * names.iter().filter(|n| n.starts_with("alpha__")).count());
    // Stable order: listing again gives the same names in the same order.
    let again: Vec<String> =
        host.list_tools().await.expect("again").items.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, again);
    let beta_pid = host
        .call_tool(&names::exposed("beta.two", "pid"), args(json!({})), None, None)
        .await
        .expect("beta pid");
    assert_eq!(text(&beta_pid.result), world.fixtures.children[1].pid().to_string());
    let unknown = host.call_tool("nobody__echo", args(json!({})), None, None).await;
    assert!(unknown.is_err(), "an unknown name is an error, not a hang");
    host.close(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_token_from_web_pages_or_for_unknown_servers_are_refused() {
    let world = World::new(&["alpha"], Duration::from_secs(30)).await;
    let token = world.token("cursor");
    let bearer = format!("Bearer {token}");
    let (status, body) = world.raw("/mcp/alpha", &[], INITIALIZE).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) =
        world.raw("/mcp/alpha", &[("Authorization", "Bearer wrong")], INITIALIZE).await;
    assert_eq!(status, 401);
    let (status, body) = world
        .raw(
            "/mcp/alpha",
            &[("Authorization", &bearer), ("Origin", "https://evil.example")],
            INITIALIZE,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = world
        .raw("/mcp/alpha", &[("Authorization", &bearer), ("Host", "evil.example")], INITIALIZE)
        .await;
    assert_eq!(status, 403);
    let (status, body) = world.raw("/mcp/nosuch", &[("Authorization", &bearer)], INITIALIZE).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no server named nosuch"), "{body}");
    let (status, _) = world
        .raw(
            "/mcp/alpha",
            &[("Authorization", &bearer), ("Origin", "http://localhost:3000")],
            INITIALIZE,
        )
        .await;
    assert_eq!(status, 200, "a loopback origin passes");
    // An oversized body is refused before it is read.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"x":"{}"}}}}"#,
        "x".repeat(100_000)
    );
    let (status, _) = world.raw("/mcp/alpha", &[("Authorization", &bearer)], &huge).await;
    assert_eq!(status, 413);
    // The same without a Content-Length (chunked): cut while it is read, so no session opens.
    let (status, answer) = world.chunked("/mcp/alpha", &bearer, &huge);
    assert_eq!(status, 413, "a chunked body over the limit: {answer}");
    assert!(!answer.to_ascii_lowercase().contains("mcp-session-id"), "{answer}");
    let (status, answer) = world.chunked("/mcp/alpha", &bearer, INITIALIZE);
    assert_eq!(status, 200, "a chunked body under the limit passes: {answer}");
    // Malformed JSON gets an error answer, not a hang or a crash.
    let (status, _) = world.raw("/mcp/alpha", &[("Authorization", &bearer)], "{not json").await;
    assert!((400..500).contains(&status), "{status}");
    // The status needs the owner's token, not a host's.
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/gateway/status", world.gateway.port()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 401);
    // A revoked token stops working at once.
    Tokens::new(&world.paths).revoke("cursor").expect("revoke");
    let (status, _) = world.raw("/mcp/alpha", &[("Authorization", &bearer)], INITIALIZE).await;
    assert_eq!(status, 401);
    drop(world.home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_call_times_out_and_a_crash_mid_call_is_named_while_the_session_stays_up() {
    let world = World::new(&["alpha"], Duration::from_secs(2)).await;
    let host = world.client("cursor", "/mcp/alpha").await;
    let started = std::time::Instant::now();
    let hung = host.call_tool("hang", args(json!({})), None, None).await.expect_err("times out");
    assert!(hung.to_string().contains("did not answer tools/call within"), "{hung}");
    assert!(started.elapsed() < Duration::from_secs(20));
    // The session and the server are still usable after the timeout.
    let echoed =
        host.call_tool("echo", args(json!({"message": "after"})), None, None).await.expect("echo");
    assert_eq!(text(&echoed.result), "Echo: after");
    let died = host.call_tool("die", args(json!({})), None, None).await.expect_err("crash");
    assert!(died.to_string().contains("alpha stopped or crashed"), "{died}");
    let log = audit::read(&audit::path(&world.paths));
    assert!(log.iter().any(|r| r.name.as_deref() == Some("hang") && r.outcome == "error"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sessions_calling_at_once_each_get_every_answer_exactly_once() {
    let world = Arc::new(World::new(&["alpha"], Duration::from_secs(60)).await);
    let mut tasks = Vec::new();
    for session in 0..50 {
        let world = world.clone();
        tasks.push(tokio::spawn(async move {
            let host = world.client(&format!("host-{}", session % 4), "/mcp/alpha").await;
            for call in 0..200 {
                let message = format!("{session}-{call}");
                let echoed = host
                    .call_tool("echo", args(json!({"message": message})), None, None)
                    .await
                    .expect("echo");
                assert_eq!(text(&echoed.result), format!("Echo: {message}"));
            }
            host.close(Duration::from_secs(2)).await;
        }));
    }
    for task in tasks {
        task.await.expect("session");
    }
    let status = world.status().await;
    assert_eq!(status.servers[0].errors, 0);
    let log = audit::read(&audit::path(&world.paths));
    let calls = log.iter().filter(|r| r.method == "tools/call").count();
    assert_eq!(calls, 50 * 200, "every call went through once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateful_session_is_told_when_a_server_it_sees_changes() {
    let world = World::new(&["alpha", "beta"], Duration::from_secs(30)).await;
    let bearer = format!("Bearer {}", world.token("cursor"));
    let url = format!("http://127.0.0.1:{}/mcp/alpha", world.gateway.port());
    let client = reqwest::Client::new();
    let init = client
        .post(&url)
        .header("Authorization", &bearer)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(INITIALIZE)
        .send()
        .await
        .expect("initialize");
    assert_eq!(init.status().as_u16(), 200);
    let session = init
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .expect("text")
        .to_owned();
    drop(init.text().await);
    let initialized = client
        .post(&url)
        .header("Authorization", &bearer)
        .header("Mcp-Session-Id", &session)
        .header("MCP-Protocol-Version", "2025-06-18")
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .send()
        .await
        .expect("initialized");
    assert!(initialized.status().is_success());
    // A request makes the session known to the gateway (and starts its forwarding).
    let (status, _) = world
        .raw(
            "/mcp/alpha",
            &[
                ("Authorization", &bearer),
                ("Mcp-Session-Id", &session),
                ("MCP-Protocol-Version", "2025-06-18"),
            ],
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#,
        )
        .await;
    assert_eq!(status, 200);
    let mut stream = client
        .get(&url)
        .header("Authorization", &bearer)
        .header("Mcp-Session-Id", &session)
        .header("MCP-Protocol-Version", "2025-06-18")
        .header("Accept", "text/event-stream")
        .send()
        .await
        .expect("the server's stream");
    assert_eq!(stream.status().as_u16(), 200);
    let changes = world.gateway.changes();
    // Another server's change is not this session's business; alpha's is.
    changes.server_changed("beta");
    tokio::time::sleep(Duration::from_millis(200)).await;
    changes.server_changed("alpha");
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains("notifications/tools/list_changed") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("a list_changed in time");
        match chunk.expect("stream") {
            Some(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            None => panic!("the stream ended: {seen}"),
        }
    }
    assert_eq!(seen.matches("notifications/tools/list_changed").count(), 1, "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_and_log_messages_reach_the_calling_host_under_its_own_token() {
    let world = Arc::new(World::new(&["alpha"], Duration::from_secs(30)).await);
    // Two hosts call at once on the one server session: each gets its own call's progress, under
    // the token it sent, and nothing of the other's.
    let mut calls = Vec::new();
    for (host, count) in [("cursor", 4), ("claude-code", 7)] {
        let world = world.clone();
        calls.push(tokio::spawn(async move {
            let client = world.client(host, "/mcp/alpha").await;
            let outcome = client
                .call_tool("progress", args(json!({"count": count})), None, None)
                .await
                .expect("progress");
            assert_eq!(text(&outcome.result), format!("{count} steps"));
            let steps: Vec<f64> = outcome.progress.iter().map(|p| p.progress).collect();
            let expected: Vec<f64> = (1..=count).map(f64::from).collect();
            assert_eq!(steps, expected, "{host}: {:?}", outcome.progress);
            assert!(outcome.progress.iter().all(|p| p.total == Some(f64::from(count))));
            assert_eq!(outcome.progress[0].message.as_deref(), Some("step 1"));
            let logged = client.log_messages();
            assert!(
                logged.iter().any(|m| m.data == json!(format!("step {count}"))),
                "{host}: {logged:?}"
            );
        }));
    }
    for call in calls {
        call.await.expect("host");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_flooding_notifications_holds_up_neither_its_caller_nor_other_hosts() {
    let world = Arc::new(World::new(&["alpha"], Duration::from_secs(120)).await);
    let flooder = {
        let world = world.clone();
        tokio::spawn(async move {
            let client = world.client("cursor", "/mcp/alpha").await;
            client
                .call_tool("flood", args(json!({"count": 10_000})), None, None)
                .await
                .expect("the flooding call is answered")
        })
    };
    let other = world.client("claude-code", "/mcp/alpha").await;
    for call in 0..50 {
        let echoed = other
            .call_tool("echo", args(json!({"message": format!("m{call}")})), None, None)
            .await
            .expect("echo during the flood");
        assert_eq!(text(&echoed.result), format!("Echo: m{call}"));
    }
    let flooded = tokio::time::timeout(Duration::from_secs(120), flooder)
        .await
        .expect("the flood ends")
        .expect("task");
    assert_eq!(text(&flooded.result), "flooded 10000");
    let status = world.status().await;
    assert_eq!(status.servers[0].errors, 0, "{status:?}");
}

/// The requests `server`'s session sent upstream with `method`.
fn sent(world: &World, server: &str, method: &str) -> Vec<Value> {
    world.fixtures.sessions[server]
        .traffic()
        .entries()
        .into_iter()
        .filter(|e| {
            e.direction == switchboard_mcp::Direction::Sent && e.method.as_deref() == Some(method)
        })
        .map(|e| e.message)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_host_cancels_or_abandons_is_cancelled_upstream() {
    let world = World::new(&["alpha"], Duration::from_secs(60)).await;
    let client = world.client("cursor", "/mcp/alpha").await;
    // The host cancels (notifications/cancelled to the gateway).
    let cancel = tokio_util::sync::CancellationToken::new();
    let later = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        later.cancel();
    });
    let error = client
        .call_tool("wait_cancel", args(json!({})), None, Some(&cancel))
        .await
        .expect_err("cancelled");
    assert!(error.to_string().contains("cancel"), "{error}");
    let upstream_call = sent(&world, "alpha", "tools/call")
        .into_iter()
        .find(|m| m["params"]["name"] == "wait_cancel")
        .expect("the call went upstream");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let cancelled = sent(&world, "alpha", "notifications/cancelled");
        if cancelled.iter().any(|m| m["params"]["requestId"] == upstream_call["id"]) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no cancel upstream: {cancelled:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A stateless (2026-07-28) host that drops its connection mid-call.
    let bearer = format!("Bearer {}", world.token("gemini"));
    let before = sent(&world, "alpha", "notifications/cancelled").len();
    let call = r#"{"jsonrpc":"2.0","id":"left","method":"tools/call","params":{"name":"wait_cancel","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/mcp/alpha", world.gateway.port()))
        .header("Authorization", &bearer)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2026-07-28")
        .header("Mcp-Method", "tools/call")
        .header("Mcp-Name", "wait_cancel")
        .body(call)
        .send();
    // Gone before any answer could come.
    let _ = tokio::time::timeout(Duration::from_millis(500), response).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sent(&world, "alpha", "notifications/cancelled").len() <= before {
        assert!(tokio::time::Instant::now() < deadline, "the abandoned call is still running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_and_headers_that_contradict_the_body_are_refused() {
    let world = World::new(&["alpha"], Duration::from_secs(30)).await;
    let bearer = format!("Bearer {}", world.token("cursor"));
    let batch = format!("[{INITIALIZE},{INITIALIZE}]");
    let (status, body) = world.raw("/mcp/alpha", &[("Authorization", &bearer)], &batch).await;
    assert!((400..500).contains(&status), "{status} {body}");
    // 2026-07-28: an intermediary must refuse a request whose Mcp-Method or Mcp-Name header
    // says something else than its body (routing on the header would go elsewhere).
    let list = r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let modern = [
        ("Authorization", bearer.as_str()),
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/call"),
    ];
    let (status, body) = world.raw("/mcp/alpha", &modern, list).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("does not match"), "{body}");
    let call = r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let wrong_name = [
        ("Authorization", bearer.as_str()),
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "die"),
    ];
    let (status, body) = world.raw("/mcp/alpha", &wrong_name, call).await;
    assert_eq!(status, 400, "{body}");
    assert!(sent(&world, "alpha", "tools/call").is_empty(), "nothing went upstream");
    // The same request with headers that agree goes through.
    let right = [
        ("Authorization", bearer.as_str()),
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "echo"),
    ];
    let (status, body) = world.raw("/mcp/alpha", &right, call).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Echo: hi"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(deprecated)] // resources/subscribe: what stateful hosts send
async fn resource_subscriptions_are_shared_upstream_and_updates_reach_only_their_subscribers() {
    use rmcp::model::{SubscribeRequestParams, SubscriptionFilter, UnsubscribeRequestParams};
    use switchboard_mcp::Notice;
    const NOTE: &str = "fixture://note";
    // The server on either era behind the gateway; hosts of either era in front of it.
    for upstream in [None, Some("2025-11-25")] {
        let world = World::speaking(&["alpha"], Duration::from_secs(30), upstream).await;
        let legacy = world.client_speaking("cursor", "/mcp/alpha", Some("2025-11-25")).await;
        let modern = world.client_speaking("gemini", "/mcp/alpha", None).await;
        let bystander = world.client_speaking("zed", "/mcp/alpha", Some("2025-11-25")).await;
        let toucher = world.client("claude-code", "/mcp/alpha").await;
        assert!(modern.details().negotiated.stateless && !legacy.details().negotiated.stateless);

        let mut legacy_updates = legacy.changes();
        let mut bystander_updates = bystander.changes();
        legacy.peer().subscribe(SubscribeRequestParams::new(NOTE)).await.expect("subscribe");
        let filter = SubscriptionFilter::builder().resource_subscriptions([NOTE]).build();
        let mut stream = modern.peer().listen(filter).await.expect("listen");
        // Two hosts, one subscription upstream.
        let upstream_method =
            if upstream.is_some() { "resources/subscribe" } else { "subscriptions/listen" };
        assert_eq!(sent(&world, "alpha", upstream_method).len(), 1, "{upstream:?}");

        let touched = toucher
            .call_tool("touch", args(json!({"uri": NOTE})), None, None)
            .await
            .expect("touch");
        assert_eq!(text(&touched.result), format!("touched {NOTE}"));
        let got = tokio::time::timeout(Duration::from_secs(10), legacy_updates.recv())
            .await
            .expect("the legacy subscriber is told")
            .expect("notice");
        assert_eq!(got, Notice::ResourceUpdated(NOTE.to_owned()), "{upstream:?}");
        let streamed = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("the listening host is told")
            .expect("stream");
        assert!(
            matches!(&streamed, Some(rmcp::model::ServerNotification::ResourceUpdatedNotification(n)) if n.params.uri == NOTE),
            "{streamed:?}"
        );
        let quiet =
            tokio::time::timeout(Duration::from_millis(500), bystander_updates.recv()).await;
        assert!(quiet.is_err(), "a host that did not subscribe hears nothing: {quiet:?}");

        // The first to let go keeps the upstream subscription; the last one ends it.
        legacy.peer().unsubscribe(UnsubscribeRequestParams::new(NOTE)).await.expect("unsubscribe");
        if upstream.is_some() {
            assert!(sent(&world, "alpha", "resources/unsubscribe").is_empty());
        }
        drop(stream);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let ended = if upstream.is_some() {
                !sent(&world, "alpha", "resources/unsubscribe").is_empty()
            } else {
                !sent(&world, "alpha", "notifications/cancelled").is_empty()
            };
            if ended {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{upstream:?}: still subscribed upstream"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_call_gets_its_servers_deadline_capped_by_its_hosts_and_is_cancelled_past_it() {
    let world = World::new(&["alpha", "beta"], Duration::from_secs(600)).await;
    world.gateway.activity().set_timeouts(Timeouts {
        default: Duration::from_secs(600),
        servers: [("alpha".to_owned(), Duration::from_secs(1))].into(),
        hosts: [("impatient".to_owned(), Duration::from_secs(2))].into(),
    });
    // alpha's own deadline, whoever calls.
    let zed = world.client("zed", "/mcp/alpha").await;
    let error = zed.call_tool("hang", args(json!({})), None, None).await.expect_err("deadline");
    assert!(error.to_string().contains("did not answer tools/call within 1 s"), "{error}");
    // beta has the default (600 s), but this host gives up after 2 s.
    let impatient = world.client("impatient", "/mcp/beta").await;
    let error = impatient.call_tool("hang", args(json!({})), None, None).await.expect_err("cap");
    assert!(error.to_string().contains("did not answer tools/call within 2 s"), "{error}");
    // Past its deadline a call is cancelled at the server, not left running there.
    let hung = sent(&world, "beta", "tools/call")
        .into_iter()
        .find(|m| m["params"]["name"] == "hang")
        .expect("the call went upstream");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !sent(&world, "beta", "notifications/cancelled")
        .iter()
        .any(|m| m["params"]["requestId"] == hung["id"])
    {
        assert!(tokio::time::Instant::now() < deadline, "not cancelled upstream");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Others are unaffected: the same server answers a quick call for the same host.
    let echoed = impatient
        .call_tool("echo", args(json!({"message": "ok"})), None, None)
        .await
        .expect("echo");
    assert_eq!(text(&echoed.result), "Echo: ok");
}

/// A host that answers sampling and roots, as a desktop assistant would (2025-11-25).
#[derive(Clone)]
struct Assistant;

#[allow(deprecated)] // sampling and roots: the stateful revisions' way
impl rmcp::ClientHandler for Assistant {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        let mut config = rmcp::model::ClientConfig::default();
        config.capabilities =
            rmcp::model::ClientCapabilities::builder().enable_sampling().enable_roots().build();
        config
    }

    async fn create_message(
        &self,
        params: rmcp::model::CreateMessageRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::CreateMessageResult, rmcp::ErrorData> {
        let asked = serde_json::to_value(&params.messages[0]).expect("json");
        let question = asked["content"]["text"].as_str().unwrap_or_default().to_owned();
        Ok(rmcp::model::CreateMessageResult::new(
            rmcp::model::SamplingMessage::assistant_text(format!("an answer to {question}")),
            "test-model".to_owned(),
        ))
    }

    async fn list_roots(
        &self,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::ListRootsResult, rmcp::ErrorData> {
        Ok(rmcp::model::ListRootsResult::new(vec![rmcp::model::Root::new("file:///u/ada/project")]))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_sampling_and_roots_requests_go_to_the_host_whose_call_is_in_flight() {
    use rmcp::{
        ServiceExt,
        model::CallToolRequestParams,
        transport::{
            StreamableHttpClientTransport,
            streamable_http_client::StreamableHttpClientTransportConfig,
        },
    };
    let world = World::speaking(&["alpha"], Duration::from_secs(60), Some("2025-11-25")).await;
    let url = format!("http://127.0.0.1:{}/mcp/alpha", world.gateway.port());
    let auth = reqwest::header::HeaderValue::from_str(&format!(
        "Bearer {}",
        world.token("claude-desktop")
    ))
    .expect("header");
    let config = StreamableHttpClientTransportConfig::with_uri(url)
        .custom_headers([(reqwest::header::AUTHORIZATION, auth)].into_iter().collect());
    let assistant = Assistant
        .serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("connects");
    let call = |tool: &str, arguments: Value| {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = Some(args(arguments));
        params
    };
    let asked = assistant.call_tool(call("ask", json!({"question": "why"}))).await.expect("ask");
    assert_eq!(text(&asked), "sampled: an answer to why");
    let roots = assistant.call_tool(call("roots", json!({}))).await.expect("roots");
    assert_eq!(text(&roots), "roots: file:///u/ada/project");

    // A host that cannot sample is not asked; the server hears why.
    let plain = world.client_speaking("cursor", "/mcp/alpha", Some("2025-11-25")).await;
    let refused =
        plain.call_tool("ask", args(json!({"question": "why"})), None, None).await.expect("ask");
    let said = text(&refused.result);
    assert!(
        said.starts_with("no sample:")
            && said.contains("cursor")
            && said.contains("does not support sampling"),
        "{said}"
    );

    // With two hosts' calls in flight, the request cannot be tied to one: nobody is asked.
    let waiting = {
        let plain = world.client_speaking("zed", "/mcp/alpha", Some("2025-11-25")).await;
        let cancel = tokio_util::sync::CancellationToken::new();
        let stop = cancel.clone();
        let task = tokio::spawn(async move {
            let _ = plain.call_tool("wait_cancel", args(json!({})), None, Some(&cancel)).await;
        });
        (task, stop)
    };
    // The other call is in flight once the server has it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !sent(&world, "alpha", "tools/call").iter().any(|m| m["params"]["name"] == "wait_cancel")
    {
        assert!(tokio::time::Instant::now() < deadline, "wait_cancel never went upstream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ambiguous =
        assistant.call_tool(call("ask", json!({"question": "who"}))).await.expect("ask");
    let said = text(&ambiguous);
    assert!(said.contains("2 host sessions have calls in flight"), "{said}");
    waiting.1.cancel();
    waiting.0.await.expect("task");
    // Once the other call has ended at the gateway (it cancels it upstream as it does), the
    // assistant's call is the only one again and its server's question reaches it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let alone =
            assistant.call_tool(call("ask", json!({"question": "again"}))).await.expect("ask");
        if text(&alone) == "sampled: an answer to again" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{}", text(&alone));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assistant.cancel().await.expect("close");
}

/// An rmcp host over the gateway's `/mcp/<server>` that samples (the `Assistant`), speaking
/// `protocol`.
async fn assistant_speaking(
    world: &World,
    host: &str,
    server: &str,
    protocol: &str,
) -> rmcp::service::RunningService<rmcp::RoleClient, Assistant> {
    use rmcp::{
        model::ProtocolVersion,
        service::{ClientLifecycleMode, ClientServiceExt},
        transport::{
            StreamableHttpClientTransport,
            streamable_http_client::StreamableHttpClientTransportConfig,
        },
    };
    let url = format!("http://127.0.0.1:{}/mcp/{server}", world.gateway.port());
    let auth = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", world.token(host)))
        .expect("header");
    let config = StreamableHttpClientTransportConfig::with_uri(url)
        .custom_headers([(reqwest::header::AUTHORIZATION, auth)].into_iter().collect());
    let transport = StreamableHttpClientTransport::from_config(config);
    let lifecycle = if protocol == "2026-07-28" {
        ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] }
    } else {
        ClientLifecycleMode::Initialize
    };
    let running = Assistant.serve_with_lifecycle(transport, lifecycle).await.expect("connects");
    let spoken = running.peer().peer_info().map(|i| i.protocol_version.to_string());
    assert_eq!(spoken.as_deref(), Some(protocol));
    running
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_servers_input_required_reaches_a_stateful_host_as_sampling_and_a_2026_host_as_is() {
    let world = World::speaking(&["alpha"], Duration::from_secs(60), Some("2026-07-28")).await;
    let call = |question: &str| {
        let mut params = rmcp::model::CallToolRequestParams::new("ask_later");
        params.arguments = Some(args(json!({"question": question})));
        params
    };
    // A 2025-11-25 host cannot read input_required: the gateway asks it with
    // sampling/createMessage and retries the call with its answer.
    let legacy = assistant_speaking(&world, "claude-desktop", "alpha", "2025-11-25").await;
    let answered = legacy.call_tool(call("why")).await.expect("ask_later");
    assert_eq!(text(&answered), "sampled later: an answer to why");
    // The server saw the call twice: first without answers, then with the host's and its state.
    let calls: Vec<Value> = sent(&world, "alpha", "tools/call")
        .into_iter()
        .filter(|m| m["params"]["name"] == "ask_later")
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0]["params"].get("inputResponses").is_none(), "{calls:?}");
    assert_eq!(calls[1]["params"]["requestState"], "asked");
    assert_eq!(
        calls[1]["params"]["inputResponses"]["sample"]["content"]["text"],
        "an answer to why"
    );
    legacy.cancel().await.expect("close");

    // A 2026-07-28 host gets input_required as it is, and its retry goes through.
    let modern = assistant_speaking(&world, "gemini", "alpha", "2026-07-28").await;
    let answered = modern.call_tool(call("how")).await.expect("ask_later");
    assert_eq!(text(&answered), "sampled later: an answer to how");
    modern.cancel().await.expect("close");

    // A stateful host that cannot sample hears why, and nothing hangs.
    let plain = world.client_speaking("cursor", "/mcp/alpha", Some("2025-11-25")).await;
    let refused = plain.call_tool("ask_later", args(json!({"question": "no"})), None, None).await;
    let said = refused.expect_err("refused").to_string();
    assert!(said.contains("cursor does not support sampling"), "{said}");
    plain.close(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateful_servers_requests_reach_a_2026_host_as_input_required_and_its_retry_answers_them()
 {
    let world = World::speaking(&["alpha"], Duration::from_secs(60), Some("2025-11-25")).await;
    let call = |tool: &str, arguments: Value| {
        let mut params = rmcp::model::CallToolRequestParams::new(tool.to_owned());
        params.arguments = Some(args(arguments));
        params
    };
    // The server sends sampling/createMessage mid-call; the 2026-07-28 host gets
    // input_required, answers it (rmcp's client does, through its handler) and retries.
    let modern = assistant_speaking(&world, "gemini", "alpha", "2026-07-28").await;
    let asked = modern.call_tool(call("ask", json!({"question": "why"}))).await.expect("ask");
    assert_eq!(text(&asked), "sampled: an answer to why");
    let roots = modern.call_tool(call("roots", json!({}))).await.expect("roots");
    assert_eq!(text(&roots), "roots: file:///u/ada/project");
    // The server saw each call once: the retry resumed it rather than calling again.
    let calls = sent(&world, "alpha", "tools/call");
    assert_eq!(calls.iter().filter(|m| m["params"]["name"] == "ask").count(), 1, "{calls:?}");

    // A requestState the gateway does not hold is refused with the reason.
    let mut stale = call("ask", json!({"question": "late"}));
    stale.request_state = Some("switchboard-input:999:0000000000000000".to_owned());
    stale.input_responses = Some(Default::default());
    let refused = modern.peer().call_tool(stale).await.expect_err("refused").to_string();
    assert!(refused.contains("holds no request for this requestState"), "{refused}");
    modern.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_be_shared_gets_a_process_per_host_session_that_ends_with_it() {
    let world = World::new(&["alpha", "solo"], Duration::from_secs(30)).await;
    let cursor = world.client_speaking("cursor", "/mcp/solo", Some("2025-11-25")).await;
    let zed = world.client_speaking("zed", "/mcp/solo", Some("2025-11-25")).await;
    let (cursor_pid, zed_pid) = (pid_of(&cursor).await, pid_of(&zed).await);
    let shared_pid = world.fixtures.children[1].pid();
    assert_ne!(cursor_pid, zed_pid, "each host session has a process of its own");
    assert!(cursor_pid != shared_pid && zed_pid != shared_pid);
    assert_eq!(pid_of(&cursor).await, cursor_pid, "a session keeps its process");
    // A shared server is still one process for everyone.
    let on_alpha = world.client_speaking("cursor", "/mcp/alpha", Some("2025-11-25")).await;
    assert_eq!(pid_of(&on_alpha).await, world.fixtures.children[0].pid());

    // On the aggregate too, a host session lists and calls its own process, not the shared one.
    let listed_by_shared = sent(&world, "solo", "tools/list").len();
    let aggregate = world.client_speaking("claude", "/mcp", Some("2025-11-25")).await;
    let tools = aggregate.list_tools().await.expect("tools");
    assert!(tools.items.iter().any(|t| t.name == "solo__pid"));
    assert_eq!(sent(&world, "solo", "tools/list").len(), listed_by_shared);
    let own: u32 = text(
        &aggregate.call_tool("solo__pid", args(json!({})), None, None).await.expect("pid").result,
    )
    .parse()
    .expect("a pid");
    assert!(![cursor_pid, zed_pid, shared_pid].contains(&own), "{own}");
    aggregate.close(Duration::from_secs(2)).await;

    // Ending a host session stops its process, and only its.
    cursor.close(Duration::from_secs(2)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while switchboard_testkit::alive(cursor_pid) {
        assert!(tokio::time::Instant::now() < deadline, "pid {cursor_pid} outlived its session");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(switchboard_testkit::alive(zed_pid));
    assert_eq!(pid_of(&zed).await, zed_pid);
    zed.close(Duration::from_secs(2)).await;
    on_alpha.close(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(deprecated)] // resources/subscribe: the stateful revisions' way
async fn a_per_session_server_s_subscriptions_are_made_on_each_host_s_own_process() {
    use rmcp::model::{SubscribeRequestParams, SubscriptionFilter};
    use switchboard_mcp::Notice;
    const NOTE: &str = "fixture://note";
    let world = World::new(&["alpha", "solo"], Duration::from_secs(30)).await;
    let cursor = world.client_speaking("cursor", "/mcp/solo", Some("2025-11-25")).await;
    let zed = world.client_speaking("zed", "/mcp/solo", Some("2025-11-25")).await;
    let gemini = world.client_speaking("gemini", "/mcp/solo", None).await;
    assert!(gemini.details().negotiated.stateless);
    let (mut cursor_updates, mut zed_updates) = (cursor.changes(), zed.changes());
    cursor.peer().subscribe(SubscribeRequestParams::new(NOTE)).await.expect("subscribe");
    zed.peer().subscribe(SubscribeRequestParams::new(NOTE)).await.expect("subscribe");
    let filter = SubscriptionFilter::builder().resource_subscriptions([NOTE]).build();
    let mut stream = gemini.peer().listen(filter).await.expect("listen");
    // Nothing of it reached the shared process: each host subscribed on its own.
    assert!(sent(&world, "solo", "resources/subscribe").is_empty());
    assert!(sent(&world, "solo", "subscriptions/listen").is_empty());

    // What a host changes on its own process reaches that host, and no one else.
    async fn touch(session: &Session) {
        let touched = session
            .call_tool("touch", args(json!({"uri": NOTE})), None, None)
            .await
            .expect("touch");
        assert_eq!(text(&touched.result), format!("touched {NOTE}"));
    }
    /// `updates` hears NOTE changed; `others` hear nothing.
    async fn told_alone(
        who: &str,
        updates: &mut tokio::sync::broadcast::Receiver<Notice>,
        others: &mut tokio::sync::broadcast::Receiver<Notice>,
    ) {
        let got = tokio::time::timeout(Duration::from_secs(10), updates.recv())
            .await
            .unwrap_or_else(|_| panic!("{who} is told"))
            .expect("notice");
        assert_eq!(got, Notice::ResourceUpdated(NOTE.to_owned()));
        let quiet = tokio::time::timeout(Duration::from_millis(500), others.recv()).await;
        assert!(quiet.is_err(), "{who}'s process changed, not another's: {quiet:?}");
    }
    touch(&zed).await;
    told_alone("zed", &mut zed_updates, &mut cursor_updates).await;
    touch(&cursor).await;
    told_alone("cursor", &mut cursor_updates, &mut zed_updates).await;

    touch(&gemini).await;
    let streamed = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the listening host is told")
        .expect("stream");
    assert!(
        matches!(&streamed, Some(rmcp::model::ServerNotification::ResourceUpdatedNotification(n)) if n.params.uri == NOTE),
        "{streamed:?}"
    );
    let quiet = tokio::time::timeout(Duration::from_millis(500), zed_updates.recv()).await;
    assert!(quiet.is_err(), "gemini's process changed, not zed's: {quiet:?}");
    drop(stream);
    for session in [cursor, zed] {
        session.close(Duration::from_secs(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_host_s_own_process_ends_when_idle_but_not_while_in_use() {
    let world = World::new(&["solo"], Duration::from_secs(60)).await;
    let gemini = world.client_speaking("gemini", "/mcp/solo", None).await;
    assert!(gemini.details().negotiated.stateless);
    let first = pid_of(&gemini).await;
    let activity = world.gateway.activity();
    // Asked for just now: kept.
    assert_eq!(activity.release_idle_processes(Duration::from_secs(60)).await, 0);
    assert!(switchboard_testkit::alive(first));

    // A call in flight keeps it, however long since a request asked for it.
    let hanging = {
        let peer = gemini.peer().clone();
        tokio::spawn(async move {
            let _ = peer.call_tool(rmcp::model::CallToolRequestParams::new("hang")).await;
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(activity.release_idle_processes(Duration::ZERO).await, 0);
    assert!(switchboard_testkit::alive(first));

    // Idle and unused: it stops, and the host's next call gets a new one.
    hanging.abort();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while activity.release_idle_processes(Duration::ZERO).await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the abandoned call still holds it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while switchboard_testkit::alive(first) {
        assert!(tokio::time::Instant::now() < deadline, "pid {first} outlived its release");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = pid_of(&gemini).await;
    assert_ne!(second, first);
    assert!(switchboard_testkit::alive(second));

    // A resource stream open on it keeps it too, until the host closes the stream.
    let filter = rmcp::model::SubscriptionFilter::builder()
        .resource_subscriptions(["fixture://note"])
        .build();
    let mut stream = gemini.peer().listen(filter).await.expect("listen");
    // Subscribed once an update comes through it.
    gemini
        .call_tool("touch", args(json!({"uri": "fixture://note"})), None, None)
        .await
        .expect("touch");
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the update")
        .expect("stream");
    assert_eq!(activity.release_idle_processes(Duration::ZERO).await, 0);
    assert!(switchboard_testkit::alive(second));
    drop(stream);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while activity.release_idle_processes(Duration::ZERO).await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the closed stream still holds it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_host_sees_only_what_its_view_lets_through_in_every_era() {
    use switchboard_core::settings::{HostView, ToolFilter};
    let world = World::new(&["alpha", "beta"], Duration::from_secs(30)).await;
    let view = HostView {
        hidden_servers: ["beta".to_owned()].into(),
        tools: [(
            "alpha".to_owned(),
            ToolFilter { deny: ["hang".to_owned()].into(), ..ToolFilter::default() },
        )]
        .into(),
    };
    world.gateway.activity().set_views([("cursor".to_owned(), view)].into());
    for protocol in [Some("2025-11-25"), None] {
        let cursor = world.client_speaking("cursor", "/mcp", protocol).await;
        let names: Vec<String> = cursor
            .list_tools()
            .await
            .expect("tools")
            .items
            .iter()
            .map(|t| t.name.to_string())
            .collect();
        assert!(names.contains(&"alpha__echo".to_owned()), "{protocol:?}: {names:?}");
        assert!(!names.iter().any(|n| n.starts_with("beta__")), "{protocol:?}: {names:?}");
        assert!(!names.contains(&"alpha__hang".to_owned()), "{protocol:?}: {names:?}");
        let refused = cursor.call_tool("alpha__hang", args(json!({})), None, None).await;
        assert!(refused.is_err(), "{protocol:?}: a denied tool was called");
        let on_alpha = world.client_speaking("cursor", "/mcp/alpha", protocol).await;
        let own: Vec<String> = on_alpha
            .list_tools()
            .await
            .expect("tools")
            .items
            .iter()
            .map(|t| t.name.to_string())
            .collect();
        assert!(own.contains(&"echo".to_owned()) && !own.contains(&"hang".to_owned()), "{own:?}");
        let refused = on_alpha.call_tool("hang", args(json!({})), None, None).await;
        assert!(refused.is_err(), "{protocol:?}: a denied tool was called on /mcp/alpha");
        // The hidden server's own endpoint answers this host nothing.
        let hidden = Session::http(
            &format!("http://127.0.0.1:{}/mcp/beta", world.gateway.port()),
            &HashMap::from([(
                "Authorization".to_owned(),
                format!("Bearer {}", world.token("cursor")),
            )]),
            Some(switchboard_mcp::HttpTransport::StreamableHttp),
            &SessionOptions { relay_client_requests: false, ..era(protocol) },
        )
        .await;
        let listed = match &hidden {
            Ok(session) => session.list_tools().await.map(|l| l.items.len()).ok(),
            Err(_) => None,
        };
        assert!(listed.is_none(), "{protocol:?}: beta listed {listed:?} tools to cursor");
    }
    // Another host sees everything.
    let zed = world.client("zed", "/mcp").await;
    let names: Vec<String> =
        zed.list_tools().await.expect("tools").items.iter().map(|t| t.name.to_string()).collect();
    assert!(names.contains(&"beta__echo".to_owned()) && names.contains(&"alpha__hang".to_owned()));
}

async fn pid_of(session: &Session) -> u32 {
    text(&session.call_tool("pid", args(json!({})), None, None).await.expect("pid").result)
        .parse()
        .expect("a pid")
}

/// The SSE events in `body` that carry no message: an empty `data` (a priming event).
fn priming_events(body: &str) -> usize {
    body.split("\n\n")
        .filter(|event| {
            let data: Vec<&str> =
                event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect();
            !data.is_empty() && data.iter().all(|d| d.is_empty())
        })
        .count()
}

/// Clients before 2025-11-25 parse every SSE event's data as a message, so an empty priming
/// event breaks them (Gemini CLI 0.61 drops the server on it); 2025-11-25 asks for one. Each
/// session gets what its revision expects, on its answers and on its GET stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_priming_events_go_only_to_clients_of_revisions_that_expect_them() {
    let world = World::new(&["alpha"], Duration::from_secs(30)).await;
    let url = format!("http://127.0.0.1:{}/mcp/alpha", world.gateway.port());
    let client = reqwest::Client::new();
    let post = |session: Option<&str>, revision: Option<&str>, body: String| {
        let mut request = client
            .post(&url)
            .bearer_auth(world.token("cursor"))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(body);
        if let Some(session) = session {
            request = request.header("Mcp-Session-Id", session);
        }
        if let Some(revision) = revision {
            request = request.header("MCP-Protocol-Version", revision);
        }
        request.send()
    };
    for (revision, expects) in
        [("2024-11-05", false), ("2025-03-26", false), ("2025-06-18", false), ("2025-11-25", true)]
    {
        let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": revision, "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}});
        let answer = post(None, None, initialize.to_string()).await.expect("initialize");
        let session = answer
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .expect("a session")
            .to_owned();
        let body = answer.text().await.expect("body");
        assert!(body.contains(&format!("\"protocolVersion\":\"{revision}\"")), "{body}");
        // The header comes with every later request from 2025-06-18 on.
        let header = (revision >= "2025-06-18").then_some(revision);
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        post(Some(&session), header, initialized.to_string()).await.expect("initialized");
        let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
        let body = post(Some(&session), header, list.to_string())
            .await
            .expect("tools/list")
            .text()
            .await
            .expect("body");
        assert!(body.contains("\"echo\""), "{revision}: {body}");
        assert_eq!(priming_events(&body) > 0, expects, "{revision}: {body}");

        let mut get = client
            .get(&url)
            .bearer_auth(world.token("cursor"))
            .header("Accept", "text/event-stream")
            .header("Mcp-Session-Id", &session);
        if let Some(revision) = header {
            get = get.header("MCP-Protocol-Version", revision);
        }
        let mut stream = get.send().await.expect("GET stream");
        assert_eq!(stream.status(), 200, "{revision}");
        let first = tokio::time::timeout(Duration::from_secs(1), stream.chunk()).await;
        let first = match first {
            Ok(chunk) => String::from_utf8_lossy(&chunk.ok().flatten().unwrap_or_default()).into(),
            Err(_) => String::new(),
        };
        assert_eq!(priming_events(&first) > 0, expects, "{revision}: GET began {first:?}");
    }
}
