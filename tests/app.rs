//! The real app binary under Xvfb and a private D-Bus session: it becomes the owner of the
//! servers, the control endpoint drives it, and SIGTERM stops every server before it exits 0.
//! (The full window and tray suites arrive with the tray-app issue.)

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly
#![allow(clippy::disallowed_methods)] // runs the app binary under test

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use switchboard_runtime::{OwnerInfo, ServerState, control::ControlClient};

use switchboard_core::{Paths, Registry, ServerSpec};
use switchboard_testkit::{alive, wait_until};

#[test]
fn the_app_owns_the_servers_and_stops_them_on_sigterm() {
    let scratch = switchboard_testkit::temp_home();
    let home = scratch.path().join("home");
    let paths = Paths::under(&home);
    let fixture = switchboard_testkit::fixture().display().to_string();
    Registry::new(&paths)
        .add("good".parse().expect("name"), ServerSpec::stdio(fixture, vec!["ok".into()]))
        .expect("register");

    let mut command = Command::new("xvfb-run");
    command
        .args(["-a", "dbus-run-session", "--", env!("CARGO_BIN_EXE_switchboard-app")])
        .env("SWITCHBOARD_HOME", &home)
        .env("NO_AT_BRIDGE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(scratch.path().join("app.log")).expect("log"));
    for (var, dir) in [
        ("XDG_DATA_HOME", "xdg-data"),
        ("XDG_CACHE_HOME", "xdg-cache"),
        ("XDG_CONFIG_HOME", "xdg-config"),
        ("XDG_RUNTIME_DIR", "xdg-run"),
        ("TMPDIR", "tmp"),
    ] {
        let path = scratch.path().join(dir);
        std::fs::create_dir_all(&path).expect("scratch dir");
        command.env(var, path);
    }
    let mut app = command.spawn().expect("xvfb-run (install xvfb and dbus-daemon)");
    let log = || std::fs::read_to_string(scratch.path().join("app.log")).unwrap_or_default();

    assert!(
        wait_until(Duration::from_secs(60), || OwnerInfo::read(&paths)
            .is_some_and(|i| i.kind == "app")),
        "the app did not become the owner: {}",
        log()
    );
    let app_pid = OwnerInfo::read(&paths).expect("owner").pid;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let client = ControlClient::connect(&paths).expect("control endpoint");
    let mut server_pid = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            let status = runtime.block_on(client.status()).expect("status");
            server_pid = status.iter().find_map(|s| match s.state {
                ServerState::Running { pid, .. } => pid,
                _ => None,
            });
            server_pid.is_some()
        }),
        "the enabled server was not started: {}",
        log()
    );
    let server_pid = server_pid.expect("pid");

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(app_pid as i32), nix::sys::signal::SIGTERM)
        .expect("signal the app");
    let mut code = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            code = app.try_wait().expect("wait").map(|s| s.code());
            code.is_some()
        }),
        "the app did not exit: {}",
        log()
    );
    assert_eq!(code, Some(Some(0)), "{}", log());
    assert!(!alive(server_pid), "server {server_pid} survived the app");
    assert!(log().contains("stopped: exited with code 0"), "{}", log());
}
