//! Load (#19): 50 hosts' sessions × 2,000 calls each, all at once, through the gateway to one
//! shared server process. Every call carries a message naming its session and number; every
//! answer must be the echo of exactly that message, on that session's own response, once. The
//! gateway's own call count must equal what was sent. Latency percentiles and the owner's and
//! server's resident memory before and after are printed (figures, not assertions: this machine
//! is shared).
//!
//! The soak is the same test for longer: `GATEWAY_SOAK_SECONDS=1800 cargo test -p
//! switchboard-cli --test stress -- load::soak --nocapture` keeps the 50 sessions calling
//! for that long, samples the owner's RSS (every minute for 30 minutes), and fails unless the
//! last sample is within 5 % of the one taken after the first tenth of the run (allocator
//! warm-up).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use switchboard_testkit::wait_until;

use crate::{
    rss_kib,
    support::{Home, fixture, pid_in},
};

const SESSIONS: usize = 50;
const CALLS: usize = 2_000;
const PROTOCOL: &str = "2025-06-18";

/// What went wrong on one session, if anything.
#[derive(Default)]
struct Tally {
    answered: usize,
    latencies_us: Vec<u64>,
    wrong: Vec<String>,
}

/// The JSON-RPC messages in a response body: one JSON value, or the `data:` of each SSE event.
fn messages(content_type: &str, body: &str) -> Vec<Value> {
    if content_type.starts_with("text/event-stream") {
        body.split("\n\n")
            .filter_map(|event| {
                let data: Vec<&str> =
                    event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect();
                let data = data.join("\n");
                (!data.is_empty()).then(|| serde_json::from_str(&data).ok()).flatten()
            })
            .collect()
    } else {
        serde_json::from_str(body).map(|v| vec![v]).unwrap_or_default()
    }
}

struct Session {
    http: reqwest::Client,
    url: String,
    headers: reqwest::header::HeaderMap,
}

impl Session {
    async fn open(url: &str, token: &str) -> Session {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("HTTP client");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("Authorization", format!("Bearer {token}").parse().expect("header"));
        headers.insert("Accept", "application/json, text/event-stream".parse().expect("header"));
        let mut session = Session { http, url: url.to_owned(), headers };
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL, "capabilities": {},
            "clientInfo": {"name": "load", "version": "1"}}});
        let response = session.post(&init).await.expect("initialize");
        let id = response.headers().get("mcp-session-id").cloned().expect("a session id");
        session.headers.insert("Mcp-Session-Id", id);
        session.headers.insert("MCP-Protocol-Version", PROTOCOL.parse().expect("header"));
        let _ = response.text().await;
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let response = session.post(&initialized).await.expect("initialized");
        assert!(response.status().is_success(), "{}", response.status());
        session
    }

    async fn post(&self, body: &Value) -> reqwest::Result<reqwest::Response> {
        self.http.post(&self.url).headers(self.headers.clone()).json(body).send().await
    }

    /// One `echo` call; what is wrong with its answer, if anything.
    async fn echo(&self, id: u64, message: &str) -> Result<(), String> {
        let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                          "params": {"name": "echo", "arguments": {"message": message}}});
        let response = self.post(&call).await.map_err(|e| format!("{message}: {e}"))?;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let status = response.status();
        let body = response.text().await.map_err(|e| format!("{message}: body: {e}"))?;
        if !status.is_success() {
            return Err(format!("{message}: HTTP {status}: {body}"));
        }
        let answers: Vec<Value> =
            messages(&content_type, &body).into_iter().filter(|m| m.get("id").is_some()).collect();
        match answers.as_slice() {
            [answer] if answer["id"] == id => {
                let text = answer["result"]["content"][0]["text"].as_str().unwrap_or_default();
                if text == format!("Echo: {message}") {
                    Ok(())
                } else {
                    Err(format!("{message}: answered with someone else's {text:?}"))
                }
            }
            [] => Err(format!("{message}: no answer in {body:?}")),
            more => Err(format!("{message}: {} answers: {more:?}", more.len())),
        }
    }
}

/// The owner's RSS in KiB, sampled while the sessions call.
type Samples = Arc<std::sync::Mutex<Vec<u64>>>;

struct Figures {
    calls: usize,
    wrong: Vec<String>,
    p50_us: u64,
    p99_us: u64,
    elapsed: Duration,
}

/// `SESSIONS` sessions calling at once, each `calls` times or until `until`.
async fn hammer(
    url: &str,
    token: &str,
    calls: usize,
    until: Option<Instant>,
    sample: Option<(u32, Duration, Samples)>,
) -> Figures {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..SESSIONS {
        let (url, token) = (url.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let session = Session::open(&url, &token).await;
            let mut tally = Tally::default();
            let mut i = 0u64;
            loop {
                let done = match until {
                    Some(until) => Instant::now() >= until,
                    None => i as usize >= calls,
                };
                if done {
                    break;
                }
                i += 1;
                let asked = Instant::now();
                match session.echo(i, &format!("s{s}-c{i}")).await {
                    Ok(()) => tally.answered += 1,
                    Err(wrong) => tally.wrong.push(wrong),
                }
                tally.latencies_us.push(asked.elapsed().as_micros() as u64);
            }
            tally
        }));
    }
    let sampler = sample.map(|(pid, every, samples)| {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                samples.lock().expect("samples").push(rss_kib(pid));
            }
        })
    });
    let mut all = Tally::default();
    for task in tasks {
        let tally = task.await.expect("session task");
        all.answered += tally.answered;
        all.latencies_us.extend(tally.latencies_us);
        all.wrong.extend(tally.wrong);
    }
    if let Some(sampler) = sampler {
        sampler.abort();
    }
    all.latencies_us.sort_unstable();
    let at = |q: f64| {
        let n = all.latencies_us.len();
        all.latencies_us.get(((n as f64 * q) as usize).min(n.saturating_sub(1))).copied()
    };
    Figures {
        calls: all.answered + all.wrong.len(),
        wrong: all.wrong,
        p50_us: at(0.50).unwrap_or(0),
        p99_us: at(0.99).unwrap_or(0),
        elapsed: started.elapsed(),
    }
}

