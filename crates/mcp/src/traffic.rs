//! The traffic log: every JSON-RPC message a session sends and receives, with timestamps and, for
//! responses, the latency since their request. Bounded; exportable as JSON lines; read
//! incrementally with [`Traffic::since`].

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    /// Client to server.
    Sent,
    /// Server to client.
    Received,
    /// Something the server wrote that is not a JSON-RPC message (kept verbatim, bounded).
    Invalid,
}

/// One message on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct TrafficEntry {
    /// Position in the session, from 1.
    pub seq: u64,
    pub direction: Direction,
    /// Milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// Milliseconds since the session began.
    pub elapsed_ms: f64,
    /// The request's or notification's method; for a response, the method it answers.
    pub method: Option<String>,
    /// The JSON-RPC id, for requests and responses.
    #[ts(type = "string | number | null")]
    pub id: Option<Value>,
    /// For a response: milliseconds since its request went the other way.
    pub latency_ms: Option<f64>,
    /// True for an error response.
    pub error: bool,
    /// The message (for `Invalid`, a string: the offending text, cut at 4 KiB).
    #[ts(type = "unknown")]
    pub message: Value,
    /// Size of the message as serialised, in bytes.
    pub bytes: usize,
}

/// How many entries a traffic log keeps; older ones are dropped and counted.
pub const DEFAULT_CAPACITY: usize = 10_000;
const INVALID_EXCERPT: usize = 4096;

/// A shared, bounded traffic log. Clones share the same log.
#[derive(Clone)]
pub struct Traffic {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for Traffic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Traffic")
            .field("entries", &inner.entries.len())
            .field("dropped", &inner.dropped)
            .finish()
    }
}

struct Inner {
    /// The sequence number of the newest entry, for whoever shows the log live.
    latest: tokio::sync::watch::Sender<u64>,
    started: Instant,
    next_seq: u64,
    entries: VecDeque<TrafficEntry>,
    capacity: usize,
    dropped: u64,
    /// Requests awaiting a response, by (direction of the request, id): method and when sent.
    pending: HashMap<(bool, String), (String, Instant)>,
}

