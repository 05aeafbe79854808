//! Host config writers on real files: a snapshot of every host × fixture after an apply, a byte
//! exact removal, and the failure paths (malformed files, no permission, a read-only folder, a
//! concurrent edit, a writer killed mid-write).

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly
#![allow(clippy::disallowed_methods)] // runs the CLI binary directly

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use switchboard_core::{Paths, ServerName, ServerSpec, spec::RemoteTransport};
use switchboard_hosts::{
    Action, Bridge, ChangeKind, ConfigFile, EntryState, Format, HostEnv, HostId, Hosts, Os,
    test_hooks,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const SNAPSHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots");

/// A user's home and Switchboard's state, both in one temp folder under `target/`.
struct World {
    dir: tempfile::TempDir,
    hosts: Hosts,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("hosts-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("temp dir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        // The environment is described, not inherited: a home and a PATH with a shell on it.
        let env = HostEnv::from_lookup(Os::Linux, |k| match k {
            "HOME" => Some(home.clone().into()),
            "PATH" => Some("/usr/bin:/bin".into()),
            _ => None,
        })
        .expect("env");
        let paths = Paths::under(&dir.path().join("sb"));
        let bridge = Bridge {
            program: "/opt/switchboard/switchboard".into(),
            prefix: vec!["bridge".into()],
        };
        let mut hosts = Hosts::new(&paths, env, Some(bridge));
        hosts.resolve_commands = false;
        World { dir, hosts }
    }

    fn user_file(&self, host: HostId) -> ConfigFile {
        self.hosts.target(host, None).expect("user file")
    }
}

fn servers() -> Vec<(ServerName, ServerSpec)> {
    let mut alpha = ServerSpec::stdio("/usr/local/bin/alpha-mcp", vec!["--verbose".into()]);
    if let switchboard_core::Launch::Stdio { env, .. } = &mut alpha.launch {
        env.insert("ALPHA_MODE".into(), "fast".into());
    }
    let mut beta =
        ServerSpec::remote("https://mcp.example.com/mcp", RemoteTransport::StreamableHttp);
    if let switchboard_core::Launch::Remote { headers, .. } = &mut beta.launch {
        headers.insert("X-Team".into(), "blue".into());
    }
    vec![("alpha".parse().expect("name"), alpha), ("beta".parse().expect("name"), beta)]
}

/// The fixtures each host's file is tried with (`None`: no file at all).
fn fixtures_for(host: HostId, format: Format) -> Vec<Option<&'static str>> {
    let names: &[&str] = match (host, format) {
        (_, Format::Json) => &[
            "crlf-unknown-keys.json",
            "tabs-unicode.json",
            "compact.json",
            "no-container.json",
            "empty.json",
        ],
        (_, Format::Jsonc) => {
            &["comments-trailing.jsonc", "crlf-no-container.jsonc", "empty.jsonc"]
        }
        (_, Format::Toml) => &["codex.toml", "crlf-unicode.toml", "empty.toml"],
        (HostId::Goose, _) => &["goose.yaml", "goose-flow-empty.yaml", "empty.yaml"],
        (_, Format::Yaml) => &["continue.yaml", "continue-no-container.yaml", "empty.yaml"],
    };
    names.iter().map(|n| Some(*n)).chain([None]).collect()
}

fn fixture_text(name: &str, key: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).expect("fixture").replace("$KEY", key)
}

/// Compares with the stored snapshot; `UPDATE_SNAPSHOTS=1` rewrites it instead.
fn check_snapshot(name: &str, actual: &str) {
    let path = Path::new(SNAPSHOTS).join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(SNAPSHOTS).expect("snapshots dir");
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no snapshot {}: run with UPDATE_SNAPSHOTS=1", path.display()));
    assert_eq!(actual, expected, "{name} differs from its snapshot");
}

