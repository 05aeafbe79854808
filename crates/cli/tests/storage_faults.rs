//! Storage faults (issue #19, section 4), for real: a disk that fills up (a small tmpfs) during a
//! registry write, a host file write, a backup, a log rotation, a knowledge-base commit and an
//! install; a read-only and a permission-denied state folder; `servers.json` and a host's file
//! replaced by a directory or a symlink loop; a state folder on a path with spaces and non-ASCII
//! characters. Each must end in a clear error (no panic, no hang), keep every file that was on
//! disk byte for byte, leave no temp file behind, and work again once the fault is gone.
//!
//! Mounting needs a mount namespace: `main` runs itself again under `unshare --user
//! --map-root-user --mount` (root or not), and the inner run mounts its tmpfs folders there.
//! Permission bits deny nothing to a process with `CAP_DAC_OVERRIDE` (root, or root of the user
//! namespace), so the permission-denied scenario runs the binary through `setpriv` with every
//! capability dropped. Either tool missing is a failure that says so, never a skip.
//!
//! A `harness = false` test: one line per scenario, then a libtest-style `test result:` line
//! that `./x` counts.

#![allow(clippy::disallowed_methods)] // the test runs the binary, unshare, mount and setpriv
#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly

use std::{
    collections::BTreeMap,
    ffi::OsString,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

/// Set in the inner run (inside the namespaces).
const INNER: &str = "SWITCHBOARD_STORAGE_FAULTS_INNER";
/// How long one command may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(60);

type Outcome = Result<String, String>;
type Scenario = (&'static str, fn(&Lab) -> Outcome);

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn main() -> ExitCode {
    if std::env::var_os(INNER).is_none() {
        return outer();
    }
    let started = Instant::now();
    let scenarios: &[Scenario] = &[
        ("registry write on a full disk", registry_write_on_full_disk),
        ("host file write on a full disk", host_write_on_full_disk),
        ("backup on a full disk", backup_on_full_disk),
        ("hosts ledger on a full disk after a new host file", ledger_on_full_disk),
        ("log rotation on a full disk", log_rotation_on_full_disk),
        ("knowledge-base commit on a full disk", kb_commit_on_full_disk),
        ("install on a full disk", install_on_full_disk),
        ("serve on a full disk", serve_on_full_disk),
        ("read-only state folder", read_only_state),
        ("permission-denied state folder", permission_denied_state),
        ("servers.json replaced by a directory", registry_is_a_directory),
        ("servers.json a symlink loop", registry_is_a_symlink_loop),
        ("host file replaced by a directory or a symlink loop", host_file_not_a_file),
        ("state folder with spaces and non-ASCII characters", unicode_state_folder),
    ];
    let (filter, skip) = libtest_args();
    let lab = match Lab::new() {
        Ok(lab) => lab,
        Err(e) => {
            println!("storage: cannot set up the test folders: {e}");
            println!(
                "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out"
            );
            return ExitCode::FAILURE;
        }
    };
    let (mut passed, mut failed, mut filtered) = (0, 0, 0);
    for (name, scenario) in scenarios {
        let chosen = filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
        if !chosen || skip.iter().any(|s| name.contains(s.as_str())) {
            filtered += 1;
            continue;
        }
        let t = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scenario(&lab)))
            .unwrap_or_else(|panic| {
                let text = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Err(format!("the test panicked: {text}"))
            });
        let secs = t.elapsed().as_secs_f32();
        match result {
            Ok(detail) => {
                passed += 1;
                println!("storage: {name}: {detail} ({secs:.1}s)");
            }
            Err(why) => {
                failed += 1;
                println!("storage: {name}: FAILED: {why} ({secs:.1}s)");
            }
        }
        lab.unmount_all();
    }
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!(
        "test result: {verdict}. {passed} passed; {failed} failed; 0 ignored; 0 measured; \
         {filtered} filtered out; finished in {:.2}s",
        started.elapsed().as_secs_f32()
    );
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The arguments libtest would take that mean something here: names to run (parts of a
/// scenario's name) and `--skip NAME`; other flags (`--nocapture`, `--test-threads=N`…) are
/// accepted and ignored.
fn libtest_args() -> (Vec<String>, Vec<String>) {
    let (mut filter, mut skip) = (Vec::new(), Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--skip" {
            skip.extend(args.next());
        } else if let Some(name) = arg.strip_prefix("--skip=") {
            skip.push(name.to_string());
        } else if !arg.starts_with('-') {
            filter.push(arg);
        }
    }
    (filter, skip)
}

/// Runs this test again inside a user and mount namespace.
fn outer() -> ExitCode {
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .stdout(Stdio::null())
        .output();
    let missing = match probe {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(why) = missing {
        println!(
            "storage: these tests need a user and mount namespace to mount a small tmpfs: \
             `unshare --user --map-root-user --mount` (util-linux) failed: {why}. Install \
             util-linux, and allow user namespaces (kernel.unprivileged_userns_clone=1, \
             kernel.apparmor_restrict_unprivileged_userns=0) or run as root"
        );
        println!("test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out");
        return ExitCode::FAILURE;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            println!("storage: cannot find this test's executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let status = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "--"])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(INNER, "1")
        .status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            // The inner run printed its own results; a crash before them still counts.
            if status.code() != Some(1) {
                println!("storage: the inner run ended with {status}");
                println!(
                    "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out"
                );
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("storage: cannot run `unshare`: {e}");
            println!(
                "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out"
            );
            ExitCode::FAILURE
        }
    }
}

/// The folders of the inner run: everything under one temp folder on the real disk, with tmpfs
/// mounts made on demand.
struct Lab {
    root: tempfile::TempDir,
    mounts: std::sync::Mutex<Vec<PathBuf>>,
    counter: std::sync::atomic::AtomicUsize,
}

impl Lab {
    fn new() -> Result<Lab, String> {
        let root = tempfile::Builder::new()
            .prefix("sb-storage-")
            .tempdir()
            .map_err(|e| format!("temp folder: {e}"))?;
        Ok(Lab { root, mounts: Default::default(), counter: Default::default() })
    }

    /// A new empty folder on the real disk.
    fn dir(&self, name: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = self.root.path().join(format!("{n}-{name}"));
        std::fs::create_dir_all(&dir).expect("lab folder");
        dir
    }

    /// A new tmpfs of `kib` KiB.
    fn tmpfs(&self, name: &str, kib: u64) -> Result<Disk, String> {
        let dir = self.dir(name);
        run_tool(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o"])
                .arg(format!("size={kib}k,mode=755"))
                .arg("tmpfs")
                .arg(&dir),
        )?;
        self.mounts.lock().expect("mounts").push(dir.clone());
        Ok(Disk { dir })
    }

    /// `dir` again, read-only, bound over itself.
    fn make_read_only(&self, dir: &Path) -> Result<(), String> {
        run_tool(Command::new("mount").arg("--bind").arg(dir).arg(dir))?;
        self.mounts.lock().expect("mounts").push(dir.to_path_buf());
        run_tool(Command::new("mount").args(["-o", "remount,bind,ro"]).arg(dir))
    }

    fn unmount_all(&self) {
        let mut mounts = self.mounts.lock().expect("mounts");
        while let Some(dir) = mounts.pop() {
            let _ = Command::new("umount").arg("-l").arg(&dir).status();
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.unmount_all();
    }
}

fn run_tool(command: &mut Command) -> Result<(), String> {
    let out = command.output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    ensure!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// A tmpfs that can be filled to the last byte and emptied again.
struct Disk {
    dir: PathBuf,
}

const FILLER: &str = ".filler";

impl Disk {
    fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes a filler file until the disk refuses a single byte more.
    fn fill(&self) {
        let mut file = std::fs::File::create(self.dir.join(FILLER)).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        for size in [chunk.len(), 4096, 1] {
            loop {
                match file.write(&chunk[..size]) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.raw_os_error() == Some(28) => break,
                    Err(e) => panic!("filling {}: {e}", self.dir.display()),
                }
            }
        }
        assert!(file.write(b"x").is_err(), "the disk is not full");
    }

    /// Full, then `bytes` (whole pages) given back: a write that small fits, a bigger one fails
    /// half way.
    fn fill_leaving(&self, bytes: u64) {
        self.fill();
        let file =
            std::fs::OpenOptions::new().write(true).open(self.dir.join(FILLER)).expect("filler");
        let len = file.metadata().expect("filler size").len();
        file.set_len(len.saturating_sub(bytes)).expect("shrink the filler");
    }

    fn free(&self) {
        std::fs::remove_file(self.dir.join(FILLER)).expect("remove the filler");
    }
}

/// Every file under `dir` (the filler aside) with the SHA-256 of its bytes; symlinks by target.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
            if rel == Path::new(FILLER) {
                continue;
            }
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_symlink() {
                let target = std::fs::read_link(&path).map(|t| t.display().to_string());
                out.insert(rel, format!("-> {}", target.unwrap_or_default()));
            } else if kind.is_dir() {
                out.insert(rel, "dir".into());
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap_or_default();
                out.insert(rel, switchboard_core::digest::sha256(&bytes));
            }
        }
    }
    out
}

/// Every file of `before` is still there with the same bytes; anything new is allowed by `new_ok`
/// (an empty lock file always is).
fn kept(
    dir: &Path,
    before: &BTreeMap<PathBuf, String>,
    new_ok: impl Fn(&Path) -> bool,
) -> Result<(), String> {
    let after = snapshot(dir);
    for (path, hash) in before {
        match after.get(path) {
            None => return Err(format!("{} was lost", path.display())),
            Some(h) if h != hash => return Err(format!("{} changed", path.display())),
            Some(_) => {}
        }
    }
    let empty = switchboard_core::digest::sha256(b"");
    let new: Vec<_> = after
        .iter()
        .filter(|(p, h)| !before.contains_key(*p) && *h != "dir")
        .filter(|(p, h)| !(p.to_string_lossy().ends_with("lock") && **h == empty))
        .filter(|(p, _)| !new_ok(p))
        .map(|(p, _)| p.display().to_string())
        .collect();
    ensure!(new.is_empty(), "left behind under {}: {new:?}", dir.display());
    Ok(())
}

/// What one run of the binary ended with.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(&self, what: &str) -> Result<&Self, String> {
        ensure!(
            self.code == Some(0),
            "{what} failed ({:?}): {}{}",
            self.code,
            self.stderr.trim(),
            self.stdout.trim()
        );
        Ok(self)
    }

    /// Failed with exit code 1 and one line `switchboard: …` (after any progress or warnings)
    /// that says every one of `needles`, each once; no panic. Returns that line.
    fn refused(&self, what: &str, needles: &[&str]) -> Result<String, String> {
        let err = self.stderr.trim();
        ensure!(self.code == Some(1), "{what}: exit code {:?}, stderr: {err}", self.code);
        ensure!(!err.contains("panicked"), "{what} panicked: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("switchboard: ")).collect();
        let [line] = lines[..] else {
            return Err(format!("{what}: not one clear error line: {err}"));
        };
        for needle in needles {
            ensure!(line.contains(needle), "{what}: the error does not say {needle:?}: {err}");
        }
        ensure!(!line.contains(".tmp"), "{what}: the error names a temp file: {line}");
        let os = line.matches("(os error").count();
        ensure!(os <= 1, "{what}: the error repeats its cause: {line}");
        Ok(line.trim_start_matches("switchboard: ").to_string())
    }
}

