//! One host session's MCP server face (rmcp's `ServerHandler`): requests on `/mcp/<server>` go
//! to that server's one running session under their own names; requests on `/mcp` go to every
//! server the caller may see, with names made unique by [`crate::names`]. Every request is
//! bounded by the call timeout, cancelled upstream when the host cancels or disconnects
//! (dropping an rmcp request sends `notifications/cancelled`), counted, and written to the
//! audit log.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock, Weak},
    time::{Duration, Instant},
};

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult,
        DiscoverResult, GetPromptRequestParams, GetPromptResponse, Implementation,
        InitializeRequestParams, InitializeResult, ListPromptsResult, ListResourceTemplatesResult,
        ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
        ReadResourceResponse, Reference, ServerCapabilities, ServerConfig, SubscribeRequestParams,
        SubscriptionFilter, UnsubscribeRequestParams,
    },
    service::{RequestContext, ServiceError, SubscriptionContext},
};
use switchboard_core::clock::Clock;
use switchboard_mcp::{Notice, Session};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

mod aggregate;
mod dedicated;
mod shared;

use aggregate::nothing_yet;
pub(crate) use dedicated::Processes;
pub(crate) use shared::Shared;

use crate::{
    audit::{AuditLog, Record},
    eras, names,
    relay::{Asker, Callers, Questions, next_session_key},
    stats::{SessionSlot, Stats},
    subscriptions::{self, Subscriptions, Target},
    timeouts::Timeouts,
    upstream::{Dedicated, Resting, Unavailable, Upstreams},
};

/// Who is calling and on which endpoint: put on each request by the HTTP layer once its token
/// checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub host: String,
    /// `Some(server)` on `/mcp/<server>`; `None` on the aggregate `/mcp`.
    pub server: Option<String>,
}

/// One session's handler (the HTTP transport makes one per session, or per request for the
/// stateless revision).
pub(crate) struct GatewayHandler {
    shared: Arc<Shared>,
    /// Tells this session's calls from other sessions' (see [`Callers`]).
    key: u64,
    slot: OnceLock<SessionSlot>,
    /// Ends this session's `list_changed` and resource update forwarding when the session ends.
    ended: CancellationToken,
    subscriptions: Subscriptions,
    /// This host session's own processes of per-session servers; they stop with it.
    dedicated: Processes,
    /// The log level this (stateful) host session asked for with `logging/setLevel`: sent with
    /// each of its requests to a 2026-07-28 server, which logs per request.
    #[allow(deprecated)] // logging: deprecated by SEP-2577, still what hosts send
    log_level: std::sync::Mutex<Option<rmcp::model::LoggingLevel>>,
}

impl Drop for GatewayHandler {
    fn drop(&mut self) {
        self.ended.cancel();
        self.subscriptions.release(&self.shared.subscribed);
    }
}

/// Whether a change to `server` concerns a session on `scope`.
fn concerns(scope: Option<&str>, server: &str) -> bool {
    scope.is_none_or(|s| s == server)
}

impl GatewayHandler {
    pub fn new(shared: Arc<Shared>) -> Self {
        GatewayHandler {
            shared,
            key: next_session_key(),
            slot: OnceLock::new(),
            ended: CancellationToken::new(),
            subscriptions: Subscriptions::default(),
            dedicated: Processes::default(),
            log_level: std::sync::Mutex::new(None),
        }
    }

