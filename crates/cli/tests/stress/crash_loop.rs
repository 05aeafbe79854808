//! Misbehaving servers against a real `serve` (#19): one that exits at once is given up after
//! five exits in a minute and then costs nothing; one that floods a host that does not read is
//! held back by that host alone, never by the owner or the other hosts.

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use serde_json::json;
use switchboard_testkit::wait_until;

use crate::{
    bridge::Bridge,
    rss_kib,
    support::{Home, fixture, pid_in},
};

/// User plus system CPU time of `pid`, in clock ticks (fields 14 and 15 of `/proc/PID/stat`).
fn cpu_ticks(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(rest) = text.rfind(')').map(|i| &text[i + 2..]) else { return 0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

fn ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|t| u64::try_from(t).ok())
        .unwrap_or(100)
}

#[test]
fn a_server_that_exits_at_once_is_given_up_after_five_exits_and_then_costs_nothing() {
    let _alone = crate::alone();
    let home = Home::new();
    let ledger = home.path().join("started.txt");
    let env = format!("SB_FIXTURE_PIDS={}", ledger.display());
    let fx = fixture();
    // It answers the handshake, then exits (a server that dies before its first handshake is
    // failed at once instead: its error is shown, not retried).
    home.run(&[
        "add",
        "crashy",
        "--restart",
        "always",
        "--env",
        &env,
        "--",
        &fx,
        "crash-after",
        "--after-ms",
        "100",
    ])
    .assert_ok();
    let serve = home.serve();
    let started = Instant::now();
    assert!(
        wait_until(Duration::from_secs(90), || home.state_of("crashy")["state"]["kind"]
            == "failed"),
        "not given up: {}",
        home.state_of("crashy")
    );
    let failed_after = started.elapsed();
    let state = home.state_of("crashy");
    let reason = state["state"]["reason"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("5 exits within 60 s"), "{reason}");
    assert!(reason.contains("crashing on purpose"), "its last words are kept: {reason}");
    let spawned = std::fs::read_to_string(&ledger).unwrap_or_default().lines().count();
    assert_eq!(spawned, 5, "five starts, no more");

    // Failed: no more attempts, no process of it, and the owner idles.
    let owner = serve.pid();
    let (cpu_before, at) = (cpu_ticks(owner), Instant::now());
    std::thread::sleep(Duration::from_secs(5));
    let used = cpu_ticks(owner) - cpu_before;
    let wall = at.elapsed();
    let spawned_later = std::fs::read_to_string(&ledger).unwrap_or_default().lines().count();
    assert_eq!(spawned_later, 5, "it was started again while failed");
    assert_eq!(home.state_of("crashy")["state"]["kind"], "failed");
    let share = used as f64 / ticks_per_second() as f64 / wall.as_secs_f64();
    eprintln!(
        "crash loop: given up after {:.1} s and 5 starts; while failed the owner used {used} \
         CPU ticks in {:.1} s ({:.2} % of a core)",
        failed_after.as_secs_f64(),
        wall.as_secs_f64(),
        share * 100.0
    );
    // A busy owner would use the whole core; an idle one a few ticks (status is polled above).
    assert!(
        share < 0.10,
        "the owner used {:.0} % of a core while the server was failed",
        share * 100.0
    );
}

/// A host that stops reading while its server floods it with log messages. Passed on as they
/// come, the flood would fill every buffer back to the server's stdout pipe and block the one
/// process all hosts share. It must hold up nothing: not the server (the gateway keeps reading it
/// and the deaf host misses what it cannot take), not the owner's control endpoint, not another
/// server, not the same server for another host.
#[test]
fn a_flood_to_a_host_that_stops_reading_blocks_neither_the_server_nor_anyone_else() {
    let _alone = crate::alone();
    let home = Home::new();
    let fx = fixture();
    home.run(&["add", "noisy", "--", &fx, "ok"]).assert_ok();
    home.run(&["add", "other", "--", &fx, "ok"]).assert_ok();
    let serve = home.serve();
    for name in ["noisy", "other"] {
        assert!(wait_until(Duration::from_secs(30), || home.state_of(name)["state"]["kind"]
            == "running"));
    }
    let noisy = pid_in(&home.state_of("noisy"));

    // The host that never reads its bridge's output again after the handshake.
    let mut deaf = home
        .command(&["connect", "--server", "noisy", "--host", "cursor"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn connect");
    {
        use std::io::{BufRead, Write};
        let stdin = deaf.stdin.as_mut().expect("stdin");
        let mut stdout = std::io::BufReader::new(deaf.stdout.as_mut().expect("stdout"));
        writeln!(
            stdin,
            "{}",
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "deaf", "version": "1"}}})
        )
        .expect("initialize");
        let mut line = String::new();
        stdout.read_line(&mut line).expect("initialize answer");
        writeln!(stdin, "{}", json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .expect("initialized");
        writeln!(
            stdin,
            "{}",
            json!({"jsonrpc": "2.0", "method": "logging/setLevel", "id": 2,
                   "params": {"level": "debug"}})
        )
        .expect("setLevel");
        writeln!(
            stdin,
            "{}",
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"name": "flood", "arguments": {"count": 1_000_000}}})
        )
        .expect("flood");
        stdin.flush().expect("flush");
    }
    // Let the flood fill every buffer on the way to the deaf host: its bridge's stdout pipe,
    // the bridge's HTTP stream, the gateway's relay for it.
    let server_cpu = cpu_ticks(noisy);
    std::thread::sleep(Duration::from_secs(5));
    let server_cpu = cpu_ticks(noisy) - server_cpu;
    let owner_rss_during = rss_kib(serve.pid());
    let waits = wait_channels(noisy);
    // The server did flood, and is not stuck writing: the gateway keeps reading it and drops
    // what the deaf host cannot take (its relay lags) instead of passing the block upstream.
    assert!(server_cpu >= 10, "the server barely ran ({server_cpu} ticks): no flood?");
    assert!(!waits.iter().any(|w| w.contains("pipe_write")), "the server is blocked: {waits:?}");

    let asked = Instant::now();
    let status = home.run(&["status", "--json"]);
    status.assert_ok();
    let status_took = asked.elapsed();

    let mut zed = Bridge::start(&home, &["--server", "other", "--host", "zed"]);
    zed.initialize();
    let asked = Instant::now();
    assert_eq!(zed.call("echo", json!({"message": "other"})), "Echo: other");
    let other_took = asked.elapsed();

    let mut claude = Bridge::start(&home, &["--server", "noisy", "--host", "claude-code"]);
    claude.initialize();
    let asked = Instant::now();
    assert_eq!(claude.call("echo", json!({"message": "same"})), "Echo: same");
    let same_took = asked.elapsed();
    assert_eq!(pid_in(&home.state_of("noisy")), noisy, "the same process, not a restart");
    let owner_rss_after = rss_kib(serve.pid());

    eprintln!(
        "full pipe: with a deaf host flooded for 5 s, status took {} ms, another server's call \
         {} ms, the same server's call for another host {} ms; owner RSS {owner_rss_during} -> \
         {owner_rss_after} KiB; the flooding server used {server_cpu} CPU ticks and its threads \
         wait in {waits:?}",
        status_took.as_millis(),
        other_took.as_millis(),
        same_took.as_millis()
    );
    let _ = deaf.kill();
    let _ = deaf.wait();
}

/// Where each thread of `pid` sleeps in the kernel (`pipe_write`: blocked on a full pipe).
fn wait_channels(pid: u32) -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    tasks.flatten().filter_map(|t| std::fs::read_to_string(t.path().join("wchan")).ok()).collect()
}
