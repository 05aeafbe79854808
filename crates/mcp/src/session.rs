//! A client session for the tester: connect over any transport and revision, list what the server
//! offers (every page), call tools, read resources, get prompts, complete arguments, with a
//! deadline on every request, cancellation, a traffic log, and `structuredContent` checked
//! against the tool's `outputSchema`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rmcp::{
    ClientServiceExt, RoleClient, ServiceError,
    model::{
        ArgumentInfo, CallToolRequestParams, CallToolResult, ClientConfig, CompleteRequestParams,
        GetPromptRequestParams, GetPromptResult, Implementation, JsonObject,
        PaginatedRequestParams, Prompt, ReadResourceRequestParams, ReadResourceResult, Reference,
        Resource, ResourceTemplate, Tool,
    },
    service::RunningService,
    transport::{
        StreamableHttpClientTransport, Transport,
        streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::{
    ConnectOptions, Error, Negotiated, ProtocolChoice,
    asks::{Client, ClientRequests, Slot},
    negotiate::{known_revision, lifecycle_for},
    notices::{Notice, Publisher},
    traffic::{Direction, Traffic},
    transport::{EndReason, LineTransport, SseTransport, Traced, TransportKind, sse::header_map},
};

/// Everything that shapes a session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub connect: ConnectOptions,
    /// Deadline for each request after the handshake.
    pub request_timeout: Duration,
    /// The largest single message accepted from the server.
    pub max_message_bytes: usize,
    /// How many messages the traffic log keeps.
    pub traffic_capacity: usize,
    /// Whether the traffic log keeps the JSON-RPC messages themselves; when false it keeps only
    /// what the server wrote that is not MCP (for error messages), and no message is turned
    /// into JSON a second time for it (a session on a gateway's hot path).
    pub record_messages: bool,
    /// Declare sampling, elicitation and roots, and hand the server's requests for them to
    /// [`Session::answer_requests_with`] (a session shared by an intermediary).
    pub relay_client_requests: bool,
    /// On a 2026-07-28 server that declares list changes, keep a `subscriptions/listen` stream
    /// open for them, so they reach [`Session::changes`] as a stateful server's do (a 2026-07-28
    /// server sends them on such a stream only).
    pub follow_list_changes: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            connect: ConnectOptions::default(),
            request_timeout: Duration::from_secs(60),
            max_message_bytes: 32 * 1024 * 1024,
            traffic_capacity: crate::traffic::DEFAULT_CAPACITY,
            record_messages: true,
            relay_client_requests: false,
            follow_list_changes: false,
        }
    }
}

/// Which HTTP transport to use for a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum HttpTransport {
    StreamableHttp,
    Sse,
}

/// What the server said about itself.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerDetails {
    #[serde(flatten)]
    pub negotiated: Negotiated,
    pub transport: TransportKind,
    /// The server's capabilities as it sent them.
    #[ts(type = "Record<string, unknown>")]
    pub capabilities: Value,
    /// The server's `serverInfo` (name, version, title, icons, website...).
    #[ts(type = "Record<string, unknown> | null")]
    pub server_info: Option<Value>,
}

/// A full listing and how many pages it took.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub pages: usize,
}

/// One progress notification during a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ProgressUpdate {
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
    /// Milliseconds since the call began.
    pub at_ms: f64,
}

/// The check of `structuredContent` against the tool's `outputSchema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct StructuredCheck {
    pub has_output_schema: bool,
    pub has_structured_content: bool,
    /// Empty when valid. A schema with no structured content (and no error) is a violation.
    pub errors: Vec<String>,
}

/// The result of a tool call and what happened on the way.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CallOutcome {
    /// The `CallToolResult` as the server sent it.
    #[ts(type = "import('../mcp').CallToolResult")]
    pub result: CallToolResult,
    pub elapsed_ms: f64,
    pub progress: Vec<ProgressUpdate>,
    pub structured: Option<StructuredCheck>,
}

/// A server log message (`notifications/message`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerLogMessage {
    pub level: String,
    pub logger: Option<String>,
    #[ts(type = "unknown")]
    pub data: Value,
    pub elapsed_ms: f64,
}