    /// A stateful session (one that sent `initialize`) is told when the servers it sees change.
    fn forward_changes(&self, caller: &Caller, context: &RequestContext<RoleServer>) {
        let stateful =
            context.peer.peer_info().is_some_and(|i| i.protocol_version.has_initialize());
        if !stateful {
            return;
        }
        let (peer, scope, ended) =
            (context.peer.clone(), caller.server.clone(), self.ended.clone());
        let mut changes = self.shared.changes.subscribe();
        tokio::spawn(async move {
            loop {
                let server = tokio::select! {
                    () = ended.cancelled() => return,
                    change = changes.recv() => match change {
                        Ok(server) => server,
                        Err(broadcast::error::RecvError::Lagged(_)) => String::new(),
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                };
                if !server.is_empty() && !concerns(scope.as_deref(), &server) {
                    continue;
                }
                let sent = async {
                    peer.notify_tool_list_changed().await?;
                    peer.notify_prompt_list_changed().await?;
                    peer.notify_resource_list_changed().await
                };
                if sent.await.is_err() {
                    return;
                }
            }
        });
    }

    fn caller(&self, context: &RequestContext<RoleServer>) -> Result<Caller, McpError> {
        let caller = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .cloned()
            .ok_or_else(|| McpError::internal_error("the request reached no caller", None))?;
        if let Some(server) = &caller.server
            && !self.shared.view(&caller.host).sees_server(server)
        {
            return Err(McpError::invalid_params(
                format!("{server} is not available to {} (hidden in Switchboard)", caller.host),
                None,
            ));
        }
        if self.slot.get().is_none() {
            self.forward_changes(&caller, context);
        }
        self.slot.get_or_init(|| {
            self.shared.stats.open(
                &caller.host,
                caller.server.as_deref(),
                self.shared.clock.now_ms(),
            )
        });
        Ok(caller)
    }

    /// Runs `call` against `server`'s session within the call timeout, unless the host cancels
    /// first; records it.
    async fn forward<T, F>(
        &self,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
        server: &str,
        method: &str,
        name: Option<&str>,
        call: impl FnOnce(Arc<Session>, Option<Questions>) -> F,
    ) -> Result<T, McpError>
    where
        F: Future<Output = Result<T, ServiceError>>,
        T: Outcome,
    {
        let started = Instant::now();
        let _in_flight = self.shared.stats.begin(server, self.shared.clock.now_ms());
        // A 2026-07-28 host takes no requests from servers: they reach its call another way.
        let stateless = stateless(context);
        let (ask, questions) = match stateless {
            true => {
                let (ask, questions) = tokio::sync::mpsc::unbounded_channel();
                (Some(ask), Some(questions))
            }
            false => (None, None),
        };
        let _in_call =
            self.shared.callers.enter(server, self.key, &caller.host, &context.peer, ask);
        let result = async {
            let session = self.session_for(caller, server, stateless).await.map_err(unavailable)?;
            let timeout = self
                .shared
                .timeouts
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .for_call(server, &caller.host);
            tokio::select! {
                answered = tokio::time::timeout(timeout, call(session, questions)) => match answered {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(error)) => Err(upstream_error(server, error)),
                    Err(_) => Err(McpError::internal_error(
                        format!("{server} did not answer {method} within {} s; the request was cancelled", timeout.as_secs_f32()),
                        None,
                    )),
                },
                () = context.ct.cancelled() => Err(McpError::internal_error(
                    "cancelled by the client".to_owned(),
                    None,
                )),
            }
        }
        .await;
        self.record(caller, Some(server), method, name, started, &result);
        result
    }

    /// Forwards a request that a server may answer with `input_required` (`tools/call`,
    /// `prompts/get`, `resources/read`), its questions carried across eras ([`eras`]).
    async fn forward_rounds<P, A>(
        &self,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
        server: &str,
        method: &str,
        name: Option<&str>,
        request: P,
    ) -> Result<A, McpError>
    where
        P: eras::Retried + Send,
        A: eras::Answer + Outcome,
    {
        let level = *self.log_level.lock().unwrap_or_else(|p| p.into_inner());
        let host = eras::Host::of(&caller.host, context, level);
        let token = context.meta.get_progress_token();
        let parking = &self.shared.parking;
        self.forward(context, caller, server, method, name, |s, asked| async move {
            eras::rounds(s, &host, server, request, token, asked, parking).await
        })
        .await
    }

    fn record<T: Outcome>(
        &self,
        caller: &Caller,
        server: Option<&str>,
        method: &str,
        name: Option<&str>,
        started: Instant,
        result: &Result<T, McpError>,
    ) {
        let (outcome, error) = match result {
            Ok(value) if value.is_tool_error() => ("tool-error", None),
            Ok(_) => ("ok", None),
            Err(e) => ("error", Some(e.message.to_string())),
        };
        let now = self.shared.clock.now_ms();
        if let Some(slot) = self.slot.get() {
            self.shared.stats.record(slot, server, outcome == "error", now);
        }
        self.shared.audit.append(&Record {
            at_ms: now,
            host: caller.host.clone(),
            server: server.map(str::to_owned),
            method: method.to_owned(),
            name: name.map(str::to_owned),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            outcome: outcome.to_owned(),
            error,
        });
    }
}

