//! Architecture invariants, checked on every test run:
//! - no crate but the app (the root package) depends on Tauri, directly or transitively;
//! - the workspace's crates depend on each other only along the edges listed here once;
//! - no crate has a cycle between its top-level modules;
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

/// The allowed dependencies between the workspace's own crates (normal dependencies; tests and
/// benches may also use `switchboard-testkit` and the crates below them). Written down once,
/// here: a new edge is added on purpose or not at all. Binaries on top, the domain below them,
/// leaves that know nothing of Switchboard at the bottom.
const ALLOWED_EDGES: &[(&str, &[&str])] = &[
    ("switchboard-app", &[API, CATALOG, CORE, GATEWAY, HOSTS, INSTALL, KB, RUNTIME]),
    ("switchboard-cli", &[API, CATALOG, CORE, GATEWAY, HOSTS, INSTALL, KB, RUNTIME]),
    ("switchboard-api", &[CATALOG, CORE, GATEWAY, HOSTS, INSTALL, MCP, RUNTIME]),
    ("switchboard-gateway", &[CORE, MCP]),
    ("switchboard-install", &[CATALOG, CORE, MCP, RUNTIME]),
    ("switchboard-runtime", &[CORE, HOSTS, MCP]),
    ("switchboard-catalog", &[CORE]),
    ("switchboard-hosts", &[CONFIG_EDIT, CORE]),
    ("switchboard-core", &[MCP]),
    ("switchboard-kb", &[]),
    ("switchboard-mcp", &[]),
    ("switchboard-config-edit", &[]),
    ("switchboard-testkit", &[]),
];
const API: &str = "switchboard-api";
const CATALOG: &str = "switchboard-catalog";
const CONFIG_EDIT: &str = "switchboard-config-edit";
const CORE: &str = "switchboard-core";
const GATEWAY: &str = "switchboard-gateway";
const HOSTS: &str = "switchboard-hosts";
const INSTALL: &str = "switchboard-install";
const KB: &str = "switchboard-kb";
const MCP: &str = "switchboard-mcp";
const RUNTIME: &str = "switchboard-runtime";

#[test]
fn workspace_crates_depend_only_along_the_allowed_edges() {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    let mut actual: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for package in packages.iter().filter(|p| members.contains(p["id"].as_str().unwrap_or(""))) {
        let name = package["name"].as_str().expect("name");
        let deps = actual.entry(name).or_default();
        for dep in package["dependencies"].as_array().expect("dependencies") {
            let dep_name = dep["name"].as_str().expect("dependency name");
            if dep["kind"].is_null() && dep_name.starts_with("switchboard-") {
                deps.insert(dep_name);
            }
        }
    }
    let allowed: BTreeMap<&str, BTreeSet<&str>> =
        ALLOWED_EDGES.iter().map(|(from, to)| (*from, to.iter().copied().collect())).collect();
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        allowed.keys().collect::<Vec<_>>(),
        "every workspace crate, and only those, has a line in ALLOWED_EDGES"
    );
    for (name, deps) in &actual {
        assert_eq!(deps, &allowed[name], "{name}'s dependencies differ from ALLOWED_EDGES");
    }
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

/// Code of a Rust file that counts for dependencies: comments dropped, and nothing from the first
/// `#[cfg(test)]` on (a file's tests may reach anywhere in their crate).
fn production_code(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The first name of each path in a `use crate::…` group that starts at `open` (a `{`), and
/// where the group ends.
fn group_heads(code: &str, open: usize) -> Vec<String> {
    let mut depth = 0;
    let mut heads = Vec::new();
    let mut item = String::new();
    for c in code[open..].chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    heads.push(std::mem::take(&mut item));
                    break;
                }
            }
            ',' if depth == 1 => {
                heads.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        item.push(c);
    }
    heads
        .iter()
        .map(|h| h.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
        .filter(|h: &String| !h.is_empty())
        .collect()
}