/// How to run the binary: its state folder and extra environment.
#[derive(Clone)]
struct Sb {
    home: PathBuf,
    env: Vec<(String, OsString)>,
    /// Run through `setpriv` with every capability dropped.
    unprivileged: bool,
}

impl Sb {
    fn new(home: &Path) -> Sb {
        std::fs::create_dir_all(home.join("config")).expect("config");
        let settings = home.join("config/settings.json");
        if !settings.exists() {
            std::fs::write(settings, "{ \"knowledgeBaseOffered\": true }\n").expect("settings");
        }
        Sb {
            home: home.to_path_buf(),
            env: vec![
                ("SWITCHBOARD_SECRET_STORE".into(), "file".into()),
                ("SWITCHBOARD_REGISTRY_URL".into(), "http://127.0.0.1:9/".into()),
            ],
            unprivileged: false,
        }
    }

    fn with(mut self, key: &str, value: impl Into<OsString>) -> Sb {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
        self
    }

    /// A user's home for the hosts' files.
    fn user(self, dir: &Path) -> Sb {
        self.with("HOME", dir).with("XDG_CONFIG_HOME", dir.join(".config"))
    }

    fn command(&self, args: &[&str]) -> Command {
        let exe = env!("CARGO_BIN_EXE_switchboard");
        let mut command = if self.unprivileged {
            let mut c = Command::new("setpriv");
            c.args(["--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--"])
                .arg(exe);
            c
        } else {
            Command::new(exe)
        };
        command.args(args).env("SWITCHBOARD_HOME", &self.home).env_remove("SWITCHBOARD_LOG");
        for (k, v) in &self.env {
            command.env(k, v);
        }
        command
    }

