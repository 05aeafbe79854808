//! The MCP face of the knowledge base (rmcp): tools, documents as resources, prompts, and change
//! notifications — `resources/subscribe` + `notifications/resources/*` for the stateful
//! revisions, `subscriptions/listen` for 2026-07-28.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    handler::server::{
        router::tool::ToolRouter,
        wrapper::{Json, Parameters},
    },
    model::{
        ContentBlock, GetPromptRequestParams, GetPromptResponse, GetPromptResult, Implementation,
        ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
        PaginatedRequestParams, Prompt, PromptArgument, PromptMessage, ReadResourceRequestParams,
        ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
        ResourceUpdatedNotificationParam, Role, ServerCapabilities, ServerConfig,
        SubscribeRequestParams, SubscriptionFilter, UnsubscribeRequestParams,
    },
    service::{NotificationContext, RequestContext, SubscriptionContext},
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    engine::{Change, Created, DocumentPage, DocumentText, Engine, Status, yaml_list},
    error::Error,
    index::{Hit, SearchQuery},
    roots::SCHEME,
};

const RESOURCE_PAGE: usize = 100;
/// How much of each hit `answer_with_sources` embeds.
const PROMPT_SECTION_BYTES: usize = 4000;
/// How long a search made before the first index holds anything waits for it: a host's first
/// question right after a fresh start gets the documents of a small folder rather than nothing.
/// Over a persisted index a search answers at once (with `indexing` while the start-up sync
/// runs); a large first index answers after this with what is committed so far.
const FIRST_INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// One MCP session's view of the knowledge base (the HTTP transport makes one per session).
#[derive(Clone)]
pub struct KbServer {
    engine: Arc<Engine>,
    subscribed: Arc<Mutex<HashSet<String>>>,
    /// The `logging/setLevel` of a stateful session (severity rank; `None`: send no logs).
    log_level: Arc<Mutex<Option<u8>>>,
    tool_router: ToolRouter<Self>,
}

impl std::fmt::Debug for KbServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KbServer").finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// What to look for. Plain words rank by relevance; also "exact phrases", +required,
    /// -excluded, title:word, heading:word, AND / OR.
    pub query: String,
    /// How many documents to return: 1-50, default 10.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only documents under this folder or path, e.g. `guides` or `kb://docs/guides`.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Only documents carrying any of these tags (from front matter).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchResult {
    pub query: String,
    /// Best first; one hit per document, pointing at its best section.
    pub hits: Vec<Hit>,
    /// The first indexing is still running, so results may be incomplete.
    pub indexing: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReadArgs {
    /// The document: its `kb://` URI, or its path in the knowledge-base folder.
    pub document: String,
    /// Only this section: its anchor (from search hits or the outline) or heading text.
    #[serde(default)]
    pub section: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {
    /// Only documents whose path starts with this.
    #[serde(default)]
    pub prefix: Option<String>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size: 1-500, default 100.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// How urgent the ticket is.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TicketArgs {
    /// One line saying what is wrong or wanted.
    pub title: String,
    /// The details, in Markdown.
    pub description: String,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct NoteArgs {
    pub title: String,
    /// The note, in Markdown.
    pub text: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

fn fail(e: Error) -> String {
    e.to_string()
}

async fn blocking<T: Send + 'static>(
    engine: &Arc<Engine>,
    f: impl FnOnce(&Engine) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let engine = engine.clone();
    tokio::task::spawn_blocking(move || f(&engine))
        .await
        .unwrap_or_else(|e| Err(Error::Invalid(format!("the request failed: {e}"))))
}

fn tags_yaml(tags: &[String]) -> String {
    yaml_list(tags.iter().map(|t| crate::source::normalize_tag(t)))
}

#[tool_router(router = tool_router)]
impl KbServer {
    pub fn new(engine: Arc<Engine>) -> Self {
        KbServer {
            engine,
            subscribed: Arc::default(),
            log_level: Arc::default(),
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Search the user's documents (ranked full text). Returns the best section of each matching document with a snippet (matched terms in **bold**), its kb:// URI and anchor for read_document.",
        annotations(title = "Search documents", read_only_hint = true, open_world_hint = false)
    )]
    async fn search(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<Json<SearchResult>, String> {
        let query = SearchQuery {
            text: args.query.clone(),
            limit: args.limit.unwrap_or(10).clamp(1, 50) as usize,
            prefixes: args.path_prefix.into_iter().collect(),
            tags: args.tags.unwrap_or_default(),
            lenient: false,
            ..SearchQuery::default()
        };
        self.wait_for_a_first_index().await;
        let hits = blocking(&self.engine, move |e| e.search(&query)).await.map_err(fail)?;
        let indexing = self.engine.status_now().state != "ready";
        Ok(Json(SearchResult { query: args.query, hits, indexing }))
    }

    #[tool(
        description = "Read a document (or one of its sections) from the knowledge base, by kb:// URI or path. Also returns the document's outline.",
        annotations(title = "Read document", read_only_hint = true, open_world_hint = false)
    )]
    async fn read_document(
        &self,
        Parameters(args): Parameters<ReadArgs>,
    ) -> Result<Json<DocumentText>, String> {
        blocking(&self.engine, move |e| e.read(&args.document, args.section.as_deref()))
            .await
            .map(Json)
            .map_err(fail)
    }

    #[tool(
        description = "List the documents in the knowledge base, optionally under a path prefix, a page at a time.",
        annotations(title = "List documents", read_only_hint = true, open_world_hint = false)
    )]
    async fn list_documents(&self, Parameters(args): Parameters<ListArgs>) -> Json<DocumentPage> {
        let limit = args.limit.unwrap_or(100) as usize;
        Json(self.engine.list(args.prefix.as_deref(), args.cursor.as_deref(), limit))
    }

    #[tool(
        description = "Create a ticket: a Markdown file with front matter (title, priority, status, tags) in the tickets folder of the knowledge base. It is searchable at once.",
        annotations(
            title = "Create ticket",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_ticket(
        &self,
        Parameters(args): Parameters<TicketArgs>,
    ) -> Result<Json<Created>, String> {
        let priority = format!("{:?}", args.priority).to_lowercase();
        let front = vec![
            ("priority", priority),
            ("status", "open".to_string()),
            ("tags", tags_yaml(&args.tags)),
        ];
        blocking(&self.engine, move |e| {
            e.create_file("tickets", &args.title, &front, &args.description)
        })
        .await
        .map(Json)
        .map_err(fail)
    }

    #[tool(
        description = "Add a note: a Markdown file in the notes folder of the knowledge base. It is searchable at once.",
        annotations(
            title = "Add note",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn add_note(
        &self,
        Parameters(args): Parameters<NoteArgs>,
    ) -> Result<Json<Created>, String> {
        let front = vec![("tags", tags_yaml(&args.tags))];
        blocking(&self.engine, move |e| e.create_file("notes", &args.title, &front, &args.text))
            .await
            .map(Json)
            .map_err(fail)
    }

    #[tool(
        description = "The index's state: indexing progress, document and section counts, skipped files with reasons, folders, size.",
        annotations(title = "Index status", read_only_hint = true, open_world_hint = false)
    )]
    async fn index_status(&self) -> Json<Status> {
        Json(self.engine.status())
    }
}

