//! Connecting to a server: the lifecycle handshake (`server/discover` for 2026-07-28 servers,
//! falling back to `initialize` for the stateful revisions) over any `AsyncRead`/`AsyncWrite` pair.

use tokio::io::{AsyncRead, AsyncWrite};

use crate::{ConnectOptions, Error, Session, SessionOptions};

/// Performs the handshake over `reader`/`writer` (for stdio: the server's stdout and stdin) and
/// returns the live session. The supervisor's readiness check; a small traffic log is kept.
pub async fn connect<R, W>(reader: R, writer: W, options: &ConnectOptions) -> Result<Session, Error>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let options = SessionOptions {
        connect: options.clone(),
        // A supervised server lives long and every host's calls to it go through this session:
        // its traffic log keeps only what it wrote that is not MCP (named in errors). Each
        // call is in the gateway's audit log instead.
        traffic_capacity: 64,
        record_messages: false,
        // Hosts reach it through the gateway, which answers its sampling, elicitation and roots
        // requests by asking the host whose call is in flight.
        relay_client_requests: true,
        // Hosts are told when its lists change, whichever revision it speaks.
        follow_list_changes: true,
        ..SessionOptions::default()
    };
    Session::stdio(reader, writer, &options).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::ProtocolChoice;
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
    async fn a_supervised_session_keeps_what_is_not_mcp_and_no_messages() {
        let (client_side, mut server_side) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = server_side.write_all(b"starting up, not MCP\n").await;
            if let Ok(running) = Named.serve(server_side).await {
                let _ = running.waiting().await;
            }
        });
        let (read, write) = tokio::io::split(client_side);
        let session = connect(read, write, &ConnectOptions::default()).await.expect("connects");
        session.list_tools().await.expect("tools");
        let entries = session.traffic().since(0);
        assert!(
            entries.iter().any(|e| e.direction == crate::Direction::Invalid
                && e.message["text"].as_str().is_some_and(|m| m.contains("not MCP"))),
            "{entries:?}"
        );
        assert!(entries.iter().all(|e| e.direction == crate::Direction::Invalid), "{entries:?}");
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