    /// Runs to completion (a hang past [`HANG`] is killed and reported).
    fn run(&self, args: &[&str]) -> Out {
        let out_dir = tempfile::tempdir().expect("output folder");
        let (o, e) = (out_dir.path().join("out"), out_dir.path().join("err"));
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&o).expect("stdout file"))
            .stderr(std::fs::File::create(&e).expect("stderr file"))
            .spawn()
            .expect("run switchboard");
        let deadline = Instant::now() + HANG;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let read =
            |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        let mut stderr = read(&e);
        if status.is_none() {
            stderr.push_str(&format!("\n[hung: killed after {HANG:?}: switchboard {args:?}]"));
        }
        Out { code: status.and_then(|s| s.code()), stdout: read(&o), stderr }
    }
}

fn fixture() -> String {
    switchboard_testkit::fixture().display().to_string()
}

fn no_temp_files(dir: &Path) -> Result<(), String> {
    let temps: Vec<_> = snapshot(dir)
        .into_keys()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .map(|p| p.display().to_string())
        .collect();
    ensure!(temps.is_empty(), "temp files left behind: {temps:?}");
    Ok(())
}

// ---------------------------------------------------------------- the scenarios

fn registry_write_on_full_disk(lab: &Lab) -> Outcome {
    let disk = lab.tmpfs("registry", 256)?;
    let sb = Sb::new(disk.path());
    sb.run(&["add", "one", "--", &fixture(), "ok"]).ok("add one")?;
    let before = snapshot(disk.path());
    disk.fill();
    let err = sb
        .run(&["add", "two", "--", &fixture(), "ok"])
        .refused("add on a full disk", &["servers.json", "No space left on device"])?;
    kept(disk.path(), &before, |_| false)?;
    sb.run(&["list"]).ok("list on a full disk")?;
    disk.free();
    sb.run(&["add", "two", "--", &fixture(), "ok"]).ok("add after space returned")?;
    let list = sb.run(&["list"]);
    ensure!(
        list.ok("list")?.stdout.contains("one") && list.stdout.contains("two"),
        "{}",
        list.stdout
    );
    Ok(format!("refused ({err}), nothing lost, ok after space returned"))
}

