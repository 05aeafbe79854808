//! The server: capabilities, dispatch to the fixtures, logging, subscriptions and list changes.

use std::sync::LazyLock;

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams,
        CompleteResult, ContentBlock, GetPromptRequestParams, GetPromptResponse, Implementation,
        ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
        PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
        ServerCapabilities, ServerConfig, SetLevelRequestParams, SubscribeRequestParams,
        SubscriptionFilter, Tool, UnsubscribeRequestParams,
    },
    service::{NotificationContext, RequestContext, SubscriptionContext},
};
use tokio::sync::broadcast;

use crate::{
    fixtures, mrtr,
    rounds::{self, Round, Step},
    session::{Change, Session},
    tools,
};

/// Every tool, in the order `tools/list` gives them (always the same).
static CATALOGUE: LazyLock<Vec<Tool>> =
    LazyLock::new(|| tools::tools().into_iter().chain(mrtr::tools()).collect());

/// The server, as rmcp serves it: one per session (over HTTP, one per stateless request too).
#[derive(Clone)]
pub struct Conformance {
    session: Session,
}

impl Conformance {
    pub fn new(session: Session) -> Self {
        Conformance { session }
    }

    /// One round of the tool `name`.
    async fn call(
        &self,
        name: &str,
        arguments: &rmcp::model::JsonObject,
        round: &Round,
        context: &RequestContext<RoleServer>,
    ) -> Result<Step<CallToolResult>, McpError> {
        if let Some(step) = tools::call(&self.session, name, arguments, round, context).await? {
            return Ok(step);
        }
        match mrtr::call(self.session.seal(), name, round, context) {
            Some(step) => step,
            None => Err(McpError::invalid_params(format!("tool not found: {name}"), None)),
        }
    }
}

/// The `tools/call` of a client of an earlier revision that the fixture could not finish: the
/// client cannot (did not declare it) or did not answer its questions.
fn unanswered(reason: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(reason)])
}

impl ServerHandler for Conformance {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .enable_prompts()
            .enable_prompts_list_changed()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_completions()
            .enable_logging()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("sb-conformance", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "sb-conformance: the fixtures of the MCP conformance suite's server scenarios.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(CATALOGUE.clone()))
    }

    /// rmcp's HTTP transport reads the called tool's schema here to check `Mcp-Param-*` headers.
    fn get_tool(&self, name: &str) -> Option<Tool> {
        CATALOGUE.iter().find(|tool| tool.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let CallToolRequestParams { name, arguments, input_responses, request_state, .. } = request;
        let arguments = arguments.unwrap_or_default();
        let mut round = Round::new(input_responses, request_state);
        loop {
            let asked = match self.call(&name, &arguments, &round, &context).await? {
                Step::Done(result) => return Ok(result.into()),
                Step::Ask(asked) => asked,
            };
            match rounds::undeclared(&asked, &context) {
                Some(error) if rounds::modern(&context) => return Err(error),
                Some(error) => return Ok(unanswered(error.message.into_owned()).into()),
                None if rounds::modern(&context) => return Ok(asked.into()),
                None => match round.answered_directly(asked, &context.peer).await {
                    Ok(next) => round = next,
                    Err(reason) => return Ok(unanswered(reason).into()),
                },
            }
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(fixtures::resources()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(fixtures::resource_templates()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        fixtures::read(&request.uri).map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let prompts = fixtures::prompts().into_iter().chain(mrtr::prompts()).collect();
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        if request.name != mrtr::PROMPT {
            return match fixtures::prompt(&request) {
                Some(result) => result.map(Into::into),
                None => Err(McpError::invalid_params(
                    format!("no prompt named {:?}", request.name),
                    None,
                )),
            };
        }
        let mut round = Round::new(request.input_responses, request.request_state);
        loop {
            let asked = match mrtr::prompt(&round)? {
                Step::Done(result) => return Ok(result.into()),
                Step::Ask(asked) => asked,
            };
            if let Some(error) = rounds::undeclared(&asked, &context) {
                return Err(error);
            }
            if rounds::modern(&context) {
                return Ok(asked.into());
            }
            round = round
                .answered_directly(asked, &context.peer)
                .await
                .map_err(|reason| McpError::internal_error(reason, None))?;
        }
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        fixtures::complete(&request)
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.session.set_log_level(request.level);
        Ok(())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if !fixtures::is_resource(&request.uri) {
            return Err(McpError::resource_not_found(
                format!("no resource {}", request.uri),
                Some(serde_json::json!({ "uri": request.uri })),
            ));
        }
        self.session.subscribe(request.uri);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.session.unsubscribe(&request.uri);
        Ok(())
    }

    /// A session of an earlier revision hears the list changes the trigger tools announce.
    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let peer = context.peer;
        let mut changes = self.session.changes();
        tokio::spawn(async move {
            loop {
                let sent = match changes.recv().await {
                    Ok(Change::Tools) => peer.notify_tool_list_changed().await,
                    Ok(Change::Prompts) => peer.notify_prompt_list_changed().await,
                    Err(broadcast::error::RecvError::Lagged(_)) => Ok(()),
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if sent.is_err() || peer.is_transport_closed() {
                    break;
                }
            }
        });
    }

    /// `subscriptions/listen` (2026-07-28): tool and prompt list changes, and updates of the
    /// fixture's own resources (which never change).
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
        for uri in requested.resource_subscriptions.iter().flatten() {
            if fixtures::is_resource(uri) {
                accepted = accepted.resource_subscription(uri.clone());
            }
        }
        Some(accepted.build())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let mut changes = self.session.changes();
        let sink = context.sink();
        loop {
            let change = tokio::select! {
                () = context.cancelled() => return Ok(()),
                change = changes.recv() => change,
            };
            // A change the client did not ask for is refused by the sink: not an error here.
            let sent = match change {
                Ok(Change::Tools) => sink.notify_tool_list_changed().await,
                Ok(Change::Prompts) => sink.notify_prompt_list_changed().await,
                Err(broadcast::error::RecvError::Lagged(_)) => Ok(()),
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            };
            if let Err(rmcp::service::SubscriptionSendError::SubscriptionClosed) = sent {
                return Ok(());
            }
        }
    }
}