#[test]
fn every_host_and_fixture_apply_matches_its_snapshot_and_remove_restores_the_bytes() {
    let mut cases = 0;
    for host in HostId::ALL {
        let probe = World::new();
        let format = probe.user_file(host).format;
        for fixture in fixtures_for(host, format) {
            let world = World::new();
            let file = world.user_file(host);
            let original = fixture.map(|f| fixture_text(f, file.container.key));
            if let Some(text) = &original {
                std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
                std::fs::write(&file.path, text).expect("write fixture");
            }
            let case = format!("{host}__{}", fixture.unwrap_or("missing"));

            let (plan, written) =
                world.hosts.write(&file, &Action::Apply(servers()), false).expect(&case);
            assert!(written.is_some(), "{case}: nothing written");
            let after = std::fs::read_to_string(&file.path).expect("read");
            let skipped: Vec<String> =
                plan.skipped.iter().map(|s| format!("{}: {}", s.name, s.reason)).collect();
            let mut snapshot = after.clone();
            if !skipped.is_empty() {
                snapshot.push_str(&format!("\n=== skipped\n{}\n", skipped.join("\n")));
            }
            check_snapshot(&format!("{case}.snap"), &snapshot);
            // The other entry, where the fixture has one, is untouched.
            if original.as_deref().is_some_and(|t| t.contains("theirs")) {
                let status = world.hosts.status(&Default::default(), None).expect("status");
                let entries =
                    &status.iter().find(|h| h.id == host.id()).expect("host").files[0].entries;
                assert!(
                    entries.iter().any(|e| e.name == "theirs" && e.state == EntryState::Theirs),
                    "{case}: {entries:?}"
                );
            }

            world.hosts.write(&file, &Action::Remove(None), false).expect(&case);
            match &original {
                Some(text) => assert_eq!(
                    &std::fs::read_to_string(&file.path).expect("read"),
                    text,
                    "{case}: remove did not restore the original bytes"
                ),
                None => assert!(!file.path.exists(), "{case}: the file we created is still there"),
            }
            cases += 1;
        }
    }
    assert!(cases >= 13 * 3, "only {cases} cases ran");
}

#[test]
fn a_users_entry_of_the_same_name_is_reported_and_left_alone_unless_forced() {
    let world = World::new();
    let file = world.user_file(HostId::Cursor);
    std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
    let mine = "{\n  \"mcpServers\": {\n    \"alpha\": {\"command\": \"my-own-alpha\"}\n  }\n}\n";
    std::fs::write(&file.path, mine).expect("write");

    let (plan, _) = world.hosts.write(&file, &Action::Apply(servers()), false).expect("apply");
    assert_eq!(plan.skipped.len(), 1, "{:?}", plan.skipped);
    assert_eq!(plan.skipped[0].name, "alpha");
    assert!(plan.skipped[0].reason.contains("did not write it"), "{}", plan.skipped[0].reason);
    let text = std::fs::read_to_string(&file.path).expect("read");
    assert!(text.contains("\"alpha\": {\"command\": \"my-own-alpha\"}"), "{text}");

    // Removing "alpha" without --force leaves it; removing all of ours takes only beta.
    let (plan, _) = world
        .hosts
        .write(&file, &Action::Remove(Some(vec!["alpha".into()])), false)
        .expect("remove");
    assert_eq!(plan.changes.len(), 0);
    assert!(std::fs::read_to_string(&file.path).expect("read").contains("my-own-alpha"));
    world.hosts.write(&file, &Action::Remove(None), false).expect("remove ours");
    assert_eq!(std::fs::read_to_string(&file.path).expect("read"), mine);

    // --force replaces it.
    let (plan, _) = world.hosts.write(&file, &Action::Apply(servers()), true).expect("force");
    assert!(plan.changes.iter().any(|c| c.name == "alpha" && c.kind == ChangeKind::Update));
    assert!(!std::fs::read_to_string(&file.path).expect("read").contains("my-own-alpha"));
}

#[test]
fn a_sync_makes_ours_exactly_the_servers_given_and_leaves_the_users_entries_alone() {
    let world = World::new();
    let file = world.user_file(HostId::Cursor);
    std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
    let mine = "{\n  \"mcpServers\": {\n    \"gamma\": {\"command\": \"my-own-gamma\"}\n  }\n}\n";
    std::fs::write(&file.path, mine).expect("write");
    world.hosts.write(&file, &Action::Apply(servers()), false).expect("apply");

    // Alpha stays as it is, beta (ours, not asked for) goes, gamma (the user's) stays.
    let alpha: Vec<_> = servers().into_iter().filter(|(n, _)| n.as_str() == "alpha").collect();
    let (plan, written) = world.hosts.write(&file, &Action::Sync(alpha), false).expect("sync");
    assert!(written.is_some());
    let kinds: Vec<(&str, ChangeKind)> =
        plan.changes.iter().map(|c| (c.name.as_str(), c.kind)).collect();
    assert_eq!(kinds, [("alpha", ChangeKind::Unchanged), ("beta", ChangeKind::Remove)]);
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
    let text = std::fs::read_to_string(&file.path).expect("read");
    assert!(text.contains("\"alpha\"") && !text.contains("\"beta\""), "{text}");
    assert!(text.contains("my-own-gamma"), "{text}");

    // Syncing to nothing removes the rest of ours and gives the user's file back byte for byte.
    let (plan, _) = world.hosts.write(&file, &Action::Sync(Vec::new()), false).expect("sync");
    let kinds: Vec<(&str, ChangeKind)> =
        plan.changes.iter().map(|c| (c.name.as_str(), c.kind)).collect();
    assert_eq!(kinds, [("alpha", ChangeKind::Remove)]);
    assert_eq!(std::fs::read_to_string(&file.path).expect("read"), mine);
}

