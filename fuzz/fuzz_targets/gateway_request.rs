//! The gateway's HTTP face, driven in process: a real `Gateway` on 127.0.0.1 (started once,
//! with a token file, a small body limit and one upstream server, an in-process fake MCP server
//! on a pipe) gets one fuzzed request per run over a fresh connection. Whatever the request,
//! the gateway answers (no panic, no hang) and never with a server error; its guard decides as
//! its rules say: a `Host` that is not loopback is refused (403), a foreign `Origin` too (403),
//! a body over the limit (413), a missing or wrong token (401), an unknown server (404); the
//! status page needs the owner's token.
//!
//! Input: the method on the first line, the request target on the second, then header lines up
//! to an empty line, then the body. `@TOKEN@`, `@ADMIN@` and `@SESSION@` stand for a host's
//! token, the owner's token and the id of an initialized MCP session. `Content-Length` and
//! `Connection` are set by the harness.
#![no_main]

use std::{
    io::{Read, Write},
    net::TcpStream,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use serde_json::{Value, json};
use switchboard_core::{Paths, clock::SystemClock};
use switchboard_gateway::{
    Dedicated, Gateway, GatewayConfig, Resting, Tokens, Unavailable, Upstreams,
};
use switchboard_mcp::{ProtocolChoice, Session, SessionOptions};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const ADMIN: &str = "fuzz-admin-token-0123456789";
const MAX_BODY: usize = 512;
const UPSTREAM: &str = "alpha";
const STOPPED: &str = "stopped";

/// One upstream server that answers, and one that is registered but stopped.
struct Fake {
    session: Arc<Session>,
}

impl Upstreams for Fake {
    fn servers(&self) -> Vec<String> {
        vec![UPSTREAM.to_owned()]
    }
    fn resting(&self, _server: &str) -> BoxFuture<'_, Option<Resting>> {
        Box::pin(async { None })
    }
    fn knows(&self, server: &str) -> bool {
        server == UPSTREAM || server == STOPPED
    }
    fn running(&self, server: &str) -> Option<Arc<Session>> {
        (server == UPSTREAM).then(|| self.session.clone())
    }
    fn session(&self, server: &str) -> BoxFuture<'_, Result<Arc<Session>, Unavailable>> {
        let result = match server {
            UPSTREAM => Ok(self.session.clone()),
            STOPPED => Err(Unavailable::Stopped(server.to_owned())),
            other => Err(Unavailable::Unknown(other.to_owned())),
        };
        Box::pin(async move { result })
    }
    fn per_session(&self, _server: &str) -> bool {
        false
    }
    fn instance(&self, server: &str) -> BoxFuture<'_, Result<Dedicated, Unavailable>> {
        let server = server.to_owned();
        Box::pin(async move { Err(Unavailable::Failed(format!("{server} is shared"))) })
    }
}

/// A minimal MCP server (protocol 2025-06-18) answering on a pipe: one tool, one prompt, one
/// resource.
async fn fake_server(io: tokio::io::DuplexStream) {
    let (read, mut write) = tokio::io::split(io);
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(message) = serde_json::from_str::<Value>(&line) else { continue };
        let (Some(id), Some(method)) = (message.get("id"), message.get("method")) else {
            continue;
        };
        let params = &message["params"];
        let result = match method.as_str().unwrap_or_default() {
            "initialize" => json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {"tools": {"listChanged": true}, "prompts": {},
                    "resources": {"subscribe": true}, "logging": {}, "completions": {}},
                "serverInfo": {"name": "fake", "version": "1.0.0"}
            }),
            "tools/list" => json!({"tools": [{"name": "echo", "description": "Echoes",
                "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}]}),
            "tools/call" => json!({"content": [{"type": "text", "text":
                params["arguments"].to_string()}], "isError": false}),
            "prompts/list" => json!({"prompts": [{"name": "greet", "description": "Greets",
                "arguments": [{"name": "who", "required": false}]}]}),
            "prompts/get" => json!({"messages": [{"role": "user",
                "content": {"type": "text", "text": "hi"}}]}),
            "resources/list" => json!({"resources": [{"uri": "mem://a", "name": "a"}]}),
            "resources/templates/list" => json!({"resourceTemplates": []}),
            "resources/read" => json!({"contents": [{"uri": params["uri"], "text": "x"}]}),
            "completion/complete" => json!({"completion": {"values": []}}),
            "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => {
                json!({})
            }
            _ => {
                let error = json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32601, "message": "no such method"}});
                let _ = write.write_all(format!("{error}\n").as_bytes()).await;
                continue;
            }
        };
        let answer = json!({"jsonrpc": "2.0", "id": id, "result": result});
        if write.write_all(format!("{answer}\n").as_bytes()).await.is_err() {
            return;
        }
    }
}