struct Rig {
    home: Home,
    _serve: crate::support::Serve,
    url: String,
    token: String,
    owner: u32,
    server: u32,
}

fn rig() -> Rig {
    let home = Home::new();
    home.run(&["add", "echo", "--", &fixture(), "ok"]).assert_ok();
    let serve = home.serve();
    let owner = serve.pid();
    assert!(
        wait_until(Duration::from_secs(30), || home.state_of("echo")["state"]["kind"] == "running"),
        "echo did not start"
    );
    let server = pid_in(&home.state_of("echo"));
    let token = home.run(&["gateway", "token", "--host", "cursor"]);
    token.assert_ok();
    let token = token.stdout().trim().to_owned();
    let status: Value =
        serde_json::from_str(&home.run(&["gateway", "status", "--json"]).stdout()).expect("json");
    let port = status["port"].as_u64().expect("port");
    Rig {
        home,
        _serve: serve,
        url: format!("http://127.0.0.1:{port}/mcp/echo"),
        token,
        owner,
        server,
    }
}

/// The clients' own runtime: two workers, like the machine.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn gateway_calls(home: &Home) -> u64 {
    let status: Value =
        serde_json::from_str(&home.run(&["gateway", "status", "--json"]).stdout()).expect("json");
    status["servers"]
        .as_array()
        .and_then(|servers| servers.iter().find(|s| s["name"] == "echo"))
        .and_then(|s| s["calls"].as_u64())
        .unwrap_or(0)
}

#[test]
fn fifty_sessions_of_two_thousand_calls_each_are_answered_once_each_to_the_right_session() {
    let _alone = crate::alone();
    let rig = rig();
    let runtime = runtime();
    let (owner_before, server_before) = (rss_kib(rig.owner), rss_kib(rig.server));
    let calls_before = gateway_calls(&rig.home);
    let figures = runtime.block_on(hammer(&rig.url, &rig.token, CALLS, None, None));
    let (owner_after, server_after) = (rss_kib(rig.owner), rss_kib(rig.server));
    let counted = gateway_calls(&rig.home) - calls_before;
    eprintln!(
        "load: {SESSIONS} sessions x {CALLS} calls = {} calls in {:.1} s ({:.0}/s); p50 {:.2} ms, \
         p99 {:.2} ms; {} wrong; owner RSS {} -> {} KiB, server RSS {} -> {} KiB; the gateway \
         counted {counted}",
        figures.calls,
        figures.elapsed.as_secs_f64(),
        figures.calls as f64 / figures.elapsed.as_secs_f64(),
        figures.p50_us as f64 / 1000.0,
        figures.p99_us as f64 / 1000.0,
        figures.wrong.len(),
        owner_before,
        owner_after,
        server_before,
        server_after,
    );
    assert!(
        figures.wrong.is_empty(),
        "{} of {} calls went wrong, e.g.:\n{}",
        figures.wrong.len(),
        figures.calls,
        figures.wrong.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    assert_eq!(figures.calls, SESSIONS * CALLS);
    assert_eq!(counted, (SESSIONS * CALLS) as u64, "the gateway's own count of calls");
    assert_eq!(pid_in(&rig.home.state_of("echo")), rig.server, "still the one server process");
}

/// The 30-minute soak (see the module's docs). Without `GATEWAY_SOAK_SECONDS` it runs 30 s
/// (six samples), so the suite keeps the soak itself working.
#[test]
fn soak_keeps_the_owner_s_memory_flat() {
    let _alone = crate::alone();
    let seconds: u64 =
        std::env::var("GATEWAY_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    // Thirty samples or more, at least 5 s apart.
    let every = Duration::from_secs((seconds / 30).max(5));
    let rig = rig();
    let runtime = runtime();
    let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
    let until = Instant::now() + Duration::from_secs(seconds);
    let figures = runtime.block_on(hammer(
        &rig.url,
        &rig.token,
        0,
        Some(until),
        Some((rig.owner, every, samples.clone())),
    ));
    let samples = samples.lock().expect("samples").clone();
    let warm = samples.get(samples.len() / 10).copied().unwrap_or(0);
    let last = samples.last().copied().unwrap_or(0);
    let growth = (last as f64 - warm as f64) / warm.max(1) as f64 * 100.0;
    eprintln!(
        "soak: {seconds} s, {} calls ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms, {} wrong; owner RSS \
         every {} s (KiB): {samples:?}; after warm-up {warm} -> {last} KiB ({growth:+.1} %)",
        figures.calls,
        figures.calls as f64 / figures.elapsed.as_secs_f64(),
        figures.p50_us as f64 / 1000.0,
        figures.p99_us as f64 / 1000.0,
        figures.wrong.len(),
        every.as_secs(),
    );
    assert!(figures.wrong.is_empty(), "{:?}", figures.wrong.iter().take(10).collect::<Vec<_>>());
    assert!(samples.len() >= 5, "too few samples: {samples:?}");
    assert!(growth.abs() <= 5.0, "the owner's RSS moved {growth:+.1} % after warm-up");
}
