//! The real app binary under Xvfb and a private D-Bus session: it becomes the owner of the
//! servers, the control endpoint drives it, and SIGTERM stops every server before it exits 0.
//! (The full window and tray suites arrive with the tray-app issue.)

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly
#![allow(clippy::disallowed_methods)] // runs the app binary under test

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use switchboard_runtime::{OwnerInfo, ServerState, control::ControlClient};

use switchboard_core::{Paths, Registry, ServerSpec};
use switchboard_testkit::{alive, wait_until};

#[test]
fn the_app_owns_the_servers_and_stops_them_on_sigterm() {
    let scratch = switchboard_testkit::temp_home();
    let home = scratch.path().join("home");
    let paths = Paths::under(&home);
    let fixture = switchboard_testkit::fixture().display().to_string();
    Registry::new(&paths)
        .add("good".parse().expect("name"), ServerSpec::stdio(fixture, vec!["ok".into()]))
        .expect("register");

    let mut app = spawn_app(scratch.path(), &home);
    let log = || std::fs::read_to_string(scratch.path().join("app.log")).unwrap_or_default();

    assert!(
        wait_until(Duration::from_secs(60), || OwnerInfo::read(&paths)
            .is_some_and(|i| i.kind == "app")),
        "the app did not become the owner: {}",
        log()
    );
    let app_pid = OwnerInfo::read(&paths).expect("owner").pid;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let client = ControlClient::connect(&paths).expect("control endpoint");
    let mut server_pid = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            let status = runtime.block_on(client.status()).expect("status");
            server_pid = status.iter().find_map(|s| match s.state {
                ServerState::Running { pid, .. } => pid,
                _ => None,
            });
            server_pid.is_some()
        }),
        "the enabled server was not started: {}",
        log()
    );
    let server_pid = server_pid.expect("pid");

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(app_pid as i32), nix::sys::signal::SIGTERM)
        .expect("signal the app");
    let mut code = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            code = app.try_wait().expect("wait").map(|s| s.code());
            code.is_some()
        }),
        "the app did not exit: {}",
        log()
    );
    assert_eq!(code, Some(Some(0)), "{}", log());
    assert!(!alive(server_pid), "server {server_pid} survived the app");
    assert!(log().contains("stopped: exited with code 0"), "{}", log());
}

/// One `xvfb-run` + private D-Bus session running the app in `home`.
fn spawn_app(scratch: &std::path::Path, home: &std::path::Path) -> std::process::Child {
    let mut command = Command::new("xvfb-run");
    command
        .args(["-a", "dbus-run-session", "--", env!("CARGO_BIN_EXE_switchboard-app")])
        .env("SWITCHBOARD_HOME", home)
        .env("NO_AT_BRIDGE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(scratch.join("app.log")).expect("log"));
    for (var, dir) in [
        ("XDG_DATA_HOME", "xdg-data"),
        ("XDG_CACHE_HOME", "xdg-cache"),
        ("XDG_CONFIG_HOME", "xdg-config"),
        ("XDG_RUNTIME_DIR", "xdg-run"),
        ("TMPDIR", "tmp"),
    ] {
        let path = scratch.join(dir);
        std::fs::create_dir_all(&path).expect("scratch dir");
        command.env(var, path);
    }
    command.spawn().expect("xvfb-run (install xvfb and dbus-daemon)")
}

/// `(pid, start ticks, parent)` of every live process, from `/proc`.
fn processes() -> Vec<(u32, u64, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let rest = &text[text.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            if matches!(fields.first()?.chars().next()?, 'Z' | 'X') {
                return None;
            }
            Some((pid, fields.get(19)?.parse().ok()?, fields.get(1)?.parse().ok()?))
        })
        .collect()
}

/// Every live process descended from `root` (itself included), with its start time.
fn tree(root: u32) -> Vec<(u32, u64)> {
    let all = processes();
    let mut found: Vec<(u32, u64)> =
        all.iter().filter(|p| p.0 == root).map(|p| (p.0, p.1)).collect();
    let mut i = 0;
    while i < found.len() {
        let parent = found[i].0;
        found.extend(all.iter().filter(|p| p.2 == parent).map(|p| (p.0, p.1)));
        i += 1;
    }
    found
}

/// The app's own process under `root` (xvfb-run → dbus-run-session → app).
fn app_under(root: u32) -> Option<u32> {
    let app = std::path::Path::new(env!("CARGO_BIN_EXE_switchboard-app")).canonicalize().ok()?;
    tree(root)
        .into_iter()
        .map(|(pid, _)| pid)
        .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app))
}

