//! Registry commands, errors and exit codes, without an owner.

use crate::support::{Home, fixture};

#[test]
fn add_list_show_remove_round_trip() {
    let home = Home::new();
    let fx = fixture();
    home.run(&["add", "alpha", "--env", "TOKEN=s3cret", "--restart", "always", "--", &fx, "ok"])
        .assert_ok();
    home.run(&[
        "add",
        "beta",
        "--url",
        "http://127.0.0.1:9/mcp",
        "--transport",
        "sse",
        "--header",
        "Authorization=Bearer x",
    ])
    .assert_ok();
    let list = home.run(&["list"]);
    list.assert_ok();
    assert!(list.stdout().contains("alpha  stdio"), "{}", list.stdout());
    assert!(list.stdout().contains("http://127.0.0.1:9/mcp (sse)"), "{}", list.stdout());

    let json: serde_json::Value =
        serde_json::from_str(&home.run(&["list", "--json"]).stdout()).expect("json");
    assert_eq!(json[0]["name"], "alpha");
    assert_eq!(json[0]["restart"], "always");
    assert_eq!(json[0]["env"]["TOKEN"], "s3cret");
    assert_eq!(json[1]["headers"]["Authorization"], "Bearer x");

    let show = home.run(&["show", "alpha"]);
    show.assert_ok();
    assert!(
        show.stdout().contains("env:       TOKEN=…"),
        "secrets are not printed: {}",
        show.stdout()
    );
    assert!(!show.stdout().contains("s3cret"));
    assert!(show.stdout().contains("(no owner running)"));

    home.run(&["remove", "alpha"]).assert_ok();
    home.run(&["remove", "alpha"]).assert_code(1);
    assert_eq!(home.run(&["list", "--json"]).stdout().matches("\"name\"").count(), 1);
}

#[test]
fn usage_errors_exit_2_with_one_clear_sentence() {
    let home = Home::new();
    let bad_name = home.run(&["add", "Bad Name", "--", "x"]);
    bad_name.assert_code(2);
    assert!(
        bad_name.stderr().contains("invalid server name \"Bad Name\""),
        "{}",
        bad_name.stderr()
    );
    let no_command = home.run(&["add", "x"]);
    no_command.assert_code(2);
    assert!(no_command.stderr().contains("after `--`"), "{}", no_command.stderr());
    home.run(&["add", "x", "--restart", "sometimes", "--", "y"]).assert_code(2);
    home.run(&["frobnicate"]).assert_code(2);
    home.run(&["add", "u", "--url", "ftp://nope"]).assert_code(2);
    assert!(!home.registry_file().exists(), "nothing may be written on usage errors");
}

#[test]
fn commands_that_need_an_owner_say_how_to_start_one() {
    let home = Home::new();
    for args in [&["status"][..], &["start", "x"], &["stop", "x"], &["logs", "x"], &["events"]] {
        let run = home.run(args);
        run.assert_code(1);
        assert!(run.stderr().contains("switchboard serve"), "{args:?}: {}", run.stderr());
    }
}

#[test]
fn a_corrupt_registry_is_reported_and_left_byte_for_byte() {
    let home = Home::new();
    std::fs::create_dir_all(home.path().join("config")).expect("mkdir");
    let broken = b"{\"schemaVersion\": 1,\n \"servers\": {\"a\": {\"type\": \"stdio\"\n";
    std::fs::write(home.registry_file(), broken).expect("write");
    for args in [&["list"][..], &["add", "b", "--", "x"], &["remove", "a"], &["serve"]] {
        let run = home.run(args);
        run.assert_code(1);
        assert!(run.stderr().contains("servers.json cannot be read"), "{args:?}: {}", run.stderr());
        assert!(
            run.stderr().contains("line 3, column 0") || run.stderr().contains("line 3"),
            "{}",
            run.stderr()
        );
    }
    assert_eq!(std::fs::read(home.registry_file()).expect("read"), broken);
}

#[test]
fn concurrent_cli_processes_lose_no_writes() {
    let home = Home::new();
    let children: Vec<_> = (0..6)
        .map(|p| {
            let script: Vec<String> = (0..8).map(|i| format!("p{p}-s{i}")).collect();
            let home_path = home.path().to_owned();
            std::thread::spawn(move || {
                for name in script {
                    #[allow(clippy::disallowed_methods)]
                    let status = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
                        .args(["add", &name, "--", "cmd"])
                        .env("SWITCHBOARD_HOME", &home_path)
                        .stdout(std::process::Stdio::null())
                        .status()
                        .expect("run");
                    assert!(status.success());
                }
            })
        })
        .collect();
    for child in children {
        child.join().expect("writer");
    }
    let json: serde_json::Value =
        serde_json::from_str(&home.run(&["list", "--json"]).stdout()).expect("json");
    assert_eq!(json.as_array().expect("array").len(), 48);
}
