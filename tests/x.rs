//! The task runner `x`: a step ends at its first failing command and turns the run red. Bash
//! ignores `set -e` inside functions called from an `if` condition, which once let a failed
//! `cargo build` inside a step pass as `ok`; this sources `x` and runs planted steps through it.

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly
#![allow(clippy::disallowed_methods)] // runs bash on the repository's own script

use std::{path::Path, process::Command};

/// Sources `x` (which then defines its functions and runs nothing) and runs `script` after it.
fn with_x(script: &str) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("source ./x\n{script}"))
        .current_dir(root)
        .output()
        .expect("run bash");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn a_failing_command_inside_a_step_fails_that_step_and_the_run() {
    let (ok, out) = with_x(
        r#"
planted() { echo "before"; false; echo "after the failure"; }
build_then_test() { cargo-that-does-not-exist build; echo "tests ran on stale binaries"; }
fine() { echo "fine ran"; }
step "planted" planted
step "a failed build" build_then_test
step "fine" fine
LOGS=$(mktemp -d)
echo "closing line: $(summarize_tests)"
report_steps
"#,
    );
    assert!(!ok, "a run with failed steps must exit non-zero:\n{out}");
    assert!(out.contains("before"), "{out}");
    assert!(!out.contains("after the failure"), "the step went on after `false`:\n{out}");
    assert!(
        !out.contains("tests ran on stale binaries"),
        "the step went on after a failed build:\n{out}"
    );
    assert!(out.contains("FAIL  planted"), "{out}");
    assert!(out.contains("FAIL  a failed build"), "{out}");
    // One failed step does not stop the others: the summary reports every step.
    assert!(out.contains("fine ran") && out.contains("ok    fine"), "{out}");
    assert!(out.contains("x: 2 step(s) failed"), "{out}");
    // Failures no test runner counted still show in the closing line.
    assert!(out.contains("closing line: 0 passed, 2 failed, 0 skipped"), "{out}");
}

#[test]
fn a_run_whose_steps_all_pass_is_green() {
    let (ok, out) = with_x(
        r#"
quiet() { true; }
step "one" quiet
step "two" quiet
report_steps
"#,
    );
    assert!(ok, "{out}");
    assert!(out.contains("ok    one") && out.contains("ok    two"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn sourcing_x_runs_no_command() {
    let (ok, out) = with_x("echo sourced");
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "sourced", "sourcing x printed or ran something");
}

/// The secret scan after `./x test` fails on a secret planted in a kept home's log (naming file
/// and value, counted in the closing line), allows a value `add --env` put in `servers.json` there
/// and in the hosts' ledger, but not a value of the secret store found in the ledger.
#[test]
fn the_secret_scan_finds_a_planted_secret_and_counts_it() {
    let (ok, out) = with_x(
        r#"
homes=$(mktemp -d)
mkdir -p "$homes/sb-test-a/logs" "$homes/sb-test-a/config" "$homes/sb-test-a/data/hosts" \
  "$homes/sb-test-b/config" "$homes/sb-test-b/data/hosts" "$homes/sb-test-b/data/secrets"
echo '{"servers":{"x":{"env":{"TOKEN":"s3cret"}}}}' > "$homes/sb-test-a/config/servers.json"
echo '{"entries":[{"value":{"env":{"TOKEN":"s3cret"}}}]}' > "$homes/sb-test-a/data/hosts/ledger.json"
echo 'started pid 1 with sb-test-secret-planted' > "$homes/sb-test-a/logs/x.log"
echo '{"x":{"T":"sk-live-9876SECRET"}}' > "$homes/sb-test-b/data/secrets/secrets.json"
echo '{"servers":{"x":{"secrets":["T"]}}}' > "$homes/sb-test-b/config/servers.json"
echo '{"value":"sk-live-9876SECRET"}' > "$homes/sb-test-b/data/hosts/journal.json"
SWITCHBOARD_TEST_KEEP_HOMES=$homes
LOGS=$(mktemp -d)
step "scan" run_secret_scan
echo "closing line: $(summarize_tests)"
[ -d "$homes" ] && echo "kept for a look"
report_steps || echo "the scan turned the run red"
mkdir -p "$homes/sb-test-c/logs"
echo 'nothing to see' > "$homes/sb-test-c/logs/c.log"
rm -rf "$homes/sb-test-a" "$homes/sb-test-b"
FAILED=0 STEPS=()
LOGS=$(mktemp -d)
step "clean scan" run_secret_scan
echo "clean closing line: $(summarize_tests)"
[ -d "$homes" ] || echo "removed after a clean scan"
report_steps
"#,
    );
    assert!(ok, "the clean run is green:\n{out}");
    assert!(out.contains("secret-scan: FOUND sb-test-secret-planted in "), "{out}");
    assert!(out.contains("sb-test-a/logs/x.log"), "{out}");
    assert!(
        out.contains("secret-scan: FOUND sk-live-9876SECRET in "),
        "a store secret in the journal:\n{out}"
    );
    assert!(
        !out.contains("FOUND s3cret"),
        "an `add --env` value in servers.json and the ledger:\n{out}"
    );
    assert!(out.contains("FAIL  scan") && out.contains("the scan turned the run red"), "{out}");
    assert!(out.contains("closing line: 0 passed, 2 failed, 0 skipped"), "{out}");
    assert!(out.contains("kept for a look"), "{out}");
    assert!(out.contains("ok    clean scan"), "{out}");
    assert!(out.contains("clean closing line: 1 passed, 0 failed, 0 skipped"), "{out}");
    assert!(out.contains("removed after a clean scan"), "{out}");
}
