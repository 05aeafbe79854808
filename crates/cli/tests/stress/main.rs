//! Stress (#19), in a test binary of its own so that nothing else runs beside it: kill loops
//! (`kill_loop`) and load and soak through the gateway (`load`). Each test holds [`alone`] for
//! its whole run, so they do not load the machine for one another either.

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly
#![allow(clippy::disallowed_methods)] // tests run the binary under test directly

#[allow(dead_code)] // shared with the `cli` tests, which use all of it
#[path = "../cli/bridge.rs"]
mod bridge;
mod crash_loop;
mod kill_loop;
mod load;
#[allow(dead_code)]
#[path = "../cli/support.rs"]
mod support;

/// One stress test at a time (libtest runs a binary's tests on several threads).
pub fn alone() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Resident memory of `pid` in KiB (`VmRSS`), 0 when it is gone.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}
