//! `serve` plus the CLI end to end: start/stop/restart/status/logs/events through the control
//! endpoint, a second owner refused, graceful exit on SIGTERM, and the orphan sweep after SIGKILL.

use std::{io::BufRead, time::Duration};

use nix::sys::signal::Signal;
use switchboard_testkit::{alive, live_group_members, wait_until};

use crate::support::{Home, fixture, pid_in};

#[test]
fn serve_and_the_cli_drive_servers_end_to_end() {
    let home = Home::new();
    let fx = fixture();
    home.run(&["add", "one", "--", &fx, "ok"]).assert_ok();
    home.run(&["add", "two", "--", &fx, "fork-grandchild"]).assert_ok();
    home.run(&["add", "off", "--disabled", "--", &fx, "ok"]).assert_ok();
    let serve = home.serve();

    // Enabled servers start with their owner; disabled ones wait.
    assert!(wait_until(Duration::from_secs(20), || {
        home.state_of("one")["state"]["kind"] == "running"
            && home.state_of("two")["state"]["kind"] == "running"
    }));
    assert_eq!(home.state_of("off")["state"]["kind"], "stopped");
    let one = pid_in(&home.state_of("one"));
    let two = pid_in(&home.state_of("two"));

    let table = home.run(&["status"]);
    table.assert_ok();
    assert!(table.stdout().starts_with("NAME"), "{}", table.stdout());
    assert!(table.stdout().contains(&one.to_string()), "{}", table.stdout());

    // A second owner is refused, naming the first.
    let second = home.run(&["serve"]);
    second.assert_code(1);
    assert!(second.stderr().contains("already owns the servers in"), "{}", second.stderr());
    assert!(second.stderr().contains(&format!("pid {}", serve.pid())), "{}", second.stderr());

    // Events stream while we restart.
    let mut events =
        home.command(&["events"]).stdout(std::process::Stdio::piped()).spawn().expect("events");
    std::thread::sleep(Duration::from_millis(300));
    let restarted = home.run(&["restart", "one"]);
    restarted.assert_ok();
    let new_one = pid_in(&home.state_of("one"));
    assert_ne!(new_one, one);
    assert!(!alive(one));
    let reader = std::io::BufReader::new(events.stdout.take().expect("stdout"));
    let mut kinds = Vec::new();
    for line in reader.lines() {
        let event: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
        if event["event"] == "state_changed" && event["name"] == "one" {
            kinds.push(event["state"]["kind"].as_str().expect("kind").to_owned());
            if kinds.last().is_some_and(|k| k == "running") {
                break;
            }
        }
    }
    let _ = events.kill();
    let _ = events.wait();
    // A restart is not a stop: it goes from stopping straight to starting.
    assert_eq!(kinds, ["stopping", "starting", "running"]);

    // Logs: history with our own lines and the server's stderr.
    let logs = home.run(&["logs", "one"]);
    logs.assert_ok();
    assert!(logs.stdout().contains("[switchboard] ready: sb-fixture"), "{}", logs.stdout());
    assert!(logs.stdout().contains("sb-fixture ok serving on stdio"), "{}", logs.stdout());

    // logs -f shows new lines as they come.
    let mut follow = home
        .command(&["logs", "off", "-f"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("logs -f");
    std::thread::sleep(Duration::from_millis(300));
    home.run(&["start", "off"]).assert_ok();
    let mut reader = std::io::BufReader::new(follow.stdout.take().expect("stdout"));
    let mut seen = String::new();
    while !seen.contains("ready: sb-fixture") {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).expect("read") > 0, "logs -f ended early: {seen}");
        seen.push_str(&line);
    }
    let _ = follow.kill();
    let _ = follow.wait();

    home.run(&["stop", "one"]).assert_ok();
    assert_eq!(home.state_of("one")["state"]["kind"], "stopped");
    home.run(&["start", "one"]).assert_ok();
    home.run(&["start", "nope"]).assert_code(1);

    // `add` and `remove` reach the running owner.
    home.run(&["add", "late", "--", &fx, "ok"]).assert_ok();
    home.run(&["start", "late"]).assert_ok();
    let late = pid_in(&home.state_of("late"));
    home.run(&["remove", "late"]).assert_ok();
    assert!(!alive(late), "a removed server must be stopped");

    // SIGTERM: every server stops gracefully, serve exits 0, nothing survives.
    let one = pid_in(&home.state_of("one"));
    let status = serve.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0));
    for pid in [one, two] {
        assert!(live_group_members(pid).is_empty(), "group {pid} survived serve");
    }
    assert!(!home.path().join("run/owner.json").exists());
}

