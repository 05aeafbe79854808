//! The crate's error type.

use std::time::Duration;

/// Why talking to an MCP server failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server said nothing usable before the deadline.
    #[error("no MCP handshake within {} s", .0.as_secs_f32())]
    Timeout(Duration),
    /// The handshake itself failed: the transport closed, or the server answered with an error.
    #[error("MCP handshake failed: {0}")]
    Handshake(String),
    /// The caller asked for a revision this crate does not know.
    #[error("unknown MCP protocol revision {0:?} (known: {known})", known = crate::REVISIONS.join(", "))]
    UnknownRevision(String),
    /// The server could not be reached over HTTP, or the URL or headers were invalid.
    #[error("{0}")]
    Transport(String),
    /// A request got no answer before its deadline (a `notifications/cancelled` was sent).
    #[error("{method}: no answer within {} s{note}", .after.as_secs_f32())]
    RequestTimeout { method: String, after: Duration, note: String },
    /// The server answered with a JSON-RPC error.
    #[error("{method}: the server answered error {code}: {message}")]
    Server { method: String, code: i32, message: String, data: Option<serde_json::Value> },
    /// The connection ended while a request was in flight.
    #[error("{method}: {reason}")]
    Closed { method: String, reason: String },
    /// The caller cancelled the request (a `notifications/cancelled` was sent).
    #[error("{method}: cancelled")]
    Cancelled { method: String },
    /// The server broke the protocol in a way worth naming.
    #[error("{method}: {message}")]
    Protocol { method: String, message: String },
}
