//! MCP plumbing on the official Rust SDK (`rmcp`): connect to a server over any byte stream and
//! negotiate whichever protocol revision it speaks.
//!
//! This crate knows nothing about Switchboard's registry or supervisor; `switchboard-core` uses it
//! to decide when a server is ready, and later the tester and gateway build on it.

mod connect;
mod error;

pub use connect::{ConnectOptions, Connection, Negotiated, ProtocolChoice, connect};
pub use error::Error;
pub use rmcp;

/// Every protocol revision this crate can speak, oldest first.
pub const REVISIONS: &[&str] =
    &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];
