//! The closed set of things that happen, on one broadcast channel that the tray, the UI, the
//! control endpoint and the CLI subscribe to. Nothing in the core calls into a UI directly.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::{
    logs::LogLine,
    spec::{ServerName, ServerSpec},
    status::{ProcessStats, ServerState},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    ServerAdded {
        name: ServerName,
        spec: ServerSpec,
    },
    ServerChanged {
        name: ServerName,
        spec: ServerSpec,
    },
    ServerRemoved {
        name: ServerName,
    },
    StateChanged {
        name: ServerName,
        state: ServerState,
        #[ts(type = "number")]
        at_ms: u64,
    },
    Log {
        name: ServerName,
        line: LogLine,
    },
    Stats {
        name: ServerName,
        stats: ProcessStats,
    },
    /// A pinned server was held because its tools changed (`changed: true`), or started again
    /// with approved tools (`false`).
    ToolsChanged {
        name: ServerName,
        changed: bool,
    },
}

impl Event {
    pub fn server(&self) -> &ServerName {
        match self {
            Event::ServerAdded { name, .. }
            | Event::ServerChanged { name, .. }
            | Event::ServerRemoved { name }
            | Event::StateChanged { name, .. }
            | Event::Log { name, .. }
            | Event::Stats { name, .. }
            | Event::ToolsChanged { name, .. } => name,
        }
    }
}

/// A cheap-to-clone sender. Slow subscribers miss old events (they see `Lagged`) rather than
/// making the supervisor wait or grow memory.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(4096)
    }
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        EventBus { sender: broadcast::channel(capacity).0 }
    }

    pub fn send(&self, event: Event) {
        // No subscribers is fine: nobody is watching.
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