#[test]
fn a_killed_owner_s_servers_are_ended_by_the_next_owner() {
    let home = Home::new();
    let fx = fixture();
    // One server forks a grandchild (the leader exits when its stdin closes, the grandchild does
    // not); the other ignores both stdin's end and SIGTERM. Both outlive a SIGKILLed owner.
    home.run(&["add", "forky", "--", &fx, "fork-grandchild"]).assert_ok();
    home.run(&["add", "stubborn", "--", &fx, "ignore-sigterm"]).assert_ok();
    let serve = home.serve();
    assert!(wait_until(Duration::from_secs(20), || {
        home.state_of("forky")["state"]["kind"] == "running"
            && home.state_of("stubborn")["state"]["kind"] == "running"
    }));
    let forky = pid_in(&home.state_of("forky"));
    let stubborn = pid_in(&home.state_of("stubborn"));
    let logs = home.run(&["logs", "forky"]).stdout();
    let grandchild: u32 = logs
        .lines()
        .find_map(|l| l.split("grandchild pid ").nth(1))
        .and_then(|p| p.trim().parse().ok())
        .expect("grandchild pid in logs");

    // SIGKILL: the owner gets no chance to clean up.
    let status = serve.signal_and_wait(Signal::SIGKILL);
    assert_eq!(status.code(), None);
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(grandchild), "the grandchild should be orphaned, still running");
    assert!(alive(stubborn), "the stubborn server should be orphaned, still running");

    let next = home.serve();
    assert!(
        wait_until(Duration::from_secs(10), || !alive(grandchild) && !alive(stubborn)),
        "the next owner did not end the orphans"
    );
    let said = next.stderr_text();
    assert!(said.contains("of forky (pid"), "{said}");
    assert!(said.contains("of stubborn (pid"), "{said}");
    // The new owner starts the (enabled) servers itself, in new groups.
    assert!(wait_until(Duration::from_secs(20), || {
        let state = home.state_of("forky");
        state["state"]["kind"] == "running" && pid_in(&state) != forky
    }));
    let status = next.signal_and_wait(Signal::SIGINT);
    assert_eq!(status.code(), Some(0));
    assert!(live_group_members(forky).is_empty());
    assert!(live_group_members(stubborn).is_empty());
}

