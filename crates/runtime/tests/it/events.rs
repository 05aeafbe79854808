//! The event stream under load (#19): 1,000 state changes a second for 60 s through the owner's
//! real control endpoint. A reader that keeps up gets every one, in order; a reader that stops
//! reading is dropped with a notice instead of slowing the owner or growing its memory; the
//! owner answers other requests meanwhile.

use std::time::{Duration, Instant};

use futures::StreamExt;
use switchboard_core::{Paths, ServerName};
use switchboard_runtime::{Event, Owner, ServerState, control::ControlClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::fast_config;

const PER_SECOND: u64 = 1_000;
const SECONDS: u64 = 60;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_state_changes_a_second_reach_readers_in_order_and_a_slow_reader_is_dropped() {
    let home = switchboard_testkit::temp_home();
    let paths = Paths::under(home.path());
    paths.ensure().expect("state folders");
    let owner = Owner::start(paths.clone(), fast_config(), "serve").await.expect("owner");
    let client = ControlClient::connect(&paths).expect("control client");

    // The slow reader: asks for the stream with a tiny receive window, then reads nothing.
    let info = owner.info().clone();
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut slow = socket.connect(([127, 0, 0, 1], info.port).into()).await.expect("connect");
    slow.write_all(
        format!(
            "GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\n\
             Connection: close\r\n\r\n",
            info.port, info.token
        )
        .as_bytes(),
    )
    .await
    .expect("ask");

    // The reader that keeps up, through the same client `switchboard events` uses.
    let follower = ControlClient::connect(&paths).expect("control client");
    let (subscribed, is_subscribed) = tokio::sync::oneshot::channel();
    let reader = tokio::spawn(async move {
        let mut stream = Box::pin(follower.events().await.expect("events"));
        let _ = subscribed.send(());
        let (mut next, mut out_of_order) = (0u64, Vec::new());
        while let Some(line) = stream.next().await {
            let line = line.expect("line");
            let event: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
            if event["event"] != "state_changed" || event["name"] != "flood" {
                continue;
            }
            let at = event["at_ms"].as_u64().expect("at_ms");
            if at != next && out_of_order.len() < 10 {
                out_of_order.push(format!("expected {next}, got {at}"));
            }
            next = at + 1;
            if next == PER_SECOND * SECONDS {
                break;
            }
        }
        (next, out_of_order)
    });
    is_subscribed.await.expect("subscribed");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let rss_before = rss_kib();
    let name: ServerName = "flood".parse().expect("name");
    let bus = owner.supervisor().events().clone();
    let started = Instant::now();
    let mut status_latency = Duration::ZERO;
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    for batch in 0..(PER_SECOND * SECONDS / 10) {
        ticker.tick().await;
        for i in 0..10 {
            bus.send(Event::StateChanged {
                name: name.clone(),
                state: ServerState::Stopped,
                at_ms: batch * 10 + i,
            });
        }
        if batch % 500 == 0 {
            // The owner answers other requests meanwhile.
            let asked = Instant::now();
            client.status().await.expect("status during the flood");
            status_latency = status_latency.max(asked.elapsed());
        }
    }
    let published_in = started.elapsed();
    let (received, out_of_order) = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the reader that keeps up got everything")
        .expect("reader task");
    let rss_after = rss_kib();

    // Only now does the slow reader read: what it got ends with the notice, and then the stream.
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut got)).await;
    let got = String::from_utf8_lossy(&got);
    let notice = got.lines().find(|l| l.contains("\"event\":\"dropped\"")).unwrap_or_default();

    eprintln!(
        "events: {} state changes published in {:.1} s; the reader that kept up got {received} \
         in order; the slow reader got {} bytes then {notice}; slowest status answer during the \
         flood {} ms; process RSS {rss_before} -> {rss_after} KiB",
        PER_SECOND * SECONDS,
        published_in.as_secs_f64(),
        got.len(),
        status_latency.as_millis()
    );
    assert!(out_of_order.is_empty(), "out of order: {out_of_order:?}");
    assert_eq!(received, PER_SECOND * SECONDS);
    assert!(notice.contains("\"missed\":"), "no drop notice; the slow reader got: {got:.2000}");
    // Nothing but the chunked body's framing follows it.
    let after = &got[got.find(notice).unwrap_or(0) + notice.len()..];
    assert!(!after.contains("\"event\""), "events after the notice: {after:.500}");
    // What the bus and the slow reader's buffers hold is bounded (4,096 events of ~100 bytes and
    // a few socket buffers); 60,000 events kept anywhere would show.
    assert!(
        rss_after.saturating_sub(rss_before) < 32 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
    owner.shutdown().await;
}
