//! Installs of real packages: npm and PyPI through the package registries, a remote server-
//! everything, the system keychain (gnome-keyring).

use super::*;

/// A private D-Bus session with a real Secret Service (gnome-keyring, unlocked with a test
/// password), for the processes a test starts. Both daemons end with it.
struct SecretService {
    _dir: tempfile::TempDir,
    bus: std::process::Child,
    keyring: std::process::Child,
    env: Vec<(String, String)>,
}

impl SecretService {
    #[allow(clippy::disallowed_methods)] // the test starts the daemons itself
    fn start() -> SecretService {
        use std::{
            io::BufRead,
            process::{Command, Stdio},
        };
        let dir = tempfile::tempdir().expect("dir");
        let (home, run) = (dir.path().join("home"), dir.path().join("run"));
        for d in [&home, &run] {
            std::fs::create_dir_all(d).expect("mkdir");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).expect("chmod");
            }
        }
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (./x installs it)");
        let mut address = String::new();
        std::io::BufReader::new(bus.stdout.take().expect("stdout"))
            .read_line(&mut address)
            .expect("bus address");
        let env = vec![
            ("DBUS_SESSION_BUS_ADDRESS".to_string(), address.trim().to_string()),
            ("HOME".to_string(), home.display().to_string()),
            ("XDG_RUNTIME_DIR".to_string(), run.display().to_string()),
        ];
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .envs(env.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (./x installs gnome-keyring)");
        {
            let mut stdin = keyring.stdin.take().expect("stdin");
            stdin.write_all(b"test-password").expect("unlock password");
        }
        let service = SecretService { _dir: dir, bus, keyring, env };
        // Asked without D-Bus activation: an activated second daemon would be a locked one.
        let ready = wait_until(Duration::from_secs(15), || service.secret_service_is_up());
        assert!(ready, "the unlocked gnome-keyring never took org.freedesktop.secrets");
        service
    }

    #[allow(clippy::disallowed_methods)]
    fn secret_service_is_up(&self) -> bool {
        let out = std::process::Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .envs(self.env.iter().cloned())
            .output()
            .expect("dbus-send (./x installs dbus)");
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    /// Runs secret-tool on this bus; its stdout when it succeeded.
    #[allow(clippy::disallowed_methods)]
    fn secret_tool(&self, args: &[&str], input: Option<&str>) -> Option<String> {
        use std::process::{Command, Stdio};
        let mut child = Command::new("secret-tool")
            .args(args)
            .envs(self.env.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("secret-tool (./x installs libsecret-tools)");
        if let Some(text) = input {
            child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("input");
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().expect("secret-tool");
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn lookup(&self, account: &str) -> Option<String> {
        self.secret_tool(
            &["lookup", "service", "dev.switchboard.secrets", "username", account],
            None,
        )
        .filter(|s| !s.is_empty())
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// server-everything over Streamable HTTP on loopback, and a registry whose entry `name` reaches
/// it with an `Authorization: Bearer {token}` header (the token a required secret).
fn remote_behind_a_token(name: &str) -> (peers::HttpPeer, RegistryFixture) {
    let peer = peers::HttpPeer::start("streamableHttp");
    let registry = RegistryFixture::start(vec![json!({
        "name": format!("io.example/{name}"),
        "description": "server-everything over Streamable HTTP on loopback, behind a token",
        "version": "1.0.0",
        "remotes": [{"type": "streamable-http", "url": peer.url("/mcp"),
            "headers": [{"name": "Authorization", "value": "Bearer {token}",
                "variables": {"token": {"isRequired": true, "isSecret": true}}}]}]
    })]);
    (peer, registry)
}

#[test]
fn server_everything_installs_from_npm_runs_under_serve_answers_and_uninstalls_completely() {
    let home = Home::new();
    let r = run(&home, &["install", "everything", "--yes"]);
    r.assert_ok();
    let (out, err) = (r.stdout(), r.stderr());
    // The exact command was shown before it ran, then a progress line per step.
    assert!(err.contains("will run: ") && err.contains(" install --prefix "), "{err}");
    assert!(err.contains("@modelcontextprotocol/server-everything@2026.8.31"), "{err}");
    assert!(err.contains("[1/4] npm install") && err.contains("[2/4] verifying"), "{err}");
    assert!(out.contains("installed server-everything"), "{out}");
    assert!(out.contains("tool echo"), "{out}");

    // Registered with node on the prefetched entry point: no npx, no registry at start.
    let spec = &registry_json(&home)["servers"]["server-everything"];
    assert!(spec["command"].as_str().is_some_and(|c| c.ends_with("node")), "{spec}");
    let script = spec["args"][0].as_str().expect("script");
    assert!(script.starts_with(&home.path().join("data/packages/npm").display().to_string()));
    assert!(Path::new(script).is_file());
    let pins: Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join("data/pins/server-everything.json"))
            .expect("pins"),
    )
    .expect("pins json");
    assert!(pins["tools"].as_array().is_some_and(|t| t.iter().any(|t| t["name"] == "echo")));

    let serve = home.serve();
    home.run(&["start", "server-everything"]).assert_ok();
    let leader = pid_in(&home.state_of("server-everything"));
    let echoed = call(&home, "server-everything", "echo", &["message=from the catalog"]);
    assert!(echoed.contains("Echo: from the catalog"), "{echoed}");

    // Uninstall stops it and removes everything install created.
    let r = run(&home, &["uninstall", "server-everything"]);
    r.assert_ok();
    assert!(r.stdout().contains("removed package"), "{}", r.stdout());
    assert!(
        wait_until(Duration::from_secs(15), || live_group_members(leader).is_empty()),
        "the server outlived its uninstall"
    );
    assert!(registry_json(&home)["servers"].get("server-everything").is_none());
    assert_eq!(leftovers(&home), Vec::<String>::new());
    assert!(!home.path().join("logs/server-everything.log").exists());
    drop(serve);
}

#[test]
fn filesystem_needs_its_directory_and_memory_writes_where_it_is_told() {
    let home = Home::new();
    // The required directory argument is asked for; nothing is done without it.
    let r = run(&home, &["install", "filesystem", "--yes"]);
    r.assert_code(2);
    assert!(r.stderr().contains("allowed_directory is required"), "{}", r.stderr());
    assert_eq!(leftovers(&home), Vec::<String>::new());

    let shared = tempfile::tempdir().expect("dir");
    std::fs::write(shared.path().join("notes.txt"), "hello from a file").expect("write");
    let dir = shared.path().display().to_string();
    let input = format!("allowed_directory={dir}");
    run(&home, &["install", "filesystem", "--yes", "--input", &input]).assert_ok();
    let spec = &registry_json(&home)["servers"]["server-filesystem"];
    assert_eq!(spec["args"][1], dir.as_str(), "{spec}");
    let path = format!("path={dir}/notes.txt");
    let read = call(&home, "server-filesystem", "read_text_file", &[&path]);
    assert!(read.contains("hello from a file"), "{read}");

    let memory_file = shared.path().join("memory.jsonl");
    let input = format!("MEMORY_FILE_PATH={}", memory_file.display());
    run(&home, &["install", "memory", "--yes", "--input", &input]).assert_ok();
    let entities = r#"{"entities":[{"name":"Ada","entityType":"person","observations":["wrote the first program"]}]}"#;
    let r = run(
        &home,
        &["call", "create_entities", "--args-json", entities, "--server", "server-memory"],
    );
    r.assert_ok();
    let graph = call(&home, "server-memory", "read_graph", &[]);
    assert!(graph.contains("wrote the first program"), "{graph}");
    let stored = std::fs::read_to_string(&memory_file).expect("the memory file");
    assert!(stored.contains("Ada"), "{stored}");

    run(&home, &["uninstall", "server-filesystem"]).assert_ok();
    // `remove` of an installed server is an uninstall: nothing of it is left either.
    let r = run(&home, &["remove", "server-memory"]);
    r.assert_ok();
    assert!(r.stdout().contains("removed package"), "{}", r.stdout());
    assert_eq!(leftovers(&home), Vec::<String>::new());
}

#[test]
fn mcp_server_time_installs_from_pypi_with_uv_and_starts_offline() {
    let home = Home::new();
    let (uvx, uv_env) = peers::uvx();
    let bin = uvx.parent().expect("venv bin").display().to_string();
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    let mut c = home.command(&["install", "time", "--yes", "--input=--local-timezone=UTC"]);
    c.env("PATH", &path).env("SWITCHBOARD_SECRET_STORE", "file");
    // The shared uv cache makes this quick; the server's own folders are ours.
    c.envs(uv_env.iter().filter(|(k, _)| k == "UV_CACHE_DIR").cloned());
    let r = Run(c.stdin(std::process::Stdio::null()).output().expect("install"));
    r.assert_ok();
    assert!(r.stderr().contains("uv tool install mcp-server-time==2026.10.19"), "{}", r.stderr());
    let spec = &registry_json(&home)["servers"]["server-time"];
    let exe = spec["command"].as_str().expect("command");
    assert!(exe.starts_with(&home.path().join("data/packages/uv").display().to_string()), "{spec}");
    assert_eq!(spec["args"], json!(["--local-timezone=UTC"]));
    // Started without uv on the PATH and without the network's help: the tool's own venv.
    let now = run_with(
        &home,
        None,
        Some("/usr/bin:/bin"),
        &["call", "get_current_time", "timezone=UTC", "--server", "server-time", "--json"],
    );
    now.assert_ok();
    assert!(now.stdout().contains("UTC"), "{}", now.stdout());
    run(&home, &["uninstall", "server-time"]).assert_ok();
    assert_eq!(leftovers(&home), Vec::<String>::new());
}

#[test]
fn a_remote_server_installs_with_its_secret_header_kept_out_of_the_registry() {
    let home = Home::new();
    let (peer, registry) = remote_behind_a_token("loopback-everything");
    let url = registry.url("");
    run_with(&home, Some(&url), None, &["catalog", "refresh"]).assert_ok();
    let r = run_with(&home, Some(&url), None, &["install", "loopback-everything", "--yes"]);
    r.assert_code(2);
    assert!(r.stderr().contains("token is required"), "{}", r.stderr());
    let r = run_with(
        &home,
        Some(&url),
        None,
        &["install", "loopback-everything", "--yes", "--input", "token=s3cr3t-t0ken"],
    );
    r.assert_ok();
    assert!(r.stdout().contains("no keychain service is running"), "{}", r.stdout());
    let text = std::fs::read_to_string(home.registry_file()).expect("registry");
    assert!(!text.contains("s3cr3t-t0ken"), "a secret reached the registry: {text}");
    let spec = &registry_json(&home)["servers"]["loopback-everything"];
    assert_eq!(spec["url"], peer.url("/mcp"));
    assert_eq!(spec["secrets"], json!(["Authorization"]));
    let store = home.path().join("data/secrets/secrets.json");
    assert!(std::fs::read_to_string(&store).expect("store").contains("Bearer s3cr3t-t0ken"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // The tester reaches it with the secret filled in from the store.
    let echoed = call(&home, "loopback-everything", "echo", &["message=remote"]);
    assert!(echoed.contains("Echo: remote"), "{echoed}");
    // A host runs the server itself: its entry gets the value, read from the store.
    let host_home = tempfile::tempdir().expect("home");
    let mut c = home.command(&["hosts", "diff", "cursor", "--servers", "loopback-everything"]);
    c.env("HOME", host_home.path()).env("SWITCHBOARD_SECRET_STORE", "file");
    let diff = Run(c.stdin(std::process::Stdio::null()).output().expect("hosts diff"));
    diff.assert_ok();
    assert!(
        diff.stdout().contains("\"Authorization\": \"Bearer s3cr3t-t0ken\""),
        "{}",
        diff.stdout()
    );
    run_with(&home, Some(&url), None, &["uninstall", "loopback-everything"]).assert_ok();
    let store_text = std::fs::read_to_string(&store).unwrap_or_default();
    assert!(!store_text.contains("s3cr3t"), "{store_text}");
}

#[test]
fn secrets_go_to_the_system_keychain_when_a_secret_service_runs() {
    let keychain = SecretService::start();
    let home = Home::new();
    let (_peer, registry) = remote_behind_a_token("keyed-everything");
    let url = registry.url("");
    let with = |args: &[&str]| {
        let mut c = home.command(args);
        c.env("SWITCHBOARD_REGISTRY_URL", &url).env_remove("SWITCHBOARD_SECRET_STORE");
        c.envs(keychain.env.iter().filter(|(k, _)| k == "DBUS_SESSION_BUS_ADDRESS").cloned());
        Run(c.stdin(std::process::Stdio::null()).output().expect("run switchboard"))
    };
    with(&["catalog", "refresh"]).assert_ok();
    let r = with(&["install", "keyed-everything", "--yes", "--input", "token=kc-s3cret"]);
    r.assert_ok();
    assert!(r.stdout().contains("secrets are kept in the system keychain"), "{}", r.stdout());
    assert!(!home.path().join("data/secrets").exists(), "the fallback file was used");
    assert_eq!(
        keychain.lookup("keyed-everything/Authorization").as_deref(),
        Some("Bearer kc-s3cret")
    );
    assert!(
        !std::fs::read_to_string(home.registry_file()).expect("registry").contains("kc-s3cret")
    );
    // Read back from the keychain when the server is used.
    let r = with(&["call", "echo", "message=keyed", "--server", "keyed-everything", "--json"]);
    r.assert_ok();
    assert!(r.stdout().contains("Echo: keyed"), "{}", r.stdout());
    with(&["uninstall", "keyed-everything"]).assert_ok();
    assert_eq!(keychain.lookup("keyed-everything/Authorization"), None);
    assert_eq!(keychain.lookup("keyed-everything/input:token"), None);
}
