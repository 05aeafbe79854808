//! The gateway as hosts reach it: `switchboard connect` (the stdio bridge a host's entry runs)
//! in front of the owner's gateway, host tokens, `gateway status` and the audit log — with a real
//! `serve` owner, a real fixture server and JSON-RPC written by hand on the bridge's stdin.

#![allow(clippy::disallowed_methods)] // tests run the binary under test directly

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_testkit::{alive, wait_until};

use crate::{
    bridge::Bridge,
    support::{Home, fixture, running_pid},
};

#[test]
fn hosts_reach_the_one_supervised_process_through_connect_and_the_gateway_reports_them() {
    let home = Home::new();
    home.run(&["add", "echo", "--", &fixture(), "ok"]).assert_ok();
    let _serve = home.serve();
    let pid = running_pid(&home, "echo");

    let token = home.run(&["gateway", "token", "--host", "cursor"]);
    token.assert_ok();
    let token = token.stdout().trim().to_owned();
    assert_eq!(token.len(), 64, "{token}");
    assert_eq!(home.run(&["gateway", "token", "--host", "cursor"]).stdout().trim(), token);
    home.run(&["gateway", "token", "--host", "not a name"]).assert_code(2);

    let mut cursor = Bridge::start(&home, &["--server", "echo", "--host", "cursor"]);
    let init = cursor.initialize();
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");
    let tools = cursor.request("tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"echo"), "{tools}");
    assert_eq!(cursor.call("echo", json!({"message": "hi"})), "Echo: hi");
    assert_eq!(cursor.call("pid", json!({})), pid.to_string(), "the supervised process answers");

    // A second host, on the aggregate endpoint: the same process, under a unique name.
    let mut zed = Bridge::start(&home, &["--host", "zed"]);
    zed.initialize();
    assert_eq!(zed.call("echo__pid", json!({})), pid.to_string());
    assert_eq!(home.state_of("echo")["state"]["pid"], pid, "still one process");

    let status = home.run(&["gateway", "status", "--json"]);
    status.assert_ok();
    let status: Value = serde_json::from_str(&status.stdout()).expect("status JSON");
    let port = status["port"].as_u64().expect("port");
    assert_eq!(status["url"], format!("http://127.0.0.1:{port}/mcp"));
    let echo = status["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .find(|s| s["name"] == "echo")
        .expect("echo in the status")
        .clone();
    assert!(echo["calls"].as_u64().expect("calls") >= 3, "{echo}");
    assert_eq!(echo["hosts"], json!(["cursor", "zed"]), "{status}");
    let hosts: Vec<&str> = status["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["host"].as_str())
        .collect();
    assert!(hosts.contains(&"cursor") && hosts.contains(&"zed"), "{status}");

    let tokens = home.run(&["gateway", "tokens", "--json"]);
    let tokens: Value = serde_json::from_str(&tokens.stdout()).expect("tokens JSON");
    assert_eq!(tokens.as_array().map(Vec::len), Some(2), "{tokens}");
    assert!(!tokens.to_string().contains(&token), "tokens never lists a token");

    let log = home.run(&["gateway", "log", "--json"]);
    log.assert_ok();
    let calls: Vec<Value> = log
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .filter(|r: &Value| r["method"] == "tools/call")
        .collect();
    assert_eq!(calls.len(), 3, "{}", log.stdout());
    assert!(calls.iter().any(|r| r["host"] == "zed" && r["name"] == "pid"));
    assert!(!log.stdout().contains("\"hi\""), "no arguments in the audit log");

    // A server stopped in Switchboard leaves hosts' lists (they are told) and refuses calls.
    home.run(&["stop", "echo"]).assert_ok();
    assert!(zed.notified("notifications/tools/list_changed"), "{:?}", zed.seen);
    let listed = zed.request("tools/list", json!({}));
    assert_eq!(listed["result"]["tools"], json!([]), "{listed}");
    let stopped = cursor.request("tools/call", json!({"name": "pid", "arguments": {}}));
    let message = stopped["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("echo is stopped in Switchboard"), "{stopped}");
    home.run(&["start", "echo"]).assert_ok();
    assert!(zed.notified("notifications/tools/list_changed"));
    let pid = running_pid(&home, "echo");
    assert_eq!(zed.call("echo__pid", json!({})), pid.to_string());

    // Revoking a host's token refuses it; the other host goes on.
    home.run(&["gateway", "token", "--host", "cursor", "--revoke"]).assert_ok();
    let refused = cursor.request("tools/call", json!({"name": "pid", "arguments": {}}));
    assert!(refused.get("error").is_some(), "{refused}");
    assert_eq!(zed.call("echo__echo", json!({"message": "still"})), "Echo: still");
}

#[test]
fn connect_starts_a_headless_owner_when_none_runs_and_it_keeps_serving() {
    let home = Home::new();
    home.run(&["add", "echo", "--", &fixture(), "ok"]).assert_ok();
    let mut bridge = Bridge::start(&home, &["--server", "echo", "--host", "ci"]);
    bridge.initialize();
    let owner: Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join("run/owner.json")).expect("an owner runs"),
    )
    .expect("owner.json");
    assert_eq!(owner["kind"], "serve");
    let owner_pid = owner["pid"].as_u64().expect("pid") as u32;
    let pid = running_pid(&home, "echo");
    assert_eq!(bridge.call("pid", json!({})), pid.to_string());
    // The host quits: the owner it started keeps serving for the next one.
    drop(bridge);
    assert!(alive(owner_pid), "the owner outlives the bridge that started it");
    let mut again = Bridge::start(&home, &["--server", "echo", "--host", "ci"]);
    again.initialize();
    assert_eq!(again.call("pid", json!({})), pid.to_string());
    drop(again);
    // Stop the owner the bridge started; it takes its server with it.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(owner_pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal the owner");
    assert!(wait_until(Duration::from_secs(30), || !alive(owner_pid)), "the owner stops");
    assert!(wait_until(Duration::from_secs(10), || !alive(pid)), "its server stops with it");
}

/// The tool names in a `tools/list` answer.
fn tool_names(answer: &Value) -> Vec<String> {
    answer["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools in {answer}"))
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_lazy_server_is_listed_from_its_pins_started_by_the_first_call_and_stopped_when_idle() {
    let home = Home::new();
    std::fs::write(
        home.path().join("config/settings.json"),
        "{ \"knowledgeBaseOffered\": true, \"idleStopSeconds\": 3 }\n",
    )
    .expect("settings");
    home.run(&["add", "echo", "--lazy", "--", &fixture(), "ok"]).assert_ok();
    // Its tools approved once (a server added by hand gets its current tools pinned).
    home.run(&["pins", "approve", "echo"]).assert_ok();
    let _serve = home.serve();
    assert!(
        wait_until(Duration::from_secs(30), || home.state_of("echo")["state"]["kind"] == "idle"),
        "a lazy server is idle, not started with its owner: {}",
        home.state_of("echo")
    );
    let text = home.run(&["status"]).stdout();
    assert!(text.contains("idle"), "{text}");

    // Hosts list its tools without starting it, on its own endpoint and in the aggregate.
    let mut cursor = Bridge::start(&home, &["--server", "echo", "--host", "cursor"]);
    cursor.initialize();
    let listed = tool_names(&cursor.request("tools/list", json!({})));
    assert!(
        listed.contains(&"echo".to_owned()) && listed.contains(&"pid".to_owned()),
        "{listed:?}"
    );
    let mut zed = Bridge::start(&home, &["--host", "zed"]);
    zed.initialize();
    assert!(tool_names(&zed.request("tools/list", json!({}))).contains(&"echo__pid".to_owned()));
    assert_eq!(home.state_of("echo")["state"]["kind"], "idle", "listing started nothing");

    // The first call starts it and goes through.
    let first = cursor.call("pid", json!({}));
    let pid = running_pid(&home, "echo");
    assert_eq!(first, pid.to_string());
    // After idleStopSeconds without calls it is stopped, back to idle (not "stopped").
    assert!(
        wait_until(Duration::from_secs(30), || home.state_of("echo")["state"]["kind"] == "idle"),
        "stopped when idle: {}",
        home.state_of("echo")
    );
    assert!(wait_until(Duration::from_secs(10), || !alive(pid)), "its process is gone");
    // The next call, from another host, starts it again.
    let again: u32 = zed.call("echo__pid", json!({})).parse().expect("a pid");
    assert_ne!(again, pid);
    assert_eq!(running_pid(&home, "echo"), again);
}

#[test]
fn a_per_session_server_gives_each_host_session_a_process_of_its_own() {
    let home = Home::new();
    home.run(&["add", "solo", "--per-session", "--lazy", "--", &fixture(), "ok"]).assert_ok();
    let _serve = home.serve();
    assert!(
        wait_until(Duration::from_secs(30), || home.state_of("solo")["state"]["kind"] == "idle"),
        "{}",
        home.state_of("solo")
    );
    assert_eq!(home.state_of("solo")["perSession"], true);
    let mut cursor = Bridge::start(&home, &["--server", "solo", "--host", "cursor"]);
    cursor.initialize();
    let mut zed = Bridge::start(&home, &["--server", "solo", "--host", "zed"]);
    zed.initialize();
    let cursor_pid: u32 = cursor.call("pid", json!({})).parse().expect("a pid");
    let zed_pid: u32 = zed.call("pid", json!({})).parse().expect("a pid");
    assert_ne!(cursor_pid, zed_pid, "each host session has a process of its own");
    assert_eq!(cursor.call("pid", json!({})), cursor_pid.to_string(), "and keeps it");
    assert_eq!(home.state_of("solo")["instances"], 2);
    // The lazy server itself was never started for them.
    assert_eq!(home.state_of("solo")["state"]["kind"], "idle");

    // A host that quits takes its process with it, and only its.
    cursor.close();
    assert!(wait_until(Duration::from_secs(20), || !alive(cursor_pid)), "pid {cursor_pid} lingers");
    assert!(alive(zed_pid));
    assert!(wait_until(Duration::from_secs(10), || home.state_of("solo")["instances"] == 1));
    zed.close();
    assert!(wait_until(Duration::from_secs(20), || !alive(zed_pid)), "pid {zed_pid} lingers");
}

#[test]
fn a_hosts_view_set_from_the_command_line_applies_to_its_running_sessions() {
    let home = Home::new();
    home.run(&["add", "one", "--", &fixture(), "ok"]).assert_ok();
    home.run(&["add", "two", "--", &fixture(), "ok"]).assert_ok();
    let _serve = home.serve();
    assert!(wait_until(Duration::from_secs(30), || {
        home.state_of("one")["state"]["kind"] == "running"
            && home.state_of("two")["state"]["kind"] == "running"
    }));
    let mut cursor = Bridge::start(&home, &["--host", "cursor"]);
    cursor.initialize();
    let before = tool_names(&cursor.request("tools/list", json!({})));
    assert!(before.contains(&"two__echo".to_owned()) && before.contains(&"one__hang".to_owned()));

    let set = home.run(&["hosts", "view", "cursor", "--hide", "two", "--deny", "one:hang"]);
    set.assert_ok();
    assert!(set.stdout().contains("hidden    two"), "{}", set.stdout());
    assert!(set.stdout().contains("  deny    hang"), "{}", set.stdout());
    // The running owner applies it and tells the session its lists changed.
    assert!(cursor.notified("notifications/tools/list_changed"), "no list_changed");
    let after = tool_names(&cursor.request("tools/list", json!({})));
    assert!(after.contains(&"one__echo".to_owned()), "{after:?}");
    assert!(
        !after.iter().any(|n| n.starts_with("two__")) && !after.contains(&"one__hang".to_owned()),
        "{after:?}"
    );
    let refused = cursor.request("tools/call", json!({"name": "one__hang", "arguments": {}}));
    assert!(refused.get("error").is_some(), "{refused}");
    // Another host is not affected.
    let mut zed = Bridge::start(&home, &["--host", "zed"]);
    zed.initialize();
    assert!(tool_names(&zed.request("tools/list", json!({}))).contains(&"two__echo".to_owned()));

    // Its budget counts what it sees now, and its live session.
    let budget = home.run(&["hosts", "budget", "cursor"]);
    budget.assert_ok();
    assert!(budget.stdout().contains("1 live session(s)"), "{}", budget.stdout());
    let listed = after.len();
    assert!(budget.stdout().starts_with(&format!("Cursor: {listed} tools")), "{}", budget.stdout());

    // Reset: cursor sees everything again.
    home.run(&["hosts", "view", "cursor", "--reset"]).assert_ok();
    assert!(wait_until(Duration::from_secs(10), || {
        tool_names(&cursor.request("tools/list", json!({}))).contains(&"two__echo".to_owned())
    }));
}

#[test]
fn a_view_change_that_takes_a_host_over_its_tool_limit_is_refused_unless_asked_for() {
    let home = Home::new();
    let names: Vec<String> = (1..=7).map(|i| format!("s{i}")).collect();
    for name in &names {
        home.run(&["add", name, "--", &fixture(), "ok"]).assert_ok();
    }
    let _serve = home.serve();
    assert!(wait_until(Duration::from_secs(60), || {
        names.iter().all(|n| home.state_of(n)["state"]["kind"] == "running")
    }));
    // Seven fixtures are over Cursor's 80 tools; hiding two brings it under (hiding never asks).
    home.run(&["hosts", "view", "cursor", "--hide", "s1", "--hide", "s2"]).assert_ok();
    let budget = home.run(&["hosts", "budget", "cursor", "--json"]);
    let under: Value = serde_json::from_str(&budget.stdout()).expect("json");
    let per_server = under["tools"].as_u64().expect("tools") / 5;
    assert!(under["tools"].as_u64() <= under["limits"]["tools"].as_u64(), "{under}");

    // Showing one again would take it over: refused, and nothing changed.
    let refused = home.run(&["hosts", "view", "cursor", "--show", "s1"]);
    refused.assert_code(2);
    assert!(refused.stderr().contains("over the 80 it takes"), "{}", refused.stderr());
    let settings =
        std::fs::read_to_string(home.path().join("config/settings.json")).expect("settings");
    let saved: Value = serde_json::from_str(&settings).expect("json");
    assert_eq!(saved["hostViews"]["cursor"]["hiddenServers"], json!(["s1", "s2"]));

    // Asked for, it is done.
    home.run(&["hosts", "view", "cursor", "--show", "s1", "--over"]).assert_ok();
    let after: Value =
        serde_json::from_str(&home.run(&["hosts", "budget", "cursor", "--json"]).stdout())
            .expect("json");
    assert_eq!(after["tools"].as_u64(), under["tools"].as_u64().map(|t| t + per_server), "{after}");
}
