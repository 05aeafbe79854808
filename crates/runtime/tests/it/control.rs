//! The control endpoint's guard, over real HTTP on 127.0.0.1: what a web page (or anything
//! without the owner's token) sends is refused with the right status, and a refused request
//! changes nothing.

use std::{io::Read, io::Write, net::TcpStream, time::Duration};

use switchboard_core::{Paths, RestartPolicy, ServerName, registry::Registry};
use switchboard_runtime::{Owner, ServerState};

use crate::support::{fast_config, fixture_spec};

/// Sends `request` as written (so `Host` and every other header are exactly ours) and returns
/// the status code and the whole answer.
fn raw(port: u16, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    (status, answer)
}

fn request(method: &str, path: &str, headers: &[String]) -> String {
    let mut text = format!("{method} {path} HTTP/1.1\r\n");
    for h in headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    if method == "POST" {
        text.push_str("Content-Type: application/json\r\nContent-Length: 2\r\n");
    }
    text.push_str("Connection: close\r\n\r\n");
    if method == "POST" {
        text.push_str("{}");
    }
    text
}

fn state_of(owner: &Owner, name: &str) -> ServerState {
    owner.supervisor().status_of(name).expect("status").state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_pages_foreign_hosts_and_missing_or_wrong_tokens_are_refused_and_change_nothing() {
    let home = switchboard_testkit::temp_home();
    let paths = Paths::under(home.path());
    paths.ensure().expect("state folders");
    let registry = Registry::new(&paths);
    let name = |n: &str| n.parse::<ServerName>().expect("name");
    registry.add(name("running"), fixture_spec("ok", &[], RestartPolicy::Never)).expect("add");
    registry.add(name("stopped"), fixture_spec("ok", &[], RestartPolicy::Never)).expect("add");
    let owner = Owner::start(paths.clone(), fast_config(), "serve").await.expect("owner");
    owner.supervisor().start("running").await.expect("start");
    let ServerState::Running { pid: Some(pid), .. } = state_of(&owner, "running") else {
        panic!("not running: {:?}", state_of(&owner, "running"));
    };
    // Added to the registry after the owner read it: only a reload would bring it in.
    registry.add(name("later"), fixture_spec("ok", &[], RestartPolicy::Never)).expect("add");

    let port = owner.info().port;
    let token = owner.info().token.clone();
    let host = format!("Host: 127.0.0.1:{port}");
    let bearer = format!("Authorization: Bearer {token}");
    let wrong = format!("Authorization: Bearer {}", "0".repeat(token.len()));

    // Each way in, refused: (what it is, headers, status).
    let refused: Vec<(&str, Vec<String>, u16)> = vec![
        (
            "a foreign Origin",
            vec![host.clone(), bearer.clone(), "Origin: https://evil.example".into()],
            403,
        ),
        (
            "a loopback Origin (another local page)",
            vec![host.clone(), bearer.clone(), "Origin: http://127.0.0.1:3000".into()],
            403,
        ),
        ("the null Origin", vec![host.clone(), bearer.clone(), "Origin: null".into()], 403),
        (
            "DNS rebinding: a foreign Host with our port",
            vec![format!("Host: evil.example:{port}"), bearer.clone()],
            403,
        ),
        (
            "DNS rebinding: a name that starts like loopback",
            vec![format!("Host: 127.0.0.1.evil.example:{port}"), bearer.clone()],
            403,
        ),
        (
            "a foreign Host without a port",
            vec!["Host: 127.0.0.1.evil.example".into(), bearer.clone()],
            403,
        ),
        (
            "loopback on another port",
            vec![format!("Host: 127.0.0.1:{}", port.wrapping_add(1)), bearer.clone()],
            403,
        ),
        ("no Host", vec![bearer.clone()], 403),
        ("no token", vec![host.clone()], 401),
        ("a wrong token", vec![host.clone(), wrong.clone()], 401),
        ("the token without Bearer", vec![host.clone(), format!("Authorization: {token}")], 401),
        (
            "a token one character short",
            vec![host.clone(), format!("Authorization: Bearer {}", &token[1..])],
            401,
        ),
        ("the token as Basic", vec![host.clone(), format!("Authorization: Basic {token}")], 401),
    ];

    let effects = [
        ("POST", "/v1/servers/running/stop".to_owned()),
        ("POST", "/v1/servers/running/restart".to_owned()),
        ("POST", "/v1/servers/stopped/start".to_owned()),
        ("POST", "/v1/reload".to_owned()),
        ("POST", "/v1/quit".to_owned()),
        ("GET", "/v1/status".to_owned()),
        ("GET", "/v1/servers/running/logs".to_owned()),
        ("GET", "/v1/tools".to_owned()),
        ("GET", "/v1/events".to_owned()),
    ];
    for (what, headers, want) in &refused {
        for (method, path) in &effects {
            let (status, answer) = raw(port, &request(method, path, headers));
            assert_eq!(status, *want, "{what}: {method} {path} answered {answer}");
            assert!(
                !answer.contains("running") || !answer.contains("\"name\""),
                "{what}: {answer}"
            );
            assert!(
                !answer.to_ascii_lowercase().contains("access-control-allow"),
                "{what}: CORS header in {answer}"
            );
        }
    }

    // A CORS preflight, as a browser sends before a POST with a bearer header or JSON body.
    for origin in ["https://evil.example", "http://127.0.0.1:3000", "http://localhost:5173"] {
        for path in ["/v1/servers/running/stop", "/v1/quit", "/v1/status"] {
            let preflight = request(
                "OPTIONS",
                path,
                &[
                    host.clone(),
                    format!("Origin: {origin}"),
                    "Access-Control-Request-Method: POST".into(),
                    "Access-Control-Request-Headers: authorization, content-type".into(),
                ],
            );
            let (status, answer) = raw(port, &preflight);
            assert_eq!(status, 403, "preflight from {origin} to {path}: {answer}");
            assert!(
                !answer.to_ascii_lowercase().contains("access-control-allow"),
                "preflight answered with CORS headers: {answer}"
            );
        }
    }

    // Nothing happened: the running server runs as the same process, the stopped one is still
    // stopped, the registry was not reloaded, and the owner was not asked to quit.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        matches!(state_of(&owner, "running"), ServerState::Running { pid: Some(p), .. } if p == pid),
        "{:?}",
        state_of(&owner, "running")
    );
    assert_eq!(state_of(&owner, "stopped"), ServerState::Stopped);
    assert!(owner.supervisor().status_of("later").is_err(), "reloaded by a refused request");
    let quit = tokio::time::timeout(Duration::from_millis(100), owner.quit_requested()).await;
    assert!(quit.is_err(), "a refused request asked the owner to quit");

    // The same requests with the token and a loopback Host do act (so the refusals above were
    // the guard, not a wrong path): by 127.0.0.1 and by localhost.
    let (status, answer) =
        raw(port, &request("POST", "/v1/servers/stopped/start", &[host.clone(), bearer.clone()]));
    assert_eq!(status, 200, "{answer}");
    assert!(matches!(state_of(&owner, "stopped"), ServerState::Running { .. }));
    let by_name = format!("Host: localhost:{port}");
    let (status, answer) =
        raw(port, &request("POST", "/v1/reload", &[by_name.clone(), bearer.clone()]));
    assert_eq!(status, 204, "{answer}");
    assert!(owner.supervisor().status_of("later").is_ok());
    let (status, answer) = raw(port, &request("POST", "/v1/quit", &[by_name, bearer]));
    assert_eq!(status, 202, "{answer}");
    tokio::time::timeout(Duration::from_secs(5), owner.quit_requested()).await.expect("quit asked");
    owner.shutdown().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_run_folder_file_and_logs_are_owner_only_on_creation_and_after_a_rewrite() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    let chmod = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod");
    };
    let home = switchboard_testkit::temp_home();
    let paths = Paths::under(home.path());
    let name: ServerName = "logged".parse().expect("name");
    Registry::new(&paths)
        .add(name.clone(), fixture_spec("ok", &[], RestartPolicy::Never))
        .expect("add");
    let log = paths.server_log(&name);
    for round in ["on creation", "after a rewrite"] {
        let owner = Owner::start(paths.clone(), fast_config(), "serve").await.expect("owner");
        owner.supervisor().start("logged").await.expect("start");
        assert_eq!(mode(&paths.run_dir), 0o700, "run/ {round}");
        assert_eq!(mode(&paths.owner_file()), 0o600, "run/owner.json {round}");
        assert_eq!(mode(&paths.log_dir), 0o700, "logs/ {round}");
        assert!(std::fs::metadata(&log).is_ok_and(|m| m.len() > 0), "the server logged");
        assert_eq!(mode(&log), 0o600, "{} {round}", log.display());
        owner.shutdown().await;
        drop(owner);
        // Loosened (by hand, a umask, an older version): the next owner tightens them again.
        chmod(&paths.run_dir, 0o755);
        // The owner removes its file when it ends; one killed leaves it, and the next rewrites it.
        std::fs::write(paths.owner_file(), b"{}").expect("a stale owner.json");
        chmod(&paths.owner_file(), 0o644);
        chmod(&paths.log_dir, 0o755);
        chmod(&log, 0o644);
    }
}
