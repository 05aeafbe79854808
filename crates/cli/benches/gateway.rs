//! What the gateway adds (`cargo bench -p switchboard-cli --bench gateway`): `server-everything`'s
//! `echo`, called by one raw JSON-RPC client (no SDK between the clock and the wire) through
//! (a) the server direct over stdio, (b) the gateway's `/mcp/<server>`, (c) the aggregate
//! `/mcp`, (d) the stdio bridge `switchboard connect`, and (e) `supergateway` and `mcp-proxy`
//! when `./x bench` installed them. Rounds of each are interleaved so every way sees the same
//! machine. Then 8 sessions × 500 calls at once, the owner's and the servers' resident memory,
//! the number of server processes, and the owner's growth per idle session. Prints a Markdown
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
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
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
        }
    }

    /// One `echo`, timed.
    async fn echo(&mut self, tool: &str) -> Duration {
        let id = match self {
            Client::Stdio { id, .. } | Client::Http { id, .. } => {
                *id += 1;
                *id
            }
        };
        let started = Instant::now();
        let answer = self.request(call(id, tool)).await;
        let took = started.elapsed();
        assert!(answer.get("result").is_some(), "{answer}");
        took
    }

    fn pid(&self) -> Option<u32> {
        match self {
            Client::Stdio { child, .. } => child.id(),
            Client::Http { .. } => None,
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
    Stdio { program: String, args: Vec<String>, home: Option<PathBuf> },
    Http { url: String, token: Option<String> },
}

impl Way {
    async fn open(&self) -> Client {
        match &self.open {
            Open::Stdio { program, args, home } => {
                let env: Vec<(&str, &Path)> =
                    home.iter().map(|h| ("SWITCHBOARD_HOME", h.as_path())).collect();
                Client::stdio(program, args, &env).await
            }
            Open::Http { url, token } => Client::http(url, token.as_deref()).await,
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
            open: Open::Http { url: format!("{base}/everything"), token: Some(token.clone()) },
            root: Some(owner),
        },
        Way {
            label: "(c) gateway /mcp (aggregate)",
            tool: "everything__echo",
            open: Open::Http { url: base.clone(), token: Some(token.clone()) },
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
    ];
    let mut peers = Vec::new();
    for (name, label) in [("supergateway", "(e) supergateway"), ("mcp-proxy", "(e) mcp-proxy")] {
        match start_peer(name, &node, &everything) {
            Some((child, url)) => {
                let root = Some(child.id());
                peers.push(child);
                ways.push(Way { label, tool: "echo", open: Open::Http { url, token: None }, root });
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
        idle.push(Client::http(&format!("{base}/everything"), Some(&token)).await);
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