const CURSOR_BEFORE: &str = "{\n  \"mcpServers\": {\n    \"mine\": { \"command\": \"mine\" }\n  },\n  \"theme\": \"dark\"\n}\n";

/// A state folder with one server, and a user home with Cursor's file holding someone else's
/// entry (or none when `host_file` is false).
fn hosts_setup(state: &Path, user: &Path, host_file: bool) -> (Sb, PathBuf) {
    let sb = Sb::new(state).user(user);
    let out = sb.run(&["add", "one", "--", &fixture(), "ok"]);
    out.ok("add one").expect("add");
    let config = user.join(".cursor/mcp.json");
    std::fs::create_dir_all(config.parent().expect("parent")).expect("cursor folder");
    if host_file {
        std::fs::write(&config, CURSOR_BEFORE).expect("cursor file");
    }
    (sb, config)
}

fn host_write_on_full_disk(lab: &Lab) -> Outcome {
    let state = lab.tmpfs("state", 512)?;
    let user = lab.tmpfs("user", 128)?;
    let (sb, config) = hosts_setup(state.path(), user.path(), true);
    let before = snapshot(user.path());
    user.fill();
    let err = sb
        .run(&["hosts", "apply", "cursor"])
        .refused("hosts apply on a full disk", &["mcp.json", "No space left on device"])?;
    kept(user.path(), &before, |_| false)?;
    user.free();
    sb.run(&["hosts", "apply", "cursor"]).ok("hosts apply after space returned")?;
    let text = std::fs::read_to_string(&config).map_err(|e| e.to_string())?;
    ensure!(text.contains("\"one\"") && text.contains("\"mine\""), "host file: {text}");
    no_temp_files(user.path())?;
    Ok(format!("refused ({err}), host file unchanged, ok after space returned"))
}

fn backup_on_full_disk(lab: &Lab) -> Outcome {
    let state = lab.tmpfs("state", 512)?;
    let user = lab.tmpfs("user", 512)?;
    let (sb, config) = hosts_setup(state.path(), user.path(), true);
    let (state_before, user_before) = (snapshot(state.path()), snapshot(user.path()));
    state.fill();
    let err = sb
        .run(&["hosts", "apply", "cursor"])
        .refused("hosts apply with a full state disk", &["backups", "No space left on device"])?;
    kept(state.path(), &state_before, |_| false)?;
    kept(user.path(), &user_before, |_| false)?;
    state.free();
    sb.run(&["hosts", "apply", "cursor"]).ok("hosts apply after space returned")?;
    let text = std::fs::read_to_string(&config).map_err(|e| e.to_string())?;
    ensure!(text.contains("\"one\"") && text.contains("\"mine\""), "host file: {text}");
    sb.run(&["hosts", "undo", "cursor"]).ok("hosts undo")?;
    let text = std::fs::read_to_string(&config).map_err(|e| e.to_string())?;
    ensure!(text == CURSOR_BEFORE, "undo did not restore the backup: {text}");
    Ok(format!(
        "refused ({err}), host file and state unchanged, ok (and undone) after space returned"
    ))
}

