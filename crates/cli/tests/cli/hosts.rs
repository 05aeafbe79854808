//! `switchboard hosts` as a user runs it: diffs before writing, collisions, a writer killed
//! mid-write; and (in `real_peers`) real hosts reading what we wrote.

#![allow(clippy::disallowed_methods)] // tests run the hosts' CLIs directly

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use serde_json::Value;
use switchboard_testkit::peers;

use crate::support::{Home, fixture};

/// Tests that need the pinned third-party peers, host CLIs or package registries that `./x test`
/// installs (skipped by `./x check`).
mod real_peers;

/// A user's home for the hosts, beside Switchboard's own state.
fn user_home(home: &Home) -> PathBuf {
    let dir = home.path().join("user");
    std::fs::create_dir_all(&dir).expect("user home");
    dir
}

fn sb(home: &Home, user: &Path, args: &[&str]) -> crate::support::Run {
    let output = home
        .command(args)
        .env("HOME", user)
        .env("XDG_CONFIG_HOME", user.join(".config"))
        .stdin(Stdio::null())
        .output()
        .expect("run switchboard");
    crate::support::Run(output)
}

/// The guardian runs in the owner (`serve` as in the app, through the one `launch`), and its
/// drift reports travel on the owner's one event stream: `switchboard events` sees them.
#[test]
fn drift_in_a_host_file_reaches_switchboard_events() {
    let home = Home::new();
    let user = user_home(&home);
    home.run(&["add", "fx-stdio", "--", &fixture(), "ok"]).assert_ok();
    let config = user.join(".cursor/mcp.json");
    std::fs::create_dir_all(config.parent().expect("dir")).expect("mkdir");
    std::fs::write(&config, "{\n  \"mcpServers\": {}\n}\n").expect("write");
    sb(&home, &user, &["hosts", "apply", "cursor"]).assert_ok();
    assert!(std::fs::read_to_string(&config).expect("read").contains("fx-stdio"));

    let serve = home.serve_with(&[("HOME", &user), ("XDG_CONFIG_HOME", &user.join(".config"))]);
    let mut events = home.command(&["events"]).stdout(Stdio::piped()).spawn().expect("events");
    let stdout = events.stdout.take().expect("stdout");
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });

    // Someone removes our entry, again and again until the guardian (started after the owner's
    // control endpoint) has seen it.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut drift = None;
    while drift.is_none() && std::time::Instant::now() < deadline {
        std::fs::write(&config, "{\n  \"mcpServers\": {}\n}\n").expect("edit");
        while let Ok(line) = received.recv_timeout(Duration::from_millis(700)) {
            let event: Value = serde_json::from_str(&line).expect("json");
            if event["event"] == "host_drift" {
                drift = Some(event);
                break;
            }
        }
    }
    let _ = events.kill();
    let _ = events.wait();
    let drift =
        drift.unwrap_or_else(|| panic!("no host_drift event; serve: {}", serve.stderr_text()));
    assert_eq!(drift["report"]["host"], "cursor", "{drift}");
    assert_eq!(drift["report"]["drifted"][0]["name"], "fx-stdio", "{drift}");
    assert_eq!(drift["report"]["drifted"][0]["state"], "missing", "{drift}");
    // `serve` reports it from the same stream.
    assert!(wait_until_text(&serve, "our entries fx-stdio changed in"), "{}", serve.stderr_text());
}

fn wait_until_text(serve: &crate::support::Serve, text: &str) -> bool {
    switchboard_testkit::wait_until(Duration::from_secs(10), || serve.stderr_text().contains(text))
}

