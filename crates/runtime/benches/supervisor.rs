//! How long from a server's crash to its restart being started (`cargo bench -p
//! switchboard-runtime`). The fixture writes the time just before it exits; we take the time when
//! the supervisor announces the new start. Backoff is set to zero so the figure is the
//! supervisor's own latency (exit detection, group cleanup, decision, respawn), not the policy's
//! delay.

#![allow(clippy::expect_used)] // a benchmark whose set-up fails should stop loudly

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_core::{Env, Paths, RestartPolicy, ServerSpec, Servers, clock::SystemClock};
use switchboard_runtime::{
    Event, EventBus, ServerState, Supervisor, SupervisorConfig,
    supervisor::{Backoff, CrashLoop},
};

fn exit_to_restart(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let home = switchboard_testkit::temp_home();
    let stamp = home.path().join("exit-stamp");
    let config = SupervisorConfig {
        backoff: Backoff {
            initial: Duration::ZERO,
            max: Duration::ZERO,
            reset_after: Duration::from_secs(3600),
        },
        crash_loop: CrashLoop { max_exits: u32::MAX, window: Duration::from_secs(1) },
        ..SupervisorConfig::default()
    };
    let paths = Paths::under(home.path());
    paths.ensure().expect("paths");
    let fixture = switchboard_testkit::fixture().display().to_string();
    let mut spec = ServerSpec::stdio(
        fixture,
        ["crash-after", "--after-ms", "5", "--stamp"]
            .into_iter()
            .map(String::from)
            .chain([stamp.display().to_string()])
            .collect(),
    );
    spec.restart = RestartPolicy::Always;

    let (supervisor, mut events) = runtime.block_on(async {
        let supervisor = Supervisor::new(
            paths,
            Env::from_process(),
            config,
            Arc::new(SystemClock),
            EventBus::new(1 << 16),
        );
        let events = supervisor.subscribe();
        supervisor.sync(&Servers::from([("crashy".parse().expect("name"), spec)])).await;
        supervisor.start("crashy").await.expect("first start");
        (supervisor, events)
    });

    let mut group = c.benchmark_group("supervisor");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("exit_to_restart_started", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                let mut measured = 0;
                while measured < iters {
                    let Ok(event) = events.recv().await else { continue };
                    let Event::StateChanged { state: ServerState::Starting { attempt }, .. } =
                        event
                    else {
                        continue;
                    };
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
                    if attempt == 1 {
                        continue; // an explicit start, not a restart
                    }
                    let exited: u128 = std::fs::read_to_string(&stamp)
                        .ok()
                        .and_then(|s| s.trim().parse().ok())
                        .expect("exit stamp");
                    total += Duration::from_nanos((now.as_nanos().saturating_sub(exited)) as u64);
                    measured += 1;
                }
                total
            })
        });
    });
    group.finish();
    runtime.block_on(supervisor.shutdown());
}

criterion_group!(benches, exit_to_restart);
criterion_main!(benches);
