//! The gateway: the one place AI hosts reach the servers Switchboard runs. It lives in the
//! process that owns the servers, listens on loopback Streamable HTTP (`/mcp/<server>` for one
//! server under its own names, `/mcp` for all of them under unique names), checks each request's
//! host token, `Host` and `Origin`, and forwards it through the one running MCP session of each
//! server, which the supervisor owns and shares with every host. It never spawns a server.
//!
//! Hosts that only run commands reach it through `switchboard connect`, a stdio bridge that
//! reads its token itself, so no host file carries a secret.

mod eras;
mod error;
mod handler;
mod http;
mod relay;
mod stats;
mod subscriptions;
mod timeouts;
mod upstream;

pub mod audit;
pub mod names;
pub mod tokens;

pub use error::{Error, Result};
pub use handler::Caller;
pub use http::{Activity, Changes, Gateway, GatewayConfig, MAX_BODY_BYTES, Status, url};
pub use stats::{Quiet, ServerTraffic, SessionInfo};
pub use timeouts::Timeouts;
pub use tokens::{TokenInfo, Tokens};
pub use upstream::{Dedicated, Resting, Unavailable, Upstreams};
