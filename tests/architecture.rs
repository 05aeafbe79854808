//! Architecture invariants, checked on every test run:
//! - no crate but the app (the root package) depends on Tauri, directly or transitively;
//! - every Rust source file opens with a `//!` line saying what it is for;
//! - in the UI, only `ui/src/lib/tauri.ts` imports `@tauri-apps/*`;
//! - nothing tracked reads a path outside the repository.

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

/// One step up. This file spells the paths it looks for in pieces, so that it passes its own
/// check without an exception.
const UP: &str = concat!("..", "/");

/// The folder beside the repository that design notes and test data once came from.
fn sibling_names() -> Vec<String> {
    let shared = ["sha", "red"].concat();
    let mut names = vec![format!("{UP}{shared}")];
    for inside in ["corpus", "mcp-schema", "design", "hooks"] {
        names.push(format!("{shared}/{inside}"));
    }
    names
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Absolute paths into somebody's home: root's, or a user's other than the one-letter placeholder
/// users (`/home/u`) that the host-path tests compute paths for.
fn personal_path(line: &str) -> Option<&'static str> {
    let starts_token =
        |at: usize| !line[..at].chars().next_back().is_some_and(|c| is_name_char(c) || c == '.');
    let root_home = concat!("/ro", "ot/");
    if line.match_indices(root_home).any(|(at, _)| starts_token(at)) {
        return Some(root_home);
    }
    for prefix in ["/home/", "/Users/", "C:\\\\Users\\\\", "C:\\Users\\"] {
        for (at, _) in line.match_indices(prefix) {
            let user = line[at + prefix.len()..].chars().take_while(|c| is_name_char(*c)).count();
            if user > 1 {
                return Some(prefix);
            }
        }
    }
    None
}

/// How many steps up a path token starting at `at` climbs (0 when `at` is inside a path, as in
/// `docs/../x`).
fn climb_at(line: &str, at: usize) -> usize {
    if line[..at].chars().next_back().is_some_and(|c| is_name_char(c) || "./\\:".contains(c)) {
        return 0;
    }
    let mut n = 0;
    while line[at + UP.len() * n..].starts_with(UP) {
        n += 1;
    }
    n
}

/// Why lines of `text` (tracked at `rel`, relative to the repository root) read something outside
/// the repository. Rust code joins paths to its package folder (`env!("CARGO_MANIFEST_DIR")`),
/// `package`; `include_bytes!` and friends resolve from the file's own folder, and so does every
/// other kind of file.
fn outside_reads(rel: &Path, package: &Path, text: &str) -> Vec<String> {
    let depth = |p: &Path| p.components().count();
    let file_dir = rel.parent().unwrap_or(Path::new(""));
    let rust = rel.extension().is_some_and(|e| e == "rs");
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let place = format!("{}:{}", rel.display(), number + 1);
        for name in sibling_names() {
            if line.contains(&name) {
                found.push(format!("{place}: names `{name}`, a folder beside the repository"));
            }
        }
        if let Some(prefix) = personal_path(line) {
            found.push(format!("{place}: an absolute path under `{prefix}`"));
        }
        let from_file = !rust || ["include_", "#[path", "import("].iter().any(|m| line.contains(m));
        let base = if from_file { file_dir } else { package };
        for (at, _) in line.match_indices(UP) {
            let climbs = climb_at(line, at);
            if climbs > depth(base) {
                let from =
                    if depth(base) == 0 { "the root".into() } else { base.display().to_string() };
                found.push(format!(
                    "{place}: `{}` from {from} climbs out of the repository",
                    UP.repeat(climbs)
                ));
            }
        }
    }
    found
}

