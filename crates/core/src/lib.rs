//! Switchboard's headless core: the registry of installed servers, the supervisor that runs them,
//! the events it reports, and the owner process with its control endpoint.
//!
//! No Tauri, no UI: directories and the clock are passed in, so the app, `switchboard serve`, the
//! CLI and the tests all drive the same code. AI hosts' config files are `switchboard-hosts`, a
//! crate above this one.

pub mod api;
pub mod catalog;
pub mod clock;
pub mod control;
pub mod digest;
mod error;
pub mod events;
pub mod fsutil;
pub mod install;
pub mod knowledge_base;
pub mod logs;
pub mod owner;
pub mod paths;
pub mod pins;
pub mod process;
pub mod registry;
pub mod secrets;
pub mod settings;
pub mod spec;
pub mod status;
pub mod supervisor;
pub mod tester;

pub use error::{Error, Result, WireError};
pub use events::{Event, EventBus};
pub use owner::{Owner, OwnerInfo};
pub use paths::Paths;
pub use registry::{Registry, Servers};
pub use spec::{Launch, RemoteTransport, RestartPolicy, ServerName, ServerSpec};
pub use supervisor::{ServerState, ServerStatus, Supervisor, SupervisorConfig};
pub use switchboard_mcp as mcp;