impl Default for Traffic {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Traffic {
    pub fn with_capacity(capacity: usize) -> Self {
        Traffic {
            inner: Arc::new(Mutex::new(Inner {
                latest: tokio::sync::watch::Sender::new(0),
                started: Instant::now(),
                next_seq: 1,
                entries: VecDeque::new(),
                capacity: capacity.max(1),
                dropped: 0,
                pending: HashMap::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the log inconsistent in a way that matters.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a JSON-RPC message sent (`sent = true`) or received.
    pub fn record(&self, sent: bool, message: Value, bytes: usize) -> TrafficEntry {
        let now = Instant::now();
        let method = message.get("method").and_then(Value::as_str).map(str::to_owned);
        let id = message.get("id").filter(|id| !id.is_null()).cloned();
        let is_response =
            method.is_none() && (message.get("result").is_some() || message.get("error").is_some());
        let error = message.get("error").is_some();
        let mut inner = self.lock();
        let (method, latency_ms) = match (&method, &id) {
            (Some(method), Some(id)) => {
                inner.pending.insert((sent, id.to_string()), (method.clone(), now));
                (Some(method.clone()), None)
            }
            (None, Some(id)) if is_response => {
                // A response travels the other way from its request.
                match inner.pending.remove(&(!sent, id.to_string())) {
                    Some((method, at)) => {
                        (Some(method), Some(now.duration_since(at).as_secs_f64() * 1000.0))
                    }
                    None => (None, None),
                }
            }
            _ => (method, None),
        };
        let direction = if sent { Direction::Sent } else { Direction::Received };
        inner.push(direction, now, method, id, latency_ms, error, message, bytes)
    }

    /// Records a line (or event) from the server that is not a JSON-RPC message.
    pub fn record_invalid(&self, text: &str, why: &str) -> TrafficEntry {
        let mut excerpt: String = text.chars().take(INVALID_EXCERPT).collect();
        if excerpt.len() < text.len() {
            excerpt.push('…');
        }
        let message = serde_json::json!({ "text": excerpt, "problem": why });
        let mut inner = self.lock();
        inner.push(Direction::Invalid, Instant::now(), None, None, None, true, message, text.len())
    }

    /// The entries kept, oldest first.
    pub fn entries(&self) -> Vec<TrafficEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    /// Entries with `seq` greater than `after`.
    pub fn since(&self, after: u64) -> Vec<TrafficEntry> {
        self.lock().entries.iter().filter(|e| e.seq > after).cloned().collect()
    }

    /// The sequence number the next entry will get.
    pub fn next_seq(&self) -> u64 {
        self.lock().next_seq
    }

    /// Changes to the newest entry's sequence number: a live view waits on it instead of asking
    /// again and again. It ends when the log is dropped (the session closed).
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.lock().latest.subscribe()
    }

    /// How many old entries were dropped to stay within capacity.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// The log as JSON lines, one entry per line.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for entry in self.lock().entries.iter() {
            if let Ok(line) = serde_json::to_string(entry) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}

impl Inner {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        direction: Direction,
        now: Instant,
        method: Option<String>,
        id: Option<Value>,
        latency_ms: Option<f64>,
        error: bool,
        message: Value,
        bytes: usize,
    ) -> TrafficEntry {
        let entry = TrafficEntry {
            seq: self.next_seq,
            direction,
            unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            elapsed_ms: now.duration_since(self.started).as_secs_f64() * 1000.0,
            method,
            id,
            latency_ms,
            error,
            message,
            bytes,
        };
        self.next_seq += 1;
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry.clone());
        self.latest.send_replace(entry.seq);
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_watcher_sees_each_new_entry_and_the_end_of_the_log() {
        let traffic = Traffic::with_capacity(4);
        let mut watch = traffic.watch();
        assert_eq!(*watch.borrow(), 0);
        traffic.record(true, json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}), 40);
        watch.changed().await.expect("changed");
        assert_eq!(*watch.borrow_and_update(), 1);
        traffic.record(false, json!({"jsonrpc": "2.0", "id": 1, "result": {}}), 36);
        watch.changed().await.expect("changed");
        assert_eq!(*watch.borrow_and_update(), 2);
        drop(traffic);
        assert!(watch.changed().await.is_err(), "the watch ends with the log");
    }

    #[test]
    fn a_response_carries_its_requests_method_and_latency() {
        let traffic = Traffic::default();
        traffic.record(true, json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}), 40);
        let response = traffic.record(false, json!({"jsonrpc":"2.0","id":1,"result":{}}), 30);
        assert_eq!(response.method.as_deref(), Some("tools/list"));
        assert!(response.latency_ms.is_some_and(|ms| ms >= 0.0));
        assert!(!response.error);
        // A server-to-client request is answered by a client-to-server response.
        traffic.record(false, json!({"jsonrpc":"2.0","id":"s1","method":"ping"}), 30);
        let pong = traffic.record(true, json!({"jsonrpc":"2.0","id":"s1","result":{}}), 30);
        assert_eq!(pong.method.as_deref(), Some("ping"));
    }

    #[test]
    fn capacity_is_enforced_and_drops_are_counted() {
        let traffic = Traffic::with_capacity(3);
        for n in 0..5 {
            traffic.record(true, json!({"jsonrpc":"2.0","method":"notifications/x","n":n}), 10);
        }
        let seqs: Vec<u64> = traffic.entries().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert_eq!(traffic.dropped(), 2);
        assert_eq!(traffic.since(4).len(), 1);
    }

    #[test]
    fn json_lines_round_trip_and_invalid_text_is_bounded() {
        let traffic = Traffic::default();
        traffic.record(true, json!({"jsonrpc":"2.0","id":7,"method":"ping"}), 10);
        let junk = "x".repeat(10_000);
        let invalid = traffic.record_invalid(&junk, "not JSON");
        assert_eq!(invalid.direction, Direction::Invalid);
        assert_eq!(invalid.bytes, 10_000);
        let text = invalid.message["text"].as_str().unwrap_or_default();
        assert!(text.chars().count() <= INVALID_EXCERPT + 1);
        let lines = traffic.to_json_lines();
        let parsed: Vec<TrafficEntry> =
            lines.lines().map(|l| serde_json::from_str(l).expect("entry")).collect();
        assert_eq!(parsed, traffic.entries());
    }
}