/// A host file that does not exist yet needs no backup: the write to the host's disk succeeds and
/// then the ledger cannot be saved.
fn ledger_on_full_disk(lab: &Lab) -> Outcome {
    let state = lab.tmpfs("state", 512)?;
    let user = lab.tmpfs("user", 512)?;
    let (sb, config) = hosts_setup(state.path(), user.path(), false);
    let state_before = snapshot(state.path());
    state.fill();
    let out = sb.run(&["hosts", "apply", "cursor"]);
    let err = out.refused(
        "hosts apply with a full state disk",
        &["ledger.json", "No space left on device"],
    )?;
    kept(state.path(), &state_before, |_| false)?;
    ensure!(!config.exists(), "a write that failed left the host file it created behind");
    state.free();
    sb.run(&["hosts", "apply", "cursor"]).ok("hosts apply after space returned")?;
    let text = std::fs::read_to_string(&config).map_err(|e| e.to_string())?;
    ensure!(text.contains("\"one\""), "host file: {text}");
    // The write is in the journal: undo takes the file away again.
    sb.run(&["hosts", "undo", "cursor"]).ok("hosts undo")?;
    ensure!(!config.exists(), "undo did not remove the file the write created");
    Ok(format!(
        "refused ({err}), the new host file taken back, ok (and undone) after space returned"
    ))
}

fn log_rotation_on_full_disk(lab: &Lab) -> Outcome {
    use switchboard_core::logs::{LogLimits, LogLine, LogSource, ServerLog};
    let disk = lab.tmpfs("logs", 64)?;
    let path = disk.path().join("server.log");
    let limits = LogLimits { file_bytes: 16 * 1024, file_keep: 2, ..LogLimits::default() };
    let log = ServerLog::new(path.clone(), limits);
    let mut n = 0;
    let mut push = || {
        log.push(&LogLine {
            at_ms: 1_800_000_000_000 + n,
            source: LogSource::Stderr,
            text: format!("line {n:05} {}", "x".repeat(100)),
        });
        n += 1;
        n
    };
    let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let rotated = |k: usize| PathBuf::from(format!("{}.{k}", path.display()));
    let whole = |file: &Path| -> Result<usize, String> {
        let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
        for record in text.lines() {
            ensure!(
                record.ends_with(&"x".repeat(100)),
                "a cut record in {}: {record:?}",
                file.display()
            );
        }
        ensure!(
            text.is_empty() || text.ends_with('\n'),
            "{} ends in half a record",
            file.display()
        );
        Ok(text.lines().count())
    };
    // Two rotations, then a few lines: the current file ends inside a page with room left.
    while !rotated(2).exists() {
        push();
    }
    for _ in 0..10 {
        push();
    }
    // Full: the lines that still fit in the file's last page go in whole, the one cut short by
    // the full disk is taken back out.
    disk.fill();
    for _ in 0..60 {
        push();
    }
    whole(&path)?;
    disk.free();
    // Up to just below the rotation, then full again: the rotation (renames) happens on the full
    // disk, and the file that was current is `.1`, byte for byte.
    let mut last = 0;
    while size() + last <= limits.file_bytes {
        let before = size();
        push();
        last = size() - before;
    }
    while size() + 2 * last <= limits.file_bytes {
        push();
    }
    let current = std::fs::read(&path).map_err(|e| e.to_string())?;
    disk.fill();
    let full_at = push();
    for _ in 0..20 {
        push();
    }
    let one = std::fs::read(rotated(1)).map_err(|e| e.to_string())?;
    ensure!(one == current, "the rotated log is not the file that was current");
    disk.free();
    let back = push();
    let lines = whole(&path)?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    ensure!(
        text.contains(&format!("line {:05} ", back - 1)),
        "the log writer did not come back after space returned ({lines} lines): {text:?}"
    );
    for k in [1, 2] {
        whole(&rotated(k))?;
    }
    let ring = log.snapshot();
    let kept = format!("line {:05} ", full_at - 1);
    ensure!(
        ring.iter().any(|l| l.text.starts_with(&kept)),
        "the ring lost the lines of the full disk"
    );
    Ok("rotated on the full disk, whole records only, lines kept in memory, writing again after \
        space returned"
        .into())
}

