//! What the gateway adds (`cargo bench -p switchboard-cli --bench gateway`): `server-everything`'s
//! `echo`, called by one raw JSON-RPC client (no SDK between the clock and the wire: stdio lines,
//! or HTTP/1.1 written and read by hand on a kept-alive connection) through
//! (a) the server direct over stdio, (b) the gateway's `/mcp/<server>`, (c) the aggregate
//! `/mcp`, (d) the stdio bridge `switchboard connect`, and (e) `supergateway` and `mcp-proxy`
//! when `./x bench` installed them; and (b) again with reqwest as the HTTP client, to show what a
//! client's own overhead does to the figure. Rounds of each are interleaved so every way sees the same
//! machine. Then 8 sessions × 500 calls at once, the owner's and the servers' resident memory,
//! the number of server processes, the owner's growth per idle session, and the median time the
//! gateway's handler took (its audit log) against the whole. Prints a Markdown
//! table (also written to `target/bench/gateway.md`).

#![allow(clippy::disallowed_methods)] // runs the binaries under measurement
#![allow(clippy::print_stdout)]
#![allow(clippy::expect_used)] // a benchmark whose set-up fails should stop loudly

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, ChildStdout, Command},
};

const SEQUENTIAL: usize = 2_000;
const ROUND: usize = 200;
const WARMUP: usize = 100;
const SESSIONS: usize = 8;
const PER_SESSION: usize = 500;
const IDLE_SESSIONS: usize = 100;
const PROTOCOL: &str = "2025-06-18";

/// One client connection that can call `echo`.
#[allow(clippy::large_enum_variant)] // a handful of these live at a time
enum Client {
    Stdio {
        child: Child,
        stdin: ChildStdin,
        stdout: tokio::io::Lines<BufReader<ChildStdout>>,
        id: u64,
    },
    Http {
        http: reqwest::Client,
        url: String,
        headers: reqwest::header::HeaderMap,
        id: u64,
    },
    /// HTTP/1.1 written and read by hand on one kept-alive connection: nothing but the wire
    /// between the clock and the server.
    Raw(Raw),
}

/// A kept-alive HTTP/1.1 connection that POSTs JSON-RPC and reads the answer from a JSON or SSE
/// body (`Content-Length` or chunked), to the end of the body, so the connection is reused.
struct Raw {
    addr: String,
    path: String,
    /// Every header line but `Content-Length`, each ending in CRLF.
    headers: String,
    conn: Option<BufReader<tokio::net::TcpStream>>,
    id: u64,
}

/// What one POST came back with.
struct Posted {
    status: u16,
    session: Option<String>,
    body: String,
    /// When the answer with the wanted id had arrived (the body may go on after it).
    answered: Option<Instant>,
}

impl Raw {
    fn new(url: &str, token: Option<&str>) -> Raw {
        let rest = url.strip_prefix("http://").expect("an http:// URL");
        let (addr, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut headers = format!(
            "Host: {addr}\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\n"
        );
        if let Some(token) = token {
            headers.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        Raw { addr: addr.to_owned(), path: path.to_owned(), headers, conn: None, id: 0 }
    }

    async fn post(&mut self, body: &str, want: Option<u64>) -> Posted {
        if self.conn.is_none() {
            let tcp = tokio::net::TcpStream::connect(&self.addr).await.expect("connect");
            tcp.set_nodelay(true).expect("nodelay");
            self.conn = Some(BufReader::new(tcp));
        }
        let conn = self.conn.as_mut().expect("connected");
        let head = format!(
            "POST {} HTTP/1.1\r\n{}Content-Length: {}\r\n\r\n",
            self.path,
            self.headers,
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body.as_bytes());
        conn.get_mut().write_all(&request).await.expect("write the request");
        let mut line = String::new();
        conn.read_line(&mut line).await.expect("status line");
        let status: u16 =
            line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status");
        let (mut length, mut chunked, mut close, mut session) = (None, false, false, None);
        loop {
            line.clear();
            conn.read_line(&mut line).await.expect("a header");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').expect("name: value");
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                "mcp-session-id" => session = Some(value.to_owned()),
                _ => {}
            }
        }
        let mut body = Vec::new();
        let mut answered = None;
        let seen = |body: &[u8], answered: &mut Option<Instant>| {
            if answered.is_none()
                && let Some(id) = want
                && answer_in(&String::from_utf8_lossy(body), id).is_some()
            {
                *answered = Some(Instant::now());
            }
        };
        if chunked {
            loop {
                line.clear();
                conn.read_line(&mut line).await.expect("a chunk size");
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .expect("a hex chunk size");
                let mut chunk = vec![0; size + 2];
                conn.read_exact(&mut chunk).await.expect("a chunk");
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
                seen(&body, &mut answered);
            }
        } else if let Some(length) = length {
            body.resize(length, 0);
            conn.read_exact(&mut body).await.expect("the body");
            seen(&body, &mut answered);
        } else {
            conn.read_to_end(&mut body).await.expect("the body");
            seen(&body, &mut answered);
            close = true;
        }
        if close {
            self.conn = None;
        }
        Posted { status, session, body: String::from_utf8_lossy(&body).into_owned(), answered }
    }
}

fn initialize(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {},
        "clientInfo": {"name": "switchboard-bench", "version": "1"}}})
}

