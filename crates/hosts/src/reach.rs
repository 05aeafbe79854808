//! What connecting a host to the gateway chooses between (`connect`), and what each host
//! does with a change (`host/`). Sources and reasons per host: `docs/hosts.md`.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The one entry of a host connected in aggregate mode.
pub const AGGREGATE_ENTRY: &str = "switchboard";

/// How a host's servers appear through the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// One `switchboard` entry: every server the host may see, under unique names.
    Aggregate,
    /// One entry per server, each reaching `/mcp/<server>`.
    PerServer,
}

impl std::str::FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "aggregate" => Ok(Mode::Aggregate),
            "per-server" => Ok(Mode::PerServer),
            other => Err(Error::UnknownMode(other.to_owned())),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Aggregate => "aggregate",
            Mode::PerServer => "per-server",
        })
    }
}

/// How a host's entries reach the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Reach {
    /// The gateway's URL, with the host's token in an `Authorization` header.
    Url,
    /// `<switchboard> connect --host HOST [--server NAME]`: no secret in the file.
    Command,
}

/// What it takes for a host to see an entry added to its file (`docs/hosts.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Pickup {
    /// It watches the file.
    Live,
    /// A refresh (or start) in its own settings.
    Refresh,
    /// A restart, or a new session.
    Restart,
}
