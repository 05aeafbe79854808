//! Catalog entries (`server.json`, and a registry's list of them) and what an install makes of
//! one: an entry that parses serialises and parses back to itself; its card, search and install
//! form never fail; an entry whose checks pass has a reverse-DNS name; its local name is a valid
//! server name; every path an install plan would create or remove stays inside the packages
//! folder; and a secret the user typed never reaches the command line, the environment or the
//! headers without being marked secret.
//!
//! Input: JSON. An entry (`{"name": …}`), or a registry page (`{"servers": [{"server": …}]}`).
//! The extra key `_answers` (`[["KEY", "VALUE"], …]`) gives the user's answers to the form.
#![no_main]

use std::path::{Component, Path};

use serde_json::Value;
use switchboard_catalog::{Card, Catalog, Entry, Query, ServerJson, ServerList, Source};
use switchboard_core::ServerName;
use switchboard_install::{Plan, Start, Toolbox, Way, inputs, local_name, plan};

const PACKAGES: &str = "/sbfuzz/data/packages";

/// `path` is `PACKAGES` followed only by plain names: it cannot leave the folder.
fn inside_packages(path: &Path, what: &str) {
    let Ok(rest) = path.strip_prefix(PACKAGES) else {
        panic!("{what} {} is not under {PACKAGES}", path.display());
    };
    assert!(
        rest.components().all(|c| matches!(c, Component::Normal(_))),
        "{what} {} leaves {PACKAGES}",
        path.display()
    );
}

fn answers_of(value: &Value) -> Vec<(String, String)> {
    let Some(items) = value.get("_answers").and_then(Value::as_array) else { return Vec::new() };
    items
        .iter()
        .filter_map(|pair| {
            let k = pair.get(0)?.as_str()?;
            let v = pair.get(1)?.as_str()?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

fn check_entry(server: &ServerJson, answers: &[(String, String)]) {
    // Round trip: what Switchboard caches and re-reads is the same entry.
    let text = match serde_json::to_string(server) {
        Ok(t) => t,
        Err(e) => panic!("an entry does not serialise: {e}"),
    };
    match serde_json::from_str::<ServerJson>(&text) {
        Ok(back) => assert_eq!(&back, server, "the entry does not round-trip:\n{text}"),
        Err(e) => panic!("a serialised entry does not parse back ({e}):\n{text}"),
    }
    let problems = server.problems();
    if problems.is_empty() {
        assert_eq!(server.name.matches('/').count(), 1, "{:?} passed the checks", server.name);
    }
    let name = local_name(&server.name);
    assert!(name.parse::<ServerName>().is_ok(), "local name {name:?} of {:?}", server.name);

    let entry = Entry { server: server.clone(), source: Source::Registry };
    let card = Card::of(&entry);
    let catalog = Catalog::from_entries(vec![entry]);
    let words = format!("{} {}", card.title, server.description);
    let _ = catalog.search(&Query { text: words, ..Query::default() });
    let found = catalog.find(&server.name);
    assert!(found.is_ok(), "an entry is not found by its own name {:?}", server.name);

    let tools = Toolbox {
        node: Some("/usr/bin/node".into()),
        npm: Some("/usr/bin/npm".into()),
        uv: Some("/usr/bin/uv".into()),
        container: Some("/usr/bin/docker".into()),
    };
    let ways = (0..server.packages.len())
        .map(Way::Package)
        .chain((0..server.remotes.len()).map(Way::Remote));
    for way in ways {
        let fields = inputs::fields(server, way);
        let _ = inputs::check(server, way, answers);
        let _ = inputs::resolve(server, way, answers);
        // Each answer to a secret field is given a marker no other text can hold, so that
        // wherever the marker turns up, that secret went.
        let is_secret = |key: &str| fields.iter().any(|f| f.key == key && f.secret);
        let lock = '\u{1F512}';
        let unmarked = text.contains(lock) || answers.iter().any(|(_, v)| v.contains(lock));
        if !unmarked {
            let marker = |i: usize| format!("{lock}S{i}{lock}");
            let marked: Vec<(String, String)> = answers
                .iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    let v = if is_secret(k) { format!("{}{v}", marker(i)) } else { v.clone() };
                    (k.clone(), v)
                })
                .collect();
            let resolved = inputs::resolve(server, way, &marked);
            for (i, (key, _)) in answers.iter().enumerate().filter(|(_, (k, _))| is_secret(k)) {
                let secret = marker(i);
                let in_args = resolved
                    .runtime_args
                    .iter()
                    .chain(&resolved.package_args)
                    .any(|a| a.contains(&secret));
                assert!(
                    !in_args || resolved.secret_args,
                    "the answer to the secret {key} is on the command line, not marked: {resolved:?}"
                );
                for (k, v) in &resolved.env {
                    assert!(
                        !v.contains(&secret) || resolved.secret_env.contains(k),
                        "env {k} carries the secret {key} but is not marked secret: {resolved:?}"
                    );
                }
                for (k, v) in &resolved.headers {
                    assert!(
                        !v.contains(&secret) || resolved.secret_headers.contains(k),
                        "header {k} carries the secret {key} but is not marked secret: {resolved:?}"
                    );
                }
            }
        }
        if let Ok(p) = plan(server, Some(way), answers, &tools, Path::new(PACKAGES)) {
            check_plan(&p);
        }
    }
    if let Ok(p) = plan(server, None, answers, &tools, Path::new(PACKAGES)) {
        check_plan(&p);
    }
}

fn check_plan(p: &Plan) {
    if let Some(dir) = &p.package_dir {
        inside_packages(dir, "the package folder");
    }
    match &p.start {
        Start::NodePackage { prefix, .. } => inside_packages(prefix, "the npm prefix"),
        Start::UvTool { bin_dir, tool_dir, .. } => {
            inside_packages(bin_dir, "uv's bin folder");
            inside_packages(tool_dir, "uv's tool folder");
        }
        Start::Bundle { dir, .. } => inside_packages(dir, "the bundle folder"),
        Start::Command { .. } | Start::Remote { .. } => {}
    }
    for name in &p.secret_env {
        assert!(p.env.contains_key(name), "secret env {name} is not in the env");
    }
}

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    let answers = answers_of(&value);
    if let Ok(server) = serde_json::from_value::<ServerJson>(value.clone()) {
        check_entry(&server, &answers);
    }
    if let Ok(list) = serde_json::from_value::<ServerList>(value) {
        for response in list.servers.iter().take(8) {
            check_entry(&response.server, &answers);
        }
    }
});
