//! Connecting to a server: the lifecycle handshake (`server/discover` for 2026-07-28 servers,
//! falling back to `initialize` for the stateful revisions) over any `AsyncRead`/`AsyncWrite` pair.

use std::time::Duration;

use rmcp::{ClientLifecycleMode, model::ProtocolVersion};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::{Error, Session, SessionOptions};

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

/// Performs the handshake over `reader`/`writer` (for stdio: the server's stdout and stdin) and
/// returns the live session. The supervisor's readiness check; a small traffic log is kept.
pub async fn connect<R, W>(reader: R, writer: W, options: &ConnectOptions) -> Result<Session, Error>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let options = SessionOptions {
        connect: options.clone(),
        // A supervised server lives long; only its most recent messages are worth keeping.
        traffic_capacity: 64,
        ..SessionOptions::default()
    };
    Session::stdio(reader, writer, &options).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::{
        ServerHandler, ServiceExt,
        model::{Implementation, ServerCapabilities},
    };

    #[derive(Clone)]
    struct Named;
    impl ServerHandler for Named {
        fn get_info(&self) -> rmcp::model::ServerConfig {
            rmcp::model::ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
                .with_server_info(Implementation::new("named", "9.9.9"))
        }
    }

    async fn pair(choice: ProtocolChoice) -> Result<Session, Error> {
        let (client_side, server_side) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            if let Ok(running) = Named.serve(server_side).await {
                let _ = running.waiting().await;
            }
        });
        let (read, write) = tokio::io::split(client_side);
        connect(read, write, &ConnectOptions { protocol: choice, ..Default::default() }).await
    }

    #[tokio::test]
    async fn auto_negotiates_the_stateless_revision_with_an_rmcp_server() {
        let connection = pair(ProtocolChoice::Auto).await.expect("connects");
        let negotiated = &connection.details().negotiated;
        assert_eq!(negotiated.protocol_version, "2026-07-28");
        assert!(negotiated.stateless);
        assert_eq!(negotiated.server_name.as_deref(), Some("named"));
        assert_eq!(negotiated.server_version.as_deref(), Some("9.9.9"));
    }

    #[tokio::test]
    async fn forcing_a_stateful_revision_uses_initialize() {
        let connection = pair(ProtocolChoice::Force("2025-06-18".into())).await.expect("connects");
        assert_eq!(connection.details().negotiated.protocol_version, "2025-06-18");
        assert!(!connection.details().negotiated.stateless);
    }

    #[tokio::test]
    async fn unknown_revision_is_refused_before_anything_is_sent() {
        let error = pair(ProtocolChoice::Force("2023-01-01".into())).await.expect_err("refused");
        assert!(matches!(error, Error::UnknownRevision(_)), "{error}");
    }

    #[tokio::test]
    async fn a_silent_peer_times_out() {
        let (client_side, _server_side) = tokio::io::duplex(1024);
        let (read, write) = tokio::io::split(client_side);
        let options = ConnectOptions { timeout: Duration::from_millis(200), ..Default::default() };
        let error = connect(read, write, &options).await.expect_err("times out");
        assert!(matches!(error, Error::Timeout(_)), "{error}");
    }

    #[tokio::test]
    async fn a_peer_that_closes_fails_the_handshake_with_a_reason() {
        let (client_side, server_side) = tokio::io::duplex(1024);
        drop(server_side);
        let (read, write) = tokio::io::split(client_side);
        let error = connect(read, write, &ConnectOptions::default()).await.expect_err("fails");
        assert!(matches!(error, Error::Handshake(_)), "{error}");
    }
}
