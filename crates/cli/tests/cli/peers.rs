//! Real third-party servers.

use std::time::Duration;

use nix::sys::signal::Signal;
use switchboard_testkit::{live_group_members, live_processes_mentioning, wait_until};

use crate::support::{Home, pid_in};

/// The MCP reference server from npm, started the way users start it: `npx -y`.
#[test]
fn server_everything_from_npm_starts_reports_ready_and_leaves_no_survivors() {
    let home = Home::new();
    let package = "@modelcontextprotocol/server-everything@2026.8.31";
    home.run(&["add", "everything", "--", "npx", "-y", package]).assert_ok();
    let serve = home.serve();
    // A cold npm cache downloads the package first.
    assert!(
        wait_until(Duration::from_secs(120), || {
            let state = home.state_of("everything")["state"].clone();
            assert_ne!(
                state["kind"],
                "failed",
                "{state}\n{}",
                home.run(&["logs", "everything"]).stdout()
            );
            state["kind"] == "running"
        }),
        "server-everything never became ready: {}",
        home.run(&["logs", "everything"]).stdout()
    );
    let status = home.state_of("everything");
    let leader = pid_in(&status);
    assert!(status["binary"].as_str().expect("binary").ends_with("npx"), "{status}");
    assert!(status["protocol"]["serverName"].as_str().is_some_and(|n| !n.is_empty()), "{status}");
    assert!(status["protocol"]["protocolVersion"].as_str().is_some_and(|v| v.starts_with("20")));
    let marker = "server-everything";
    // Only this owner's processes: other tests run server-everything at the same time. Its
    // children inherit its environment, this test's SWITCHBOARD_HOME included.
    let home_var = format!("SWITCHBOARD_HOME={}", home.path().display());
    let ours = |pid: &u32| {
        std::fs::read(format!("/proc/{pid}/environ"))
            .is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == home_var.as_bytes()))
    };
    let survivors = || -> Vec<u32> {
        live_processes_mentioning(marker)
            .into_iter()
            .filter(|pid| *pid != std::process::id())
            .filter(ours)
            .collect()
    };
    assert!(!survivors().is_empty(), "this owner's server-everything is running");

    home.run(&["stop", "everything"]).assert_ok();
    assert_eq!(home.state_of("everything")["state"]["kind"], "stopped");
    assert!(live_group_members(leader).is_empty(), "npx's group survived");
    assert!(
        wait_until(Duration::from_secs(2), || survivors().is_empty()),
        "survivors: {:?}",
        survivors()
    );
    assert_eq!(serve.signal_and_wait(Signal::SIGTERM).code(), Some(0));
}