fn kb_commit_on_full_disk(lab: &Lab) -> Outcome {
    use switchboard_kb::{Config, Engine, index::SearchQuery};
    let docs = lab.dir("docs");
    std::fs::write(docs.join("alpha.md"), "# Alpha\n\nThe zebrafish plugin.\n").expect("doc");
    let disk = lab.tmpfs("kb", 2048)?;
    let config = Config { roots: vec![docs.clone()], index_dir: disk.path().join("index") };
    let search = |engine: &Engine, text: &str| {
        engine
            .search(&SearchQuery { text: text.into(), limit: 5, ..Default::default() })
            .map(|hits| hits.len())
            .map_err(|e| e.to_string())
    };
    {
        let engine = Engine::open(&config).map_err(|e| e.to_string())?;
        engine.sync_all().map_err(|e| e.to_string())?;
        ensure!(search(&engine, "zebrafish")? == 1, "alpha not indexed");
    }
    let engine = Engine::open(&config).map_err(|e| e.to_string())?;
    engine.sync_all().map_err(|e| e.to_string())?;
    let before = snapshot(disk.path());
    disk.fill();
    std::fs::write(
        docs.join("beta.md"),
        format!("# Beta\n\nThe quokka option. {}\n", "words ".repeat(2000)),
    )
    .expect("doc");
    let err = match engine.sync_all() {
        Ok(_) => return Err("indexing on a full disk reported success".into()),
        Err(e) => e.to_string(),
    };
    ensure!(
        err.contains("no storage space") && !err.contains('{') && !err.contains(".tmp"),
        "not a clear error: {err}"
    );
    // The committed index and the manifest are what they were; a half-written segment may stay
    // until the next commit's garbage collection.
    for (path, hash) in &before {
        let now = snapshot(disk.path());
        ensure!(now.get(path) == Some(hash), "{} changed or was lost", path.display());
    }
    ensure!(search(&engine, "zebrafish")? == 1, "alpha lost from the index");
    // Another process on the full disk (a second server, following this one) opens and searches.
    {
        let other = Engine::open(&config).map_err(|e| format!("opening on a full disk: {e}"))?;
        ensure!(search(&other, "zebrafish")? == 1, "alpha lost for a second process");
    }
    disk.free();
    // The same engine (a running server) indexes again: its writer did not die with the commit.
    engine.sync_all().map_err(|e| format!("indexing after space returned: {e}"))?;
    ensure!(search(&engine, "quokka")? == 1, "beta not indexed after space returned");
    ensure!(search(&engine, "zebrafish")? == 1, "alpha lost");
    drop(engine);
    let engine = Engine::open(&config).map_err(|e| e.to_string())?;
    ensure!(search(&engine, "quokka")? == 1, "beta lost after reopening");
    Ok(format!(
        "refused ({err}), index and manifest unchanged, the same writer indexed after space returned"
    ))
}

fn bundle(fixture: &str) -> Vec<u8> {
    use serde_json::json;
    let manifest = json!({
        "manifest_version": "0.3", "name": "fixture-bundle", "version": "1.0.0",
        "server": {"type": "binary", "entry_point": "server/run",
            "mcp_config": {"command": "${__dirname}/server/run", "args": []}},
    });
    let mut bytes = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
        let file = zip::write::SimpleFileOptions::default();
        zip.start_file("manifest.json", file).expect("zip");
        zip.write_all(manifest.to_string().as_bytes()).expect("zip");
        // Small, so that the tmpfs stays small: the fixture server itself stays where it was built.
        zip.start_file("server/run", file.unix_permissions(0o755)).expect("zip");
        zip.write_all(format!("#!/bin/sh\nexec '{fixture}' ok \"$@\"\n").as_bytes()).expect("zip");
        zip.start_file("padding.txt", file).expect("zip");
        zip.write_all("padding ".repeat(16 * 1024).as_bytes()).expect("zip");
        zip.finish().expect("zip");
    }
    bytes
}

fn install_on_full_disk(lab: &Lab) -> Outcome {
    use serde_json::json;
    let bytes = bundle(&fixture());
    let sha = switchboard_core::digest::sha256(&bytes);
    let registry = switchboard_testkit::registry::RegistryFixture::start_with_files(
        vec![json!({
            "name": "io.example/small-bundle", "description": "A bundled fixture", "version": "1.0.0",
            "packages": [{"registryType": "mcpb", "identifier": "http://REGISTRY/files/small.mcpb",
                          "version": "1.0.0", "fileSha256": sha, "transport": {"type": "stdio"}}]
        })],
        vec![("small.mcpb".to_string(), bytes)],
    );
    let disk = lab.tmpfs("install", 2048)?;
    let sb = Sb::new(disk.path()).with("SWITCHBOARD_REGISTRY_URL", registry.url(""));
    sb.run(&["catalog", "refresh"]).ok("catalog refresh")?;
    sb.run(&["add", "one", "--", &fixture(), "ok"]).ok("add one")?;
    let before = snapshot(disk.path());
    disk.fill();
    let err = sb
        .run(&["install", "small-bundle", "--yes"])
        .refused("install on a full disk", &["No space left on device"])?;
    kept(disk.path(), &before, |_| false)?;
    disk.free();
    // Room for the download but not for the unpacked bundle: the install fails half way through
    // and takes back what it unpacked (the download stays in the cache).
    disk.fill_leaving(16 * 1024);
    let half = sb
        .run(&["install", "small-bundle", "--yes"])
        .refused("install on a nearly full disk", &["No space left on device"])?;
    kept(disk.path(), &before, |p| p.starts_with("data/cache"))?;
    disk.free();
    let out = sb.run(&["install", "small-bundle", "--yes"]);
    out.ok("install after space returned")?;
    let list = sb.run(&["list"]);
    ensure!(
        list.ok("list")?.stdout.contains("small-bundle") && list.stdout.contains("one"),
        "{}",
        list.stdout
    );
    Ok(format!(
        "refused ({err}); half way (unpacking) refused ({half}); nothing left behind, installed \
         after space returned"
    ))
}