fn call(id: u64, tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": {"message": "hi"}}})
}

/// The JSON-RPC answer with `id` in a response body (plain JSON or an SSE stream).
fn answer_in(body: &str, id: u64) -> Option<Value> {
    let parse = |text: &str| serde_json::from_str::<Value>(text).ok().filter(|v| v["id"] == id);
    parse(body.trim()).or_else(|| {
        body.lines().filter_map(|l| l.strip_prefix("data:")).find_map(|d| parse(d.trim()))
    })
}

impl Client {
    async fn stdio(program: &str, args: &[String], env: &[(&str, &Path)]) -> Client {
        let mut command = Command::new(program);
        command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.kill_on_drop(true).spawn().expect("spawn a stdio client target");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut client = Client::Stdio { child, stdin, stdout, id: 0 };
        client.request(initialize(0)).await;
        client.notify(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
        client
    }

    async fn raw(url: &str, token: Option<&str>) -> Client {
        let mut raw = Raw::new(url, token);
        let answer = raw.post(&initialize(0).to_string(), Some(0)).await;
        assert_eq!(answer.status, 200, "{url}: {}", answer.body);
        if let Some(session) = &answer.session {
            raw.headers.push_str(&format!("Mcp-Session-Id: {session}\r\n"));
        }
        raw.headers.push_str(&format!("MCP-Protocol-Version: {PROTOCOL}\r\n"));
        let mut client = Client::Raw(raw);
        client.notify(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
        client
    }

    async fn http(url: &str, token: Option<&str>) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("Accept", "application/json, text/event-stream".parse().expect("header"));
        headers.insert("Content-Type", "application/json".parse().expect("header"));
        if let Some(token) = token {
            headers.insert("Authorization", format!("Bearer {token}").parse().expect("header"));
        }
        let http = reqwest::Client::builder().pool_max_idle_per_host(4).build().expect("client");
        let response = http
            .post(url)
            .headers(headers.clone())
            .body(initialize(0).to_string())
            .send()
            .await
            .expect("initialize over HTTP");
        assert!(response.status().is_success(), "{url}: {}", response.status());
        if let Some(session) = response.headers().get("mcp-session-id").cloned() {
            headers.insert("Mcp-Session-Id", session);
        }
        let _ = response.text().await;
        headers.insert("MCP-Protocol-Version", PROTOCOL.parse().expect("header"));
        let mut client = Client::Http { http, url: url.to_owned(), headers, id: 0 };
        client.notify(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
        client
    }

    async fn notify(&mut self, message: Value) {
        match self {
            Client::Stdio { stdin, .. } => {
                stdin.write_all(format!("{message}\n").as_bytes()).await.expect("write");
                stdin.flush().await.expect("flush");
            }
            Client::Http { http, url, headers, .. } => {
                let _ = http
                    .post(url.as_str())
                    .headers(headers.clone())
                    .body(message.to_string())
                    .send()
                    .await;
            }
            Client::Raw(raw) => {
                raw.post(&message.to_string(), None).await;
            }
        }
    }

    async fn request(&mut self, message: Value) -> Value {
        let id = message["id"].as_u64().expect("id");
        match self {
            Client::Stdio { stdin, stdout, .. } => {
                stdin.write_all(format!("{message}\n").as_bytes()).await.expect("write");
                stdin.flush().await.expect("flush");
                loop {
                    let line = stdout.next_line().await.expect("read").expect("an answer");
                    if let Ok(value) = serde_json::from_str::<Value>(&line)
                        && value["id"] == id
                    {
                        return value;
                    }
                }
            }
            Client::Http { http, url, headers, .. } => {
                let mut response = http
                    .post(url.as_str())
                    .headers(headers.clone())
                    .body(message.to_string())
                    .send()
                    .await
                    .expect("POST");
                // Read the stream only until the answer is in it, as a client does: an SSE
                // response may stay open a moment after its last event.
                let mut body = String::new();
                while let Some(chunk) = response.chunk().await.expect("body") {
                    body.push_str(&String::from_utf8_lossy(&chunk));
                    if let Some(answer) = answer_in(&body, id) {
                        return answer;
                    }
                }
                answer_in(&body, id).unwrap_or_else(|| panic!("no answer to {id} in {body}"))
            }
            Client::Raw(raw) => {
                let posted = raw.post(&message.to_string(), Some(id)).await;
                answer_in(&posted.body, id)
                    .unwrap_or_else(|| panic!("no answer to {id} in {}", posted.body))
            }
        }
    }

    /// One `echo`, timed until its answer arrived (a raw connection then reads the rest of the
    /// body before the next call, outside the time).
    async fn echo(&mut self, tool: &str) -> Duration {
        let id = match self {
            Client::Stdio { id, .. } | Client::Http { id, .. } | Client::Raw(Raw { id, .. }) => {
                *id += 1;
                *id
            }
        };
        let started = Instant::now();
        if let Client::Raw(raw) = self {
            let posted = raw.post(&call(id, tool).to_string(), Some(id)).await;
            let answer = answer_in(&posted.body, id)
                .unwrap_or_else(|| panic!("no answer to {id} in {}", posted.body));
            assert!(answer.get("result").is_some(), "{answer}");
            return posted.answered.expect("answered") - started;
        }
        let answer = self.request(call(id, tool)).await;
        let took = started.elapsed();
        assert!(answer.get("result").is_some(), "{answer}");
        took
    }

    fn pid(&self) -> Option<u32> {
        match self {
            Client::Stdio { child, .. } => child.id(),
            Client::Http { .. } | Client::Raw(_) => None,
        }
    }
}

/// A way of reaching the server: how to open a session, and the tool's name there.
#[derive(Clone)]
struct Way {
    label: &'static str,
    tool: &'static str,
    open: Open,
    /// The process whose descendants serve this way (`None`: each session is its own server).
    root: Option<u32>,
}

#[derive(Clone)]
enum Open {
    Stdio {
        program: String,
        args: Vec<String>,
        home: Option<PathBuf>,
    },
    /// The raw HTTP client, or with `reqwest` the reqwest one (which gives up each connection
    /// whose SSE body it did not read to the end).
    Http {
        url: String,
        token: Option<String>,
        reqwest: bool,
    },
}

impl Way {
    async fn open(&self) -> Client {
        match &self.open {
            Open::Stdio { program, args, home } => {
                let env: Vec<(&str, &Path)> =
                    home.iter().map(|h| ("SWITCHBOARD_HOME", h.as_path())).collect();
                Client::stdio(program, args, &env).await
            }
            Open::Http { url, token, reqwest: false } => Client::raw(url, token.as_deref()).await,
            Open::Http { url, token, reqwest: true } => Client::http(url, token.as_deref()).await,
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1e6
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// `server-everything` node processes under `root` (its children, grandchildren…).
fn everything_under(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let parents: Vec<(u32, u32)> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, switchboard_testkit::stat(pid)?.ppid)))
        .collect();
    let mut under = vec![root];
    let mut grew = true;
    while grew {
        grew = false;
        for (pid, ppid) in &parents {
            if under.contains(ppid) && !under.contains(pid) {
                under.push(*pid);
                grew = true;
            }
        }
    }
    under
        .into_iter()
        .filter(|pid| {
            let argv = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let text = String::from_utf8_lossy(&argv);
            text.starts_with("node")
                || text.starts_with("/usr/bin/node") && text.contains("server-everything")
        })
        .filter(|pid| switchboard_testkit::alive(*pid))
        .collect()
}

fn cli(home: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .env("SWITCHBOARD_HOME", home)
        .output()
        .expect("switchboard");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A peer gateway installed by `./x bench` under `target/peers/bench`, started in front of the
/// same server on a free port; `None` when it is not installed.
fn start_peer(name: &str, node: &str, everything: &str) -> Option<(std::process::Child, String)> {
    let bin = switchboard_testkit::peers::workspace()
        .join("target/peers/bench/node_modules/.bin")
        .join(name);
    if !bin.exists() {
        return None;
    }
    let port = switchboard_testkit::peers::free_port();
    let stdio = format!("{node} {everything}");
    let args: Vec<String> = match name {
        "supergateway" => vec![
            "--stdio".into(),
            stdio,
            "--outputTransport".into(),
            "streamableHttp".into(),
            "--stateful".into(),
            "--port".into(),
            port.to_string(),
        ],
        _ => vec!["--port".into(), port.to_string(), "--".into(), node.into(), everything.into()],
    };
    let child = std::process::Command::new(bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let ready = switchboard_testkit::wait_until(Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    ready.then(|| (child, format!("http://127.0.0.1:{port}/mcp")))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("gateway: bench");
        return;
    }
    let everything = switchboard_testkit::peers::everything().display().to_string();
    let node = "node".to_owned();
    let home = switchboard_testkit::temp_home();
    let config = home.path().join("config");
    std::fs::create_dir_all(&config).expect("config");
    std::fs::write(config.join("settings.json"), "{ \"knowledgeBaseOffered\": true }\n")
        .expect("settings");
    cli(home.path(), &["add", "everything", "--", &node, &everything]);
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("serve")
        .env("SWITCHBOARD_HOME", home.path())
        .env("SWITCHBOARD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let owner = serve.id();
    assert!(
        switchboard_testkit::wait_until(Duration::from_secs(60), || {
            // Not asserted: until the owner is up, `status` fails.
            std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
                .args(["status", "--json"])
                .env("SWITCHBOARD_HOME", home.path())
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("\"running\""))
        }),
        "server-everything did not start under serve"
    );
    let token = cli(home.path(), &["gateway", "token", "--host", "bench"]).trim().to_owned();
    let status: Value =
        serde_json::from_str(&cli(home.path(), &["gateway", "status", "--json"])).expect("status");
    let port = status["port"].as_u64().expect("port");
    let base = format!("http://127.0.0.1:{port}/mcp");

    let mut ways = vec![
        Way {
            label: "(a) direct stdio",
            tool: "echo",
            open: Open::Stdio { program: node.clone(), args: vec![everything.clone()], home: None },
            root: None,
        },
        Way {
            label: "(b) gateway /mcp/everything",
            tool: "echo",
            open: Open::Http {
                url: format!("{base}/everything"),
                token: Some(token.clone()),
                reqwest: false,
            },
            root: Some(owner),
        },
        Way {
            label: "(c) gateway /mcp (aggregate)",
            tool: "everything__echo",
            open: Open::Http { url: base.clone(), token: Some(token.clone()), reqwest: false },
            root: Some(owner),
        },
        Way {
            label: "(d) stdio bridge (switchboard connect)",
            tool: "echo",
            open: Open::Stdio {
                program: env!("CARGO_BIN_EXE_switchboard").into(),
                args: ["connect", "--server", "everything", "--host", "bench"]
                    .map(String::from)
                    .to_vec(),
                home: Some(home.path().to_path_buf()),
            },
            root: Some(owner),
        },
        Way {
            label: "(b) with reqwest as the client",
            tool: "echo",
            open: Open::Http {
                url: format!("{base}/everything"),
                token: Some(token.clone()),
                reqwest: true,
            },
            root: Some(owner),
        },
    ];
    let mut peers = Vec::new();
    for (name, label) in [("supergateway", "(e) supergateway"), ("mcp-proxy", "(e) mcp-proxy")] {
        match start_peer(name, &node, &everything) {
            Some((child, url)) => {
                let root = Some(child.id());
                peers.push(child);
                let open = Open::Http { url, token: None, reqwest: false };
                ways.push(Way { label, tool: "echo", open, root });
            }
            None => println!(
                "{label}: not installed under target/peers/bench (./x bench installs it); skipped"
            ),
        }
    }

    // Sequential calls, one session per way, interleaved in rounds.
    let mut clients = Vec::new();
    for way in &ways {
        let mut client = way.open().await;
        for _ in 0..WARMUP {
            client.echo(way.tool).await;
        }
        clients.push(client);
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(SEQUENTIAL); ways.len()];
    for _ in 0..SEQUENTIAL / ROUND {
        for (i, client) in clients.iter_mut().enumerate() {
            for _ in 0..ROUND {
                samples[i].push(client.echo(ways[i].tool).await);
            }
        }
    }
    let mut handler_line = String::new();
    // Of each call's time through the gateway, how much the gateway's handler saw: from the
    // request reaching it to the server's answer (the audit log's duration), against the whole.
    let log = cli(home.path(), &["gateway", "log", "--json"]);
    let mut inside: Vec<f64> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["method"] == "tools/call")
        .filter_map(|r| r["durationMs"].as_f64())
        .map(|ms| ms * 1000.0)
        .collect();
    inside.sort_by(f64::total_cmp);
    if !inside.is_empty() {
        handler_line = format!(
            "in the gateway's handler (request in to the server's answer), median over the {} sequential calls of (b), (c) and (d): {:.0} µs\n",
            inside.len(),
            inside[inside.len() / 2]
        );
    }
    let direct_pid = clients[0].pid();
    drop(clients);

    // 8 sessions at once: calls per second, and how many server processes that took.
    let mut throughput = Vec::new();
    for way in &ways {
        let mut sessions = Vec::new();
        for _ in 0..SESSIONS {
            sessions.push(way.open().await);
        }
        let servers: Vec<u32> = match way.root {
            Some(root) => everything_under(root),
            None => sessions.iter().filter_map(Client::pid).collect(),
        };
        let started = Instant::now();
        let tasks: Vec<_> = sessions
            .into_iter()
            .map(|mut client| {
                let tool = way.tool;
                tokio::spawn(async move {
                    for _ in 0..PER_SESSION {
                        client.echo(tool).await;
                    }
                    client
                })
            })
            .collect();
        let mut done = Vec::new();
        for task in tasks {
            done.push(task.await.expect("session"));
        }
        let per_second = (SESSIONS * PER_SESSION) as f64 / started.elapsed().as_secs_f64();
        let servers_rss: u64 = servers.iter().map(|p| rss_kib(*p)).sum();
        throughput.push((per_second, servers_rss, servers.len()));
        drop(done);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The owner's growth per idle session on the gateway.
    let rss_before = rss_kib(owner);
    let mut idle = Vec::new();
    for _ in 0..IDLE_SESSIONS {
        idle.push(Client::raw(&format!("{base}/everything"), Some(&token)).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let per_idle = (rss_kib(owner) as f64 - rss_before as f64) / IDLE_SESSIONS as f64;
    let owner_rss = rss_kib(owner);
    drop(idle);

    let mut table = String::from(
        "| way | p50 µs | p99 µs | added p50 µs | calls/s, 8 sessions | server processes (8 sessions) | server RSS MiB |\n|---|---|---|---|---|---|---|\n",
    );
    let direct_p50 = {
        let mut sorted = samples[0].clone();
        sorted.sort();
        percentile(&sorted, 0.5)
    };
    for (i, way) in ways.iter().enumerate() {
        let mut sorted = samples[i].clone();
        sorted.sort();
        let (p50, p99) = (percentile(&sorted, 0.5), percentile(&sorted, 0.99));
        let (per_second, rss, processes) = throughput[i];
        table.push_str(&format!(
            "| {} | {p50:.0} | {p99:.0} | {:+.0} | {per_second:.0} | {processes} | {:.1} |\n",
            way.label,
            p50 - direct_p50,
            rss as f64 / 1024.0
        ));
    }
    table.push_str(&format!(
        "\nowner (switchboard serve) RSS: {:.1} MiB; growth per idle gateway session: {per_idle:.1} KiB \
         ({IDLE_SESSIONS} sessions); direct server pid {direct_pid:?}; {SEQUENTIAL} sequential calls per way \
         in interleaved rounds of {ROUND} after {WARMUP} warm-up calls\n",
        owner_rss as f64 / 1024.0
    ));
    table.push_str(&handler_line);
    println!("{table}");
    let out = switchboard_testkit::peers::workspace().join("target/bench");
    std::fs::create_dir_all(&out).expect("target/bench");
    std::fs::write(out.join("gateway.md"), &table).expect("write the table");

    for mut peer in peers {
        let _ = peer.kill();
        let _ = peer.wait();
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(owner as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = serve.wait();
}
