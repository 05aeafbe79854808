//! What runs: the supervisor that keeps each server's one process alive (restarts, backoff, logs,
//! CPU/RAM, no orphans), the events it reports, the owner process with its control endpoint on
//! 127.0.0.1, tester sessions that talk MCP to a server by hand, and tool pins.
//!
//! Above `switchboard-core` (what a server is) and `switchboard-hosts` (whose drift reports travel
//! on the same event stream); below the installer and the API. Nothing here knows Tauri.

pub mod control;
mod error;
pub mod events;
pub mod flags;
pub mod owner;
pub mod pins;
pub mod status;
pub mod supervisor;
pub mod tester;

pub use error::{Error, Result};
pub use events::{Event, EventBus, HostTraffic};
pub use owner::{Owner, OwnerInfo};
pub use supervisor::{ServerState, ServerStatus, Supervisor, SupervisorConfig};
