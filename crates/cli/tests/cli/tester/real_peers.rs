//! The tester commands against real third-party servers: server-everything (npm) and the Python SDK
//! 2.x.

use super::*;

#[test]
fn read_and_prompt_against_server_everything() {
    let home = Home::new();
    let js = peers::everything().display().to_string();
    let run = home.run(&["read", "demo://resource/static/document/features.md", "--", "node", &js]);
    run.assert_ok();
    assert!(run.stdout().starts_with("[resource demo://resource/static/document/features.md]"));
    let run = home.run(&["prompt", "args-prompt", "city=Oslo", "--", "node", &js]);
    run.assert_ok();
    assert!(run.stdout().contains("[user]") && run.stdout().contains("Oslo"), "{}", run.stdout());
    let run = home.run(&["call", "get-tiny-image", "--", "node", &js]);
    run.assert_ok();
    assert!(run.stdout().contains("[image image/png"), "{}", run.stdout());
}

#[test]
fn server_log_messages_are_shown_on_stderr() {
    let home = Home::new();
    let python = peers::python().display().to_string();
    let script = peers::py_server().display().to_string();
    // Logging is deprecated in 2026-07-28; a 2025-11-25 session still gets it.
    let run = home.run(&["call", "noisy", "--protocol", "2025-11-25", "--", &python, &script]);
    run.assert_ok();
    assert!(run.stdout().starts_with("done"), "{}", run.stdout());
    assert!(run.stderr().contains("[server info] working on it"), "{}", run.stderr());
}