/// Lets go of a listen stream's upstream subscriptions when it ends.
struct ReleaseOnDrop<'a> {
    subscriptions: &'a Subscriptions,
    shared: &'a Arc<Shared>,
    ended: &'a CancellationToken,
}

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.ended.cancel();
        self.subscriptions.release(&self.shared.subscribed);
    }
}

/// What `/mcp/<server>` declares for a running server: what the server declared, less what the
/// gateway does not carry (experimental features, extensions such as tasks), with `listChanged`
/// on for every list it has, since the gateway itself tells hosts when a list changes (the
/// server was stopped, held, restarted with other tools).
fn mirrored(upstream: &ServerCapabilities) -> ServerCapabilities {
    let mut declared = upstream.clone();
    declared.experimental = None;
    declared.extensions = None;
    if let Some(tools) = &mut declared.tools {
        tools.list_changed = Some(true);
    }
    if let Some(resources) = &mut declared.resources {
        resources.list_changed = Some(true);
    }
    if let Some(prompts) = &mut declared.prompts {
        prompts.list_changed = Some(true);
    }
    declared
}

/// Whether the request comes from a 2026-07-28 host (no session; takes no requests).
fn stateless(context: &RequestContext<RoleServer>) -> bool {
    context.protocol_version().is_some_and(|v| !v.has_initialize())
}

/// What the audit log says of a result.
pub(crate) trait Outcome {
    fn is_tool_error(&self) -> bool {
        false
    }
}

impl Outcome for CallToolResponse {
    fn is_tool_error(&self) -> bool {
        matches!(self, CallToolResponse::Complete(r) if r.is_error == Some(true))
    }
}

macro_rules! plain_outcome {
    ($($t:ty),*) => { $(impl Outcome for $t {})* };
}
plain_outcome!(
    ListToolsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListPromptsResult,
    ReadResourceResponse,
    GetPromptResponse,
    CompleteResult,
    ()
);

fn unavailable(error: Unavailable) -> McpError {
    match error {
        Unavailable::Unknown(_) => McpError::invalid_params(error.to_string(), None),
        _ => McpError::internal_error(error.to_string(), None),
    }
}

/// An upstream's own JSON-RPC error passes through as it is; a broken connection says so.
fn upstream_error(server: &str, error: ServiceError) -> McpError {
    match error {
        ServiceError::McpError(error) => error,
        ServiceError::TransportClosed | ServiceError::TransportSend(_) => McpError::internal_error(
            format!("{server} stopped or crashed while the request was in flight"),
            None,
        ),
        other => McpError::internal_error(format!("{server}: {other}"), None),
    }
}

impl GatewayHandler {
    /// What an endpoint declares. `/mcp/<server>` with its server running mirrors the server:
    /// its capabilities ([`mirrored`]), name and instructions, so a host sees what it would
    /// see directly. The aggregate `/mcp`, and a lazy server not started yet (listed from its
    /// pins without starting it), declare everything the gateway can carry.
    fn endpoint_info(&self, context: &RequestContext<RoleServer>) -> ServerConfig {
        let mut info = self.get_info();
        if let Ok(Caller { server: Some(server), .. }) = self.caller(context)
            && let Some(session) = self.shared.upstreams.running(&server)
            && let Some(upstream) = session.peer().peer_info()
        {
            info.capabilities = mirrored(&upstream.capabilities);
            info.instructions = upstream.instructions.clone();
            if let Some(server_info) = &upstream.server_info {
                info.server_info = server_info.clone();
            }
        }
        info
    }
}