impl KbServer {
    /// Waits (up to [`FIRST_INDEX_WAIT`]) while the first sync runs over an index that holds
    /// nothing yet. Returns at once over a persisted index, or once the sync is done or failed.
    async fn wait_for_a_first_index(&self) {
        let started = std::time::Instant::now();
        loop {
            // Not `status()`: its document counts would wait for the manifest, which a search
            // does not need. The sections are the index's, as of open and then of each commit.
            let status = self.engine.status_now();
            let first_sync = matches!(status.state.as_str(), "starting" | "indexing");
            if !first_sync || status.sections > 0 || started.elapsed() >= FIRST_INDEX_WAIT {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    fn prompts() -> Vec<Prompt> {
        vec![
            Prompt::new(
                "answer_with_sources",
                Some("Answer a question from the knowledge base, citing the documents used"),
                Some(vec![
                    PromptArgument::new("question")
                        .with_description("The question to answer")
                        .with_required(true),
                ]),
            ),
            Prompt::new(
                "summarize_document",
                Some("Summarize one document of the knowledge base"),
                Some(vec![
                    PromptArgument::new("uri")
                        .with_description("The document's kb:// URI or path")
                        .with_required(true),
                ]),
            ),
        ]
    }

    async fn answer_with_sources(&self, question: String) -> Result<GetPromptResult, McpError> {
        let query = SearchQuery {
            text: question.clone(),
            limit: 5,
            lenient: true,
            ..SearchQuery::default()
        };
        let engine = self.engine.clone();
        let hits = blocking(&engine, move |e| e.search(&query)).await.map_err(internal)?;
        let mut sources = Vec::new();
        let mut embedded = Vec::new();
        for (n, hit) in hits.iter().enumerate() {
            let section = (!hit.anchor.is_empty()).then(|| hit.anchor.clone());
            let uri = hit.uri.clone();
            let text = blocking(&engine, move |e| e.read(&uri, section.as_deref())).await;
            let Ok(text) = text else { continue };
            let cited = if hit.anchor.is_empty() {
                hit.uri.clone()
            } else {
                format!("{}#{}", hit.uri, hit.anchor)
            };
            let label = if hit.section.is_empty() {
                hit.title.clone()
            } else {
                format!("{} — {}", hit.title, hit.section)
            };
            sources.push(format!("[{}] {label} <{cited}>", n + 1));
            let mut body = text.text;
            truncate(&mut body, PROMPT_SECTION_BYTES);
            embedded.push(PromptMessage::new(
                Role::User,
                ContentBlock::resource(
                    ResourceContents::text(format!("[{}] {label}\n\n{body}", n + 1), cited)
                        .with_mime_type(text.mime_type),
                ),
            ));
        }
        let instructions = if sources.is_empty() {
            format!(
                "Question: {question}\n\nThe knowledge base has no documents matching this question. Say so, and answer only if you are sure, marking the answer as not from the knowledge base."
            )
        } else {
            format!(
                "Answer the question using only the numbered sources that follow. Cite every claim with its source number, like [1], and end with the list of sources you used (title and URI). If the sources do not answer it, say so.\n\nQuestion: {question}\n\nSources:\n{}",
                sources.join("\n")
            )
        };
        let mut messages = vec![PromptMessage::new_text(Role::User, instructions)];
        messages.extend(embedded);
        Ok(GetPromptResult::new(messages)
            .with_description(format!("Answer with sources: {question}")))
    }

    async fn summarize_document(&self, uri: String) -> Result<GetPromptResult, McpError> {
        let doc =
            blocking(&self.engine, move |e| e.read(&uri, None)).await.map_err(resource_error)?;
        let instructions = format!(
            "Summarize the document \"{}\" <{}> that follows: its purpose, its main points in a short list, and anything a reader must act on.",
            doc.title, doc.uri
        );
        let resource =
            ResourceContents::text(doc.text, doc.uri.clone()).with_mime_type(doc.mime_type);
        Ok(GetPromptResult::new(vec![
            PromptMessage::new_text(Role::User, instructions),
            PromptMessage::new(Role::User, ContentBlock::resource(resource)),
        ])
        .with_description(format!("Summarize {}", doc.title)))
    }

    /// Sends one change to a stateful session: list changes always, updates for subscribed URIs,
    /// and a log message when the client asked for logs at `info` or below.
    #[allow(deprecated)] // SEP-2577 deprecates logging; the stateful revisions still have it
    async fn forward_legacy(&self, peer: &rmcp::Peer<RoleServer>, change: &Change) -> bool {
        let level = *self.log_level.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if level.is_some_and(|l| l <= INFO_RANK) && !change.updated.is_empty() {
            let message = rmcp::model::LoggingMessageNotificationParam::new(
                rmcp::model::LoggingLevel::Info,
                serde_json::json!({
                    "message": format!("re-indexed {} document(s)", change.updated.len()),
                    "documents": change.updated,
                }),
            )
            .with_logger("switchboard-kb");
            if peer.notify_logging_message(message).await.is_err() {
                return false;
            }
        }
        if change.list_changed && peer.notify_resource_list_changed().await.is_err() {
            return false;
        }
        let wanted: Vec<String> = {
            let subscribed =
                self.subscribed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            change.updated.iter().filter(|u| subscribed.contains(*u)).cloned().collect()
        };
        for uri in wanted {
            if peer
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                .await
                .is_err()
            {
                return false;
            }
        }
        true
    }
}

const INFO_RANK: u8 = 1;

#[allow(deprecated)] // SEP-2577 deprecates logging; the stateful revisions still have it
fn rank(level: rmcp::model::LoggingLevel) -> u8 {
    use rmcp::model::LoggingLevel as L;
    match level {
        L::Debug => 0,
        L::Info => 1,
        L::Notice => 2,
        L::Warning => 3,
        L::Error => 4,
        L::Critical => 5,
        L::Alert => 6,
        L::Emergency => 7,
    }
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[…]");
    }
}

fn internal(e: Error) -> McpError {
    McpError::internal_error(e.to_string(), None)
}

fn resource_error(e: Error) -> McpError {
    match e {
        Error::NotFound(_) | Error::OutsideRoots(_) => {
            McpError::resource_not_found(e.to_string(), None)
        }
        Error::Invalid(_) => McpError::invalid_params(e.to_string(), None),
        other => internal(other),
    }
}

fn argument(request: &GetPromptRequestParams, name: &str) -> Result<String, McpError> {
    request
        .arguments
        .as_ref()
        .and_then(|args| args.get(name))
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            McpError::invalid_params(format!("the prompt needs the argument {name:?}"), None)
        })
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for KbServer {
    #[allow(deprecated)] // `logging`: deprecated by SEP-2577, still part of the stateful revisions
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_resources_list_changed()
            .enable_prompts()
            .enable_completions()
            .enable_logging()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("switchboard-kb", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "The user's own documents (notes, docs, tickets). Use `search` to find relevant sections, `read_document` to read one, `create_ticket` / `add_note` to write. Cite documents by their kb:// URI.",
            )
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let cursor = request.and_then(|r| r.cursor);
        let page = self.engine.list(None, cursor.as_deref(), RESOURCE_PAGE);
        let resources = page
            .documents
            .into_iter()
            .map(|d| {
                let mime = crate::source::format_of(std::path::Path::new(&d.key))
                    .map_or("text/markdown", crate::source::Format::mime_type);
                Resource::new(d.uri, d.key)
                    .with_title(d.title)
                    .with_mime_type(mime)
                    .with_size(d.size)
            })
            .collect();
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = page.next_cursor;
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(format!("{SCHEME}{{+path}}"), "document")
                .with_title("Knowledge-base document")
                .with_description("Any document of the knowledge base by its path: the folder's name, then the path inside it")
                .with_mime_type("text/markdown"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.clone();
        if !uri.starts_with(SCHEME) {
            return Err(McpError::resource_not_found(format!("{uri} is not a {SCHEME} URI"), None));
        }
        let doc =
            blocking(&self.engine, move |e| e.read(&uri, None)).await.map_err(resource_error)?;
        let contents = ResourceContents::text(doc.text, request.uri).with_mime_type(doc.mime_type);
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    /// Completes `summarize_document`'s `uri` and the `kb://{+path}` template's `path` from the
    /// documents' paths and titles.
    async fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, McpError> {
        use rmcp::model::{CompleteResult, CompletionInfo, Reference};
        let as_uri = match (&request.r#ref, request.argument.name.as_str()) {
            (Reference::Prompt(p), "uri") if p.name == "summarize_document" => Some(true),
            (Reference::Resource(r), "path") if r.uri.starts_with(SCHEME) => Some(false),
            _ => None,
        };
        let Some(as_uri) = as_uri else {
            return Ok(CompleteResult::new(CompletionInfo::default()));
        };
        let (keys, total) =
            self.engine.complete(&request.argument.value, CompletionInfo::MAX_VALUES);
        let values: Vec<String> =
            keys.into_iter().map(|k| if as_uri { crate::roots::uri_of(&k) } else { k }).collect();
        let has_more = total > values.len();
        let info = CompletionInfo::with_pagination(values, Some(total as u32), has_more)
            .map_err(|e| McpError::internal_error(e, None))?;
        Ok(CompleteResult::new(info))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(Self::prompts()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let result = match request.name.as_str() {
            "answer_with_sources" => {
                self.answer_with_sources(argument(&request, "question")?).await?
            }
            "summarize_document" => self.summarize_document(argument(&request, "uri")?).await?,
            other => {
                return Err(McpError::invalid_params(format!("no prompt named {other:?}"), None));
            }
        };
        Ok(result.into())
    }

    #[allow(deprecated)] // SEP-2577 deprecates logging; the stateful revisions still have it
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        *self.log_level.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(rank(request.level));
        Ok(())
    }

    #[allow(deprecated)] // the stateful revisions' way; 2026-07-28 uses `listen` below
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscribed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(request.uri);
        Ok(())
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscribed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&request.uri);
        Ok(())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        // A stateful session: forward changes until the client goes away.
        let this = self.clone();
        let peer = context.peer;
        let mut changes = self.engine.subscribe();
        tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(change) => {
                        if !this.forward_legacy(&peer, &change).await {
                            break;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let everything = Change { updated: Vec::new(), list_changed: true };
                        if !this.forward_legacy(&peer, &everything).await {
                            break;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
                if peer.is_transport_closed() {
                    break;
                }
            }
        });
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::builder();
        if requested.resources_list_changed == Some(true) {
            accepted = accepted.resources_list_changed();
        }
        for uri in requested.resource_subscriptions.iter().flatten() {
            if uri.starts_with(SCHEME) {
                accepted = accepted.resource_subscription(uri.clone());
            }
        }
        Some(accepted.build())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let mut changes = self.engine.subscribe();
        let sink = context.sink().clone();
        let wanted: HashSet<String> =
            context.accepted().resource_subscriptions.iter().flatten().cloned().collect();
        let list = context.accepted().resources_list_changed == Some(true);
        loop {
            let change = tokio::select! {
                () = context.cancelled() => return Ok(()),
                change = changes.recv() => change,
            };
            let change = match change {
                Ok(change) => change,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    Change { updated: wanted.iter().cloned().collect(), list_changed: true }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            };
            if list && change.list_changed && sink.notify_resource_list_changed().await.is_err() {
                return Ok(());
            }
            for uri in change.updated.iter().filter(|u| wanted.contains(*u)) {
                if sink.notify_resource_updated(uri.clone()).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}