/// The owner cannot start on a full disk: it says so at once, and starts once there is room.
fn serve_on_full_disk(lab: &Lab) -> Outcome {
    let disk = lab.tmpfs("serve", 256)?;
    let sb = Sb::new(disk.path());
    sb.run(&["add", "one", "--", &fixture(), "ok"]).ok("add one")?;
    let before = snapshot(disk.path());
    disk.fill();
    let err = sb.run(&["serve"]).refused("serve on a full disk", &["No space left on device"])?;
    kept(disk.path(), &before, |p| p.starts_with("run"))?;
    no_temp_files(disk.path())?;
    disk.free();
    let serve = Serving::start(&sb)?;
    sb.run(&["start", "one"]).ok("start once there is room")?;
    serve.shutdown(&sb)?;
    Ok(format!("refused ({err}), nothing lost, serves once there is room"))
}

/// `switchboard serve`, up (its owner file names it) until [`Serving::shutdown`] or drop.
struct Serving {
    child: std::process::Child,
}

impl Serving {
    fn start(sb: &Sb) -> Result<Serving, String> {
        let child = sb
            .command(&["serve"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn serve: {e}"))?;
        let mut serving = Serving { child };
        let owner = sb.home.join("run/owner.json");
        let pid = serving.child.id();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !std::fs::read_to_string(&owner).is_ok_and(|t| t.contains(&format!("\"pid\": {pid}")))
        {
            if Instant::now() > deadline || serving.child.try_wait().ok().flatten().is_some() {
                return Err(format!("serve did not come up in {}", sb.home.display()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(serving)
    }

    fn shutdown(mut self, sb: &Sb) -> Result<(), String> {
        sb.run(&["shutdown"]).ok("shutdown")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().ok().flatten().is_none() {
            ensure!(Instant::now() < deadline, "serve did not exit after shutdown");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_only_state(lab: &Lab) -> Outcome {
    let home = lab.dir("read-only");
    let sb = Sb::new(&home);
    sb.run(&["add", "one", "--", &fixture(), "ok"]).ok("add one")?;
    let before = snapshot(&home);
    lab.make_read_only(&home)?;
    let err = sb
        .run(&["add", "two", "--", &fixture(), "ok"])
        .refused("add in a read-only state folder", &["Read-only file system"])?;
    let list = sb.run(&["list"]);
    ensure!(list.ok("list in a read-only state folder")?.stdout.contains("one"), "{}", list.stdout);
    let serve = sb
        .run(&["serve"])
        .refused("serve in a read-only state folder", &["Read-only file system"])?;
    kept(&home, &before, |_| false)?;
    lab.unmount_all();
    sb.run(&["add", "two", "--", &fixture(), "ok"]).ok("add once writable")?;
    Ok(format!("add refused ({err}); serve refused ({serve}); list works; ok once writable"))
}

fn permission_denied_state(lab: &Lab) -> Outcome {
    use std::os::unix::fs::PermissionsExt;
    let home = lab.dir("denied");
    let mut sb = Sb::new(&home);
    sb.run(&["add", "one", "--", &fixture(), "ok"]).ok("add one")?;
    // No lock file yet (a registry someone else wrote): reading must not need to create one.
    std::fs::remove_file(home.join("config/servers.json.lock")).map_err(|e| e.to_string())?;
    let before = snapshot(&home);
    let chmod =
        |p: &Path, mode: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
    sb.unprivileged = true;
    let config = home.join("config");
    chmod(&config, 0o500).map_err(|e| e.to_string())?;
    // setpriv must be there and must really take away what lets root past permission bits.
    let probe = Command::new("setpriv")
        .args(["--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--", "test", "-w"])
        .arg(&config)
        .status();
    ensure!(
        probe.as_ref().is_ok_and(|s| s.code() == Some(1)),
        "`setpriv` (util-linux) cannot drop the capabilities that let root write a folder without \
         write permission ({probe:?}); the permission-denied scenario needs it"
    );
    let add = sb
        .run(&["add", "two", "--", &fixture(), "ok"])
        .refused("add with a read-only config folder", &["Permission denied", "config"])?;
    let list = sb.run(&["list"]);
    ensure!(
        list.ok("list with a read-only config folder")?.stdout.contains("one"),
        "{}",
        list.stdout
    );
    chmod(&home, 0o000).map_err(|e| e.to_string())?;
    let list =
        sb.run(&["list"]).refused("list in a folder it cannot enter", &["Permission denied"])?;
    let serve =
        sb.run(&["serve"]).refused("serve in a folder it cannot enter", &["Permission denied"])?;
    chmod(&home, 0o700).map_err(|e| e.to_string())?;
    chmod(&config, 0o700).map_err(|e| e.to_string())?;
    kept(&home, &before, |_| false)?;
    sb.run(&["add", "two", "--", &fixture(), "ok"]).ok("add once allowed")?;
    Ok(format!(
        "add refused ({add}); list refused ({list}); serve refused ({serve}); ok once allowed"
    ))
}

fn registry_is_a_directory(lab: &Lab) -> Outcome {
    let home = lab.dir("registry-dir");
    let sb = Sb::new(&home);
    let registry = home.join("config/servers.json");
    std::fs::create_dir_all(&registry).expect("dir");
    std::fs::write(registry.join("keep.txt"), "mine").expect("keep");
    let before = snapshot(&home);
    let add = sb
        .run(&["add", "two", "--", &fixture(), "ok"])
        .refused("add when servers.json is a directory", &["servers.json", "Is a directory"])?;
    let list =
        sb.run(&["list"]).refused("list when servers.json is a directory", &["servers.json"])?;
    let serve =
        sb.run(&["serve"]).refused("serve when servers.json is a directory", &["servers.json"])?;
    kept(&home, &before, |_| false)?;
    Ok(format!(
        "add refused ({add}); list refused ({list}); serve refused ({serve}); the directory kept"
    ))
}

fn registry_is_a_symlink_loop(lab: &Lab) -> Outcome {
    let home = lab.dir("registry-loop");
    let sb = Sb::new(&home);
    let registry = home.join("config/servers.json");
    std::os::unix::fs::symlink("servers.json", &registry).expect("symlink");
    let before = snapshot(&home);
    let add = sb.run(&["add", "two", "--", &fixture(), "ok"]).refused(
        "add when servers.json is a symlink loop",
        &["servers.json", "Too many levels of symbolic links"],
    )?;
    let list =
        sb.run(&["list"]).refused("list when servers.json is a symlink loop", &["servers.json"])?;
    kept(&home, &before, |_| false)?;
    Ok(format!("add refused ({add}); list refused ({list}); the link kept"))
}

fn host_file_not_a_file(lab: &Lab) -> Outcome {
    let state = lab.dir("state");
    let user = lab.dir("user");
    let (sb, config) = hosts_setup(&state, &user, false);
    std::fs::create_dir(&config).expect("dir");
    std::fs::write(config.join("keep.txt"), "mine").expect("keep");
    let before = snapshot(&user);
    let dir = sb
        .run(&["hosts", "apply", "cursor"])
        .refused("hosts apply when mcp.json is a directory", &["mcp.json", "Is a directory"])?;
    kept(&user, &before, |_| false)?;
    std::fs::remove_dir_all(&config).expect("rm");
    std::os::unix::fs::symlink("mcp.json", &config).expect("symlink");
    let before = snapshot(&user);
    let looped = sb.run(&["hosts", "apply", "cursor"]).refused(
        "hosts apply when mcp.json is a symlink loop",
        &["mcp.json", "Too many levels of symbolic links"],
    )?;
    kept(&user, &before, |_| false)?;
    Ok(format!("directory refused ({dir}); loop refused ({looped}); both kept"))
}

fn unicode_state_folder(lab: &Lab) -> Outcome {
    let home = lab.dir("Tëst dir").join("ünïcødé 数据");
    let sb = Sb::new(&home);
    sb.run(&["add", "fx", "--", &fixture(), "ok"]).ok("add")?;
    let list = sb.run(&["list"]);
    ensure!(list.ok("list")?.stdout.contains("fx"), "{}", list.stdout);
    let serve = Serving::start(&sb)?;
    sb.run(&["start", "fx"]).ok("start")?;
    let logs = sb.run(&["logs", "fx"]);
    ensure!(!logs.ok("logs")?.stdout.trim().is_empty(), "no log lines");
    sb.run(&["stop", "fx"]).ok("stop")?;
    let log = home.join("logs/fx.log");
    ensure!(std::fs::metadata(&log).is_ok_and(|m| m.len() > 0), "no log file at {}", log.display());
    serve.shutdown(&sb)?;
    Ok("add, list, serve, start, logs, stop, shutdown all work".into())
}
