//! Client transports: stdio (newline-delimited JSON over a child's pipes), Streamable HTTP
//! (rmcp's client), the legacy HTTP+SSE transport (ours), and the tracing wrapper that feeds the
//! traffic log.

pub mod lines;
pub mod sse;
pub mod traced;

pub use lines::{EndReason, LineTransport};
pub use sse::SseTransport;
pub use traced::Traced;

use serde::{Deserialize, Serialize};

/// How a session reaches its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    Stdio,
    StreamableHttp,
    /// The legacy HTTP+SSE transport of 2024-11-05.
    Sse,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::Stdio => "stdio",
            TransportKind::StreamableHttp => "streamable-http",
            TransportKind::Sse => "sse",
        })
    }
}