/// A live session with one server.
pub struct Session {
    service: RunningService<RoleClient, Client>,
    publisher: Publisher,
    answerer: Slot,
    details: ServerDetails,
    traffic: Traffic,
    end: EndReason,
    request_timeout: Duration,
    tools: Mutex<HashMap<String, Tool>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("details", &self.details).finish_non_exhaustive()
    }
}

impl Session {
    /// Connects over a child's stdout (`reader`) and stdin (`writer`).
    pub async fn stdio<R, W>(reader: R, writer: W, options: &SessionOptions) -> Result<Self, Error>
    where
        R: tokio::io::AsyncRead + Send + Unpin + 'static,
        W: tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let traffic = Traffic::with_capacity(options.traffic_capacity);
        let lines = LineTransport::new(reader, writer, options.max_message_bytes, traffic.clone());
        let end = lines.end_reason();
        Self::handshake(lines, TransportKind::Stdio, traffic, end, options).await
    }

    /// Connects to a URL. With no `transport`, tries Streamable HTTP and falls back to the legacy
    /// SSE transport, as the specification recommends for clients.
    pub async fn http(
        url: &str,
        headers: &HashMap<String, String>,
        transport: Option<HttpTransport>,
        options: &SessionOptions,
    ) -> Result<Self, Error> {
        let header_map = header_map(headers).map_err(|e| Error::Transport(e.to_string()))?;
        match transport {
            Some(HttpTransport::StreamableHttp) => Self::streamable(url, header_map, options).await,
            Some(HttpTransport::Sse) => Self::sse(url, header_map, options).await,
            None => match Self::streamable(url, header_map.clone(), options).await {
                Ok(session) => Ok(session),
                Err(streamable) => {
                    tracing::debug!("Streamable HTTP failed ({streamable}); trying legacy SSE");
                    Self::sse(url, header_map, options).await.map_err(|sse| {
                        Error::Transport(format!(
                            "{url} answered neither transport. Streamable HTTP: {streamable}. \
                             Legacy SSE: {sse}"
                        ))
                    })
                }
            },
        }
    }

    async fn streamable(
        url: &str,
        headers: reqwest::header::HeaderMap,
        options: &SessionOptions,
    ) -> Result<Self, Error> {
        let custom = headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let config = StreamableHttpClientTransportConfig::with_uri(url)
            .custom_headers(custom)
            .max_sse_event_size(options.max_message_bytes);
        let transport = StreamableHttpClientTransport::from_config(config);
        let traffic = Traffic::with_capacity(options.traffic_capacity);
        let end = EndReason::default();
        Self::handshake(transport, TransportKind::StreamableHttp, traffic, end, options).await
    }

    async fn sse(
        url: &str,
        headers: reqwest::header::HeaderMap,
        options: &SessionOptions,
    ) -> Result<Self, Error> {
        let traffic = Traffic::with_capacity(options.traffic_capacity);
        let end = EndReason::default();
        let transport = SseTransport::connect(
            url,
            headers,
            options.max_message_bytes,
            options.connect.timeout,
            traffic.clone(),
            end.clone(),
        )
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
        Self::handshake(transport, TransportKind::Sse, traffic, end, options).await
    }

    async fn handshake<T>(
        transport: T,
        kind: TransportKind,
        traffic: Traffic,
        end: EndReason,
        options: &SessionOptions,
    ) -> Result<Self, Error>
    where
        T: Transport<RoleClient> + 'static,
    {
        let connect = &options.connect;
        let lifecycle = lifecycle_for(&connect.protocol)?;
        let mut config = ClientConfig::default();
        config.client_info = Implementation::new(&connect.client_name, &connect.client_version);
        if let ProtocolChoice::Force(version) = &connect.protocol {
            config.protocol_version = known_revision(version)?;
        }
        if options.relay_client_requests {
            config.capabilities = crate::asks::relayed_capabilities();
        }
        let publisher = Publisher::default();
        let recorded = options.record_messages.then(|| traffic.clone());
        let traced = Traced::new(transport, recorded, publisher.clone());
        let answerer = Slot::default();
        let client = Client { config, slot: answerer.clone() };
        let handshake = client.serve_with_lifecycle(traced, lifecycle);
        let service = match tokio::time::timeout(connect.timeout, handshake).await {
            Err(_) => return Err(Error::Timeout(connect.timeout)),
            Ok(Err(error)) => {
                let mut message = error.to_string();
                if let Some(reason) = end.get() {
                    message = format!("{message}: {reason}");
                }
                if let Some(invalid) = last_invalid(&traffic, 0) {
                    message = format!("{message}; the server wrote: {invalid}");
                }
                return Err(Error::Handshake(message));
            }
            Ok(Ok(service)) => service,
        };
        let Some(info) = service.peer().peer_info() else {
            return Err(Error::Handshake("the server sent no handshake result".to_owned()));
        };
        let details = ServerDetails {
            negotiated: Negotiated {
                protocol_version: info.protocol_version.to_string(),
                stateless: !info.protocol_version.has_initialize(),
                server_name: info.server_info.as_ref().map(|i| i.name.clone()),
                server_version: info.server_info.as_ref().map(|i| i.version.clone()),
                instructions: info.instructions.clone(),
            },
            transport: kind,
            capabilities: serde_json::to_value(&info.capabilities).unwrap_or(Value::Null),
            server_info: info.server_info.as_ref().and_then(|i| serde_json::to_value(i).ok()),
        };
        let session = Session {
            service,
            publisher,
            answerer,
            details,
            traffic,
            end,
            request_timeout: options.request_timeout,
            tools: Mutex::new(HashMap::new()),
        };
        if options.follow_list_changes && session.details.negotiated.stateless {
            session.listen_for_list_changes();
        }
        Ok(session)
    }

    /// Opens a `subscriptions/listen` stream for the list changes the server declares, drained
    /// until the session ends: the notifications themselves are published from the transport
    /// ([`Session::changes`]), as a stateful server's are.
    fn listen_for_list_changes(&self) {
        let declares = |kind: &str| self.details.capabilities[kind]["listChanged"] == true;
        let (tools, prompts, resources) =
            (declares("tools"), declares("prompts"), declares("resources"));
        if !(tools || prompts || resources) {
            return;
        }
        let mut filter = rmcp::model::SubscriptionFilter::builder();
        if tools {
            filter = filter.tools_list_changed();
        }
        if prompts {
            filter = filter.prompts_list_changed();
        }
        if resources {
            filter = filter.resources_list_changed();
        }
        let (peer, filter) = (self.service.peer().clone(), filter.build());
        tokio::spawn(async move {
            let mut stream = match peer.listen(filter).await {
                Ok(stream) => stream,
                Err(e) => {
                    return tracing::debug!("the server's list changes cannot be followed: {e}");
                }
            };
            while let Ok(Some(_)) = stream.next().await {}
            tracing::debug!("the server ended its list-changes stream");
        });
    }

    pub fn details(&self) -> &ServerDetails {
        &self.details
    }

    /// The rmcp peer, for requests this type has no method for (subscriptions, say).
    pub fn peer(&self) -> &rmcp::Peer<rmcp::RoleClient> {
        self.service.peer()
    }

    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// Who answers the server's sampling, elicitation and roots requests from now on (the
    /// session must have been opened with `relay_client_requests`).
    pub fn answer_requests_with(&self, answerer: Arc<dyn ClientRequests>) {
        *self.answerer.write().unwrap_or_else(|p| p.into_inner()) = Some(answerer);
    }

    /// The server's progress and log notifications from now on. A reader that falls more than
    /// [`crate::notices::NOTICE_BACKLOG`] behind loses the oldest.
    pub fn notices(&self) -> tokio::sync::broadcast::Receiver<Notice> {
        self.publisher.notices.subscribe()
    }

    /// The server's list and resource changes from now on (kept apart from [`Self::notices`],
    /// so a flood of those cannot push these out).
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<Notice> {
        self.publisher.changes.subscribe()
    }

    /// Whether the session has ended (closed, ended, or its transport gone).
    pub fn is_closed(&self) -> bool {
        self.service.is_closed()
    }

    /// Ends the session (and drops its transport) without waiting, for a session that is
    /// shared; requests in flight fail.
    pub fn end(&self) {
        self.service.cancellation_token().cancel();
    }

    /// Closes the session and its transport, waiting at most `timeout`.
    pub async fn close(self, timeout: Duration) {
        let cancel = self.service.cancel();
        if tokio::time::timeout(timeout, cancel).await.is_err() {
            tracing::debug!("session did not wind down within {timeout:?}");
        }
    }

    /// Runs one request under the session's deadline and an optional cancellation token, and
    /// turns rmcp's errors into ours with what the traffic log knows.
    async fn request<T>(
        &self,
        method: &str,
        timeout: Option<Duration>,
        cancel: Option<&CancellationToken>,
        request: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, Error> {
        let after = timeout.unwrap_or(self.request_timeout);
        let start_seq = self.traffic.next_seq();
        let never = CancellationToken::new();
        let cancel = cancel.unwrap_or(&never);
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(after, request) => outcome,
            () = cancel.cancelled() => return Err(Error::Cancelled { method: method.to_owned() }),
        };
        match outcome {
            Err(_) => Err(Error::RequestTimeout {
                method: method.to_owned(),
                after,
                note: self.note_since(start_seq),
            }),
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.map_error(method, error, start_seq)),
        }
    }

    fn note_since(&self, seq: u64) -> String {
        let mut note = String::new();
        if let Some(invalid) = last_invalid(&self.traffic, seq) {
            note = format!("; meanwhile the server wrote something that is not MCP: {invalid}");
        }
        if let Some(reason) = self.end.get() {
            note.push_str(&format!("; {reason}"));
        }
        note
    }

    fn map_error(&self, method: &str, error: ServiceError, seq: u64) -> Error {
        match error {
            ServiceError::McpError(data) => Error::Server {
                method: method.to_owned(),
                code: data.code.0,
                message: data.message.to_string(),
                data: data.data,
            },
            ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
                let reason = match self.end.get() {
                    Some(reason) => reason,
                    None => {
                        let mut reason = "the connection closed before the answer came".to_owned();
                        if let Some(invalid) = last_invalid(&self.traffic, seq) {
                            reason.push_str(&format!("; the server wrote: {invalid}"));
                        }
                        reason
                    }
                };
                Error::Closed { method: method.to_owned(), reason }
            }
            ServiceError::Timeout { timeout } => Error::RequestTimeout {
                method: method.to_owned(),
                after: timeout,
                note: self.note_since(seq),
            },
            ServiceError::Cancelled { .. } => Error::Cancelled { method: method.to_owned() },
            other => Error::Protocol { method: method.to_owned(), message: other.to_string() },
        }
    }

    /// Walks a paginated list to its end (bounded, and a repeated cursor stops it). A server
    /// without `capability` has nothing to list and is not asked.
    async fn paginate<T, F, Fut>(
        &self,
        capability: &str,
        method: &str,
        mut page: F,
    ) -> Result<Listing<T>, Error>
    where
        F: FnMut(Option<PaginatedRequestParams>) -> Fut,
        Fut: Future<Output = Result<(Vec<T>, Option<String>), ServiceError>>,
    {
        const MAX_PAGES: usize = 1000;
        if !self.has(capability) {
            return Ok(Listing { items: Vec::new(), pages: 0 });
        }
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for pages in 1..=MAX_PAGES {
            let params =
                cursor.clone().map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
            let (mut batch, next) = self.request(method, None, None, page(params)).await?;
            items.append(&mut batch);
            match next {
                Some(next) if !next.is_empty() => {
                    if !seen.insert(next.clone()) {
                        return Err(Error::Protocol {
                            method: method.to_owned(),
                            message: format!("the server repeated the cursor {next:?}"),
                        });
                    }
                    cursor = Some(next);
                }
                _ => return Ok(Listing { items, pages }),
            }
        }
        Err(Error::Protocol {
            method: method.to_owned(),
            message: format!("more than {MAX_PAGES} pages"),
        })
    }

    fn has(&self, capability: &str) -> bool {
        self.details.capabilities.get(capability).is_some_and(|c| !c.is_null())
    }

    pub async fn list_tools(&self) -> Result<Listing<Tool>, Error> {
        let peer = self.service.peer();
        let listing = self
            .paginate("tools", "tools/list", |params| async move {
                peer.list_tools(params).await.map(|r| (r.tools, r.next_cursor))
            })
            .await?;
        if let Ok(mut cache) = self.tools.lock() {
            *cache = listing.items.iter().map(|t| (t.name.to_string(), t.clone())).collect();
        }
        Ok(listing)
    }

    pub async fn list_resources(&self) -> Result<Listing<Resource>, Error> {
        let peer = self.service.peer();
        self.paginate("resources", "resources/list", |params| async move {
            peer.list_resources(params).await.map(|r| (r.resources, r.next_cursor))
        })
        .await
    }

    pub async fn list_resource_templates(&self) -> Result<Listing<ResourceTemplate>, Error> {
        let peer = self.service.peer();
        self.paginate("resources", "resources/templates/list", |params| async move {
            peer.list_resource_templates(params)
                .await
                .map(|r| (r.resource_templates, r.next_cursor))
        })
        .await
    }

    pub async fn list_prompts(&self) -> Result<Listing<Prompt>, Error> {
        let peer = self.service.peer();
        self.paginate("prompts", "prompts/list", |params| async move {
            peer.list_prompts(params).await.map(|r| (r.prompts, r.next_cursor))
        })
        .await
    }

    /// The tool as last listed (listing first if it has not been).
    pub async fn tool(&self, name: &str) -> Result<Option<Tool>, Error> {
        let cached = self.tools.lock().ok().and_then(|cache| cache.get(name).cloned());
        if cached.is_some() {
            return Ok(cached);
        }
        let listing = self.list_tools().await?;
        Ok(listing.items.into_iter().find(|t| t.name == name))
    }

    /// Calls a tool. Progress notifications are collected; `structuredContent` is checked against
    /// the tool's `outputSchema` when either is present. A `timeout` overrides the session's.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: JsonObject,
        timeout: Option<Duration>,
        cancel: Option<&CancellationToken>,
    ) -> Result<CallOutcome, Error> {
        let tool = self.tool(name).await.ok().flatten();
        let mut params = CallToolRequestParams::new(name.to_owned());
        params.arguments = Some(arguments);
        let start_seq = self.traffic.next_seq();
        let started = Instant::now();
        let result =
            self.request("tools/call", timeout, cancel, self.service.call_tool(params)).await?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let progress = self.progress_since(start_seq, "tools/call");
        let structured = check_structured(tool.as_ref(), &result);
        Ok(CallOutcome { result, elapsed_ms, progress, structured })
    }

    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, Error> {
        let params = ReadResourceRequestParams::new(uri.to_owned());
        self.request("resources/read", None, None, self.service.read_resource(params)).await
    }

    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: JsonObject,
    ) -> Result<GetPromptResult, Error> {
        let mut params = GetPromptRequestParams::new(name.to_owned());
        if !arguments.is_empty() {
            params.arguments = Some(arguments);
        }
        self.request("prompts/get", None, None, self.service.get_prompt(params)).await
    }

    /// Asks for completions of a prompt's or resource template's argument.
    pub async fn complete(
        &self,
        reference: Reference,
        argument: &str,
        value: &str,
    ) -> Result<Vec<String>, Error> {
        let params = CompleteRequestParams::new(
            reference,
            ArgumentInfo::new(argument.to_owned(), value.to_owned()),
        );
        let result = self
            .request("completion/complete", None, None, self.service.peer().complete(params))
            .await?;
        Ok(result.completion.values)
    }

    /// Sets the server's log level (`logging/setLevel`: `debug` ... `emergency`). Logging is
    /// deprecated in 2026-07-28, but servers of every earlier revision use it.
    #[allow(deprecated)]
    pub async fn set_log_level(&self, level: &str) -> Result<(), Error> {
        let level: rmcp::model::LoggingLevel =
            serde_json::from_value(Value::String(level.to_owned())).map_err(|_| {
                Error::Protocol {
                    method: "logging/setLevel".to_owned(),
                    message: format!("unknown log level {level:?}"),
                }
            })?;
        let params = rmcp::model::SetLevelRequestParams::new(level);
        self.request("logging/setLevel", None, None, self.service.peer().set_level(params)).await
    }

    /// Every `notifications/message` the server sent, oldest first.
    pub fn log_messages(&self) -> Vec<ServerLogMessage> {
        self.traffic
            .entries()
            .into_iter()
            .filter(|e| {
                e.direction == Direction::Received
                    && e.method.as_deref() == Some("notifications/message")
            })
            .map(|e| {
                let params = e.message.get("params").cloned().unwrap_or(Value::Null);
                ServerLogMessage {
                    level: params.get("level").and_then(Value::as_str).unwrap_or("info").to_owned(),
                    logger: params.get("logger").and_then(Value::as_str).map(str::to_owned),
                    data: params.get("data").cloned().unwrap_or(Value::Null),
                    elapsed_ms: e.elapsed_ms,
                }
            })
            .collect()
    }

    /// Progress notifications for the request of `method` sent at or after `seq`.
    fn progress_since(&self, seq: u64, method: &str) -> Vec<ProgressUpdate> {
        let entries = self.traffic.since(seq.saturating_sub(1));
        let Some(request) = entries
            .iter()
            .find(|e| e.direction == Direction::Sent && e.method.as_deref() == Some(method))
        else {
            return Vec::new();
        };
        let token = request.message.pointer("/params/_meta/progressToken").cloned();
        let started = request.elapsed_ms;
        entries
            .iter()
            .filter(|e| {
                e.direction == Direction::Received
                    && e.method.as_deref() == Some("notifications/progress")
                    && e.message.pointer("/params/progressToken").cloned() == token
            })
            .map(|e| {
                let params = &e.message["params"];
                ProgressUpdate {
                    progress: params["progress"].as_f64().unwrap_or(0.0),
                    total: params["total"].as_f64(),
                    message: params["message"].as_str().map(str::to_owned),
                    at_ms: e.elapsed_ms - started,
                }
            })
            .collect()
    }
}

