//! What a connection negotiates: which protocol revision to speak (`server/discover` for
//! 2026-07-28 servers, `initialize` for the stateful revisions), the options a handshake takes,
//! and what it settled.

use std::time::Duration;

use rmcp::{ClientLifecycleMode, model::ProtocolVersion};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Which protocol revision to speak.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProtocolChoice {
    /// Probe with `server/discover`; fall back to `initialize` when the server is a legacy one.
    #[default]
    Auto,
    /// Speak exactly this revision (one of [`crate::REVISIONS`]).
    Force(String),
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Deadline for the whole handshake.
    pub timeout: Duration,
    pub protocol: ProtocolChoice,
    /// The name and version we introduce ourselves with.
    pub client_name: String,
    pub client_version: String,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            protocol: ProtocolChoice::Auto,
            client_name: "switchboard".to_owned(),
            client_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// What the handshake settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Negotiated {
    pub protocol_version: String,
    /// True for the stateless era (2026-07-28 and later): no `initialize`, per-request `_meta`.
    pub stateless: bool,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub instructions: Option<String>,
}

pub(crate) fn known_revision(version: &str) -> Result<ProtocolVersion, Error> {
    [
        ProtocolVersion::V_2024_11_05,
        ProtocolVersion::V_2025_03_26,
        ProtocolVersion::V_2025_06_18,
        ProtocolVersion::V_2025_11_25,
        ProtocolVersion::V_2026_07_28,
    ]
    .into_iter()
    .find(|known| known.as_str() == version)
    .ok_or_else(|| Error::UnknownRevision(version.to_owned()))
}

pub(crate) fn lifecycle_for(choice: &ProtocolChoice) -> Result<ClientLifecycleMode, Error> {
    Ok(match choice {
        ProtocolChoice::Auto => ClientLifecycleMode::Auto {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            legacy_version: Some(ProtocolVersion::V_2025_11_25),
        },
        ProtocolChoice::Force(version) => {
            let version = known_revision(version)?;
            if version.has_initialize() {
                ClientLifecycleMode::Initialize
            } else {
                ClientLifecycleMode::Discover { preferred_versions: vec![version] }
            }
        }
    })
}