/// Edges between the top-level modules of the crate whose sources are in `src`: module `a`
/// names `crate::b…` (directly, or through an item the crate root re-exports from `b`).
fn module_edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let root_file =
        if src.join("lib.rs").exists() { src.join("lib.rs") } else { src.join("main.rs") };
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let top = |f: &Path| -> Option<String> {
        let rel = f.strip_prefix(src).ok()?;
        let first = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
        let first = first.trim_end_matches(".rs").to_owned();
        (first != "lib" && first != "main" && first != "bin").then_some(first)
    };
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top(f)).collect();
    // `pub use module::{A, B};` in the crate root: A and B belong to `module`.
    let mut reexported: BTreeMap<String, String> = BTreeMap::new();
    let root = production_code(&std::fs::read_to_string(&root_file).unwrap_or_default());
    for statement in root.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else { continue };
        let Some((module, items)) = path.split_once("::") else { continue };
        if modules.contains(module) {
            for item in items.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if !item.is_empty() {
                    reexported.insert(item.to_owned(), module.to_owned());
                }
            }
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(from) = top(file) else { continue };
        let code = production_code(&std::fs::read_to_string(file).unwrap_or_default());
        for (at, found) in code.match_indices("crate::") {
            let next = at + found.len();
            let heads = if code[next..].starts_with('{') {
                group_heads(&code, next)
            } else {
                vec![
                    code[next..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect(),
                ]
            };
            for head in heads {
                let to = reexported.get(&head).cloned().unwrap_or(head);
                if to != from && modules.contains(&to) {
                    edges.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    edges
}

/// The cycles of a directed graph: its strongly connected components of more than one node.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.keys().chain(edges.values().flatten()).collect();
    let reaches = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for next in edges.get(&n).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (*n, reaches(n))).collect();
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for n in &nodes {
        let component: Vec<String> = nodes
            .iter()
            .filter(|m| reach[*n].contains(**m) && reach[*m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        if component.len() > 1 {
            found.insert(component);
        }
    }
    found.into_iter().collect()
}

/// Dependencies point one way inside every crate too: no two top-level modules reach each other.
#[test]
fn no_crate_has_a_module_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/")
        .flatten()
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    sources.push(root.join("src-tauri"));
    let mut checked = 0;
    let mut problems = Vec::new();
    for src in &sources {
        let edges = module_edges(src);
        checked += edges.len();
        for cycle in cycles(&edges) {
            let ties: Vec<String> = cycle
                .iter()
                .map(|m| {
                    let to: Vec<&String> = edges[m].iter().filter(|t| cycle.contains(t)).collect();
                    format!("{m} -> {to:?}")
                })
                .collect();
            problems.push(format!(
                "{}: {}",
                src.strip_prefix(root).unwrap_or(src).display(),
                ties.join("; ")
            ));
        }
    }
    assert!(checked > 20, "found only {checked} modules with dependencies: is the parser blind?");
    assert!(problems.is_empty(), "module cycles:\n{}", problems.join("\n"));
}

/// The cycle finder on a small graph, so that a blind parser or finder cannot pass the check above.
#[test]
fn the_module_cycle_check_sees_a_planted_cycle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path();
    let write = |name: &str, text: &str| std::fs::write(src.join(name), text).expect("write");
    write(
        "lib.rs",
        "//! x\nmod events;\nmod supervisor;\nmod error;\npub use supervisor::{ServerState, Supervisor};\n",
    );
    write("error.rs", "//! x\npub enum Error {}\n");
    write("events.rs", "//! x\nuse crate::{ServerState, error::Error};\n");
    write(
        "supervisor.rs",
        "//! x\nuse crate::{\n    error::Error,\n    events::Event,\n};\n#[cfg(test)]\nmod tests { use crate::x; }\n",
    );
    let edges = module_edges(src);
    assert_eq!(
        cycles(&edges),
        vec![vec!["events".to_owned(), "supervisor".to_owned()]],
        "{edges:?}"
    );
    // Comments do not count; tests do not count.
    write("events.rs", "//! x\nuse crate::error::Error; // see crate::supervisor\n");
    assert!(cycles(&module_edges(src)).is_empty());
}