/// The ledger and the journal take their time from the injected clock, not the system's.
#[test]
fn the_ledger_and_journal_are_dated_by_the_injected_clock() {
    use switchboard_core::clock::ManualClock;
    const AT_MS: u64 = 1_234_567_890_123;
    let mut world = World::new();
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(AT_MS);
    world.hosts.clock = std::sync::Arc::new(ManualClock::new(at));
    let file = world.user_file(HostId::Cursor);
    world.hosts.write(&file, &Action::Apply(servers()), false).expect("apply");

    let mut dates = Vec::new();
    let mut stack = vec![world.dir.path().join("sb/data/hosts")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                for line in text.lines().filter(|l| l.contains("writtenAtMs") || l.contains("atMs"))
                {
                    dates.push(line.trim().to_string());
                }
            }
        }
    }
    assert!(!dates.is_empty(), "no dated records under data/hosts");
    let wanted = AT_MS.to_string();
    assert!(dates.iter().all(|d| d.contains(&wanted)), "dates not from the clock: {dates:?}");
}

#[test]
fn a_malformed_file_is_never_written_and_the_error_names_file_line_and_column() {
    let world = World::new();
    for (host, text, line, column) in [
        (HostId::ClaudeDesktop, "{\n  \"mcpServers\": {\n    \"x\": {,}\n  }\n}\n", 3, 11),
        // Comments are not JSON: strict hosts reject them.
        (HostId::Cursor, "{\n  // a comment\n  \"mcpServers\": {}\n}\n", 2, 3),
        (HostId::Zed, "{\n  \"context_servers\": {\n", 2, 22),
        (HostId::Codex, "model = \"o3\"\n[mcp_servers\n", 2, 13),
        (HostId::Goose, "extensions:\n  dev: [unclosed\n", 3, 1),
    ] {
        let file = world.user_file(host);
        std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&file.path, text).expect("write");
        let error =
            world.hosts.write(&file, &Action::Apply(servers()), false).expect_err("refused");
        let message = error.to_string();
        assert!(message.contains(&file.path.display().to_string()), "{message}");
        assert!(message.contains(&format!("line {line}")), "{host}: {message}");
        assert!(message.contains(&format!("column {column}")), "{host}: {message}");
        assert_eq!(std::fs::read_to_string(&file.path).expect("read"), text, "{host}: written");
        // The diff is refused the same way.
        assert!(world.hosts.plan(&file, &Action::Apply(servers()), false).is_err());
    }
    // Wrong shapes are refused too.
    let file = world.user_file(HostId::Windsurf);
    std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
    for text in ["[1, 2]", "{\"mcpServers\": [\"x\"]}"] {
        std::fs::write(&file.path, text).expect("write");
        let error =
            world.hosts.write(&file, &Action::Apply(servers()), false).expect_err("refused");
        assert!(error.to_string().contains("not a map"), "{error}");
        assert_eq!(std::fs::read_to_string(&file.path).expect("read"), text);
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Makes a path unwritable for this process: `chattr +i` as root (who ignores modes), else a
/// read-only mode. Undone on drop.
struct Unwritable(PathBuf, bool);

impl Unwritable {
    fn new(path: &Path) -> Self {
        let root = is_root();
        if root {
            let status =
                std::process::Command::new("chattr").arg("+i").arg(path).status().expect("chattr");
            assert!(status.success(), "chattr +i {} failed", path.display());
        } else {
            use std::os::unix::fs::PermissionsExt;
            let mode = if path.is_dir() { 0o555 } else { 0o444 };
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        Unwritable(path.to_path_buf(), root)
    }
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        if self.1 {
            let _ = std::process::Command::new("chattr").arg("-i").arg(&self.0).status();
        } else {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
        }
    }
}

#[test]
fn a_read_only_folder_or_file_fails_cleanly_and_leaves_everything_as_it_was() {
    let world = World::new();
    let file = world.user_file(HostId::Cursor);
    let dir = file.path.parent().expect("dir").to_path_buf();
    std::fs::create_dir_all(&dir).expect("mkdir");
    let text = "{\n  \"mcpServers\": {}\n}\n";
    std::fs::write(&file.path, text).expect("write");

    {
        let _locked = Unwritable::new(&dir);
        let error =
            world.hosts.write(&file, &Action::Apply(servers()), false).expect_err("refused");
        assert!(error.to_string().contains(&dir.display().to_string()), "{error}");
    }
    assert_eq!(std::fs::read_to_string(&file.path).expect("read"), text);
    let status = world.hosts.status(&Default::default(), None).expect("status");
    let cursor = status.iter().find(|h| h.id == "cursor").expect("cursor");
    assert!(cursor.files[0].entries.is_empty(), "a failed write was recorded: {:?}", cursor.files);
    // Nothing left behind in the folder.
    let names: Vec<_> =
        std::fs::read_dir(&dir).expect("list").flatten().map(|e| e.file_name()).collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // An immutable (or read-only) file: the rename onto it fails as root, the read-only mode
    // otherwise; either way the file is unchanged.
    {
        let _locked = Unwritable::new(&file.path);
        if is_root() {
            assert!(world.hosts.write(&file, &Action::Apply(servers()), false).is_err());
        }
    }
    assert!(std::fs::read_to_string(&file.path).expect("read").starts_with('{'));
}

#[test]
fn an_edit_between_our_read_and_our_write_is_kept_and_never_written_over() {
    let world = World::new();
    let file = world.user_file(HostId::Cursor);
    std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
    std::fs::write(&file.path, "{\n  \"mcpServers\": {}\n}\n").expect("write");

    // Once: another program adds its own server while we plan. We plan again on its content.
    let target = file.path.clone();
    let mut fired = false;
    test_hooks::set_before_write(Some(Box::new(move |path: &Path| {
        if path == target && !fired {
            fired = true;
            std::fs::write(
                path,
                "{\n  \"mcpServers\": {\n    \"other\": {\"command\": \"o\"}\n  }\n}\n",
            )
            .expect("concurrent write");
        }
    })));
    let (_, written) = world.hosts.write(&file, &Action::Apply(servers()), false).expect("apply");
    test_hooks::set_before_write(None);
    assert_eq!(written.expect("written").retries, 1);
    let text = std::fs::read_to_string(&file.path).expect("read");
    assert!(text.contains("\"other\"") && text.contains("\"alpha\""), "{text}");

    // Always: the other program keeps writing. We give up and write nothing.
    std::fs::write(&file.path, "{\"mcpServers\": {}}").expect("write");
    let target = file.path.clone();
    let mut n = 0;
    test_hooks::set_before_write(Some(Box::new(move |path: &Path| {
        if path == target {
            n += 1;
            std::fs::write(path, format!("{{\"mcpServers\": {{}}, \"n\": {n}}}")).expect("write");
        }
    })));
    let error = world.hosts.write(&file, &Action::Apply(servers()), false).expect_err("gave up");
    test_hooks::set_before_write(None);
    assert!(error.to_string().contains("kept changing"), "{error}");
    assert_eq!(
        std::fs::read_to_string(&file.path).expect("read"),
        "{\"mcpServers\": {}, \"n\": 3}"
    );
}

#[test]
fn undo_restores_each_write_in_turn_and_refuses_over_a_later_edit() {
    let world = World::new();
    let file = world.user_file(HostId::Windsurf);
    std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
    let v0 = "{\n  \"mcpServers\": {}\n}\n";
    std::fs::write(&file.path, v0).expect("write");
    let all = servers();
    world.hosts.write(&file, &Action::Apply(all[..1].to_vec()), false).expect("apply 1");
    let v1 = std::fs::read_to_string(&file.path).expect("read");
    world.hosts.write(&file, &Action::Apply(all.clone()), false).expect("apply 2");

    world.hosts.undo(HostId::Windsurf, false).expect("undo 2");
    assert_eq!(std::fs::read_to_string(&file.path).expect("read"), v1);
    world.hosts.undo(HostId::Windsurf, false).expect("undo 1");
    assert_eq!(std::fs::read_to_string(&file.path).expect("read"), v0);
    assert!(world.hosts.undo(HostId::Windsurf, false).is_err(), "nothing left to undo");
    // The ledger followed: nothing of ours is left.
    let status = world.hosts.status(&Default::default(), None).expect("status");
    let windsurf = status.iter().find(|h| h.id == "windsurf").expect("windsurf");
    assert!(windsurf.files[0].entries.is_empty(), "{:?}", windsurf.files[0].entries);

    // A later edit by someone else blocks the undo (the journal's hash no longer matches).
    world.hosts.write(&file, &Action::Apply(all), false).expect("apply");
    let edited = std::fs::read_to_string(&file.path).expect("read").replace("{}", "{ }");
    std::fs::write(&file.path, format!("{edited} ")).expect("edit");
    let error = world.hosts.undo(HostId::Windsurf, false).expect_err("refused");
    assert!(error.to_string().contains("changed since"), "{error}");
    world.hosts.undo(HostId::Windsurf, true).expect("forced");
    assert_eq!(std::fs::read_to_string(&file.path).expect("read"), v0);
}

#[test]
fn backups_are_kept_per_file_and_bounded() {
    let world = World::new();
    let file = world.user_file(HostId::LmStudio);
    std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
    std::fs::write(&file.path, "{}\n").expect("write");
    let all = servers();
    for _ in 0..15 {
        world.hosts.write(&file, &Action::Apply(all.clone()), false).expect("apply");
        world.hosts.write(&file, &Action::Remove(None), false).expect("remove");
    }
    let backups = world.dir.path().join("sb/data/hosts/backups");
    let folders: Vec<PathBuf> =
        std::fs::read_dir(&backups).expect("list").flatten().map(|e| e.path()).collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    let kept: BTreeMap<String, String> = std::fs::read_dir(&folders[0])
        .expect("list")
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).expect("read"),
            )
        })
        .collect();
    assert_eq!(kept.len(), switchboard_hosts::BACKUPS_KEPT, "{:?}", kept.keys());
    // The newest backup is the content before the last write (the applied file).
    let newest = kept.values().last().expect("newest");
    assert!(newest.contains("alpha"), "{newest}");
    // Backups are private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(
        folders[0].read_dir().expect("list").flatten().next().expect("one").path(),
    )
    .expect("meta")
    .permissions()
    .mode();
    assert_eq!(mode & 0o077, 0, "backup mode {mode:o}");
}

