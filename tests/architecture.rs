//! Architecture invariants, checked on every test run:
//! - no crate but the app (the root package) depends on Tauri, directly or transitively;
//! - every Rust source file opens with a `//!` line saying what it is for;
//! - in the UI, only `ui/src/lib/tauri.ts` imports `@tauri-apps/*`.

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly
#![allow(clippy::disallowed_methods)] // runs `cargo metadata`

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

const APP: &str = "switchboard-app";
const GUI_CRATES: &[&str] =
    &["tauri", "tauri-runtime", "tauri-runtime-wry", "wry", "tao", "gtk", "webkit2gtk"];

fn metadata() -> serde_json::Value {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("metadata JSON")
}

#[test]
fn core_crates_never_depend_on_tauri() {
    let meta = metadata();
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().expect("id"), p["name"].as_str().expect("name")))
        .collect();
    // Normal (non-dev, non-build) dependency edges of the resolved graph.
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("nodes") {
        let id = node["id"].as_str().expect("id");
        for dep in node["deps"].as_array().expect("deps") {
            let normal =
                dep["dep_kinds"].as_array().expect("kinds").iter().any(|k| k["kind"].is_null());
            if normal {
                edges.entry(id).or_default().push(dep["pkg"].as_str().expect("pkg"));
            }
        }
    }
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    assert!(members.len() >= 4, "expected the workspace's crates, found {members:?}");
    let mut checked = Vec::new();
    for member in members {
        let name = names[member];
        if name == APP {
            continue;
        }
        let mut seen = BTreeSet::new();
        let mut stack = vec![member];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let dep_name = names[id];
            assert!(
                !GUI_CRATES.contains(&dep_name),
                "{name} depends (transitively) on {dep_name}: only {APP} may know about Tauri"
            );
            stack.extend(edges.get(id).into_iter().flatten());
        }
        checked.push(name);
    }
    assert!(checked.contains(&"switchboard-core"), "{checked:?}");
    assert!(checked.contains(&"switchboard-cli"), "{checked:?}");
    assert!(checked.contains(&"switchboard-kb"), "{checked:?}");
    // The knowledge-base server is a leaf: a plain MCP server that any host can run, knowing
    // nothing of the registry or the supervisor.
    let kb = names.iter().find(|(_, n)| **n == "switchboard-kb").map(|(id, _)| *id).expect("kb");
    let kb_deps: Vec<&str> = edges.get(kb).into_iter().flatten().map(|id| names[id]).collect();
    assert!(
        !kb_deps.iter().any(|d| d.starts_with("switchboard-")),
        "switchboard-kb depends on {kb_deps:?}"
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "node_modules" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_says_what_it_is_for() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["crates", "src-tauri", "tests"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            !text.lines().next().is_some_and(|l| l.starts_with("//!"))
        })
        .map(|f| f.strip_prefix(root).unwrap_or(f).display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a //! first line: {missing:?}");
}

fn ui_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            ui_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "ts" || e == "svelte") {
            out.push(path);
        }
    }
}

#[test]
fn only_one_ui_module_imports_tauri() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    ui_files(&root.join("ui/src"), &mut files);
    assert!(files.len() > 5, "found only {} UI files", files.len());
    let importers: Vec<String> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).unwrap_or_default().contains("@tauri-apps/"))
        .map(|f| f.strip_prefix(root).unwrap_or(f).display().to_string())
        .collect();
    assert_eq!(importers, ["ui/src/lib/tauri.ts"]);
}