/// The files git tracks (outside a git checkout, every file but build output and packages).
fn tracked_files(root: &Path) -> Vec<PathBuf> {
    let git = std::process::Command::new("git").args(["ls-files", "-z"]).current_dir(root).output();
    if let Ok(out) = git
        && out.status.success()
    {
        return out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .collect();
    }
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if ["target", "node_modules", ".git", "dist"].iter().any(|skip| name == *skip) {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// The repository stands alone: no code, script, test, bench, `x` or `.ci/run` reads a path
/// outside it, so a clone anywhere builds and tests. Prose (`*.md`), lockfiles and the copied-in
/// test data (`testdata/`) are not read; binary files are not text and are passed over.
#[test]
fn nothing_tracked_reads_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = tracked_files(root);
    assert!(files.len() > 100, "found only {} files", files.len());
    for must in ["x", ".ci/run", "crates/kb/tests/it/support.rs", "crates/kb/benches/kb.rs"] {
        assert!(
            files.iter().any(|f| f == Path::new(must)),
            "{must} is not among the files checked"
        );
    }
    let mut found = Vec::new();
    let mut read = 0;
    for rel in &files {
        let prose_or_data = rel.starts_with("testdata")
            || rel.extension().is_some_and(|e| e == "md" || e == "lock")
            || rel.file_name().is_some_and(|n| n == "package-lock.json");
        if prose_or_data {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(rel)) else { continue };
        let package = rel
            .ancestors()
            .skip(1)
            .find(|dir| root.join(dir).join("Cargo.toml").is_file())
            .unwrap_or(Path::new(""));
        found.extend(outside_reads(rel, package, &text));
        read += 1;
    }
    assert!(read > 100, "read only {read} files");
    assert!(found.is_empty(), "tracked files read outside the repository:\n{}", found.join("\n"));
}

/// The detector itself: each kind of escape it must catch, and the look-alikes it must not.
#[test]
fn the_outside_path_check_catches_what_it_should() {
    let shared = ["sha", "red"].concat();
    let up = |n: usize| UP.repeat(n);
    let kb = Path::new("crates/kb");
    let support = Path::new("crates/kb/tests/it/support.rs");
    let tray = Path::new("src-tauri/tray.rs");
    let root = Path::new("");
    let caught =
        |rel: &Path, package: &Path, line: &str| !outside_reads(rel, package, line).is_empty();
    let manifest_join =
        |path: &str| format!(r#"Path::new(env!("CARGO_MANIFEST_DIR")).join("{path}")"#);
    // The original defect: test data read from the folder beside the repository.
    assert!(caught(support, kb, &manifest_join(&format!("{}{shared}/corpus/mcp-docs", up(3)))));
    assert!(caught(Path::new("x"), root, &format!("cp -r {}{shared}/mcp-schema out", up(1))));
    // Climbing out of the repository under any other name.
    assert!(caught(support, kb, &manifest_join(&format!("{}elsewhere/data", up(3)))));
    assert!(caught(tray, root, &format!(r#"include_bytes!("{}icon.png")"#, up(2))));
    assert!(caught(
        Path::new("tests/e2e/conftest.py"),
        root,
        &format!(r#"DATA = "{}corpus""#, up(3))
    ));
    // Absolute paths into a machine.
    assert!(caught(Path::new("x"), root, &format!("CORPUS=/{}/corpus/mcp-docs", "root")));
    assert!(caught(support, kb, &format!(r#"read("/{}/alice/docs")"#, "home")));
    assert!(caught(support, kb, &format!(r#"read("/{}/.cache/x")"#, "root")));
    // Not escapes: paths inside the repository, traversal strings that tests feed the code, and
    // the placeholder homes of the host-path tests.
    assert!(!caught(support, kb, &manifest_join(&format!("{}testdata", up(2)))));
    assert!(!caught(tray, root, &format!(r#"include_bytes!("{}icons/a.png")"#, up(1))));
    assert!(!caught(
        support,
        kb,
        &format!(r#"for bad in ["{0}secret.md", "docs/{0}{0}secret.md"]"#, up(1))
    ));
    let view = Path::new("ui/src/views/Hosts.svelte");
    assert!(!caught(view, root, &format!("import X from '{}lib/x';", up(2))));
    assert!(!caught(support, kb, r#"("HOME", "/home/u"), "/Users/u/.cursor/mcp.json""#));
}