#[test]
fn the_written_file_keeps_its_permissions_and_a_symlinked_config_stays_a_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let world = World::new();
    let file = world.user_file(HostId::Cursor);
    let dir = file.path.parent().expect("dir");
    std::fs::create_dir_all(dir).expect("mkdir");
    let real = world.dir.path().join("dotfiles-mcp.json");
    std::fs::write(&real, "{}\n").expect("write");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    std::os::unix::fs::symlink(&real, &file.path).expect("symlink");

    world.hosts.write(&file, &Action::Apply(servers()), false).expect("apply");
    assert!(std::fs::symlink_metadata(&file.path).expect("meta").file_type().is_symlink());
    assert!(std::fs::read_to_string(&real).expect("read").contains("alpha"));
    assert_eq!(std::fs::metadata(&real).expect("meta").permissions().mode() & 0o777, 0o640);
}

/// A host's user file that comes to hold its gateway token is its owner's alone: made so when
/// connect writes the token into a file others could read, and created so. A project's file
/// Switchboard creates stays readable by others, as the ones hosts create.
#[test]
fn a_user_file_holding_a_token_is_owner_only_and_a_new_project_file_is_shared() {
    use std::os::unix::fs::PermissionsExt;
    use switchboard_hosts::{Gateway, Mode};
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
    };
    let names: Vec<ServerName> = servers().into_iter().map(|(n, _)| n).collect();
    let gateway = Gateway { port: 41234, token: Some("0123456789abcdef0123456789abcdef") };

    let world = World::new();
    let file = world.user_file(HostId::Cursor);
    std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
    std::fs::write(&file.path, "{}\n").expect("write");
    std::fs::set_permissions(&file.path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    world.hosts.connect(HostId::Cursor, Mode::Aggregate, gateway, &names, false).expect("connect");
    assert_eq!(mode(&file.path), 0o600);

    let world = World::new();
    let file = world.user_file(HostId::Cursor);
    world.hosts.connect(HostId::Cursor, Mode::Aggregate, gateway, &names, false).expect("connect");
    assert_eq!(mode(&file.path), 0o600, "created");

    let world = World::new();
    let project = world.dir.path().join("project");
    std::fs::create_dir_all(&project).expect("project");
    let file = world.hosts.target(HostId::ClaudeCode, Some(&project)).expect("project file");
    world.hosts.write(&file, &Action::Apply(servers()), false).expect("apply");
    assert_eq!(mode(&file.path), 0o644, "a project's file is shared");
}

