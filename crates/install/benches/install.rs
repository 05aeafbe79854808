//! Install and start-up figures for a real npm server (`@modelcontextprotocol/server-everything`,
//! from the npm registry; its package must be in npm's cache for the figures to mean "cached"):
//!
//! - install → verified: the whole `Installer::install` (npm install into our prefix from the
//!   cache, start, handshake, list tools, register) into a fresh state folder each time;
//! - start → ready of the installed server under the supervisor, against spawning its entry point
//!   with `node` directly and against `npx -y` (what users paste into host configs), each until
//!   the MCP handshake is answered.
//!
//! Seconds-long operations on a shared machine: each is run several times and the median (with
//! min and max) is printed; no figure is asserted. `cargo bench -p switchboard-install --bench install`.

#![allow(clippy::expect_used, clippy::print_stdout)] // a benchmark that cannot set up should stop loudly

use std::{sync::Arc, time::Duration, time::Instant};

use switchboard_runtime::{
    EventBus, Supervisor, SupervisorConfig,
    tester::{Target, TesterSession},
};

use switchboard_core::{Env, Launch, Paths, Registry, clock::SystemClock, mcp::SessionOptions};

use switchboard_catalog::Catalog;

use switchboard_install::{Installer, Request};

const RUNS: usize = 7;
const PACKAGE: &str = "@modelcontextprotocol/server-everything@2026.8.31";

fn median(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:8.1} ms   min {:8.1}   max {:8.1}   (n={})",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
        samples.len()
    )
}

async fn handshake(paths: &Paths, command: &str, args: Vec<String>) -> Duration {
    let target =
        Target::Command { command: command.into(), args, env: Default::default(), cwd: None };
    let started = Instant::now();
    let session =
        TesterSession::open(paths, &Env::from_process(), target, &SessionOptions::default())
            .await
            .expect("handshake");
    let took = started.elapsed();
    session.close().await;
    took
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let entry = Catalog::bundled()
        .expect("catalog")
        .find("everything")
        .expect("server-everything in the catalog")
        .server
        .clone();
    runtime.block_on(async {
        // Warm npm's cache (and npx's) once, outside the figures.
        let warm = switchboard_testkit::temp_home();
        let warm_paths = Paths::under(warm.path());
        let installer = Installer::new(&warm_paths, &Env::from_process());
        let request = Request { server: entry.clone(), name: None, way: None, answers: Vec::new() };
        installer.install(request.clone(), &|_| {}).await.expect("warm-up install");
        handshake(&warm_paths, "npx", vec!["-y".into(), PACKAGE.into()]).await;

        let mut installs = Vec::new();
        for _ in 0..RUNS {
            let home = switchboard_testkit::temp_home();
            let paths = Paths::under(home.path());
            let installer = Installer::new(&paths, &Env::from_process());
            let started = Instant::now();
            installer.install(request.clone(), &|_| {}).await.expect("install");
            installs.push(started.elapsed());
        }

        // The installed server, as registered.
        let servers = Registry::new(&warm_paths).load().expect("registry");
        let (name, spec) = servers.iter().next().expect("installed server");
        let Launch::Stdio { command, args, .. } = spec.launch.clone() else { panic!("stdio") };
        let supervisor = Supervisor::new(
            warm_paths.clone(),
            Env::from_process(),
            SupervisorConfig::default(),
            Arc::new(SystemClock),
            EventBus::default(),
        );
        supervisor.sync(&servers).await;
        let mut supervised = Vec::new();
        let mut direct = Vec::new();
        let mut npx = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            supervisor.start(name.as_str()).await.expect("start");
            supervised.push(started.elapsed());
            supervisor.stop(name.as_str()).await.expect("stop");
            direct.push(handshake(&warm_paths, &command, args.clone()).await);
            npx.push(handshake(&warm_paths, "npx", vec!["-y".into(), PACKAGE.into()]).await);
        }
        supervisor.shutdown().await;

        let ratio = |a: &[Duration], b: &[Duration]| {
            let m = |s: &[Duration]| {
                let mut v = s.to_vec();
                v.sort();
                v[v.len() / 2].as_secs_f64()
            };
            m(a) / m(b)
        };
        println!("install → verified (cached npm package)        {}", median(installs));
        println!("start → ready, installed, under the supervisor {}", median(supervised.clone()));
        println!("start → ready, node on its entry point         {}", median(direct.clone()));
        println!("start → ready, npx -y {PACKAGE} {}", median(npx.clone()));
        println!(
            "ratios of medians: npx -y / installed = {:.2}, installed / node direct = {:.2}",
            ratio(&npx, &supervised),
            ratio(&supervised, &direct)
        );
    });
}
