//! Test support shared by the workspace's integration tests: the fixture MCP server's path (built
//! on demand), and process checks that read `/proc` (a zombie counts as dead, because PID 1 on
//! these machines does not reap orphans).

#![allow(clippy::disallowed_methods)] // tests run the binaries under test directly
#![allow(clippy::expect_used)] // test support: a failed set-up step should stop the test loudly

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// The `sb-fixture` binary, built once per test process with the same profile and target folder
/// as the test itself.
pub fn fixture() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> -> target/<profile>
        let profile_dir = exe.parent().and_then(Path::parent).expect("profile folder");
        let target_dir = profile_dir.parent().expect("target folder");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "--quiet", "-p", "switchboard-testkit", "--bin", "sb-fixture"]);
        build.arg("--target-dir").arg(target_dir);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build for the fixture");
        assert!(status.success(), "building sb-fixture failed");
        let path = profile_dir.join(format!("sb-fixture{}", std::env::consts::EXE_SUFFIX));
        assert!(path.exists(), "{} is missing", path.display());
        path
    })
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One line of `/proc/PID/stat`, the fields we need.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub state: char,
    pub ppid: u32,
    pub pgrp: u32,
}

pub fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgrp: fields.get(2)?.parse().ok()?,
    })
}

/// Alive means: exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|s| s.state != 'Z' && s.state != 'X')
}

/// Every live process whose process group is `pgid`.
pub fn live_group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            stat(*pid).is_some_and(|s| s.pgrp == pgid && s.state != 'Z' && s.state != 'X')
        })
        .collect()
}

/// Every live process whose command line mentions `needle` (to find survivors by marker).
pub fn live_processes_mentioning(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            alive(*pid)
                && std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

/// `KEEP_HOMES_VAR=DIR`: every [`temp_home`] is made under `DIR` and kept after its test, so that
/// `./x test` can scan what the whole suite left in Switchboard's files for the secret values the
/// tests use (`tests/test-secrets.txt`; a new test's secret takes the form `sb-test-secret-…`,
/// found without being listed).
pub const KEEP_HOMES_VAR: &str = "SWITCHBOARD_TEST_KEEP_HOMES";

/// A `SWITCHBOARD_HOME` in a fresh temp folder, removed when dropped (kept under
/// [`KEEP_HOMES_VAR`] when that is set).
pub fn temp_home() -> tempfile::TempDir {
    let mut builder = tempfile::Builder::new();
    builder.prefix("sb-test-");
    match std::env::var_os(KEEP_HOMES_VAR).filter(|v| !v.is_empty()) {
        Some(dir) => {
            std::fs::create_dir_all(&dir).expect("the folder of kept homes");
            builder.disable_cleanup(true).tempdir_in(dir).expect("temp home")
        }
        None => builder.tempdir().expect("temp home"),
    }
}

pub mod registry;

/// Test data kept in the repository, under `testdata/` (its README says where each folder came
/// from and under what license). Nothing a test reads lies outside the repository.
pub mod testdata {
    use std::path::{Path, PathBuf};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
    }

    /// The MCP documentation corpus: 344 real Markdown/MDX pages (specification revisions
    /// 2024-11-05 to 2026-07-28 and draft, guides, community pages).
    pub fn mcp_docs() -> PathBuf {
        let dir = root().join("mcp-docs");
        assert!(dir.is_dir(), "the test corpus is missing at {}", dir.display());
        dir
    }

    /// The official JSON Schema of one protocol revision (`2025-06-18`, `2026-07-28`, …).
    pub fn mcp_schema(revision: &str) -> PathBuf {
        let path = root().join("mcp-schema").join(format!("{revision}.schema.json"));
        assert!(path.is_file(), "no schema for revision {revision:?} at {}", path.display());
        path
    }
}

/// Real third-party MCP peers, installed by `./x test` under `target/peers` (pinned versions:
/// see `ensure_peers` in `x`).
pub mod peers {
    use std::{
        net::TcpListener,
        path::{Path, PathBuf},
        process::{Child, Command, Stdio},
        time::Duration,
    };

    /// The repository's root.
    pub fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
    }

    /// `target/peers`, or a failure that says how to install it.
    pub fn dir() -> PathBuf {
        let dir = workspace().join("target/peers");
        assert!(
            dir.join(".installed").exists(),
            "the test peers are not installed in {}: run `./x test` (or `./x peers`)",
            dir.display()
        );
        dir
    }

    /// `@modelcontextprotocol/server-everything`'s entry point (run with `node`).
    pub fn everything() -> PathBuf {
        dir().join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
    }

    /// The Python with the official MCP SDK 2.x installed.
    pub fn python() -> PathBuf {
        dir().join("venv/bin/python")
    }

    /// `uvx`, and the environment that keeps its cache inside `target/peers`.
    pub fn uvx() -> (PathBuf, Vec<(String, String)>) {
        let dir = dir();
        let env = vec![
            ("UV_CACHE_DIR".to_owned(), dir.join("uv-cache").display().to_string()),
            ("UV_TOOL_DIR".to_owned(), dir.join("uv-tools").display().to_string()),
        ];
        (dir.join("venv/bin/uvx"), env)
    }

    /// The pinned `mcp-server-time` requirement for `uvx`.
    pub const TIME_SERVER: &str = "mcp-server-time==2026.10.19";

    /// Our Python SDK 2.x fixture server (`tests/peers/py_server.py`).
    pub fn py_server() -> PathBuf {
        workspace().join("tests/peers/py_server.py")
    }

    /// A port free on 127.0.0.1 right now.
    pub fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
    }

    /// server-everything over HTTP (`sse` or `streamableHttp`), killed on drop.
    pub struct HttpPeer {
        child: Child,
        pub port: u16,
    }

    impl HttpPeer {
        pub fn start(mode: &str) -> HttpPeer {
            let port = free_port();
            let child = Command::new("node")
                .arg(everything())
                .arg(mode)
                .env("PORT", port.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start server-everything");
            let up = crate::wait_until(Duration::from_secs(30), || {
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            });
            assert!(up, "server-everything {mode} never listened on {port}");
            HttpPeer { child, port }
        }

        pub fn url(&self, path: &str) -> String {
            format!("http://127.0.0.1:{}{path}", self.port)
        }
    }

    impl Drop for HttpPeer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