#[test]
fn the_guardian_reports_drift_and_reapplies_until_a_host_keeps_fighting() {
    use switchboard_core::Registry;
    use switchboard_hosts::{DriftReport, Guardian, GuardianOptions};
    let world = World::new();
    let paths = Paths::under(&world.dir.path().join("sb"));
    let registry = Registry::new(&paths);
    for (name, spec) in servers() {
        registry.add(name, spec).expect("register");
    }
    let file = world.user_file(HostId::Cursor);
    std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
    let stripped = "{\n  \"other\": 1,\n  \"mcpServers\": {}\n}\n";
    std::fs::write(&file.path, stripped).expect("write");
    world.hosts.write(&file, &Action::Apply(servers()), false).expect("apply");

    let guardian = Guardian::start(
        world.hosts.clone(),
        Registry::new(&paths),
        GuardianOptions { auto_reapply: false, debounce: std::time::Duration::from_millis(100) },
    )
    .expect("guardian");
    let mut reports = guardian.subscribe();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut next_report = || -> DriftReport {
        let mut got = None;
        let arrived = switchboard_testkit::wait_until(std::time::Duration::from_secs(10), || {
            got = reports.try_recv().ok();
            got.is_some()
        });
        assert!(arrived, "no drift report");
        got.expect("report")
    };

    // Another program strips our entries (as Claude Desktop has been seen to).
    std::fs::write(&file.path, stripped).expect("strip");
    let report = next_report();
    assert_eq!(report.host, "cursor");
    assert_eq!(report.path, file.path);
    assert!(!report.reapplied);
    let mut names: Vec<_> = report.drifted.iter().map(|e| (e.name.clone(), e.state)).collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        names,
        vec![("alpha".into(), EntryState::Missing), ("beta".into(), EntryState::Missing)]
    );

    // With automatic re-apply the entries come back, the other program's content stays.
    guardian.set_auto_reapply(true);
    let changed =
        std::fs::read_to_string(&file.path).expect("read").replace("\"other\": 1", "\"other\": 2");
    std::fs::write(&file.path, changed).expect("touch");
    std::fs::write(&file.path, stripped.replace('1', "2")).expect("strip again");
    let report = next_report();
    assert!(report.reapplied, "{report:?}");
    let text = std::fs::read_to_string(&file.path).expect("read");
    assert!(text.contains("\"alpha\"") && text.contains("\"other\": 2"), "{text}");

    // A host that keeps stripping them is reported, not fought forever.
    let mut last = report;
    for _ in 0..4 {
        std::fs::write(&file.path, stripped).expect("strip");
        last = next_report();
        if last.note.is_some() {
            break;
        }
    }
    assert!(
        !last.reapplied && last.note.as_deref().is_some_and(|n| n.contains("keeps changing")),
        "{last:?}"
    );
}

