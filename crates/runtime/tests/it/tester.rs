//! The tester's client engine against real servers: the fixture (rmcp, misbehaving on purpose),
//! `@modelcontextprotocol/server-everything` over stdio, SSE and Streamable HTTP, the Python SDK
//! 2.x, and `mcp-server-time` from PyPI through `uvx`.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use serde_json::{Map, Value, json};
use switchboard_core::{
    Env, Paths,
    mcp::{
        ConnectOptions, HttpTransport, ProtocolChoice, SessionOptions, TransportKind,
        export::{self, Format},
        rmcp::model::{ContentBlock, Reference},
    },
};
use switchboard_runtime::tester::{History, Target, TesterSession};
use switchboard_testkit::{fixture, live_processes_mentioning, peers, temp_home, wait_until};
use tokio_util::sync::CancellationToken;

/// Tests that need the pinned third-party peers, host CLIs or package registries that `./x test`
/// installs (skipped by `./x check`).
mod real_peers;

fn options(timeout: Duration) -> SessionOptions {
    SessionOptions {
        connect: ConnectOptions { timeout, ..ConnectOptions::default() },
        request_timeout: timeout,
        ..SessionOptions::default()
    }
}

fn command(program: &str, args: &[&str]) -> Target {
    Target::Command {
        command: program.to_owned(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: BTreeMap::new(),
        cwd: None,
    }
}

fn fixture_target(tag: &str) -> Target {
    command(&fixture().display().to_string(), &["ok", "--tag", tag])
}

async fn open(home: &tempfile::TempDir, target: Target, timeout: Duration) -> TesterSession {
    let paths = Paths::under(home.path());
    TesterSession::open(&paths, &Env::from_process(), target, &options(timeout))
        .await
        .expect("connects")
}

fn text_of(content: &[ContentBlock]) -> String {
    content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn gone(tag: &str) -> bool {
    wait_until(Duration::from_secs(5), || {
        live_processes_mentioning(tag).into_iter().all(|pid| pid == std::process::id())
    })
}

/// Plausible arguments for a schema: required properties filled with a value of their type.
fn sample(schema: &Value) -> Map<String, Value> {
    let mut args = Map::new();
    let required = switchboard_core::mcp::args::required_names(schema);
    if let Some(props) = schema["properties"].as_object() {
        for (name, prop) in props {
            if !required.contains(&name.as_str()) {
                continue;
            }
            let value = if let Some(first) = prop["enum"].as_array().and_then(|e| e.first()) {
                first.clone()
            } else {
                match prop["type"].as_str() {
                    Some("number" | "integer") => json!(2),
                    Some("boolean") => json!(true),
                    Some("array") => json!([]),
                    Some("object") => Value::Object(sample(prop)),
                    _ => json!("hello"),
                }
            };
            args.insert(name.clone(), value);
        }
    }
    args
}

#[tokio::test]
async fn auto_negotiates_2026_07_28_with_rmcp_and_every_forced_revision_is_honoured() {
    let home = temp_home();
    let session = open(&home, fixture_target("tester-rev"), Duration::from_secs(20)).await;
    let details = session.session().details().clone();
    assert_eq!(details.negotiated.protocol_version, "2026-07-28");
    assert!(details.negotiated.stateless);
    assert_eq!(details.transport, TransportKind::Stdio);
    assert!(details.capabilities.get("tools").is_some(), "{:?}", details.capabilities);
    session.close().await;
    for revision in switchboard_core::mcp::REVISIONS {
        let paths = Paths::under(home.path());
        let mut opts = options(Duration::from_secs(20));
        opts.connect.protocol = ProtocolChoice::Force((*revision).to_owned());
        let session =
            TesterSession::open(&paths, &Env::from_process(), fixture_target("tester-rev"), &opts)
                .await
                .expect(revision);
        assert_eq!(&session.session().details().negotiated.protocol_version, revision);
        let listing = session.session().list_tools().await.expect("tools/list");
        assert!(listing.items.iter().any(|t| t.name == "echo"), "{revision}");
        session.close().await;
    }
    assert!(gone("tester-rev"), "a fixture outlived its session");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_is_sent_a_cancellation() {
    let home = temp_home();
    let session = open(&home, fixture_target("tester-hang"), Duration::from_secs(20)).await;
    let error = session
        .call_tool("hang", Map::new(), Some(Duration::from_millis(500)), None)
        .await
        .expect_err("times out");
    assert_eq!(error.code(), "mcp_timeout");
    assert!(error.to_string().contains("tools/call: no answer within 0.5 s"), "{error}");
    // rmcp sends the cancellation from a task of its own once the call is abandoned.
    let mut cancelled = false;
    for _ in 0..100 {
        cancelled = session.session().traffic().entries().into_iter().any(|e| {
            e.method.as_deref() == Some("notifications/cancelled")
                && e.direction == switchboard_core::mcp::Direction::Sent
        });
        if cancelled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(cancelled, "no notifications/cancelled went out");
    // The session is still usable after a timed-out call.
    let echo = session
        .call_tool(
            "echo",
            json!({"message": "still here"}).as_object().cloned().unwrap(),
            None,
            None,
        )
        .await
        .expect("echo");
    assert_eq!(text_of(&echo.result.content), "Echo: still here");
    session.close().await;
    assert!(gone("tester-hang"));
}

#[tokio::test]
async fn a_call_can_be_cancelled_in_flight() {
    let home = temp_home();
    let session = open(&home, fixture_target("tester-cancel"), Duration::from_secs(20)).await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let error =
        session.call_tool("hang", Map::new(), None, Some(&cancel)).await.expect_err("cancelled");
    assert_eq!(error.code(), "mcp_cancelled", "{error}");
    let history = session.history().entries().expect("history");
    assert_eq!(history.last().map(|h| h.outcome.as_str()), Some("failed"));
    session.close().await;
    assert!(gone("tester-cancel"));
}

#[tokio::test]
async fn junk_on_stdout_is_quoted_in_the_error() {
    let home = temp_home();
    let session = open(&home, fixture_target("tester-junk"), Duration::from_secs(20)).await;
    let error = session
        .call_tool("junk", Map::new(), Some(Duration::from_secs(1)), None)
        .await
        .expect_err("no answer");
    let message = error.to_string();
    assert!(message.contains("this is not json {"), "{message}");
    assert!(message.contains("not JSON"), "{message}");
    let invalid = session
        .session()
        .traffic()
        .entries()
        .into_iter()
        .filter(|e| e.direction == switchboard_core::mcp::Direction::Invalid)
        .count();
    assert_eq!(invalid, 1);
    session.close().await;
    assert!(gone("tester-junk"));
}

#[tokio::test]
async fn a_server_that_dies_mid_call_is_reported_with_its_exit_and_stderr() {
    let home = temp_home();
    let session = open(&home, fixture_target("tester-die"), Duration::from_secs(20)).await;
    let error = session.call_tool("die", Map::new(), None, None).await.expect_err("closed");
    assert_eq!(error.code(), "mcp_closed");
    let message = error.to_string();
    assert!(message.contains("exit status: 3"), "{message}");
    assert!(message.contains("dying mid-call on purpose"), "{message}");
    session.close().await;
}

#[tokio::test]
async fn an_oversized_answer_is_refused_with_a_bounded_error() {
    let home = temp_home();
    let paths = Paths::under(home.path());
    let mut opts = options(Duration::from_secs(20));
    opts.max_message_bytes = 1024 * 1024;
    let session =
        TesterSession::open(&paths, &Env::from_process(), fixture_target("tester-huge"), &opts)
            .await
            .expect("connects");
    // Under the limit: the whole answer.
    let fine = session
        .call_tool("huge", json!({"bytes": 500_000}).as_object().cloned().unwrap(), None, None)
        .await
        .expect("fits");
    assert_eq!(text_of(&fine.result.content).len(), 500_000);
    let error = session
        .call_tool("huge", json!({"bytes": 5_000_000}).as_object().cloned().unwrap(), None, None)
        .await
        .expect_err("too big");
    let message = error.to_string();
    assert!(message.contains("over the limit of 1048576 bytes"), "{message}");
    assert!(message.len() < 4096, "the error itself must stay small: {} bytes", message.len());
    session.close().await;
    assert!(gone("tester-huge"));
}

#[tokio::test]
async fn a_silent_server_fails_the_handshake_in_time_and_is_ended() {
    let home = temp_home();
    let paths = Paths::under(home.path());
    let target = command(&fixture().display().to_string(), &["silent", "--tag", "tester-silent"]);
    let error = TesterSession::open(
        &paths,
        &Env::from_process(),
        target,
        &options(Duration::from_millis(700)),
    )
    .await
    .expect_err("times out");
    assert!(error.to_string().contains("no MCP handshake within 0.7 s"), "{error}");
    assert!(gone("tester-silent"));
}

#[tokio::test]
async fn a_missing_command_and_an_unreachable_url_are_clear_errors() {
    let home = temp_home();
    let paths = Paths::under(home.path());
    let error = TesterSession::open(
        &paths,
        &Env::from_process(),
        command("no-such-mcp-server", &[]),
        &options(Duration::from_secs(5)),
    )
    .await
    .expect_err("not found");
    assert_eq!(error.code(), "command_not_found", "{error}");
    let port = peers::free_port();
    let target = Target::Url {
        url: format!("http://127.0.0.1:{port}/mcp"),
        transport: None,
        headers: BTreeMap::new(),
    };
    let error =
        TesterSession::open(&paths, &Env::from_process(), target, &options(Duration::from_secs(5)))
            .await
            .expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("answered neither transport"), "{message}");
}

#[tokio::test]
async fn calls_are_recorded_in_a_history_that_survives_the_session() {
    let home = temp_home();
    let target = fixture_target("tester-history");
    let stopped = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let clock = Arc::new(switchboard_core::clock::ManualClock::new(stopped));
    let session = open(&home, target.clone(), Duration::from_secs(20)).await.with_clock(clock);
    for word in ["one", "two"] {
        session
            .call_tool("echo", json!({"message": word}).as_object().cloned().unwrap(), None, None)
            .await
            .expect("echo");
    }
    session.close().await;
    let history =
        History::for_target(&Paths::under(home.path()), &target).entries().expect("reads");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].arguments["message"], "two");
    assert_eq!(history[1].summary, "Echo: two");
    assert_eq!(history[1].outcome, "ok");
    assert_eq!(history[1].unix_ms, 1_700_000_000_000, "dated by the session's clock");
    // Replaying an entry is calling it again with the same arguments.
    let session = open(&home, target.clone(), Duration::from_secs(20)).await;
    let again = session
        .call_tool(&history[0].tool, history[0].arguments.clone(), None, None)
        .await
        .expect("replay");
    assert_eq!(text_of(&again.result.content), "Echo: one");
    session.close().await;
}

/// A server started by the tester inherits what a supervised one does
/// (`switchboard_core::env::SERVER_VARS`) plus its own `env`: not the rest of this process's
/// environment (cargo's `CARGO_*` variables stand in for a secret exported in the shell).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_tested_server_gets_its_own_env_and_only_the_listed_variables_of_ours() {
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some(), "cargo sets it for test binaries");
    let home = temp_home();
    let mut target = fixture_target("env-check");
    if let Target::Command { env, .. } = &mut target {
        env.insert("OWN_TOKEN".into(), "sb-test-secret-tester".into());
    }
    let session = open(&home, target, Duration::from_secs(20)).await;
    let pid = session.pid().expect("a child");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
    let keys: Vec<String> = environ
        .split(|b| *b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| String::from_utf8_lossy(v).split('=').next().unwrap_or("").to_owned())
        .collect();
    let text = String::from_utf8_lossy(&environ).replace('\0', " ");
    assert!(text.contains("OWN_TOKEN=sb-test-secret-tester"), "{text}");
    assert!(keys.iter().any(|k| k == "PATH"), "{text}");
    for key in &keys {
        assert!(
            switchboard_core::env::SERVER_VARS.contains(&key.as_str()) || key == "OWN_TOKEN",
            "the tested server inherited {key}: {text}"
        );
    }
    session.close().await;
}
