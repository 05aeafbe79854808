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
}