#[test]
fn gui_hosts_get_absolute_command_paths_and_terminal_hosts_keep_the_bare_name() {
    let mut world = World::new();
    world.hosts.resolve_commands = true;
    let spec = ServerSpec::stdio("sh", vec!["-c".into(), "exit 0".into()]);
    let servers = vec![("shell".parse::<ServerName>().expect("name"), spec)];
    let (plan, _) = world
        .hosts
        .write(&world.user_file(HostId::Cursor), &Action::Apply(servers.clone()), false)
        .expect("cursor");
    let cursor: serde_json::Value =
        serde_json::from_str(plan.after.as_deref().expect("text")).expect("json");
    let command = cursor["mcpServers"]["shell"]["command"].as_str().expect("command");
    assert!(Path::new(command).is_absolute() && command.ends_with("/sh"), "{command}");
    assert!(
        plan.notes.iter().any(|n| n.contains("does not see your shell's PATH")),
        "{:?}",
        plan.notes
    );

    let (plan, _) = world
        .hosts
        .write(&world.user_file(HostId::ClaudeCode), &Action::Apply(servers), false)
        .expect("claude code");
    let claude: serde_json::Value =
        serde_json::from_str(plan.after.as_deref().expect("text")).expect("json");
    assert_eq!(claude["mcpServers"]["shell"]["command"], "sh");
}

#[test]
fn a_vscode_profile_is_written_by_its_id_and_an_unknown_one_is_named() {
    let world = World::new();
    let user = world.dir.path().join("home/.config/Code/User");
    std::fs::create_dir_all(user.join("profiles/5a1b2c")).expect("profile");
    let file = world.hosts.target_in(HostId::VsCode, None, Some("5a1b2c")).expect("profile file");
    assert_eq!(file.path, user.join("profiles/5a1b2c/mcp.json"));
    world.hosts.write(&file, &Action::Apply(servers()), false).expect("apply");
    let text = std::fs::read_to_string(&file.path).expect("read");
    assert!(text.contains("\"servers\"") && text.contains("\"alpha\""), "{text}");
    assert!(!user.join("mcp.json").exists(), "the default profile was written");
    let error = world.hosts.target_in(HostId::VsCode, None, Some("nope")).expect_err("unknown");
    assert!(error.to_string().contains("5a1b2c"), "{error}");
}

/// A server whose env and headers hold secrets (one stdio, one remote).
fn secret_servers(key: &str) -> Vec<(ServerName, ServerSpec)> {
    let mut gh =
        ServerSpec::stdio("npx", vec!["-y".into(), "@modelcontextprotocol/server-github".into()]);
    if let switchboard_core::Launch::Stdio { env, .. } = &mut gh.launch {
        env.insert("GITHUB_PERSONAL_ACCESS_TOKEN".into(), key.into());
        env.insert("GITHUB_TOOLSETS".into(), "repos".into());
    }
    let mut api =
        ServerSpec::remote("https://mcp.example.com/mcp", RemoteTransport::StreamableHttp);
    if let switchboard_core::Launch::Remote { headers, .. } = &mut api.launch {
        headers.insert("Authorization".into(), format!("Bearer {key}"));
    }
    vec![("github".parse().expect("name"), gh), ("api".parse().expect("name"), api)]
}