struct World {
    port: u16,
    token: String,
    session_id: String,
    _gateway: Gateway,
    _home: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_start(switchboard_fuzz::alternate_signal_stack)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("runtime: {e}"),
        };
        let home = switchboard_fuzz::scratch_dir();
        let paths = Paths::under(home.path());
        let token = match Tokens::new(&paths).token_for("fuzzhost", 1) {
            Ok(t) => t,
            Err(e) => panic!("token: {e}"),
        };
        let gateway = runtime.block_on(async {
            let (ours, theirs) = tokio::io::duplex(1 << 20);
            tokio::spawn(fake_server(theirs));
            let (read, write) = tokio::io::split(ours);
            let mut options = SessionOptions { relay_client_requests: true, ..Default::default() };
            options.connect.protocol = ProtocolChoice::Force("2025-06-18".to_owned());
            let session = match Session::stdio(read, write, &options).await {
                Ok(s) => Arc::new(s),
                Err(e) => panic!("fake upstream: {e}"),
            };
            let listener = match tokio::net::TcpListener::bind(("127.0.0.1", 0)).await {
                Ok(l) => l,
                Err(e) => panic!("bind: {e}"),
            };
            let mut config = GatewayConfig::new(ADMIN.to_owned());
            config.max_body_bytes = MAX_BODY;
            match Gateway::start(
                listener,
                &paths,
                config,
                Arc::new(Fake { session }),
                Arc::new(SystemClock),
            ) {
                Ok(g) => g,
                Err(e) => panic!("gateway: {e}"),
            }
        });
        let port = gateway.port();
        // One initialized session, for requests that name it.
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "fuzz", "version": "1"}}})
        .to_string();
        let headers = vec![
            ("Host".to_owned(), format!("127.0.0.1:{port}")),
            ("Authorization".to_owned(), format!("Bearer {token}")),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Accept".to_owned(), "application/json, text/event-stream".to_owned()),
        ];
        let answer = exchange(port, "POST", "/mcp", &headers, init.as_bytes());
        let session_id = answer
            .as_ref()
            .ok()
            .and_then(|a| a.header("mcp-session-id"))
            .unwrap_or_default()
            .to_owned();
        let mut headers = headers;
        headers.push(("Mcp-Session-Id".to_owned(), session_id.clone()));
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let _ = exchange(port, "POST", "/mcp", &headers, initialized.to_string().as_bytes());
        World { port, token, session_id, _gateway: gateway, _home: home, _runtime: runtime }
    })
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why no answer was read.
#[derive(Debug)]
enum Lost {
    /// The gateway closed the connection without answering.
    Closed,
    /// The connection was reset: a server that answers before reading the whole body (a 415
    /// decided on the headers) and then closes makes the kernel reset it, and the answer may be
    /// lost on the way. Not the gateway's doing.
    Reset,
}

/// Sends one request on a new connection and reads the answer's head (and, unless it is an
/// event stream the client would keep open, the rest up to the end).
fn exchange(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Answer, Lost> {
    let mut stream = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(s) => s,
        Err(e) => panic!("connect: {e}"),
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut request = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
    for (name, value) in headers {
        request.extend_from_slice(name.as_bytes());
        request.extend_from_slice(b": ");
        request.extend_from_slice(value.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    request.extend_from_slice(body);
    if stream.write_all(&request).is_err() {
        return Err(Lost::Reset);
    }
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        match stream.read(&mut buf) {
            Ok(0) => return Err(Lost::Closed),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                panic!("no answer within {:?} to {method} {target}", started.elapsed())
            }
            Err(_) => return Err(Lost::Reset),
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or(Lost::Closed)?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let answer = Answer { status, headers };
    let streaming =
        answer.header("content-type").is_some_and(|t| t.starts_with("text/event-stream"));
    if !(streaming && method == "GET") {
        // The rest of the answer arrives and the connection closes.
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    panic!("the answer to {method} {target} did not end within 10 s")
                }
                Err(_) => break,
            }
        }
    }
    Ok(answer)
}

