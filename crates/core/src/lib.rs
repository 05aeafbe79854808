//! Switchboard's headless foundation: what a server is (`spec`), the registry of installed
//! servers, where files live (`paths`, `settings`), secrets, the clock, atomic file writes and
//! locks, digests, log lines, and how a command is found and spawned (`process`).
//!
//! No Tauri, no UI, no network: directories and the clock are passed in, so the app, the CLI and
//! the tests all drive the same code. Everything else in Switchboard builds on this crate; it
//! depends on no other Switchboard crate but `switchboard-mcp`.

pub mod clock;
pub mod digest;
pub mod env;
mod error;
pub mod fsutil;
pub mod logs;
pub mod owner_only;
pub mod paths;
pub mod process;
pub mod registry;
pub mod secrets;
pub mod settings;
pub mod spec;

pub use env::Env;
pub use error::{Error, ErrorCode, Result, WireError};
pub use paths::Paths;
pub use registry::{Registry, Servers};
pub use spec::{Launch, RemoteTransport, RestartPolicy, ServerName, ServerSpec};
pub use switchboard_mcp as mcp;