#[test]
fn vscode_gets_secrets_as_prompted_inputs_and_the_users_inputs_stay_byte_for_byte() {
    let original = fixture_text("vscode-inputs.jsonc", "servers");
    for start in [Some(original.as_str()), None] {
        let world = World::new();
        let file = world.user_file(HostId::VsCode);
        std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
        if let Some(text) = start {
            std::fs::write(&file.path, text).expect("fixture");
        }
        let (plan, _) = world
            .hosts
            .write(&file, &Action::Apply(secret_servers("ghp_S3CRET")), false)
            .expect("apply");
        let text = std::fs::read_to_string(&file.path).expect("read");
        assert!(!text.contains("S3CRET"), "a secret reached the file:\n{text}");
        assert!(
            plan.notes.iter().any(|n| n.contains("secret storage")),
            "no note says where the secret went: {:?}",
            plan.notes
        );
        // Notes are read by people: no runs of spaces left by a broken line continuation.
        assert!(plan.notes.iter().all(|n| !n.contains("  ")), "{:?}", plan.notes);
        if start.is_some() {
            check_snapshot("vscode__inputs.jsonc.snap", &text);
        }
        let doc = switchboard_hosts::edit::document(Format::Jsonc, &text).expect("parses");
        let ids: Vec<&str> = doc["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .filter_map(|i| i["id"].as_str())
            .collect();
        let ours =
            ["switchboard.github.GITHUB_PERSONAL_ACCESS_TOKEN", "switchboard.api.Authorization"];
        for id in ours {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
        assert_eq!(
            doc["servers"]["github"]["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"],
            format!("${{input:{}}}", ours[0])
        );
        assert_eq!(doc["servers"]["github"]["env"]["GITHUB_TOOLSETS"], "repos");
        assert_eq!(
            doc["servers"]["api"]["headers"]["Authorization"],
            format!("Bearer ${{input:{}}}", ours[1])
        );
        let status =
            world.hosts.status(&registry_of(&secret_servers("ghp_S3CRET")), None).expect("status");
        let entries = &status.iter().find(|h| h.id == "vscode").expect("vscode").files[0].entries;
        for name in ["github", "api"] {
            let state = entries.iter().find(|e| e.name == name).map(|e| e.state);
            assert_eq!(state, Some(EntryState::InSync), "{name}: {entries:?}");
        }

        // A new secret value changes nothing in the file: VS Code holds the value.
        let (plan, written) = world
            .hosts
            .write(&file, &Action::Apply(secret_servers("ghp_OTHER")), false)
            .expect("again");
        assert!(written.is_none(), "rewritten for a new secret value:\n{}", plan.diff());

        // An input that went missing is put back on the next apply.
        let pruned = remove_input(&text, ours[1]);
        std::fs::write(&file.path, &pruned).expect("prune");
        world
            .hosts
            .write(&file, &Action::Apply(secret_servers("ghp_S3CRET")), false)
            .expect("repair");
        assert_eq!(std::fs::read_to_string(&file.path).expect("read"), text);

        // Removing one server takes its input with it; removing the rest gives the bytes back.
        world
            .hosts
            .write(&file, &Action::Remove(Some(vec!["api".into()])), false)
            .expect("remove api");
        let text = std::fs::read_to_string(&file.path).expect("read");
        assert!(!text.contains(ours[1]) && text.contains(ours[0]), "{text}");
        world.hosts.write(&file, &Action::Remove(None), false).expect("remove all");
        match start {
            Some(original) => {
                assert_eq!(std::fs::read_to_string(&file.path).expect("read"), original)
            }
            None => assert!(!file.path.exists(), "the file we created is still there"),
        }
    }
}

/// `text` without the input `id`, as a user deleting it by hand would leave it.
fn remove_input(text: &str, id: &str) -> String {
    let edited = switchboard_hosts::edit::remove(
        Format::Jsonc,
        switchboard_hosts::Container::list_by("inputs", "id"),
        text,
        id,
    )
    .expect("remove input");
    assert_ne!(edited, text, "{id} was not there");
    edited
}

/// A registry holding exactly `servers`.
fn registry_of(servers: &[(ServerName, ServerSpec)]) -> switchboard_core::Servers {
    servers.iter().cloned().collect()
}

/// Connecting every host to the gateway, in both modes, on every fixture: the entries point at
/// the gateway (by URL with the token, or through `switchboard connect`), the user's own entries
/// stay, our earlier direct entries are replaced in place, and disconnecting restores the file
/// byte for byte.
#[test]
fn every_host_connects_in_both_modes_and_disconnecting_restores_the_bytes() {
    use switchboard_hosts::{Gateway, Mode, Reach};
    let names: Vec<ServerName> = servers().into_iter().map(|(n, _)| n).collect();
    let token = "0123456789abcdef0123456789abcdef";
    let gateway = Gateway { port: 41234, token: Some(token) };
    let mut cases = 0;
    for host in HostId::ALL {
        let probe = World::new();
        let format = probe.user_file(host).format;
        for fixture in fixtures_for(host, format) {
            for mode in [Mode::Aggregate, Mode::PerServer] {
                let world = World::new();
                let file = world.user_file(host);
                let original = fixture.map(|f| fixture_text(f, file.container.key));
                if let Some(text) = &original {
                    std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
                    std::fs::write(&file.path, text).expect("write fixture");
                }
                let case = format!("{host}__{}__{mode}", fixture.unwrap_or("missing"));
                let (plan, written) =
                    world.hosts.connect(host, mode, gateway, &names, false).expect(&case);
                assert!(written.is_some() && plan.skipped.is_empty(), "{case}: {:?}", plan.skipped);
                let after = std::fs::read_to_string(&file.path).expect("read");
                check_snapshot(&format!("{case}.connect.snap"), &after);
                let reach = switchboard_hosts::host(host).reach();
                let expected: Vec<&str> = match mode {
                    Mode::Aggregate => vec!["switchboard"],
                    Mode::PerServer => vec!["alpha", "beta"],
                };
                let status = world.hosts.status(&registry_of(&servers()), None).expect("status");
                let entries =
                    &status.iter().find(|h| h.id == host.id()).expect("host").files[0].entries;
                for name in &expected {
                    assert!(
                        entries.iter().any(|e| e.name == *name && e.state == EntryState::InSync),
                        "{case}: {name} not ours and in sync: {entries:?}"
                    );
                }
                match reach {
                    Reach::Url => {
                        assert!(after.contains("127.0.0.1:41234/mcp"), "{case}:\n{after}");
                        assert!(after.contains(token), "{case}: no token:\n{after}");
                    }
                    Reach::Command => {
                        assert!(after.contains("/opt/switchboard/switchboard"), "{case}:\n{after}");
                        assert!(after.contains("connect"), "{case}:\n{after}");
                        assert!(!after.contains(token), "{case}: a token in the file:\n{after}");
                    }
                }
                // Nothing of the servers' own launch is in it.
                for own in ["alpha-mcp", "mcp.example.com", "ALPHA_MODE", "X-Team"] {
                    assert!(!after.contains(own), "{case}: {own} in the file:\n{after}");
                }
                assert_eq!(
                    world.hosts.connection(host).expect("read").map(|c| c.mode),
                    Some(mode),
                    "{case}"
                );

                world.hosts.disconnect(host, false).expect(&case);
                match &original {
                    Some(text) => assert_eq!(
                        &std::fs::read_to_string(&file.path).expect("read"),
                        text,
                        "{case}: disconnect did not restore the original bytes"
                    ),
                    None => assert!(!file.path.exists(), "{case}: the file we created remains"),
                }
                assert!(world.hosts.connection(host).expect("read").is_none(), "{case}");
                cases += 1;
            }
        }
    }
    assert!(cases >= 13 * 3 * 2, "only {cases} cases ran");
}

#[test]
fn connecting_replaces_our_direct_entries_in_place_and_undo_brings_them_back() {
    use switchboard_hosts::{Gateway, Mode};
    let names: Vec<ServerName> = servers().into_iter().map(|(n, _)| n).collect();
    let gateway = Gateway { port: 41234, token: Some("tok") };
    let world = World::new();
    let file = world.user_file(HostId::Cursor);
    std::fs::create_dir_all(file.path.parent().expect("dir")).expect("mkdir");
    std::fs::write(&file.path, fixture_text("crlf-unknown-keys.json", file.container.key))
        .expect("fixture");
    world.hosts.write(&file, &Action::Apply(servers()), false).expect("direct");
    let direct = std::fs::read_to_string(&file.path).expect("read");
    assert!(direct.contains("alpha-mcp"));

    let (plan, _) = world
        .hosts
        .connect(HostId::Cursor, Mode::PerServer, gateway, &names, false)
        .expect("connect");
    let kinds: Vec<(String, ChangeKind)> =
        plan.changes.iter().map(|c| (c.name.clone(), c.kind)).collect();
    assert_eq!(
        kinds,
        [("alpha".to_owned(), ChangeKind::Update), ("beta".to_owned(), ChangeKind::Update)]
    );
    let connected = std::fs::read_to_string(&file.path).expect("read");
    assert!(!connected.contains("alpha-mcp") && connected.contains("/mcp/alpha"), "{connected}");
    // The entries are where they were: the user's "theirs" still comes first.
    assert!(connected.find("theirs") < connected.find("\"alpha\""), "{connected}");
    // The line endings are the file's own.
    assert!(connected.contains("\r\n") && !connected.replace("\r\n", "").contains('\n'));

    world.hosts.undo(HostId::Cursor, false).expect("undo");
    assert_eq!(std::fs::read_to_string(&file.path).expect("read"), direct);
}
