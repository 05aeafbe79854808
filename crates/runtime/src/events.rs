//! The closed set of things that happen, on one broadcast channel that the tray, the UI, the
//! control endpoint and the CLI subscribe to. Nothing in the core calls into a UI directly.

use serde::{Deserialize, Serialize};
use switchboard_hosts::DriftReport;
use tokio::sync::broadcast;

use switchboard_core::{
    logs::LogLine,
    spec::{ServerName, ServerSpec},
};

use crate::status::{ProcessStats, ServerState};

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
    /// Switchboard's entries in a host's config file were changed or removed by someone else
    /// (and, with auto re-apply on, written back).
    HostDrift {
        report: DriftReport,
    },
    /// One step of an install, update or uninstall.
    InstallProgress {
        progress: InstallProgress,
    },
    /// Who reaches the servers through the gateway changed: every server's connected hosts and
    /// call counts (sent when they change, at most about once a second).
    Traffic {
        servers: Vec<HostTraffic>,
    },
}

/// One server as hosts reach it through the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HostTraffic {
    pub name: String,
    /// The hosts connected to it now (or that called it in the last few minutes), by name.
    pub hosts: Vec<String>,
    #[ts(type = "number")]
    pub calls: u64,
    #[ts(type = "number")]
    pub errors: u64,
    /// A per-session server's processes, one per host session using it now.
    #[serde(default)]
    pub instances: u32,
}

/// One step of an install, for the progress bar and the CLI's progress line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct InstallProgress {
    /// 1-based.
    pub step: usize,
    pub total: usize,
    pub label: String,
    /// The latest line of output of the step's command, if any.
    #[ts(optional)]
    pub detail: Option<String>,
}

impl Event {
    /// The server the event is about; host drift, install progress and traffic are about none.
    pub fn server(&self) -> Option<&ServerName> {
        Some(match self {
            Event::ServerAdded { name, .. }
            | Event::ServerChanged { name, .. }
            | Event::ServerRemoved { name }
            | Event::StateChanged { name, .. }
            | Event::Log { name, .. }
            | Event::Stats { name, .. }
            | Event::ToolsChanged { name, .. } => name,
            Event::HostDrift { .. } | Event::InstallProgress { .. } | Event::Traffic { .. } => {
                return None;
            }
        })
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