#[test]
fn a_writer_killed_mid_write_leaves_the_old_file_and_the_next_write_completes() {
    let home = Home::new();
    let user = user_home(&home);
    home.run(&["add", "fx-stdio", "--", &fixture(), "ok"]).assert_ok();
    let config = user.join(".cursor/mcp.json");
    std::fs::create_dir_all(config.parent().expect("dir")).expect("mkdir");
    let original = "{\n  \"theme\": \"dark\",\n  \"mcpServers\": {}\n}\n";
    std::fs::write(&config, original).expect("write");

    // The writer stops with the new content in its temp file and the old still in place; kill it
    // there.
    let mut child = home
        .command(&["hosts", "apply", "cursor"])
        .env("HOME", &user)
        .env("SWITCHBOARD_TEST_PAUSE_BEFORE_RENAME_MS", "30000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let dir = config.parent().expect("dir").to_path_buf();
    let temp_written = switchboard_testkit::wait_until(Duration::from_secs(20), || {
        std::fs::read_dir(&dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with(".mcp.json.")
                    && std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("fx-stdio"))
            })
        })
    });
    assert!(temp_written, "the writer never reached its rename");
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert_eq!(std::fs::read_to_string(&config).expect("read"), original);

    // The next apply completes; the file is the new version, parsed whole.
    sb(&home, &user, &["hosts", "apply", "cursor"]).assert_ok();
    let text = std::fs::read_to_string(&config).expect("read");
    let value: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(value["theme"], "dark");
    assert!(value["mcpServers"]["fx-stdio"]["command"].is_string(), "{text}");
}

#[test]
fn the_command_line_diffs_before_writing_and_reports_collisions() {
    let home = Home::new();
    let user = user_home(&home);
    home.run(&["add", "fx-stdio", "--", &fixture(), "ok"]).assert_ok();
    home.run(&["add", "theirs", "--", &fixture(), "ok"]).assert_ok();
    let config = user.join(".codeium/windsurf/mcp_config.json");
    std::fs::create_dir_all(config.parent().expect("dir")).expect("mkdir");
    let original = "{\n  \"mcpServers\": {\n    \"theirs\": {\"command\": \"mine\"}\n  }\n}\n";
    std::fs::write(&config, original).expect("write");

    let diff = sb(&home, &user, &["hosts", "diff", "windsurf"]);
    diff.assert_ok();
    let out = diff.stdout();
    assert!(out.contains(&format!("--- {}", config.display())), "{out}");
    assert!(out.contains("+    \"fx-stdio\": {"), "{out}");
    assert!(diff.stderr().contains("skipped   theirs"), "{}", diff.stderr());
    assert_eq!(std::fs::read_to_string(&config).expect("read"), original, "diff wrote");
    let dry = sb(&home, &user, &["hosts", "apply", "windsurf", "--dry-run"]);
    dry.assert_ok();
    assert_eq!(dry.stdout(), out);
    assert_eq!(std::fs::read_to_string(&config).expect("read"), original, "--dry-run wrote");

    sb(&home, &user, &["hosts", "apply", "windsurf"]).assert_ok();
    let list = sb(&home, &user, &["hosts", "list"]);
    list.assert_ok();
    let text = list.stdout();
    assert!(
        text.contains("windsurf") && text.contains("fx-stdio") && text.contains("ours, in sync"),
        "{text}"
    );
    assert!(text.contains("theirs") && text.contains("not ours"), "{text}");

    // Someone removes our entry: status shows the drift, apply restores it.
    std::fs::write(&config, original).expect("write");
    let status = sb(&home, &user, &["hosts", "status"]);
    assert!(status.stdout().contains("DRIFTED: removed"), "{}", status.stdout());
    sb(&home, &user, &["hosts", "apply", "windsurf"]).assert_ok();
    assert!(sb(&home, &user, &["hosts", "status"]).stdout().contains("ours, in sync"));

    // An unknown host is a usage error naming the hosts.
    let bad = sb(&home, &user, &["hosts", "apply", "notepad"]);
    bad.assert_code(2);
    assert!(bad.stderr().contains("claude-desktop"), "{}", bad.stderr());
}

/// Every file under `dir`, with its text.
fn texts_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(texts_under(&path));
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            found.push((path, text));
        }
    }
    found
}