/// A GUI launch does not inherit the login shell's PATH (nvm, Homebrew, ~/.local/bin). A bare
/// command missing from serve's own PATH is found on the login shell's PATH, the child gets that
/// PATH too, and `show` says which binary was used and how it was found.
#[test]
fn bare_commands_are_found_on_the_login_shell_path() {
    let home = Home::new();
    let fixture_dir = std::path::Path::new(&fixture()).parent().expect("dir").to_owned();
    let shell = home.path().join("fake-login-shell");
    std::fs::write(
        &shell,
        format!(
            "#!/bin/sh\necho 'motd noise'\nprintf 'PATH=%s\\n' '{}:/usr/bin:/bin'\n",
            fixture_dir.display()
        ),
    )
    .expect("write shell");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shell, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    home.run(&["add", "bare", "--", "sb-fixture", "ok"]).assert_ok();
    let stderr = std::fs::File::create(home.path().join("serve.stderr")).expect("stderr");
    let mut serve = home
        .command(&["serve"])
        .env("SHELL", &shell)
        .env("PATH", "/usr/bin:/bin")
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("serve");
    let ready = wait_until(Duration::from_secs(20), || {
        home.path().join("run/owner.json").exists()
            && home.run(&["status", "--json"]).stdout().contains("\"running\"")
    });
    let log = std::fs::read_to_string(home.path().join("serve.stderr")).unwrap_or_default();
    assert!(ready, "the bare command did not start: {log}");
    let show = home.run(&["show", "bare"]);
    show.assert_ok();
    let expected = format!("binary:    {}/sb-fixture (login shell PATH)", fixture_dir.display());
    assert!(show.stdout().contains(&expected), "{}", show.stdout());
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(serve.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    assert_eq!(serve.wait().expect("wait").code(), Some(0));
}

/// `serve` and the app start an owner the same way (`switchboard_api::launch`): on a first start
/// both register the built-in knowledge base and run it.
#[test]
fn serve_registers_the_knowledge_base_as_the_app_does() {
    let home = Home::fresh();
    let serve = home.serve();
    let text = std::fs::read_to_string(home.registry_file()).expect("registry");
    let registry: serde_json::Value = serde_json::from_str(&text).expect("json");
    let entry = &registry["servers"]["knowledge-base"];
    assert_eq!(entry["args"][0], "kb", "{text}");
    assert_eq!(entry["args"][1], "serve", "{text}");
    assert!(
        wait_until(Duration::from_secs(30), || {
            home.state_of("knowledge-base")["state"]["kind"] == "running"
        }),
        "{}",
        serve.stderr_text()
    );
}

#[test]
fn shutdown_asks_the_owner_to_stop_its_servers_and_quit() {
    let home = Home::new();
    let fx = fixture();
    // Nothing to stop: said plainly, and not an error.
    let none = home.run(&["shutdown"]);
    none.assert_ok();
    assert_eq!(none.stdout().trim(), "no Switchboard was running");

    home.run(&["add", "forky", "--", &fx, "fork-grandchild"]).assert_ok();
    let mut serve = home.serve();
    assert!(wait_until(Duration::from_secs(20), || {
        home.state_of("forky")["state"]["kind"] == "running"
    }));
    let forky = pid_in(&home.state_of("forky"));
    let done = home.run(&["shutdown"]);
    done.assert_ok();
    assert_eq!(done.stdout().trim(), "Switchboard stopped its servers and quit");
    // `shutdown` returns once the owner has let go: its process has ended (exit 0), the
    // server's whole group with it, and the state folder is free.
    let status = serve.child.wait().expect("wait for serve");
    assert_eq!(status.code(), Some(0), "{}", serve.stderr_text());
    assert!(live_group_members(forky).is_empty(), "group {forky} survived shutdown");
    assert!(!home.path().join("run/owner.json").exists());
    assert!(
        serve.stderr_text().contains("asked to quit; stopping every server"),
        "{}",
        serve.stderr_text()
    );
    home.run(&["status"]).assert_code(1);
}

/// A server inherits only `switchboard_core::env::SERVER_VARS` of the owner's environment, plus
/// its own `env` and secrets: not a secret exported in the shell that started `serve`, nor
/// another server's.
#[cfg(target_os = "linux")]
#[test]
fn each_server_gets_its_own_secrets_and_none_of_the_owners_or_another_servers() {
    let home = Home::new();
    let fx = fixture();
    home.run(&["add", "alpha", "--env", "ALPHA_TOKEN=sb-test-secret-alpha", "--", &fx, "ok"])
        .assert_ok();
    home.run(&["add", "beta", "--", &fx, "ok"]).assert_ok();
    // beta's secret is in the (file) secret store, named in the registry.
    let mut registry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.registry_file()).expect("registry"))
            .expect("json");
    registry["servers"]["beta"]["secrets"] = serde_json::json!(["BETA_TOKEN"]);
    std::fs::write(home.registry_file(), registry.to_string()).expect("registry");
    let store = home.path().join("data/secrets");
    std::fs::create_dir_all(&store).expect("store");
    std::fs::write(store.join("secrets.json"), r#"{"beta":{"BETA_TOKEN":"sb-test-secret-beta"}}"#)
        .expect("secrets");

    let stderr = std::fs::File::create(home.path().join("serve.stderr")).expect("stderr");
    let mut serve = home
        .command(&["serve"])
        .env("SWITCHBOARD_SECRET_STORE", "file")
        .env("OPENAI_API_KEY", "sb-test-secret-exported")
        .env("LANG", "C.UTF-8")
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("serve");
    let running = wait_until(Duration::from_secs(30), || {
        home.path().join("run/owner.json").exists()
            && serde_json::from_str::<serde_json::Value>(&home.run(&["status", "--json"]).stdout())
                .is_ok_and(|all| {
                    let running = |n: &str| {
                        all.as_array().is_some_and(|a| {
                            a.iter().any(|s| s["name"] == n && s["state"]["kind"] == "running")
                        })
                    };
                    running("alpha") && running("beta")
                })
    });
    let log = std::fs::read_to_string(home.path().join("serve.stderr")).unwrap_or_default();
    assert!(running, "alpha and beta did not start: {log}");

    let environ = |name: &str| -> Vec<(String, String)> {
        let pid = pid_in(&home.state_of(name));
        let raw = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
        raw.split(|b| *b == 0)
            .filter(|v| !v.is_empty())
            .map(|v| {
                let v = String::from_utf8_lossy(v);
                let (k, v) = v.split_once('=').unwrap_or((&v, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    };
    let serve_env = std::fs::read(format!("/proc/{}/environ", serve.id())).expect("environ");
    assert!(
        String::from_utf8_lossy(&serve_env).contains("OPENAI_API_KEY=sb-test-secret-exported"),
        "the owner itself has the exported secret"
    );
    for (name, own, others) in [
        ("alpha", ("ALPHA_TOKEN", "sb-test-secret-alpha"), ["BETA_TOKEN", "sb-test-secret-beta"]),
        ("beta", ("BETA_TOKEN", "sb-test-secret-beta"), ["ALPHA_TOKEN", "sb-test-secret-alpha"]),
    ] {
        let env = environ(name);
        let text = format!("{env:?}");
        assert!(env.contains(&(own.0.to_owned(), own.1.to_owned())), "{name}: {text}");
        for other in others.iter().chain(&["OPENAI_API_KEY", "sb-test-secret-exported"]) {
            assert!(!text.contains(other), "{name} sees {other}: {text}");
        }
        // Nothing but the listed variables, its own, and the owner's run mark.
        for (key, _) in &env {
            assert!(
                switchboard_core::env::SERVER_VARS.contains(&key.as_str())
                    || key == own.0
                    || key == "SWITCHBOARD_RUN",
                "{name} inherited {key}: {text}"
            );
        }
        for kept in ["PATH", "HOME", "SWITCHBOARD_HOME", "LANG"] {
            assert!(env.iter().any(|(k, _)| k == kept), "{name} lost {kept}: {text}");
        }
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(serve.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    assert_eq!(serve.wait().expect("wait").code(), Some(0));
}
