//! MCP plumbing on the official Rust SDK (`rmcp`): connect to a server over any transport
//! (stdio, Streamable HTTP, legacy HTTP+SSE), negotiate whichever protocol revision it speaks,
//! and drive it as a client with a full traffic log; export its tools for LLM function calling.
//!
//! This crate knows nothing about Switchboard's registry or supervisor; `switchboard-core` uses it
//! to decide when a server is ready and to run tester sessions.

pub mod args;
pub mod asks;
pub mod bridge;
mod connect;
mod error;
pub mod export;
mod negotiate;
pub mod notices;
pub mod session;
pub mod traffic;
pub mod transport;

pub use asks::ClientRequests;
pub use connect::connect;
pub use error::Error;
pub use negotiate::{ConnectOptions, Negotiated, ProtocolChoice};
pub use notices::Notice;
pub use rmcp;
pub use session::{
    CallOutcome, HttpTransport, Listing, ProgressUpdate, ServerDetails, ServerLogMessage, Session,
    SessionOptions, StructuredCheck,
};
pub use traffic::{Direction, Traffic, TrafficEntry};
pub use transport::TransportKind;

/// Every protocol revision this crate can speak, oldest first.
pub const REVISIONS: &[&str] =
    &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];
