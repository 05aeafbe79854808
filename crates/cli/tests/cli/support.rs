//! Running the binary and a `serve` owner in a temp home.

#![allow(clippy::disallowed_methods)] // tests run the binary under test directly

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::Duration,
};

use switchboard_testkit::wait_until;

pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    /// A home in which the built-in knowledge base was offered already (and declined), so
    /// `serve` registers nothing of its own: these tests are about the servers they add.
    pub fn new() -> Self {
        let home = Self::fresh();
        let config = home.path().join("config");
        std::fs::create_dir_all(&config).expect("config dir");
        std::fs::write(config.join("settings.json"), "{ \"knowledgeBaseOffered\": true }\n")
            .expect("settings");
        home
    }

    /// A home as a first start sees it: `serve` registers the knowledge base.
    pub fn fresh() -> Self {
        Home { dir: switchboard_testkit::temp_home() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        command.args(args).env("SWITCHBOARD_HOME", self.path()).env_remove("SWITCHBOARD_LOG");
        command
    }

    /// Runs to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).stdin(Stdio::null()).output().expect("run switchboard");
        Run(output)
    }

    pub fn registry_file(&self) -> PathBuf {
        self.path().join("config/servers.json")
    }

    /// Starts `switchboard serve` and waits for its control endpoint.
    pub fn serve(&self) -> Serve {
        self.serve_with(&[])
    }

    /// `serve` with extra environment (a user's `HOME` for the hosts' files).
    pub fn serve_with(&self, env: &[(&str, &Path)]) -> Serve {
        let stderr = std::fs::File::create(self.path().join("serve.stderr")).expect("stderr file");
        let mut command = self.command(&["serve"]);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn serve");
        let owner = self.path().join("run/owner.json");
        let pid = child.id();
        let ready = wait_until(Duration::from_secs(20), || {
            std::fs::read_to_string(&owner).is_ok_and(|t| t.contains(&format!("\"pid\": {pid}")))
        });
        let serve = Serve { child, stderr: self.path().join("serve.stderr") };
        assert!(ready, "serve did not come up: {}", serve.stderr_text());
        serve
    }

    pub fn status_json(&self) -> serde_json::Value {
        let run = self.run(&["status", "--json"]);
        run.assert_ok();
        serde_json::from_str(&run.stdout()).expect("status JSON")
    }

    pub fn state_of(&self, name: &str) -> serde_json::Value {
        self.status_json()
            .as_array()
            .expect("array")
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in status"))
            .clone()
    }
}

pub struct Serve {
    pub child: Child,
    pub stderr: PathBuf,
}

impl Serve {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends `signal` and waits for the exit code.
    pub fn signal_and_wait(mut self, signal: nix::sys::signal::Signal) -> std::process::ExitStatus {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal)
            .expect("signal serve");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "serve did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.code(), Some(0), "stdout: {}\nstderr: {}", self.stdout(), self.stderr());
        self
    }
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "stdout: {}\nstderr: {}", self.stdout(), self.stderr());
        assert!(!self.stderr().contains("panicked"), "{}", self.stderr());
        self
    }
}

pub fn fixture() -> String {
    switchboard_testkit::fixture().display().to_string()
}

pub fn pid_in(status: &serde_json::Value) -> u32 {
    status["state"]["pid"].as_u64().unwrap_or_else(|| panic!("no pid in {status}")) as u32
}

/// Waits (up to 30 s) until `name` runs; its pid.
pub fn running_pid(home: &Home, name: &str) -> u32 {
    assert!(
        wait_until(Duration::from_secs(30), || home.state_of(name)["state"]["kind"] == "running"),
        "{name} did not start: {}",
        home.state_of(name)
    );
    pid_in(&home.state_of(name))
}
