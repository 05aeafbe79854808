//! The knowledge base's integration tests: real folders and files, real index directories, the
//! real `switchboard-kb` binary spoken to over stdio and HTTP by our MCP client.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test whose set-up fails should stop loudly

mod engine;
mod formats;
mod mcp;
mod semantic;
mod support;
