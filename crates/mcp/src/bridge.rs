//! A stdio-to-HTTP bridge: a host that can only run local commands (Claude Desktop) runs us, and
//! every JSON-RPC message on our stdin goes to a remote server over Streamable HTTP (or the
//! legacy HTTP+SSE transport), and every message from the server comes back on our stdout. Both
//! ends are rmcp transports; nothing is parsed beyond what they parse.

use std::time::Duration;

use rmcp::{
    RoleClient, RoleServer,
    transport::{
        StreamableHttpClientTransport, Transport, async_rw::AsyncRwTransport,
        streamable_http_client::StreamableHttpClientTransportConfig,
    },
};

use crate::{
    Error,
    traffic::Traffic,
    transport::{EndReason, SseTransport},
};

/// The largest message accepted from the server (as in the tester).
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Forwards stdin/stdout to `url` until either side ends.
pub async fn stdio_to_http(
    url: &str,
    headers: reqwest::header::HeaderMap,
    sse: bool,
) -> Result<(), Error> {
    let local: AsyncRwTransport<RoleServer, _, _> =
        AsyncRwTransport::new_server(tokio::io::stdin(), tokio::io::stdout());
    if sse {
        let remote = SseTransport::connect(
            url,
            headers,
            MAX_MESSAGE_BYTES,
            Duration::from_secs(30),
            Traffic::with_capacity(0),
            EndReason::default(),
        )
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
        pump(local, remote).await
    } else {
        let config = StreamableHttpClientTransportConfig::with_uri(url)
            .custom_headers(headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .max_sse_event_size(MAX_MESSAGE_BYTES);
        pump(local, StreamableHttpClientTransport::from_config(config)).await
    }
}

async fn pump<L, R>(mut local: L, mut remote: R) -> Result<(), Error>
where
    L: Transport<RoleServer>,
    R: Transport<RoleClient>,
{
    let result = loop {
        tokio::select! {
            from_host = local.receive() => match from_host {
                Some(message) => {
                    let id = match &message {
                        rmcp::model::JsonRpcMessage::Request(request) => Some(request.id.clone()),
                        _ => None,
                    };
                    if let Err(e) = remote.send(message).await {
                        // A request the server side refused (a revoked token, a stopped
                        // gateway) is answered with the reason instead of left hanging.
                        let Some(id) = id else { continue };
                        let error = rmcp::model::ErrorData::internal_error(
                            format!("the request did not reach the server: {e}"),
                            None,
                        );
                        let answer = rmcp::model::JsonRpcMessage::Error(
                            rmcp::model::JsonRpcError::new(Some(id), error),
                        );
                        if let Err(e) = local.send(answer).await {
                            break Err(Error::Transport(format!("writing to the host: {e}")));
                        }
                    }
                }
                None => break Ok(()),
            },
            from_server = remote.receive() => match from_server {
                Some(message) => {
                    if let Err(e) = local.send(message).await {
                        break Err(Error::Transport(format!("writing to the host: {e}")));
                    }
                }
                None => break Err(Error::Transport("the server closed the connection".into())),
            },
        }
    };
    let _ = remote.close().await;
    let _ = local.close().await;
    result
}

/// `URL [--header "Name: value"]... [--sse]`, as both executables accept it after `bridge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeArgs {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub sse: bool,
}

impl BridgeArgs {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut args = args.into_iter();
        let mut url = None;
        let mut headers = Vec::new();
        let mut sse = false;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--sse" => sse = true,
                "--header" => {
                    let header = args.next().ok_or("--header needs \"Name: value\"")?;
                    let (name, value) = header
                        .split_once(':')
                        .ok_or_else(|| format!("--header {header:?}: expected \"Name: value\""))?;
                    headers.push((name.trim().to_string(), value.trim().to_string()));
                }
                other if other.starts_with("--") => return Err(format!("unknown option {other}")),
                other if url.is_none() => url = Some(other.to_string()),
                other => return Err(format!("unexpected argument {other:?}")),
            }
        }
        let url = url.ok_or("usage: bridge URL [--header \"Name: value\"]... [--sse]")?;
        Ok(BridgeArgs { url, headers, sse })
    }

    /// Runs the bridge until either side ends.
    pub async fn run(self) -> Result<(), Error> {
        let pairs = self.headers.into_iter().collect();
        let headers = crate::transport::sse::header_map(&pairs)
            .map_err(|e| Error::Transport(e.to_string()))?;
        stdio_to_http(&self.url, headers, self.sse).await
    }
}

/// The whole program for `… bridge ARGS`: parses, runs, and reports on stderr.
pub fn main(args: impl IntoIterator<Item = String>) -> std::process::ExitCode {
    let args = match BridgeArgs::parse(args) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("bridge: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bridge: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match runtime.block_on(args.run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bridge: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
