//! The legacy HTTP+SSE transport (protocol revision 2024-11-05), which rmcp no longer ships.
//!
//! The client opens a `GET` event stream; the server's first event, `endpoint`, names the URL to
//! `POST` messages to; every later `message` event carries one JSON-RPC message from the server.

use std::{collections::HashMap, time::Duration};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::{
    Url,
    header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue},
};
use rmcp::{
    RoleClient,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use tokio::sync::mpsc;

use crate::{traffic::Traffic, transport::lines::EndReason};

/// Why the SSE transport could not connect or send.
#[derive(Debug, thiserror::Error)]
pub enum SseError {
    #[error("HTTP request to {url} failed: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url} answered {status}{body}")]
    Status { url: String, status: reqwest::StatusCode, body: String },
    #[error("{url} is not an SSE endpoint (content type {content_type:?})")]
    NotEventStream { url: String, content_type: String },
    #[error("the SSE stream at {0} ended before it named its message endpoint")]
    NoEndpoint(String),
    #[error("no `endpoint` event from {url} within {} s", .after.as_secs_f32())]
    EndpointTimeout { url: String, after: Duration },
    #[error("the endpoint {endpoint:?} is not a URL on the server's origin ({url})")]
    BadEndpoint { url: String, endpoint: String },
    #[error("invalid header {0:?}")]
    Header(String),
    #[error("could not encode a message: {0}")]
    Encode(#[from] serde_json::Error),
}

/// An SSE client session: events come in on one stream, messages go out by `POST`.
pub struct SseTransport {
    client: reqwest::Client,
    headers: HeaderMap,
    endpoint: Url,
    incoming: mpsc::Receiver<RxJsonRpcMessage<RoleClient>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for SseTransport {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Turns `K=V` pairs into a header map, refusing invalid names and values.
pub fn header_map(headers: &HashMap<String, String>) -> Result<HeaderMap, SseError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| SseError::Header(name.clone()))?;
        let value = HeaderValue::from_str(value).map_err(|_| SseError::Header(name.to_string()))?;
        map.insert(name, value);
    }
    Ok(map)
}

impl SseTransport {
    /// Opens the event stream at `url` and waits for the `endpoint` event.
    pub async fn connect(
        url: &str,
        headers: HeaderMap,
        max_message_bytes: usize,
        timeout: Duration,
        traffic: Traffic,
        end: EndReason,
    ) -> Result<Self, SseError> {
        let base = Url::parse(url)
            .map_err(|_| SseError::BadEndpoint { url: url.to_owned(), endpoint: url.to_owned() })?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| SseError::Http { url: url.to_owned(), source })?;
        let request = client
            .get(base.clone())
            .headers(headers.clone())
            .header(ACCEPT, "text/event-stream")
            .send();
        let response = tokio::time::timeout(timeout, request)
            .await
            .map_err(|_| SseError::EndpointTimeout { url: url.to_owned(), after: timeout })?
            .map_err(|source| SseError::Http { url: url.to_owned(), source })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(SseError::Status { url: url.to_owned(), status, body: excerpt(&body) });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if !content_type.starts_with("text/event-stream") {
            return Err(SseError::NotEventStream { url: url.to_owned(), content_type });
        }
        let bytes = bounded(response.bytes_stream(), max_message_bytes);
        let mut events = Box::pin(sse_stream::SseStream::from_bytes_stream(bytes));

        let endpoint = tokio::time::timeout(timeout, async {
            while let Some(event) = events.next().await {
                match event {
                    Ok(event) if event.event.as_deref() == Some("endpoint") => {
                        return Ok(event.data.unwrap_or_default());
                    }
                    Ok(_) => continue,
                    Err(error) => {
                        traffic.record_invalid("", &format!("SSE stream error: {error}"));
                        break;
                    }
                }
            }
            Err(SseError::NoEndpoint(url.to_owned()))
        })
        .await
        .map_err(|_| SseError::EndpointTimeout { url: url.to_owned(), after: timeout })??;
        let endpoint_url =
            base.join(endpoint.trim()).ok().filter(|e| e.origin() == base.origin()).ok_or_else(
                || SseError::BadEndpoint { url: url.to_owned(), endpoint: endpoint.clone() },
            )?;

        let (sender, incoming) = mpsc::channel(256);
        let reader = tokio::spawn(async move {
            while let Some(event) = events.next().await {
                let event = match event {
                    Ok(event) => event,
                    Err(error) => {
                        end.set(format!("the SSE stream failed: {error}"));
                        traffic.record_invalid("", &format!("SSE stream error: {error}"));
                        return;
                    }
                };
                match event.event.as_deref() {
                    None | Some("message") => {}
                    Some(_) => continue,
                }
                let data = event.data.unwrap_or_default();
                match serde_json::from_str::<RxJsonRpcMessage<RoleClient>>(&data) {
                    Ok(message) => {
                        if sender.send(message).await.is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        traffic.record_invalid(&data, &format!("not an MCP message: {error}"));
                    }
                }
            }
            end.set("the server closed the SSE stream".to_owned());
        });
        Ok(SseTransport { client, headers, endpoint: endpoint_url, incoming, reader })
    }
}

fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        String::new()
    } else {
        format!(": {}", body.chars().take(300).collect::<String>())
    }
}

/// Fails the byte stream when one event grows beyond `limit` bytes without a blank line.
fn bounded<S>(stream: S, limit: usize) -> impl Stream<Item = Result<Bytes, std::io::Error>>
where
    S: Stream<Item = Result<Bytes, reqwest::Error>>,
{
    let mut since_blank = 0usize;
    let mut last = 0u8;
    stream.map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        for &byte in chunk.iter() {
            if byte == b'\n' && (last == b'\n' || (last == b'\r' && since_blank <= 1)) {
                since_blank = 0;
            } else if byte != b'\r' {
                since_blank += 1;
            }
            last = byte;
        }
        if since_blank > limit {
            return Err(std::io::Error::other(format!(
                "an SSE event exceeded the limit of {limit} bytes"
            )));
        }
        Ok(chunk)
    })
}

impl Transport<RoleClient> for SseTransport {
    type Error = SseError;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let client = self.client.clone();
        let headers = self.headers.clone();
        let endpoint = self.endpoint.clone();
        async move {
            let body = serde_json::to_vec(&item)?;
            let url = endpoint.to_string();
            let response = client
                .post(endpoint)
                .headers(headers)
                .header(CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|source| SseError::Http { url: url.clone(), source })?;
            let status = response.status();
            if !status.is_success() {
                let body = response.text().await.unwrap_or_default();
                return Err(SseError::Status { url, status, body: excerpt(&body) });
            }
            Ok(())
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        self.incoming.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        self.incoming.close();
        Ok(())
    }
}
