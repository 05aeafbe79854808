//! The supervisor against real child processes: the fixture server in each of its modes.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use switchboard_core::{RestartPolicy, clock::ManualClock};
use switchboard_runtime::Error;

use switchboard_runtime::{
    Event, ServerState,
    supervisor::{Backoff, CrashLoop, Exit, StopTimeouts},
};
use switchboard_testkit::{alive, live_group_members, wait_until};

use crate::support::{fast_config, fixture_spec, harness, harness_with_clock, pid_of};

const LONG: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_behaved_server_starts_after_the_handshake_and_stops_cleanly() {
    let mut h = harness(fast_config());
    let name = h.add("good", fixture_spec("ok", &[], RestartPolicy::OnFailure)).await;

    let status = h.supervisor.start("good").await.expect("starts");
    let pid = pid_of(&status.state);
    assert!(alive(pid));
    let protocol = status.protocol.expect("negotiated");
    assert_eq!(protocol.protocol_version, "2026-07-28");
    assert_eq!(protocol.server_name.as_deref(), Some("sb-fixture"));
    assert!(status.binary.expect("binary").ends_with("sb-fixture"));
    let seen = h.wait_state(&name, LONG, |s| matches!(s, ServerState::Running { .. })).await;
    assert!(matches!(seen[0], ServerState::Starting { attempt: 1 }), "{seen:?}");

    // Stats arrive for the running tree (sampled every 200 ms; the deadline is generous because
    // a loaded 2-core CI machine once took over 5 s).
    assert!(
        wait_until(LONG, || {
            h.supervisor
                .status_of("good")
                .ok()
                .and_then(|s| s.stats)
                .is_some_and(|s| s.rss_bytes > 0 && s.processes >= 1)
        }),
        "no stats for a running server"
    );

    let stopped = h.supervisor.stop("good").await.expect("stops");
    assert_eq!(stopped.state, ServerState::Stopped);
    // Closing stdin was enough: no signal needed, a clean exit.
    assert_eq!(stopped.last_exit, Some(Exit::Code(0)));
    assert!(!alive(pid), "pid {pid} survived stop");
    let log = h.log_text(&name);
    assert!(log.contains("ready: sb-fixture"), "{log}");
    assert!(log.contains("sb-fixture ok serving on stdio"), "stderr not captured: {log}");
    assert!(!log.contains("SIGTERM"), "{log}");

    let logfile = std::fs::read_to_string(h.home.path().join("logs/good.log")).expect("log file");
    assert!(logfile.contains("stderr: sb-fixture ok serving on stdio"), "{logfile}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_exits_at_start_fails_with_its_stderr() {
    let mut h = harness(fast_config());
    h.add("broken", fixture_spec("exit-at-start", &["--exit-code", "3"], RestartPolicy::Always))
        .await;
    let error = h.supervisor.start("broken").await.expect_err("must fail");
    let message = error.to_string();
    assert_eq!(error.code(), "start_failed");
    assert!(message.contains("exited with code 3 before answering the MCP handshake"), "{message}");
    assert!(message.contains("the API key is missing"), "no stderr tail: {message}");
    let status = h.supervisor.status_of("broken").expect("status");
    assert!(matches!(status.state, ServerState::Failed { .. }), "{:?}", status.state);
    // An explicit start that fails is not retried by the restart policy.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.supervisor.status_of("broken").expect("status").restarts, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_command_fails_clearly() {
    let mut h = harness(fast_config());
    h.add("ghost", switchboard_core::ServerSpec::stdio("sb-no-such-command-anywhere", vec![]))
        .await;
    let error = h.supervisor.start("ghost").await.expect_err("must fail");
    assert!(error.to_string().contains("\"sb-no-such-command-anywhere\" was not found"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_server_is_restarted_after_backoff() {
    let mut h = harness(fast_config());
    let name = h
        .add(
            "crashy",
            fixture_spec("crash-after", &["--after-ms", "300"], RestartPolicy::OnFailure),
        )
        .await;
    let first = pid_of(&h.supervisor.start("crashy").await.expect("starts").state);
    let seen = h
        .wait_state(
            &name,
            LONG,
            |s| matches!(s, ServerState::Running { pid: Some(p), .. } if *p != first),
        )
        .await;
    assert!(
        seen.iter().any(|s| matches!(s, ServerState::BackingOff { attempt: 1, .. })),
        "{seen:?}"
    );
    let status = h.supervisor.status_of("crashy").expect("status");
    assert_eq!(status.restarts, 1);
    assert_eq!(status.last_exit, Some(Exit::Code(1)));
    assert!(!alive(first));
    h.supervisor.stop("crashy").await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_exit_is_not_restarted_under_on_failure() {
    let mut h = harness(fast_config());
    let name = h
        .add(
            "done",
            fixture_spec(
                "crash-after",
                &["--after-ms", "500", "--exit-code", "0"],
                RestartPolicy::OnFailure,
            ),
        )
        .await;
    h.supervisor.start("done").await.expect("starts");
    h.wait_state(&name, LONG, |s| *s == ServerState::Stopped).await;
    assert_eq!(h.supervisor.status_of("done").expect("status").restarts, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lazy_server_waits_idle_for_its_first_start_and_is_parked_back_to_idle() {
    let mut h = harness(fast_config());
    let mut lazy = fixture_spec("ok", &[], RestartPolicy::OnFailure);
    lazy.lazy = true;
    let name = h.add("lazy", lazy.clone()).await;
    h.add("eager", fixture_spec("ok", &[], RestartPolicy::OnFailure)).await;
    assert_eq!(h.supervisor.status_of("lazy").expect("status").state, ServerState::Idle);
    assert!(h.supervisor.status_of("lazy").expect("status").lazy);
    // The owner's start leaves it alone; the eager one starts.
    let failures = h.supervisor.start_enabled().await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(h.supervisor.status_of("lazy").expect("status").state, ServerState::Idle);
    assert!(h.supervisor.status_of("eager").expect("status").pid().is_some());
    assert!(h.supervisor.connection("lazy").is_none());
    // Parking an eager server does nothing.
    h.supervisor.park("eager").await.expect("park");
    assert!(h.supervisor.status_of("eager").expect("status").pid().is_some());
    // Started (a call came), then parked: its process is gone and it is idle, not stopped.
    let pid = h.supervisor.start("lazy").await.expect("starts").pid().expect("a pid");
    let parked = h.supervisor.park("lazy").await.expect("park");
    assert_eq!(parked.state, ServerState::Idle);
    assert!(!alive(pid));
    h.wait_state(&name, LONG, |s| *s == ServerState::Idle).await;
    // Stopped by a person, it is stopped; made eager while at rest, it shows stopped too.
    h.supervisor.stop("lazy").await.expect("stop");
    assert_eq!(h.supervisor.status_of("lazy").expect("status").state, ServerState::Stopped);
    lazy.lazy = false;
    h.add("lazy", lazy.clone()).await;
    lazy.lazy = true;
    h.add("lazy", lazy).await;
    h.wait_state(&name, LONG, |s| *s == ServerState::Idle).await;
    h.supervisor.stop("eager").await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_session_server_starts_a_recorded_process_per_instance_stopped_when_let_go() {
    let mut h = harness(fast_config());
    let mut solo = fixture_spec("ok", &[], RestartPolicy::OnFailure);
    solo.per_session = true;
    solo.lazy = true;
    let name = h.add("solo", solo).await;
    let shared = fixture_spec("ok", &[], RestartPolicy::OnFailure);
    h.add("shared", shared).await;
    // A shared server has no per-session processes.
    assert!(matches!(h.supervisor.instance("shared").await, Err(Error::StartFailed { .. })));

    let first = h.supervisor.instance("solo").await.expect("an instance");
    let second = h.supervisor.instance("solo").await.expect("another");
    assert_ne!(first.pid(), second.pid());
    assert!(alive(first.pid()) && alive(second.pid()));
    // It answered the handshake, and is the fixture.
    let details = first.session().details();
    assert_eq!(details.negotiated.server_name.as_deref(), Some("sb-fixture"));
    let status = h.supervisor.status_of("solo").expect("status");
    assert!(status.per_session);
    assert_eq!(status.instances, 2);
    // The lazy server itself was not started for them.
    assert_eq!(status.state, ServerState::Idle);
    // Recorded for the orphan sweep, under the server's name and the pid.
    let children = std::fs::read_to_string(h.home.path().join("run/children.json")).expect("pids");
    assert!(children.contains(&format!("solo#{}", first.pid())), "{children}");
    // Its stderr is in the server's log, marked with its pid.
    let marked = format!("[pid {}] sb-fixture ok serving on stdio", first.pid());
    assert!(wait_until(LONG, || h.log_text(&name).contains(&marked)), "{}", h.log_text(&name));

    let pid = first.pid();
    drop(first);
    assert!(wait_until(LONG, || !alive(pid)), "pid {pid} outlived its instance");
    assert!(alive(second.pid()));
    assert_eq!(h.supervisor.status_of("solo").expect("status").instances, 1);
    let children = std::fs::read_to_string(h.home.path().join("run/children.json")).expect("pids");
    assert!(!children.contains(&format!("solo#{pid}")), "{children}");
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crash_loop_limit_marks_the_server_failed() {
    let mut config = fast_config();
    config.crash_loop = CrashLoop { max_exits: 3, window: Duration::from_secs(60) };
    let mut h = harness(config);
    let name = h
        // Long enough that the handshake is answered before the crash on a loaded machine.
        .add("loop", fixture_spec("crash-after", &["--after-ms", "200"], RestartPolicy::Always))
        .await;
    h.supervisor.start("loop").await.expect("first start");
    let seen = h.wait_state(&name, LONG, |s| matches!(s, ServerState::Failed { .. })).await;
    let Some(ServerState::Failed { reason }) = seen.last() else { unreachable!() };
    assert!(reason.contains("crash loop: 3 exits within 60 s"), "{reason}");
    assert!(reason.contains("crashing on purpose"), "no stderr tail: {reason}");
    // Failed means failed: no more restarts.
    let restarts = h.supervisor.status_of("loop").expect("status").restarts;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let status = h.supervisor.status_of("loop").expect("status");
    assert_eq!(status.restarts, restarts);
    assert!(matches!(status.state, ServerState::Failed { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backoff_doubles_from_one_second_to_the_cap_on_an_injected_clock() {
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let mut config = fast_config();
    config.backoff = Backoff::default(); // 1 s doubling to 60 s
    config.crash_loop = CrashLoop { max_exits: 1000, window: Duration::from_secs(60) };
    let mut h = harness_with_clock(config, Arc::new(clock.clone()));
    let name = h
        // Long enough that the first handshake is answered before the crash on a loaded machine
        // (with 10 ms, a busy machine lost the race and the first start failed).
        .add("flappy", fixture_spec("crash-after", &["--after-ms", "200"], RestartPolicy::Always))
        .await;
    h.supervisor.start("flappy").await.expect("starts");
    let seen = h
        .wait_state(&name, Duration::from_secs(60), |s| {
            matches!(s, ServerState::BackingOff { attempt: 8, .. })
        })
        .await;
    let backoffs: Vec<u32> = seen
        .iter()
        .filter_map(|s| match s {
            ServerState::BackingOff { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(backoffs, [1, 2, 3, 4, 5, 6, 7, 8]);
    let slept: Vec<u64> = clock.sleeps().iter().map(Duration::as_secs).take(7).collect();
    assert_eq!(slept, [1, 2, 4, 8, 16, 32, 60]);
    h.supervisor.stop("flappy").await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_ignores_sigterm_is_killed() {
    let mut config = fast_config();
    config.stop = StopTimeouts {
        after_stdin_close: Duration::from_millis(300),
        after_sigterm: Duration::from_millis(300),
    };
    let mut h = harness(config);
    let name = h.add("stubborn", fixture_spec("ignore-sigterm", &[], RestartPolicy::Always)).await;
    let pid = pid_of(&h.supervisor.start("stubborn").await.expect("starts").state);
    let stopped = h.supervisor.stop("stubborn").await.expect("stops");
    assert_eq!(stopped.state, ServerState::Stopped);
    assert_eq!(stopped.last_exit, Some(Exit::Signal(9)));
    assert!(!alive(pid));
    let log = h.log_text(&name);
    assert!(log.contains("sending SIGTERM"), "{log}");
    assert!(log.contains("got SIGTERM, ignoring it"), "{log}");
    assert!(log.contains("sending SIGKILL"), "{log}");
    // A stop is not a crash: nothing restarts it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.supervisor.status_of("stubborn").expect("status").state, ServerState::Stopped);
}

fn grandchild_pid(log: &str) -> u32 {
    log.lines()
        .find_map(|l| l.strip_prefix("grandchild pid "))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no grandchild pid in log:\n{log}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_server_ends_its_grandchildren() {
    let mut h = harness(fast_config());
    let name = h.add("forky", fixture_spec("fork-grandchild", &[], RestartPolicy::Never)).await;
    let pid = pid_of(&h.supervisor.start("forky").await.expect("starts").state);
    let grandchild = grandchild_pid(&h.log_text(&name));
    assert!(alive(grandchild));
    assert_eq!(switchboard_testkit::stat(grandchild).expect("stat").pgrp, pid);
    assert!(
        wait_until(Duration::from_secs(5), || {
            h.supervisor
                .status_of("forky")
                .ok()
                .and_then(|s| s.stats)
                .is_some_and(|s| s.processes >= 2)
        }),
        "stats must cover the whole tree"
    );
    h.supervisor.stop("forky").await.expect("stops");
    assert!(
        wait_until(Duration::from_secs(2), || live_group_members(pid).is_empty()),
        "survivors in group {pid}: {:?}",
        live_group_members(pid)
    );
    assert!(!alive(grandchild));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_leader_dies_its_group_is_ended_too() {
    let mut h = harness(fast_config());
    let name = h.add("orphaner", fixture_spec("fork-grandchild", &[], RestartPolicy::Never)).await;
    let pid = pid_of(&h.supervisor.start("orphaner").await.expect("starts").state);
    let grandchild = grandchild_pid(&h.log_text(&name));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::SIGKILL)
        .expect("kill the leader");
    let seen = h.wait_state(&name, LONG, |s| matches!(s, ServerState::Failed { .. })).await;
    assert!(
        matches!(seen.last(), Some(ServerState::Failed { reason }) if reason.contains("signal 9"))
    );
    assert!(
        wait_until(Duration::from_secs(2), || !alive(grandchild)),
        "grandchild {grandchild} outlived its leader"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stderr_flood_keeps_memory_and_files_bounded() {
    let mut config = fast_config();
    config.logs.ring_lines = 500;
    config.logs.ring_bytes = 64 * 1024;
    config.logs.file_bytes = 256 * 1024;
    config.logs.file_keep = 2;
    config.logs.max_line_bytes = 1024;
    let mut h = harness(config);
    let name = h.add("noisy", fixture_spec("flood-stderr", &[], RestartPolicy::Never)).await;
    h.supervisor.start("noisy").await.expect("starts despite the flood");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let lines = h.supervisor.logs("noisy").expect("logs");
    assert!(lines.len() <= 500, "{} lines kept", lines.len());
    let bytes: usize = lines.iter().map(|l| l.text.len()).sum();
    assert!(bytes <= 64 * 1024, "{bytes} bytes kept");
    assert!(lines.iter().all(|l| l.text.len() <= 1024 + 20), "a line was not cut");
    let newest: u64 = lines
        .iter()
        .rev()
        .find_map(|l| l.text.strip_prefix("flood line ").and_then(|n| n.parse().ok()))
        .expect("flood lines");
    assert!(newest > 1000, "the reader fell behind: newest line {newest}");
    let logs_dir = h.home.path().join("logs");
    let files: Vec<_> = std::fs::read_dir(&logs_dir).expect("ls").flatten().collect();
    assert!(files.len() <= 3, "{files:?}");
    for file in files {
        let size = file.metadata().expect("meta").len();
        assert!(size <= 256 * 1024, "{:?} is {size} bytes", file.path());
    }
    h.supervisor.stop(name.as_str()).await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out_and_is_killed() {
    let mut config = fast_config();
    config.startup_timeout = Duration::from_millis(500);
    let mut h = harness(config);
    h.add("mute", fixture_spec("silent", &[], RestartPolicy::Always)).await;
    let error = h.supervisor.start("mute").await.expect_err("times out");
    assert!(error.to_string().contains("no MCP handshake within 0.5 s"), "{error}");
    assert!(switchboard_testkit::live_processes_mentioning("silent")
        .iter()
        .all(|pid| switchboard_testkit::stat(*pid).is_none_or(|s| s.ppid != std::process::id())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_interrupts_a_start_in_progress() {
    let mut h = harness(fast_config());
    let name = h.add("slow", fixture_spec("silent", &[], RestartPolicy::Always)).await;
    let supervisor = h.supervisor.clone();
    let start = tokio::spawn(async move { supervisor.start("slow").await });
    h.wait_state(&name, LONG, |s| matches!(s, ServerState::Starting { .. })).await;
    let started = std::time::Instant::now();
    let stopped = h.supervisor.stop("slow").await.expect("stops");
    assert_eq!(stopped.state, ServerState::Stopped);
    assert!(started.elapsed() < Duration::from_secs(10));
    let result = start.await.expect("join");
    assert!(matches!(result, Err(Error::StartFailed { .. })), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_tell_the_whole_story_and_removal_stops_the_server() {
    let mut h = harness(fast_config());
    let name = h.add("story", fixture_spec("ok", &[], RestartPolicy::Never)).await;
    let pid = pid_of(&h.supervisor.start("story").await.expect("starts").state);
    h.servers.clear();
    h.supervisor.sync(&h.servers).await;
    assert!(!alive(pid), "removing a server must stop it");
    let mut kinds = Vec::new();
    while let Ok(event) = h.events.try_recv() {
        match event {
            Event::ServerAdded { .. } => kinds.push("added".to_owned()),
            Event::StateChanged { state, .. } => kinds.push(state.label().to_owned()),
            Event::ServerRemoved { name: n } if n == name => kinds.push("removed".to_owned()),
            _ => {}
        }
    }
    assert_eq!(kinds, ["added", "starting", "running", "stopping", "stopped", "removed"]);
    assert!(h.supervisor.status().is_empty());
}

/// A child its owner spawned but died before recording (the kill loop's window) is still found:
/// it carries the owner's run id, and a run that did not end cleanly is swept whole. A process
/// marked with another run (one that ended, or was never recorded as open) is left alone.
#[cfg(target_os = "linux")]
#[test]
fn a_child_its_dead_owner_never_recorded_is_found_by_its_run_mark() {
    #![allow(clippy::disallowed_methods)] // the test plays the dead owner's spawn itself
    let home = switchboard_testkit::temp_home();
    let run_dir = home.path().join("run");
    std::fs::create_dir_all(&run_dir).expect("run dir");
    let children = run_dir.join("children.json");
    std::fs::write(run_dir.join("runs.json"), r#"["4242-1"]"#).expect("runs");
    let spawn = |run: &str| {
        std::process::Command::new(switchboard_testkit::fixture())
            .arg("sleep")
            .env(switchboard_runtime::supervisor::RUN_VAR, run)
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("spawn the fixture")
    };
    let mut orphan = spawn("4242-1");
    let mut bystander = spawn("4242-2");
    assert!(wait_until(LONG, || {
        std::fs::read(format!("/proc/{}/environ", orphan.id()))
            .is_ok_and(|e| e.windows(6).any(|w| w == b"4242-1"))
    }));

    let swept = switchboard_runtime::supervisor::sweep_orphans(&children);
    assert_eq!(swept.len(), 1, "{swept:?}");
    assert_eq!((swept[0].pid, swept[0].server.as_str()), (orphan.id(), "run 4242-1"));
    assert!(orphan.wait().expect("wait").code().is_none(), "ended by a signal");
    assert!(bystander.try_wait().expect("try_wait").is_none(), "another run's process was ended");
    assert_eq!(std::fs::read_to_string(run_dir.join("runs.json")).expect("runs"), "[]");
    // Nothing left to sweep the second time.
    assert!(switchboard_runtime::supervisor::sweep_orphans(&children).is_empty());
    let _ = bystander.kill();
    let _ = bystander.wait();
}