/// No server's secret reaches any host file through `hosts connect`, for all 13 hosts in both
/// modes; the same check finds the secret in a file written the old, direct way (`apply`).
#[test]
fn connected_hosts_files_hold_no_server_secret() {
    let home = Home::new();
    let user = user_home(&home);
    const SECRETS: [&str; 3] = ["ghp_S3CRETvalue1234", "sk-live-9876SECRET", "hdr-SECRET-4242"];
    sb(
        &home,
        &user,
        &["add", "github", "--env", &format!("GITHUB_TOKEN={}", SECRETS[0]), "--", "/bin/true"],
    )
    .assert_ok();
    sb(
        &home,
        &user,
        &["add", "openai", "--env", &format!("OPENAI_API_KEY={}", SECRETS[1]), "--", "/bin/true"],
    )
    .assert_ok();
    sb(
        &home,
        &user,
        &[
            "add",
            "remote",
            "--url",
            "https://mcp.example.com/mcp",
            "--header",
            &format!("X-Api-Key={}", SECRETS[2]),
        ],
    )
    .assert_ok();
    let hosts = [
        "claude-desktop",
        "cursor",
        "vscode",
        "windsurf",
        "claude-code",
        "zed",
        "cline",
        "gemini-cli",
        "codex",
        "lm-studio",
        "continue",
        "goose",
        "roo-code",
    ];
    for mode in ["aggregate", "per-server"] {
        for host in hosts {
            let done = sb(&home, &user, &["hosts", "connect", host, "--mode", mode]);
            done.assert_ok();
            assert!(
                done.stdout().contains(&format!("connected {host} ({mode} mode")),
                "{}",
                done.stdout()
            );
        }
        let files = texts_under(&user);
        assert!(files.len() >= 13, "{files:?}");
        for (path, text) in &files {
            for secret in SECRETS {
                assert!(!text.contains(secret), "{mode}: {secret} in {}:\n{text}", path.display());
            }
        }
        // Each file names the gateway, and none of the servers' own commands or URLs.
        let gateway_entries =
            files.iter().filter(|(_, t)| t.contains("127.0.0.1:") || t.contains("connect")).count();
        assert!(gateway_entries >= 13, "{mode}: {gateway_entries} files point at the gateway");
        assert!(files.iter().all(|(_, t)| !t.contains("mcp.example.com")), "{mode}");
        for host in hosts {
            sb(&home, &user, &["hosts", "disconnect", host]).assert_ok();
        }
    }
    // The check can fail: a direct entry carries the server's secret.
    sb(&home, &user, &["hosts", "apply", "cursor", "--servers", "github"]).assert_ok();
    assert!(texts_under(&user).iter().any(|(_, t)| t.contains(SECRETS[0])));
}

/// Entries an earlier version wrote the direct way (the server's own command, its secret in the
/// file) are offered a one-step move; connecting replaces them in place (the user's own entry
/// and the rest of the file untouched), and undo brings the direct entries back byte for byte.
#[test]
fn direct_entries_are_offered_a_move_to_the_gateway_replaced_in_place_and_undone() {
    let home = Home::new();
    let user = user_home(&home);
    let secret = "ghp_M1GRATEsecret";
    sb(
        &home,
        &user,
        &["add", "github", "--env", &format!("GITHUB_TOKEN={secret}"), "--", "/bin/true"],
    )
    .assert_ok();
    let file = user.join(".cursor/mcp.json");
    std::fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
    std::fs::write(
        &file,
        "{\n  \"theme\": \"dark\",\n  \"mcpServers\": {\n    \"mine\": {\"command\": \"my-server\"}\n  }\n}\n",
    )
    .expect("write");
    sb(&home, &user, &["hosts", "apply", "cursor", "--servers", "github"]).assert_ok();
    let direct = std::fs::read_to_string(&file).expect("read");
    assert!(direct.contains(secret), "{direct}");

    let status = sb(&home, &user, &["hosts", "status"]);
    status.assert_ok();
    assert!(
        status.stdout().contains("`switchboard hosts connect cursor` moves them to the gateway"),
        "{}",
        status.stdout()
    );

    sb(&home, &user, &["hosts", "connect", "cursor", "--mode", "per-server"]).assert_ok();
    let moved = std::fs::read_to_string(&file).expect("read");
    assert!(!moved.contains(secret), "{moved}");
    let value: Value = serde_json::from_str(&moved).expect("json");
    assert_eq!(value["theme"], "dark");
    assert_eq!(value["mcpServers"]["mine"], serde_json::json!({"command": "my-server"}));
    assert!(
        value["mcpServers"]["github"]["url"].as_str().is_some_and(|u| u.ends_with("/mcp/github")),
        "{moved}"
    );
    // In place: the entry is where the direct one was, after the user's own.
    let at = |text: &str, key: &str| text.find(&format!("\"{key}\"")).expect(key);
    assert!(at(&direct, "mine") < at(&direct, "github"), "{direct}");
    assert!(at(&moved, "mine") < at(&moved, "github"), "{moved}");
    let status = sb(&home, &user, &["hosts", "status"]);
    assert!(!status.stdout().contains("moves them to the gateway"), "{}", status.stdout());
    let list = sb(&home, &user, &["hosts", "list"]);
    assert!(list.stdout().contains("hosts import cursor NAME"), "{}", list.stdout());

    sb(&home, &user, &["hosts", "undo", "cursor"]).assert_ok();
    assert_eq!(std::fs::read_to_string(&file).expect("read"), direct);
}

