//! The stdio transport (newline-delimited JSON-RPC from a server): any bytes, delivered in any
//! chunking, give exactly the messages and invalid-line records a line-by-line reading predicts;
//! a line over the size limit closes the transport with a reason instead of being buffered; the
//! traffic log stays bounded and round-trips through its JSON lines.
//!
//! Input: byte 0 sets the limit (1 to 4081 bytes), byte 1 the read chunk sizes, the rest is what
//! the server wrote.
#![no_main]

use std::{
    pin::Pin,
    sync::OnceLock,
    task::{Context, Poll},
};

use serde_json::Value;
use switchboard_mcp::{
    Direction, Traffic, TrafficEntry,
    rmcp::{RoleClient, service::RxJsonRpcMessage, transport::Transport},
    transport::LineTransport,
};
use tokio::io::{AsyncRead, ReadBuf};

/// A reader that hands out `data` in chunks of the given sizes, in turn.
struct Chunked {
    data: Vec<u8>,
    at: usize,
    sizes: [usize; 3],
    turn: usize,
}

impl AsyncRead for Chunked {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let size = this.sizes[this.turn % this.sizes.len()];
        this.turn += 1;
        let n = size.min(buf.remaining()).min(this.data.len() - this.at);
        buf.put_slice(&this.data[this.at..this.at + n]);
        this.at += n;
        Poll::Ready(Ok(()))
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    })
}

/// What a line-by-line reading of `stream` predicts: the messages, how many invalid lines are
/// recorded, and whether an over-long line ends the transport.
fn predict(stream: &[u8], max: usize) -> (Vec<Value>, usize, bool) {
    let mut messages = Vec::new();
    let mut invalid = 0;
    let mut rest = stream;
    while let Some(at) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..at];
        rest = &rest[at + 1..];
        if line.len() > max {
            return (messages, invalid + 1, true);
        }
        let text = line.strip_suffix(b"\r").unwrap_or(line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<RxJsonRpcMessage<RoleClient>>(text) {
            Ok(message) => messages.push(to_value(&message)),
            Err(_) => invalid += 1,
        }
    }
    // A last line without its line break is never delivered: the server ended mid-message.
    (messages, invalid, false)
}

fn to_value(message: &RxJsonRpcMessage<RoleClient>) -> Value {
    match serde_json::to_value(message) {
        Ok(v) => v,
        Err(e) => panic!("a parsed message does not serialise: {e}"),
    }
}

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let max = 1 + usize::from(data[0]) * 16;
    let sizes = [1 + usize::from(data[1] & 0x0f) * 7, 1 + usize::from(data[1] >> 4) * 61, 1 << 16];
    let stream = data[2..].to_vec();
    let (expected, expected_invalid, expected_overflow) = predict(&stream, max);

    let traffic = Traffic::with_capacity(64);
    let reader = Chunked { data: stream, at: 0, sizes, turn: 0 };
    let mut transport = LineTransport::new(reader, tokio::io::sink(), max, traffic.clone());
    let end = transport.end_reason();
    let received: Vec<Value> = runtime().block_on(async {
        let mut out = Vec::new();
        while let Some(message) = transport.receive().await {
            let value = to_value(&message);
            // As the traced transport does with every message it reads.
            let bytes = serde_json::to_vec(&message).map_or(0, |b| b.len());
            traffic.record(false, value.clone(), bytes);
            out.push(value);
        }
        out
    });

    assert_eq!(received, expected, "the messages differ from a line-by-line reading");
    let entries = traffic.entries();
    let invalid: Vec<&TrafficEntry> =
        entries.iter().filter(|e| e.direction == Direction::Invalid).collect();
    if traffic.dropped() == 0 {
        assert_eq!(invalid.len(), expected_invalid, "invalid lines recorded");
    }
    assert_eq!(end.get().is_some(), expected_overflow, "end reason: {:?}", end.get());
    for entry in &invalid {
        let text = entry.message["text"].as_str().unwrap_or_default();
        assert!(text.chars().count() <= 4097, "an invalid line was kept whole");
    }
    assert!(entries.len() <= 64, "the traffic log grew past its capacity");
    let lines = traffic.to_json_lines();
    let parsed: Vec<TrafficEntry> = lines
        .lines()
        .map(|l| match serde_json::from_str(l) {
            Ok(e) => e,
            Err(e) => panic!("a traffic line does not parse back: {e}\n{l}"),
        })
        .collect();
    assert_eq!(parsed, entries, "the traffic log's JSON lines do not round-trip");
});
