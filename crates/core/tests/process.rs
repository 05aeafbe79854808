//! The managed child against real processes (the `sb-fixture` binary, argv only): the stop ladder
//! kills what ignores SIGTERM, the group ends with its leader, the exit is seen by every party, the
//! stderr ring stays bounded under a flood, and one-shot output is read within its bounds.

#![cfg(unix)]
#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use switchboard_core::process::{
    ChildOptions, CommandSpec, Exit, ManagedChild, OutputLimits, Pipes, Search, StderrOptions,
    StopLadder, StopStep, resolve, run_to_end_within,
};
use switchboard_testkit::{alive, fixture, wait_until};

fn fixture_spec(args: &[&str]) -> CommandSpec {
    CommandSpec {
        program: fixture().display().to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: BTreeMap::new(),
        cwd: None,
        inherit: Default::default(),
    }
}

fn spawn(args: &[&str], options: ChildOptions) -> (ManagedChild, Pipes) {
    let spec = fixture_spec(args);
    let resolved = resolve(&spec.program, None, Search::default()).expect("a path resolves");
    ManagedChild::spawn(&spec, &resolved, options).expect("spawns")
}

/// Waits (polling the ring) until the child has written a stderr line containing `needle`.
async fn said(child: &ManagedChild, needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.stderr_tail(1000).iter().any(|l| l.contains(needle)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

const QUICK: StopLadder = StopLadder {
    after_stdin_close: Duration::from_millis(300),
    after_terminate: Duration::from_millis(300),
    after_kill: Duration::from_secs(10),
};

#[tokio::test]
async fn a_child_that_ignores_sigterm_is_killed_by_the_ladder() {
    let (child, pipes) = spawn(&["ignore-sigterm"], ChildOptions::default());
    // Its SIGTERM handler is in place once it says it is serving.
    assert!(said(&child, "serving on stdio").await, "{:?}", child.stderr_tail(10));
    drop(pipes);
    let mut steps = Vec::new();
    let exit = child.stop(QUICK, |step| steps.push(step)).await;
    assert_eq!(
        steps,
        [
            StopStep::Terminate { waited: QUICK.after_stdin_close },
            StopStep::Kill { waited: QUICK.after_terminate }
        ]
    );
    assert_eq!(exit, Some(Exit::Signal(9)));
    assert_eq!(child.exit(), Some(Exit::Signal(9)));
    child.stderr_drained(Duration::from_secs(2)).await;
    let said = child.stderr_tail(100);
    assert!(said.iter().any(|l| l == "got SIGTERM, ignoring it"), "{said:?}");
    assert!(!alive(child.pid()));
}

#[tokio::test]
async fn a_well_behaved_child_leaves_when_stdin_closes_without_a_signal() {
    let (child, pipes) = spawn(&["ok"], ChildOptions::default());
    assert!(said(&child, "serving on stdio").await);
    drop(pipes.stdin);
    let mut steps = Vec::new();
    let ladder = StopLadder { after_stdin_close: Duration::from_secs(10), ..QUICK };
    let exit = child.stop(ladder, |step| steps.push(step)).await;
    assert_eq!(exit, Some(Exit::Code(0)));
    assert!(steps.is_empty(), "{steps:?}");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn when_the_leader_exits_the_rest_of_its_group_is_killed() {
    let (child, pipes) = spawn(&["fork-grandchild"], ChildOptions::default());
    assert!(said(&child, "serving on stdio").await);
    let grandchild: u32 = child
        .stderr_tail(100)
        .iter()
        .find_map(|l| l.strip_prefix("grandchild pid ")?.trim().parse().ok())
        .expect("the fixture names its grandchild");
    assert_eq!(switchboard_testkit::stat(grandchild).expect("stat").pgrp, child.pid());
    // Closing stdin ends the leader on its own; the grandchild would sleep forever.
    drop(pipes.stdin);
    let exit = child.exited_within(Duration::from_secs(10)).await;
    assert_eq!(exit, Some(Exit::Code(0)));
    assert!(
        wait_until(Duration::from_secs(2), || !alive(grandchild)),
        "grandchild {grandchild} outlived its leader"
    );
}

#[tokio::test]
async fn every_party_sees_the_exit_and_the_last_stderr_lines() {
    let (child, _pipes) = spawn(&["exit-at-start", "--exit-code", "3"], ChildOptions::default());
    let mut watch = child.exit_watch();
    let other = tokio::spawn(async move {
        watch.wait_for(Option::is_some).await.map(|exit| exit.clone()).ok().flatten()
    });
    assert_eq!(child.exited().await, Exit::Code(3));
    assert_eq!(other.await.expect("joins"), Some(Exit::Code(3)));
    assert_eq!(child.exited_within(Duration::ZERO).await, Some(Exit::Code(3)));
    child.stderr_drained(Duration::from_secs(2)).await;
    assert_eq!(child.stderr_tail(5), ["fatal: the API key is missing"]);
}

#[tokio::test]
async fn a_dropped_handle_stops_its_child() {
    let ladder = StopLadder { after_stdin_close: Duration::from_millis(100), ..QUICK };
    let (child, pipes) = spawn(&["sleep"], ChildOptions { on_drop: ladder, ..Default::default() });
    let pid = child.pid();
    let mut watch = child.exit_watch();
    drop((child, pipes));
    let exit = tokio::time::timeout(Duration::from_secs(10), watch.wait_for(Option::is_some))
        .await
        .expect("the ladder ran")
        .map(|exit| exit.clone())
        .ok()
        .flatten();
    // `sleep` has no SIGTERM handler: the second rung ends it.
    assert_eq!(exit, Some(Exit::Signal(15)));
    assert!(!alive(pid));
}

#[tokio::test]
async fn the_stderr_ring_stays_bounded_under_a_flood() {
    let seen = Arc::new(AtomicU64::new(0));
    let longest = Arc::new(AtomicU64::new(0));
    let options = ChildOptions {
        stderr: StderrOptions {
            max_line_bytes: 1024,
            max_total_bytes: None,
            ring_lines: 50,
            ring_bytes: 8 * 1024,
        },
        on_stderr: Some(Box::new({
            let (seen, longest) = (seen.clone(), longest.clone());
            move |line: &str| {
                seen.fetch_add(1, Ordering::Relaxed);
                longest.fetch_max(line.len() as u64, Ordering::Relaxed);
            }
        })),
        ..Default::default()
    };
    let (child, pipes) = spawn(&["flood-stderr"], options);
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.load(Ordering::Relaxed) < 50_000 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ring = child.stderr_tail(usize::MAX);
        assert!(ring.len() <= 50, "{} lines", ring.len());
        let bytes: usize = ring.iter().map(String::len).sum();
        assert!(bytes <= 8 * 1024, "{bytes} bytes");
    }
    assert!(seen.load(Ordering::Relaxed) >= 50_000, "the flood was not drained");
    // The fixture's 128 KiB lines arrive cut.
    let cut = 1024 + " …[line cut]".len() as u64;
    assert_eq!(longest.load(Ordering::Relaxed), cut);
    drop(pipes);
    assert!(child.stop(QUICK, |_| {}).await.is_some());
}

#[tokio::test]
async fn run_to_end_reads_a_huge_output_within_its_bounds() {
    const BYTES: u64 = 20 * 1024 * 1024;
    let limits = OutputLimits { max_line_bytes: 100, max_stream_bytes: 64 * 1024, tail_lines: 40 };
    let spec = fixture_spec(&["spew", "--bytes", &BYTES.to_string(), "--exit-code", "0"]);
    let mut passed: u64 = 0;
    let finished =
        run_to_end_within(&spec, Search::default(), Duration::from_secs(60), limits, |line| {
            passed += line.len() as u64;
        })
        .await
        .expect("runs");
    assert!(finished.success, "{finished:?}");
    assert_eq!(finished.status, "exited with code 0");
    // Each stream: at most its bound in lines, the rest read to the end and counted.
    assert!(passed <= 2 * (64 * 1024 + 200), "{passed} bytes passed on");
    let mark = format!("…[{} more bytes not shown]", BYTES - 64 * 1024);
    let marks = finished.tail.iter().filter(|l| **l == mark).count();
    assert_eq!(marks, 2, "{:?}", finished.tail);
    assert!(finished.tail.len() <= 40);
    assert!(finished.tail.iter().any(|l| l.starts_with("spew line ")), "{:?}", finished.tail);
}

#[tokio::test]
async fn run_to_end_kills_what_outlives_its_deadline() {
    let started = Instant::now();
    let finished = run_to_end_within(
        &fixture_spec(&["sleep"]),
        Search::default(),
        Duration::from_secs(1),
        OutputLimits::default(),
        |_| {},
    )
    .await
    .expect("runs");
    assert!(!finished.success);
    assert_eq!(finished.status, "did not finish within 1 s and was stopped");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn run_to_end_reports_a_failing_command_with_its_last_lines() {
    let finished = switchboard_core::process::run_to_end(
        &fixture_spec(&["exit-at-start", "--exit-code", "4"]),
        Search::default(),
        Duration::from_secs(30),
        |_| {},
    )
    .await
    .expect("runs");
    assert!(!finished.success);
    assert_eq!(finished.status, "exited with code 4");
    assert_eq!(finished.tail, ["fatal: the API key is missing"]);
}