/// The app SIGKILLed at a random moment, `APP_KILL_CYCLES` times (default 30 here: each cycle
/// starts X, D-Bus and a WebKit window; `APP_KILL_CYCLES=200` is the long run): whatever the app
/// and its servers had started — servers, the grandchildren they fork, WebKit's helpers — is gone
/// once the next app is the owner, by pid and start time.
#[test]
fn the_app_killed_at_any_moment_leaves_nothing_behind_once_the_next_one_starts() {
    let scratch = switchboard_testkit::temp_home();
    let home = scratch.path().join("home");
    let paths = Paths::under(&home);
    let fixture = switchboard_testkit::fixture().display().to_string();
    let ledger = scratch.path().join("started.txt");
    let mut spec = ServerSpec::stdio(fixture, vec!["fork-grandchild".into()]);
    if let switchboard_core::Launch::Stdio { env, .. } = &mut spec.launch {
        env.insert("SB_FIXTURE_PIDS".into(), ledger.display().to_string());
    }
    Registry::new(&paths).add("forky".parse().expect("name"), spec).expect("register");
    let cycles: usize =
        std::env::var("APP_KILL_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let mut seed: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("app kill loop: seed {seed}");
    let mut random = |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    let log = || std::fs::read_to_string(scratch.path().join("app.log")).unwrap_or_default();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let started = std::time::Instant::now();
    // Processes of earlier cycles: every app's tree just before its kill, and the fixtures' ledger.
    let mut earlier: Vec<(u32, u64)> = Vec::new();
    let mut owner_checks = 0;

    for cycle in 0..=cycles {
        let mut root = spawn_app(scratch.path(), &home);
        if cycle == cycles || cycle % 3 != 0 {
            let owner = wait_until(Duration::from_secs(60), || {
                OwnerInfo::read(&paths)
                    .is_some_and(|i| i.kind == "app" && Some(i.pid) == app_under(root.id()))
            });
            assert!(owner, "cycle {cycle}: the app did not become the owner: {}", log());
            // It has swept: nothing of an earlier cycle may be alive (same pid, same start).
            let live = processes();
            let mut left: Vec<String> = earlier
                .iter()
                .filter(|(pid, ticks)| live.iter().any(|p| p.0 == *pid && p.1 == *ticks))
                .map(|(pid, _)| {
                    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                    format!("{pid}: {}", String::from_utf8_lossy(&cmd).replace('\0', " "))
                })
                .collect();
            for line in std::fs::read_to_string(&ledger).unwrap_or_default().lines() {
                let f: Vec<u64> = line.split(' ').filter_map(|f| f.parse().ok()).collect();
                let [pid, _, ticks] = f[..] else { continue };
                let mine = tree(root.id()).iter().any(|p| p.0 == pid as u32);
                if !mine && live.iter().any(|p| p.0 == pid as u32 && p.1 == ticks) {
                    left.push(format!("{pid}: a fixture of an earlier cycle"));
                }
            }
            left.sort();
            left.dedup();
            assert!(left.is_empty(), "cycle {cycle}: left behind:\n{}", left.join("\n"));
            owner_checks += 1;
        }
        if cycle == cycles {
            // The last one quits properly.
            let app = app_under(root.id()).expect("app");
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(app as i32),
                nix::sys::signal::SIGTERM,
            )
            .expect("signal the app");
            assert!(wait_until(Duration::from_secs(30), || root
                .try_wait()
                .ok()
                .flatten()
                .is_some()));
            break;
        }
        // Kill it: during start (no owner yet, cycle % 3 == 0), while its server starts, or
        // while it stops that server.
        match cycle % 3 {
            0 => std::thread::sleep(Duration::from_millis(random(1500))),
            1 => std::thread::sleep(Duration::from_millis(random(200))),
            _ => {
                let client = ControlClient::connect(&paths).expect("control endpoint");
                let _ = wait_until(Duration::from_secs(20), || {
                    runtime.block_on(client.status()).is_ok_and(|s| {
                        s.iter().any(|s| matches!(s.state, ServerState::Running { .. }))
                    })
                });
                let stopping = runtime.spawn(async move { client.action("forky", "stop").await });
                std::thread::sleep(Duration::from_millis(random(300)));
                stopping.abort();
            }
        }
        let app = wait_until(Duration::from_secs(60), || app_under(root.id()).is_some())
            .then(|| app_under(root.id()))
            .flatten();
        earlier.extend(tree(root.id()));
        if let Some(app) = app {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(app as i32),
                nix::sys::signal::SIGKILL,
            );
        }
        assert!(
            wait_until(Duration::from_secs(30), || root.try_wait().ok().flatten().is_some()),
            "cycle {cycle}: xvfb-run did not end after its app was killed"
        );
        // Xvfb and D-Bus belong to the harness, not to the app: they end with xvfb-run.
        let harness: Vec<(u32, u64)> = earlier
            .iter()
            .copied()
            .filter(|(pid, _)| {
                std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| {
                    matches!(c.trim(), "Xvfb" | "dbus-daemon" | "xvfb-run" | "dbus-run-sessio")
                })
            })
            .collect();
        earlier.retain(|p| !harness.contains(p));
    }
    eprintln!(
        "app kill loop: {cycles} kills in {:.0} s, {owner_checks} checks, {} fixture processes \
         started, 0 left behind",
        started.elapsed().as_secs_f64(),
        std::fs::read_to_string(&ledger).unwrap_or_default().lines().count()
    );
}