impl ServerHandler for GatewayHandler {
    /// A tool hosts were listed, for the HTTP layer's check of `Mcp-Param-*` headers against its
    /// schema (2026-07-28): answered only when the name is unambiguous ([`Shared::tool`]).
    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        self.shared.tool(name)
    }

    #[allow(deprecated)] // `logging`: deprecated by SEP-2577, still part of the stateful revisions
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .enable_resources()
            .enable_resources_list_changed()
            .enable_resources_subscribe()
            .enable_prompts()
            .enable_prompts_list_changed()
            .enable_completions()
            .enable_logging()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("switchboard", env!("CARGO_PKG_VERSION")))
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::builder();
        if requested.tools_list_changed == Some(true) {
            accepted = accepted.tools_list_changed();
        }
        if requested.prompts_list_changed == Some(true) {
            accepted = accepted.prompts_list_changed();
        }
        if requested.resources_list_changed == Some(true) {
            accepted = accepted.resources_list_changed();
        }
        if let Some(uris) = &requested.resource_subscriptions {
            accepted = accepted.resource_subscriptions(uris.iter().cloned());
        }
        Some(accepted.build())
    }

    /// `subscriptions/listen` (2026-07-28): the list changes a stateless client asked for, and
    /// the updates of the resources it named (subscribed upstream for as long as it listens).
    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let caller = self.caller(context.request_context())?;
        let scope = caller.server.clone();
        let accepted = context.accepted().clone();
        let sink = context.sink().clone();
        let mut changes = self.shared.changes.subscribe();
        // The resources it named: held upstream until the stream ends, however it ends.
        let held = Subscriptions::default();
        let stream_ended = CancellationToken::new();
        let _release =
            ReleaseOnDrop { subscriptions: &held, shared: &self.shared, ended: &stream_ended };
        // The sessions subscribed on, held while the stream lives: a per-session server's
        // process is in use for as long as a host listens to it.
        let mut in_use = Vec::new();
        for uri in accepted.resource_subscriptions.clone().unwrap_or_default() {
            let server = self.resource_server(&caller, &uri, "subscriptions/listen")?;
            // A per-session server: this host's own process.
            let session = self.session_for(&caller, &server, true).await.map_err(unavailable)?;
            let scope = self.scope(&server, &session);
            let target = Target::Stream(sink.clone());
            held.subscribe(&self.shared.subscribed, &scope, &session, uri, &target, &stream_ended)
                .await
                .map_err(|e| upstream_error(&server, e))?;
            in_use.push(session);
        }
        loop {
            let server = tokio::select! {
                () = context.cancelled() => return Ok(()),
                change = changes.recv() => match change {
                    Ok(server) => server,
                    Err(broadcast::error::RecvError::Lagged(_)) => String::new(),
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
            };
            if !server.is_empty() && !concerns(scope.as_deref(), &server) {
                continue;
            }
            let sent = async {
                if accepted.tools_list_changed == Some(true) {
                    sink.notify_tool_list_changed().await?;
                }
                if accepted.prompts_list_changed == Some(true) {
                    sink.notify_prompt_list_changed().await?;
                }
                if accepted.resources_list_changed == Some(true) {
                    sink.notify_resource_list_changed().await?;
                }
                Ok::<_, rmcp::service::SubscriptionSendError>(())
            };
            if sent.await.is_err() {
                return Ok(());
            }
        }
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        context.peer.set_peer_info(request.clone());
        let mut result = self.negotiate_initialize(&request)?;
        let endpoint = self.endpoint_info(&context);
        result.capabilities = endpoint.capabilities;
        result.server_info = endpoint.server_info;
        result.instructions = endpoint.instructions;
        Ok(result)
    }

    /// `server/discover` (2026-07-28): the same per-endpoint declaration as `initialize`.
    async fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, McpError> {
        Ok(DiscoverResult::from_server_info(
            self.supported_protocol_versions().into_owned(),
            self.endpoint_info(&context),
        ))
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let caller = self.caller(&context)?;
        if let Some(server) = &caller.server {
            if let Some(tools) = self.shared.upstreams.resting(server).await.and_then(|r| r.tools) {
                let result = Ok(ListToolsResult::with_all_items(tools));
                self.record(&caller, None, "tools/list", None, Instant::now(), &result);
                return result;
            }
            let first_page = request.as_ref().is_none_or(|r| r.cursor.is_none());
            let listed = self
                .forward(&context, &caller, server, "tools/list", None, |s, _| async move {
                    s.peer().list_tools(request).await
                })
                .await?;
            let view = self.shared.view(&caller.host);
            let mut listed = listed;
            listed.tools.retain(|t| view.sees_tool(server, &t.name));
            self.shared.listed(server, &listed.tools, first_page);
            return Ok(listed);
        }
        let started = Instant::now();
        let mut table = HashMap::new();
        let mut tools = Vec::new();
        for (server, listed) in self
            .gather(
                (&caller, stateless(&context)),
                "tools",
                |r| r.tools.clone(),
                |s| async move { Ok(s.list_tools().await?.items) },
            )
            .await
        {
            let view = self.shared.view(&caller.host);
            for mut tool in listed.into_iter().filter(|t| view.sees_tool(&server, &t.name)) {
                let exposed = names::exposed(&server, &tool.name);
                table.insert(exposed.clone(), (server.clone(), tool.name.to_string()));
                tool.name = exposed.into();
                tools.push(tool);
            }
        }
        *self.shared.tools.lock().unwrap_or_else(|p| p.into_inner()) = table;
        self.shared.listed("", &tools, true);
        let result = Ok(ListToolsResult::with_all_items(tools));
        self.record(&caller, None, "tools/list", None, started, &result);
        result
    }

    async fn call_tool(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let caller = self.caller(&context)?;
        let server = match &caller.server {
            Some(server) => server.clone(),
            None => {
                let (server, tool) = self.route_or_refuse(
                    &caller,
                    &self.shared.tools,
                    "tool",
                    "tools/call",
                    &request.name,
                )?;
                request.name = tool.into();
                server
            }
        };
        let name = request.name.to_string();
        if !self.shared.view(&caller.host).sees_tool(&server, &name) {
            let error = McpError::invalid_params(
                format!("no tool named {name} is available to {}", caller.host),
                None,
            );
            let refused: Result<(), McpError> = Err(error.clone());
            self.record(
                &caller,
                Some(&server),
                "tools/call",
                Some(&name),
                Instant::now(),
                &refused,
            );
            return Err(error);
        }
        self.forward_rounds(&context, &caller, &server, "tools/call", Some(&name), request).await
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let caller = self.caller(&context)?;
        if let Some(server) = &caller.server {
            if self.shared.upstreams.resting(server).await.is_some() {
                let result = Ok(ListResourcesResult::with_all_items(Vec::new()));
                self.record(&caller, None, "resources/list", None, Instant::now(), &result);
                return result;
            }
            return self
                .forward(&context, &caller, server, "resources/list", None, |s, _| async move {
                    s.peer().list_resources(request).await
                })
                .await;
        }
        let started = Instant::now();
        let mut owners = HashMap::new();
        let mut resources = Vec::new();
        for (server, listed) in self
            .gather((&caller, stateless(&context)), "resources", nothing_yet, |s| async move {
                Ok(s.list_resources().await?.items)
            })
            .await
        {
            for resource in listed {
                owners.insert(resource.uri.clone(), server.clone());
                resources.push(resource);
            }
        }
        *self.shared.resources.lock().unwrap_or_else(|p| p.into_inner()) = owners;
        let result = Ok(ListResourcesResult::with_all_items(resources));
        self.record(&caller, None, "resources/list", None, started, &result);
        result
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let caller = self.caller(&context)?;
        if let Some(server) = &caller.server {
            if self.shared.upstreams.resting(server).await.is_some() {
                let result = Ok(ListResourceTemplatesResult::with_all_items(Vec::new()));
                self.record(
                    &caller,
                    None,
                    "resources/templates/list",
                    None,
                    Instant::now(),
                    &result,
                );
                return result;
            }
            return self
                .forward(
                    &context,
                    &caller,
                    server,
                    "resources/templates/list",
                    None,
                    |s, _| async move { s.peer().list_resource_templates(request).await },
                )
                .await;
        }
        let started = Instant::now();
        let templates: Vec<_> = self
            .gather((&caller, stateless(&context)), "resources", nothing_yet, |s| async move {
                Ok(s.list_resource_templates().await?.items)
            })
            .await
            .into_iter()
            .flat_map(|(_, listed)| listed)
            .collect();
        let result = Ok(ListResourceTemplatesResult::with_all_items(templates));
        self.record(&caller, None, "resources/templates/list", None, started, &result);
        result
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let caller = self.caller(&context)?;
        let server = self.resource_server(&caller, &request.uri, "resources/read")?;
        let uri = request.uri.clone();
        self.forward_rounds(&context, &caller, &server, "resources/read", Some(&uri), request).await
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let caller = self.caller(&context)?;
        if let Some(server) = &caller.server {
            if self.shared.upstreams.resting(server).await.is_some() {
                let result = Ok(ListPromptsResult::with_all_items(Vec::new()));
                self.record(&caller, None, "prompts/list", None, Instant::now(), &result);
                return result;
            }
            return self
                .forward(&context, &caller, server, "prompts/list", None, |s, _| async move {
                    s.peer().list_prompts(request).await
                })
                .await;
        }
        let started = Instant::now();
        let mut table = HashMap::new();
        let mut prompts = Vec::new();
        for (server, listed) in self
            .gather((&caller, stateless(&context)), "prompts", nothing_yet, |s| async move {
                Ok(s.list_prompts().await?.items)
            })
            .await
        {
            for mut prompt in listed {
                let exposed = names::exposed(&server, &prompt.name);
                table.insert(exposed.clone(), (server.clone(), prompt.name.clone()));
                prompt.name = exposed;
                prompts.push(prompt);
            }
        }
        *self.shared.prompts.lock().unwrap_or_else(|p| p.into_inner()) = table;
        let result = Ok(ListPromptsResult::with_all_items(prompts));
        self.record(&caller, None, "prompts/list", None, started, &result);
        result
    }

    async fn get_prompt(
        &self,
        mut request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let caller = self.caller(&context)?;
        let server = match &caller.server {
            Some(server) => server.clone(),
            None => {
                let (server, prompt) = self.route_or_refuse(
                    &caller,
                    &self.shared.prompts,
                    "prompt",
                    "prompts/get",
                    &request.name,
                )?;
                request.name = prompt;
                server
            }
        };
        let name = request.name.clone();
        self.forward_rounds(&context, &caller, &server, "prompts/get", Some(&name), request).await
    }

    async fn complete(
        &self,
        mut request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let caller = self.caller(&context)?;
        let server = match &caller.server {
            Some(server) => server.clone(),
            None => {
                let routed = match &mut request.r#ref {
                    Reference::Prompt(prompt) => {
                        self.route(&self.shared.prompts, &prompt.name).map(|(server, name)| {
                            prompt.name = name;
                            server
                        })
                    }
                    Reference::Resource(resource) => self
                        .shared
                        .resources
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(&resource.uri)
                        .cloned(),
                    _ => None,
                };
                match routed {
                    Some(server) => server,
                    None => return Ok(CompleteResult::default()),
                }
            }
        };
        self.forward(&context, &caller, &server, "completion/complete", None, |s, _| async move {
            s.peer().complete(request).await
        })
        .await
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let caller = self.caller(&context)?;
        let server = self.resource_server(&caller, &request.uri, "resources/subscribe")?;
        let uri = request.uri.clone();
        let (host, ended) = (Target::Peer(context.peer.clone()), self.ended.clone());
        let target = server.clone();
        self.forward(
            &context,
            &caller,
            &server,
            "resources/subscribe",
            Some(&uri),
            |s, _| async move {
                let scope = self.scope(&target, &s);
                self.subscriptions
                    .subscribe(&self.shared.subscribed, &scope, &s, request.uri, &host, &ended)
                    .await
            },
        )
        .await
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let caller = self.caller(&context)?;
        let server = self.resource_server(&caller, &request.uri, "resources/unsubscribe")?;
        let uri = request.uri.clone();
        let target = server.clone();
        self.forward(
            &context,
            &caller,
            &server,
            "resources/unsubscribe",
            Some(&uri),
            |s, _| async move {
                let scope = self.scope(&target, &s);
                self.subscriptions
                    .unsubscribe(&self.shared.subscribed, &scope, &s, request.uri)
                    .await
            },
        )
        .await
    }

    #[allow(deprecated)] // `logging/setLevel`: deprecated by SEP-2577, still in the stateful revisions
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        // The server's process is shared by every host: one host's log level is not imposed on
        // the others' sessions. It goes with this host's own requests to a 2026-07-28 server
        // (which logs per request, see `eras::Host`).
        self.caller(&context)?;
        *self.log_level.lock().unwrap_or_else(|p| p.into_inner()) = Some(request.level);
        Ok(())
    }
}