/// A server the user wrote into a connected host's file themselves is taken into Switchboard:
/// registered with its secret in the secret store (not the registry), and its entry in the
/// host's file replaced by the gateway's (per server) or removed (aggregate). The file then holds
/// no secret.
#[test]
fn a_users_own_entry_is_imported_with_its_secret_moved_to_the_secret_store() {
    const SECRET: &str = "ghp_importME42";
    // Never the machine's keychain in a test.
    let sb = |home: &Home, user: &Path, args: &[&str]| {
        let output = home
            .command(args)
            .env("HOME", user)
            .env("XDG_CONFIG_HOME", user.join(".config"))
            .env("SWITCHBOARD_SECRET_STORE", "file")
            .stdin(Stdio::null())
            .output()
            .expect("run switchboard");
        crate::support::Run(output)
    };
    for (mode, replaced) in [("per-server", true), ("aggregate", false)] {
        let home = Home::new();
        let user = user_home(&home);
        let file = user.join(".cursor/mcp.json");
        std::fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
        let own = format!(
            "{{\n  \"mcpServers\": {{\n    \"mine\": {{\"command\": \"/bin/true\", \"args\": [\"--x\"], \"env\": {{\"MY_TOKEN\": \"{SECRET}\", \"MODE\": \"fast\"}}}}\n  }}\n}}\n"
        );
        std::fs::write(&file, &own).expect("write");
        sb(&home, &user, &["hosts", "connect", "cursor", "--mode", mode]).assert_ok();
        // Not connected hosts are refused; an unknown entry is named.
        sb(&home, &user, &["hosts", "import", "zed", "mine"]).assert_code(2);
        let missing = sb(&home, &user, &["hosts", "import", "cursor", "nope"]);
        assert!(
            missing.stderr().contains("no server entry named \"nope\""),
            "{}",
            missing.stderr()
        );
        // Dry: the diff, nothing changed.
        let dry = sb(&home, &user, &["hosts", "import", "cursor", "mine", "--dry-run"]);
        dry.assert_ok();
        assert!(dry.stdout().contains("secrets to the secret store: MY_TOKEN"), "{}", dry.stdout());
        assert!(std::fs::read_to_string(&file).expect("read").contains(SECRET));
        assert!(
            !std::fs::read_to_string(home.registry_file()).unwrap_or_default().contains("mine")
        );

        sb(&home, &user, &["hosts", "import", "cursor", "mine"]).assert_ok();
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(!text.contains(SECRET), "{mode}: the secret stayed in the host's file:\n{text}");
        let entries: Value = serde_json::from_str(&text).expect("json");
        if replaced {
            assert!(
                entries["mcpServers"]["mine"]["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/mcp/mine")),
                "{text}"
            );
        } else {
            assert!(entries["mcpServers"].get("mine").is_none(), "{text}");
        }
        let registry = std::fs::read_to_string(home.registry_file()).expect("registry");
        assert!(!registry.contains(SECRET), "{mode}: the secret is in the registry:\n{registry}");
        let shown: Value =
            serde_json::from_str(&sb(&home, &user, &["show", "mine", "--json"]).stdout())
                .expect("json");
        assert_eq!(shown["spec"]["secrets"], serde_json::json!(["MY_TOKEN"]), "{shown}");
        assert_eq!(shown["spec"]["env"]["MODE"], "fast", "{shown}");
        assert_eq!(shown["spec"]["args"], serde_json::json!(["--x"]), "{shown}");
        // The secret is in the store (the file store here), under the server's name.
        let stored = std::fs::read_to_string(home.path().join("data/secrets/secrets.json"))
            .expect("the file store");
        assert!(stored.contains(SECRET), "{mode}: {stored}");
    }
}
