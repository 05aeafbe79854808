//! Verifying a fetched server before anything is registered: start it, handshake, list its
//! tools, stop it, as a session that declares what the supervisor's will.

use super::*;

impl Installer {
    /// Starts the server, handshakes and lists its tools, then stops it.
    pub(super) async fn verify(&self, launch: &Launch) -> Result<Verified> {
        let target = match launch.clone() {
            Launch::Stdio { command, args, env, cwd } => {
                Target::Command { command, args, env, cwd }
            }
            Launch::Remote { url, transport, headers } => Target::Url {
                url,
                transport: Some(match transport {
                    RemoteTransport::StreamableHttp => {
                        switchboard_mcp::HttpTransport::StreamableHttp
                    }
                    RemoteTransport::Sse => switchboard_mcp::HttpTransport::Sse,
                }),
                headers,
            },
        };
        let mut options = SessionOptions {
            request_timeout: self.verify_timeout,
            // Declared as the supervisor's session will declare it: some servers list more
            // tools to a client that can sample or elicit, and the pins taken here must be the
            // tools the supervised server will list.
            relay_client_requests: true,
            ..SessionOptions::default()
        };
        options.connect.timeout = self.verify_timeout;
        let failed = |e: switchboard_runtime::Error| {
            Error::Failed(format!("verification failed: {e}. Nothing was installed"))
        };
        let session =
            TesterSession::open(&self.paths, &self.env, target, &options).await.map_err(failed)?;
        let listed = session.session().list_tools().await;
        let result = match listed {
            Ok(listing) => {
                let values: Vec<serde_json::Value> =
                    listing.items.iter().filter_map(|t| serde_json::to_value(t).ok()).collect();
                let pins = pins_of(&values);
                let tools = pins
                    .iter()
                    .map(|p| ToolSummary {
                        name: p.name.clone(),
                        description: p.description().to_owned(),
                    })
                    .collect();
                let protocol = session.session().details().negotiated.protocol_version.clone();
                Ok(Verified { pins, tools, protocol })
            }
            Err(e) => Err(failed(session.error(e).await)),
        };
        session.close().await;
        result
    }
}

pub(super) struct Verified {
    pub pins: Vec<ToolPin>,
    pub tools: Vec<ToolSummary>,
    pub protocol: String,
}
