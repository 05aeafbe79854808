//! The files Switchboard reads back: the registry (`servers.json`), the settings and a server's
//! tool pins. Whatever the file holds, reading it gives a value or an error; a registry that
//! reads has valid, uniquely named servers, and a change written back reads as exactly that
//! change; settings saved back read the same and keep every key this version does not know;
//! a pin record compared with itself shows no change, and its diff with the pending tools is
//! consistent.
//!
//! Input: byte 0 picks the file (`r` registry, `s` settings, `p` pins; others by value), the
//! rest is the file.
#![no_main]

use std::collections::BTreeSet;

use serde_json::Value;
use switchboard_core::{
    Paths, Registry, ServerName, ServerSpec,
    settings::{self, Settings},
};
use switchboard_fuzz::scratch_dir;
use switchboard_runtime::pins::{Check, Pins, ToolDiff, ToolPin};

fn write(path: &std::path::Path, bytes: &[u8]) {
    if let Some(dir) = path.parent()
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        panic!("scratch: {e}");
    }
    if let Err(e) = std::fs::write(path, bytes) {
        panic!("scratch: {e}");
    }
}

fn registry(paths: &Paths, bytes: &[u8]) {
    write(&paths.registry_file(), bytes);
    let registry = Registry::new(paths);
    let Ok(servers) = registry.load() else { return };
    for (name, spec) in &servers {
        assert!(spec.validate().is_ok(), "the registry read an invalid server {name}");
        let json = serde_json::to_value(spec).unwrap_or(Value::Null);
        let back: Result<ServerSpec, _> = serde_json::from_value(json.clone());
        assert!(back.as_ref().is_ok_and(|b| b == spec), "{name} does not round-trip: {json}");
    }
    let added: ServerName = match "fuzz-added".parse() {
        Ok(n) => n,
        Err(e) => panic!("{e}"),
    };
    let spec = ServerSpec::stdio("/usr/bin/fuzz", vec!["--flag".into()]);
    let updated = registry.update(|s| {
        s.insert(added.clone(), spec.clone());
        Ok::<_, switchboard_core::Error>(())
    });
    if let Err(e) = updated {
        panic!("a registry that reads cannot be updated: {e}");
    }
    let mut expected = servers;
    expected.insert(added, spec);
    match registry.load() {
        Ok(after) => assert_eq!(after, expected, "the update changed more than the one server"),
        Err(e) => panic!("the registry Switchboard wrote does not read back: {e}"),
    }
}

/// Every key the settings file may hold that this version knows.
fn known_keys() -> BTreeSet<String> {
    let mut all = Settings {
        registry_url: Some(String::new()),
        gateway_port: Some(0),
        ..Settings::default()
    };
    all.server_call_timeout_seconds.insert(String::new(), 0);
    all.host_call_timeout_seconds.insert(String::new(), 0);
    all.host_views.insert(String::new(), settings::HostView::default());
    match serde_json::to_value(all) {
        Ok(Value::Object(map)) => map.into_iter().map(|(k, _)| k).collect(),
        _ => BTreeSet::new(),
    }
}

fn settings_file(paths: &Paths, bytes: &[u8]) {
    let path = paths.config_dir.join("settings.json");
    write(&path, bytes);
    let Ok(loaded) = settings::load(paths) else { return };
    if let Err(e) = settings::save(paths, &loaded) {
        panic!("settings that load cannot be saved back: {e}");
    }
    match settings::load(paths) {
        Ok(again) => assert_eq!(again, loaded, "saved settings read back differently"),
        Err(e) => panic!("the settings Switchboard wrote do not load: {e}"),
    }
    // Keys of a newer version stay as they were.
    let original: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let saved: Value =
        std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let known = known_keys();
    if let Value::Object(original) = original {
        for (key, value) in original.iter().filter(|(k, _)| !known.contains(*k)) {
            assert_eq!(
                saved.get(key),
                Some(value),
                "saving dropped or changed the unknown key {key}"
            );
        }
    }
}

fn check_diff(approved: &[ToolPin], now: &[ToolPin], diff: &ToolDiff) {
    let names = |tools: &[ToolPin]| tools.iter().map(|t| t.name.clone()).collect::<BTreeSet<_>>();
    let (before, after) = (names(approved), names(now));
    // (A name listed twice may be added or removed while another copy stays.)
    for name in &diff.added {
        assert!(after.contains(name), "added {name}");
    }
    for name in &diff.removed {
        assert!(before.contains(name), "removed {name}");
    }
    for changed in &diff.changed {
        assert!(before.contains(&changed.name) && after.contains(&changed.name));
    }
    let _ = diff.summary();
}

fn pins(paths: &Paths, bytes: &[u8]) {
    let server: ServerName = match "srv".parse() {
        Ok(n) => n,
        Err(e) => panic!("{e}"),
    };
    let store = Pins::new(&paths.data_dir);
    write(&store.path(&server), bytes);
    let Ok(Some(record)) = store.load(&server) else { return };
    let same = ToolDiff::between(&record.tools, &record.tools);
    assert!(same.is_empty(), "approved tools differ from themselves: {}", same.summary());
    if let Some(pending) = &record.pending {
        let diff = ToolDiff::between(&record.tools, &pending.tools);
        check_diff(&record.tools, &pending.tools, &diff);
    }
    // Pins recomputed from the definitions they hold are the same pins.
    let definitions: Vec<Value> =
        record.tools.iter().map(|t| Value::Object(t.definition.clone())).collect();
    let repinned: Vec<ToolPin> = definitions.iter().map(ToolPin::of).collect();
    let diff = ToolDiff::between(&repinned, &repinned);
    assert!(diff.is_empty(), "re-pinned tools differ from themselves: {}", diff.summary());
    for tool in &record.tools {
        let _ = switchboard_runtime::pins::flags(tool);
    }
    // A start that lists exactly the approved tools is not held.
    match store.check(&server, record.tools.clone(), 1) {
        Ok(Check::Same) => {}
        Ok(other) => panic!("the approved tools, listed again, are held: {other:?}"),
        Err(e) => panic!("checking the pins failed: {e}"),
    }
}

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    let Some((&which, file)) = data.split_first() else { return };
    let home = scratch_dir();
    let paths = Paths::under(home.path());
    match which {
        b'r' => registry(&paths, file),
        b's' => settings_file(&paths, file),
        b'p' => pins(&paths, file),
        other => match other % 3 {
            0 => registry(&paths, file),
            1 => settings_file(&paths, file),
            _ => pins(&paths, file),
        },
    }
});
