//! `switchboard kb setup` and `switchboard kb serve`: the built-in knowledge base from the
//! command line, run by the owner like any registered server.

use serde_json::Value;
use switchboard_testkit::wait_until;

use crate::support::Home;

#[test]
fn setup_registers_the_built_in_server_once_and_serve_runs_it() {
    let home = Home::fresh();
    let run = home.run(&["kb", "setup"]);
    run.assert_ok();
    let folder = home.path().join("knowledge-base");
    assert_eq!(run.stdout().trim(), format!("registered knowledge-base over {}", folder.display()));
    assert!(folder.join("Welcome.md").is_file());
    let registry: Value =
        serde_json::from_str(&std::fs::read_to_string(home.registry_file()).unwrap()).unwrap();
    let entry = &registry["servers"]["knowledge-base"];
    assert_eq!(entry["command"], env!("CARGO_BIN_EXE_switchboard"));
    assert_eq!(entry["args"][0], "kb");
    assert_eq!(entry["args"][1], "serve");
    home.run(&["kb", "setup"]).assert_ok();

    // The owner starts it; the tester reaches it (a second instance, following the first's index).
    std::fs::write(folder.join("otters.md"), "# Otters\n\nOtters hold hands while sleeping.\n")
        .unwrap();
    let _serve = home.serve();
    assert!(
        wait_until(std::time::Duration::from_secs(30), || home.state_of("knowledge-base")["state"]
            ["kind"]
            == "running"),
        "not running: {}",
        home.state_of("knowledge-base")
    );
    // One process, however many threads it runs (threads once counted as processes, each
    // adding the whole process's memory).
    // A deadline, not a measure: the owner samples every few seconds, and a loaded machine
    // (CI on two cores) once took over 20 s to get the first sample in.
    let mut stats = Value::Null;
    let sampled = wait_until(std::time::Duration::from_secs(60), || {
        stats = home.state_of("knowledge-base")["stats"].clone();
        !stats.is_null()
    });
    assert!(sampled, "no stats within 60 s: {}", home.state_of("knowledge-base"));
    assert_eq!(stats["processes"], 1, "{stats}");
    assert!(stats["rss_bytes"].as_u64().unwrap() < 200 << 20, "{stats}");
    let mut found = String::new();
    let seen = wait_until(std::time::Duration::from_secs(30), || {
        let run =
            home.run(&["call", "search", "query=otters", "--json", "--server", "knowledge-base"]);
        found = run.stdout();
        found.contains("kb://knowledge-base/otters.md")
    });
    assert!(seen, "{found}");
    let run = home.run(&["read", "kb://knowledge-base/Welcome.md", "--server", "knowledge-base"]);
    run.assert_ok();
    assert!(run.stdout().contains("# Welcome to your knowledge base"), "{}", run.stdout());

    // Removed by the user, it is not registered again.
    home.run(&["remove", "knowledge-base"]).assert_ok();
    let run = home.run(&["kb", "setup"]);
    run.assert_ok();
    assert!(run.stdout().contains("was removed earlier"), "{}", run.stdout());
}

#[test]
fn kb_serve_speaks_mcp_on_stdio() {
    let home = Home::fresh();
    let docs = home.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("a.md"), "# Alpha\n\nabacus\n").unwrap();
    let index = home.path().join("index");
    let kb = env!("CARGO_BIN_EXE_switchboard");
    let (docs, index) = (docs.display().to_string(), index.display().to_string());
    let run = home.run(&[
        "inspect",
        "tools",
        "--",
        kb,
        "kb",
        "serve",
        "--root",
        &docs,
        "--index-dir",
        &index,
    ]);
    run.assert_ok();
    for tool in
        ["search", "read_document", "list_documents", "create_ticket", "add_note", "index_status"]
    {
        assert!(run.stdout().contains(tool), "{tool} missing: {}", run.stdout());
    }
    let run = home.run(&["kb", "serve", "--root", "/nonexistent/folder"]);
    assert!(!run.0.status.success());
    assert!(run.stderr().contains("/nonexistent/folder does not exist"), "{}", run.stderr());
}

/// `switchboard kb serve --http` through the CLI's own plumbing (the index in the data folder):
/// it names its token file before the address, the file is 0600 in folders it made 0700, the
/// tester reaches it with the token as a header and is refused without it; `--no-token` is in
/// `--help` and is a usage error without `--http`.
#[test]
fn kb_serve_over_http_asks_for_the_token_it_names() {
    use std::{
        io::BufRead,
        os::unix::fs::PermissionsExt,
        process::{Child, Stdio},
    };
    struct Stop(Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    let home = Home::fresh();
    let docs = home.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("a.md"), "# Alpha\n\nabacus\n").unwrap();
    let mut child = home
        .command(&["kb", "serve", "--root"])
        .arg(&docs)
        .args(["--http", "127.0.0.1:0", "--no-watch"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _server = Stop(child);
    let mut lines = std::io::BufReader::new(stderr).lines();
    let (mut token_file, mut url) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(path) = line.strip_prefix("token in ") {
            token_file = Some(std::path::PathBuf::from(path));
        } else if let Some(found) = line.strip_prefix("listening on ") {
            url = Some(found.to_owned());
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let url = url.expect("no address printed");
    let token_file = token_file.expect("no token file named before the address");
    let kb_dir = home.path().join("data/kb");
    assert_eq!(token_file.parent().and_then(|p| p.parent()), Some(kb_dir.as_path()));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&token_file), 0o600);
    assert_eq!(mode(token_file.parent().unwrap()), 0o700);
    assert_eq!(mode(&kb_dir), 0o700);
    let token = std::fs::read_to_string(&token_file).unwrap().trim().to_owned();
    assert_eq!(token.len(), 64);

    let header = format!("Authorization=Bearer {token}");
    let found = home.run(&["call", "search", "query=abacus", "--url", &url, "--header", &header]);
    found.assert_ok();
    assert!(found.stdout().contains("a.md"), "{}", found.stdout());
    let refused = home.run(&["call", "search", "query=abacus", "--url", &url, "--timeout", "20"]);
    assert_ne!(refused.code(), Some(0), "{}", refused.stdout());
    assert!(!refused.stdout().contains("a.md"), "{}", refused.stdout());
    assert!(
        refused.stderr().contains("the knowledge base needs its token"),
        "{}",
        refused.stderr()
    );

    let help = home.run(&["kb", "serve", "--help"]);
    help.assert_ok();
    assert!(help.stdout().contains("--no-token") && help.stdout().contains("http-token"));
    let usage = home.run(&["kb", "serve", "--root", "/tmp", "--no-token"]);
    assert_eq!(usage.code(), Some(2), "{}", usage.stderr());
}
