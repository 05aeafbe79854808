//! What the gateway needs from the process that owns the servers: which servers hosts may reach,
//! and the one running MCP session of each. The gateway never spawns a server; the owner's
//! supervisor does, and implements [`Upstreams`] over its running servers.

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard_mcp::{Session, rmcp::model::Tool};

/// A lazy server that is not running: listed to hosts all the same, its tools from its pinned
/// list, and started by the first request that needs it.
#[derive(Debug, Clone, Default)]
pub struct Resting {
    /// The approved tools, when it has a pin; `None`: listing them means starting it.
    pub tools: Option<Vec<Tool>>,
}

/// Why a server cannot take a request now; its text goes to the host as the error's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("no server named {0} in Switchboard")]
    Unknown(String),
    #[error("{0} is stopped in Switchboard; start it there to use it")]
    Stopped(String),
    #[error("{0}")]
    Failed(String),
}

/// The servers behind the gateway.
pub trait Upstreams: Send + Sync + 'static {
    /// The servers hosts may see, in name order: enabled ones that run or are idle (lazy); a
    /// held or stopped server is not listed.
    fn servers(&self) -> Vec<String>;

    /// `Some` when `server` is lazy and not running (reading its pins may touch the disk).
    fn resting(&self, server: &str) -> BoxFuture<'_, Option<Resting>>;

    /// Whether `server` is registered at all (listed or not).
    fn knows(&self, server: &str) -> bool;

    /// The session of `server` if it is running now (nothing is started).
    fn running(&self, server: &str) -> Option<Arc<Session>>;

    /// The running session of `server`: started first when it is lazy and not running yet.
    fn session(&self, server: &str) -> BoxFuture<'_, Result<Arc<Session>, Unavailable>>;

    /// Whether `server` cannot be shared: each host session gets a process of its own.
    fn per_session(&self, server: &str) -> bool;

    /// A process of `server`'s own for one host session (a per-session server that hosts may
    /// reach now); dropping it stops the process.
    fn instance(&self, server: &str) -> BoxFuture<'_, Result<Dedicated, Unavailable>>;
}

/// One host session's own process of a per-session server: its session, and what keeps the
/// process alive (dropping it stops the process).
pub struct Dedicated {
    pub session: Arc<Session>,
    pub keep: Box<dyn std::any::Any + Send>,
}