fn last_invalid(traffic: &Traffic, after: u64) -> Option<String> {
    traffic.since(after).into_iter().rev().find(|e| e.direction == Direction::Invalid).map(|e| {
        let text = e.message["text"].as_str().unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        let problem = e.message["problem"].as_str().unwrap_or_default();
        format!("{text:?} ({problem})")
    })
}

/// Validates `structuredContent` against `outputSchema`, as the specification requires of clients.
pub fn check_structured(tool: Option<&Tool>, result: &CallToolResult) -> Option<StructuredCheck> {
    let schema = tool.and_then(|t| t.output_schema.as_ref());
    let content = result.structured_content.as_ref();
    if schema.is_none() && content.is_none() {
        return None;
    }
    let mut errors = Vec::new();
    match (schema, content) {
        (Some(schema), Some(content)) => {
            let schema = Value::Object(schema.as_ref().clone());
            match jsonschema::validator_for(&schema) {
                Ok(validator) => {
                    errors = validator
                        .iter_errors(content)
                        .map(|e| {
                            let path = e.instance_path.to_string();
                            let at = if path.is_empty() { "(root)".to_owned() } else { path };
                            format!("{at}: {e}")
                        })
                        .collect();
                }
                Err(error) => errors.push(format!("the tool's outputSchema is invalid: {error}")),
            }
        }
        (Some(_), None) if result.is_error != Some(true) => errors.push(
            "the tool declares an outputSchema but the result has no structuredContent".to_owned(),
        ),
        _ => {}
    }
    Some(StructuredCheck {
        has_output_schema: schema.is_some(),
        has_structured_content: content.is_some(),
        errors,
    })
}