/// The gateway's rule for a `Host`: a loopback name, any port.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

fn loopback_origin(origin: &str) -> bool {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|rest| loopback_host(rest.trim_end_matches('/')))
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What `http::HeaderValue::to_str` accepts: visible ASCII, space and tab.
fn visible(value: &str) -> bool {
    value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    let w = world();
    let raw = String::from_utf8_lossy(data);
    let method: String =
        raw.lines().next().unwrap_or_default().chars().filter(char::is_ascii_uppercase).take(10).collect();
    let method = if method.is_empty() { "POST".to_owned() } else { method };
    let text = raw.replace("@TOKEN@", &w.token).replace("@ADMIN@", ADMIN);
    // The one session stays for the runs after this one: a DELETE names no real session.
    let text = if method == "DELETE" { text } else { text.replace("@SESSION@", &w.session_id) };
    let (head, body) = match text.split_once("\n\n") {
        Some((head, body)) => (head, body),
        None => (text.as_str(), ""),
    };
    let mut lines = head.lines().skip(1);
    let target: String = lines
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-._~/?&=%:@!$'()*+,;".contains(c) { c } else { '_' })
        .take(200)
        .collect();
    let target = if target.starts_with('/') { target } else { format!("/{target}") };
    let mut headers = Vec::new();
    let mut well_formed = true;
    for line in lines.take(24) {
        let Some((name, value)) = line.split_once(':') else { continue };
        let name = name.trim();
        if ["content-length", "connection", "transfer-encoding"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
        {
            continue;
        }
        let value = value.trim_matches([' ', '\t']);
        if name.is_empty() || !name.bytes().all(is_token_char) || value.contains('\r') {
            continue; // not a header line at all
        }
        well_formed &= visible(value);
        headers.push((name.to_owned(), value.to_owned()));
    }
    let get = |wanted: &str| {
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(wanted)).map(|(_, v)| v.as_str())
    };
    let answer = match exchange(w.port, &method, &target, &headers, body.as_bytes()) {
        Ok(answer) => answer,
        Err(Lost::Reset) => return,
        Err(Lost::Closed) => {
            // Only a request the HTTP parser refuses may be closed without an answer.
            assert!(!well_formed, "closed without an answer: {method} {target} {headers:?}");
            return;
        }
    };
    let status = answer.status;
    assert!(status < 500, "{status} for {method} {target} {headers:?} {body:?}");
    if !well_formed {
        return;
    }

    // The guard's rules, in its order.
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let foreign_host = !get("host").is_some_and(loopback_host);
    let foreign_origin = get("origin").is_some_and(|o| !loopback_origin(o));
    let expected = if foreign_host || foreign_origin {
        Some(403)
    } else if body.len() > MAX_BODY {
        Some(413)
    } else {
        let token = get("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        if path == "/gateway/status" {
            Some(match (token == ADMIN, method.as_str()) {
                (false, _) => 401,
                (true, "GET" | "HEAD") => 200,
                (true, _) => 405,
            })
        } else if let Some(rest) = path.strip_prefix("/mcp") {
            let server = rest.trim_start_matches('/').trim_end_matches('/');
            if token != w.token {
                Some(401)
            } else if !server.is_empty() && server != UPSTREAM && server != STOPPED {
                Some(404)
            } else {
                None // past the guard: the MCP service's to answer
            }
        } else {
            None
        }
    };
    if let Some(expected) = expected {
        assert_eq!(status, expected, "{method} {target} {headers:?} ({} body bytes)", body.len());
    }
});
