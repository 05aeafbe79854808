//! `switchboard serve`'s own footprint at rest with 10 running servers (`cargo bench -p
//! switchboard-cli --bench serve_idle`): resident memory and CPU of the serve process only (not
//! its children), sampled once a second from /proc over 30 s. Prints medians.

#![allow(clippy::disallowed_methods)] // runs the binary under measurement
#![allow(clippy::print_stdout)]
#![allow(clippy::expect_used)] // a benchmark whose set-up fails should stop loudly

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const SERVERS: usize = 10;
const SECONDS: u64 = 30;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("serve_idle: bench");
        return;
    }
    let home = switchboard_testkit::temp_home();
    // The built-in knowledge base was offered already: the figure is for the 10 fixtures alone.
    let config = home.path().join("config");
    std::fs::create_dir_all(&config).expect("config");
    std::fs::write(config.join("settings.json"), "{ \"knowledgeBaseOffered\": true }\n")
        .expect("settings");
    let fixture = switchboard_testkit::fixture().display().to_string();
    let cli = env!("CARGO_BIN_EXE_switchboard");
    for i in 0..SERVERS {
        let status = Command::new(cli)
            .args(["add", &format!("s{i}"), "--", &fixture, "ok"])
            .env("SWITCHBOARD_HOME", home.path())
            .stdout(Stdio::null())
            .status()
            .expect("add");
        assert!(status.success());
    }
    let mut serve = Command::new(cli)
        .arg("serve")
        .env("SWITCHBOARD_HOME", home.path())
        .env("SWITCHBOARD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let pid = serve.id();
    let running = || {
        Command::new(cli)
            .args(["status", "--json"])
            .env("SWITCHBOARD_HOME", home.path())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).matches("\"running\"").count())
            .unwrap_or(0)
    };
    assert!(
        switchboard_testkit::wait_until(Duration::from_secs(60), || running() == SERVERS),
        "not every server started"
    );
    std::thread::sleep(Duration::from_secs(3)); // let start-up settle

    let ticks_per_sec = 100.0; // USER_HZ on Linux
    let cpu_ticks = || -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        let fields: Vec<&str> =
            stat[stat.rfind(')').expect(")") + 2..].split_whitespace().collect();
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    };
    let rss_kib = || -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .expect("status")
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .expect("VmRSS")
    };
    let mut rss = Vec::new();
    let mut cpu = Vec::new();
    let started = Instant::now();
    let first_ticks = cpu_ticks();
    let mut last = (Instant::now(), first_ticks);
    for _ in 0..SECONDS {
        std::thread::sleep(Duration::from_secs(1));
        let now = (Instant::now(), cpu_ticks());
        cpu.push(
            (now.1 - last.1) as f64 / ticks_per_sec / now.0.duration_since(last.0).as_secs_f64()
                * 100.0,
        );
        rss.push(rss_kib());
        last = now;
    }
    let total_cpu =
        (last.1 - first_ticks) as f64 / ticks_per_sec / started.elapsed().as_secs_f64() * 100.0;
    rss.sort_unstable();
    cpu.sort_by(f64::total_cmp);
    println!(
        "serve idle with {SERVERS} running servers over {SECONDS} s: RSS median {:.1} MiB (max {:.1}), \
         CPU median {:.2} % of one core per second (mean {:.2} %)",
        rss[rss.len() / 2] as f64 / 1024.0,
        rss[rss.len() - 1] as f64 / 1024.0,
        cpu[cpu.len() / 2],
        total_cpu
    );
    let _ =
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::SIGTERM);
    let _ = serve.wait();
}
