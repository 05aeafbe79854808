//! The registry file: round trip, concurrent writers, and refusing to touch a file it cannot read.

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly

use std::collections::BTreeMap;

use switchboard_core::{
    Error, Paths, Registry, RemoteTransport, RestartPolicy, ServerName, ServerSpec,
    registry::SCHEMA_VERSION,
};

fn registry() -> (tempfile::TempDir, Registry) {
    let home = switchboard_testkit::temp_home();
    let registry = Registry::new(&Paths::under(home.path()));
    (home, registry)
}

fn name(s: &str) -> ServerName {
    s.parse().expect("valid name")
}

#[test]
fn round_trip_of_stdio_and_remote_servers() {
    let (_home, registry) = registry();
    let mut stdio = ServerSpec::stdio("npx", vec!["-y".into(), "@scope/pkg@1.2.3".into()]);
    if let switchboard_core::Launch::Stdio { env, cwd, .. } = &mut stdio.launch {
        env.insert("API_KEY".into(), "sk-123".into());
        *cwd = Some("/srv/data".into());
    }
    stdio.restart = RestartPolicy::Always;
    let mut remote = ServerSpec::remote("https://mcp.example.test/mcp", RemoteTransport::Sse);
    if let switchboard_core::Launch::Remote { headers, .. } = &mut remote.launch {
        headers.insert("Authorization".into(), "Bearer t".into());
    }
    remote.enabled = false;

    registry.add(name("files"), stdio.clone()).expect("add stdio");
    registry.add(name("remote.one"), remote.clone()).expect("add remote");

    let loaded = registry.load().expect("load");
    assert_eq!(loaded, BTreeMap::from([(name("files"), stdio), (name("remote.one"), remote)]));

    let text = std::fs::read_to_string(registry.path()).expect("read");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["schemaVersion"], SCHEMA_VERSION);
    assert_eq!(json["servers"]["files"]["type"], "stdio");
    assert_eq!(json["servers"]["remote.one"]["transport"], "sse");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(registry.path()).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the registry can hold secrets: owner-only");
    }

    assert!(matches!(
        registry.add(name("files"), ServerSpec::stdio("x", vec![])),
        Err(Error::DuplicateServer(_))
    ));
    registry.remove(&name("files")).expect("remove");
    assert_eq!(registry.load().expect("load").len(), 1);
    assert!(matches!(registry.remove(&name("files")), Err(Error::UnknownServer(_))));
}

#[test]
fn concurrent_writers_lose_nothing() {
    let (_home, registry) = registry();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let registry = registry.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    registry
                        .add(name(&format!("s{t}-{i}")), ServerSpec::stdio("cmd", vec![]))
                        .expect("add");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("writer thread");
    }
    assert_eq!(registry.load().expect("load").len(), 200);
}

fn assert_refused_untouched(contents: &[u8], expect: impl Fn(&Error) -> bool) {
    let (_home, registry) = registry();
    std::fs::create_dir_all(registry.path().parent().expect("dir")).expect("mkdir");
    std::fs::write(registry.path(), contents).expect("write");
    let load = registry.load().expect_err("load must refuse");
    assert!(expect(&load), "unexpected error: {load}");
    let add = registry.add(name("new"), ServerSpec::stdio("x", vec![])).expect_err("add refused");
    assert!(expect(&add), "unexpected error: {add}");
    let remove = registry.remove(&name("new")).expect_err("remove refused");
    assert!(expect(&remove), "unexpected error: {remove}");
    assert_eq!(std::fs::read(registry.path()).expect("read"), contents, "file changed");
}

#[test]
fn a_corrupt_registry_is_reported_with_its_position_and_never_written() {
    let broken = b"{\n  \"schemaVersion\": 1,\n  \"servers\": {\n    \"a\": {\"type\": \"stdio\", \"command\": }\n  }\n}\n";
    assert_refused_untouched(broken, |e| match e {
        Error::CorruptRegistry { line, column, .. } => {
            *line == 4 && *column > 30 && e.to_string().contains("line 4")
        }
        _ => false,
    });
}

#[test]
fn duplicate_names_and_invalid_entries_are_corrupt_too() {
    let duplicate = br#"{"schemaVersion": 1, "servers": {
  "a": {"type": "stdio", "command": "x"},
  "a": {"type": "stdio", "command": "y"}
}}"#;
    assert_refused_untouched(duplicate, |e| {
        matches!(e, Error::CorruptRegistry { line: 3, .. })
            && e.to_string().contains("defined twice")
    });
    let bad_name =
        br#"{"schemaVersion": 1, "servers": {"Bad Name": {"type": "stdio", "command": "x"}}}"#;
    assert_refused_untouched(bad_name, |e| matches!(e, Error::CorruptRegistry { .. }));
    let empty = b"";
    assert_refused_untouched(empty, |e| matches!(e, Error::CorruptRegistry { .. }));
}

#[test]
fn a_registry_from_a_newer_switchboard_is_left_alone() {
    let newer = br#"{"schemaVersion": 99, "servers": {}, "somethingNew": true}"#;
    assert_refused_untouched(newer, |e| matches!(e, Error::NewerRegistry { found: 99, .. }));
}
