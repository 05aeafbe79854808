//! A fixture MCP server (rmcp, stdio) that behaves or misbehaves on purpose, for the supervisor's
//! tests and benchmarks. `sb-fixture MODE [--exit-code N] [--stamp FILE] [--after-ms MS]`:
//!
//! - `ok`: a well-behaved server with an `echo` tool; exits when stdin closes.
//! - `exit-at-start`: prints an error to stderr and exits before the handshake.
//! - `crash-after`: serves, then exits with `--exit-code` (default 1) after `--after-ms`.
//! - `ignore-sigterm`: ignores SIGTERM and keeps running after stdin closes (needs SIGKILL).
//! - `fork-grandchild`: starts a grandchild (`sleep` mode) in its process group, then serves.
//! - `flood-stderr`: serves while writing stderr as fast as it can, including endless lines.
//! - `silent`: reads stdin but never answers (handshake timeout).
//! - `sleep`: sleeps forever (the grandchild).
//! - `spew`: no server: writes `--bytes` bytes of numbered lines to stdout, then as many bytes of
//!   one endless line to stderr, and exits with `--exit-code` (for bounded output reading).
//!
//! Every mode that serves offers these tools, for the tester's tests: `echo`, `pid`, `ship` (an
//! input schema with `$defs`, `anyOf`, enums, arrays and defaults), `hang` (never answers),
//! `junk` (writes a line that is not JSON to stdout, then never answers), `huge` (answers with
//! `bytes` bytes of text), `die` (the process exits mid-call), `progress` (`count` progress
//! notifications to the caller's token and as many log messages, then the answer), `flood`
//! (`count` log messages as fast as it can, then the answer), `wait_cancel` (answers nothing
//! until cancelled, then writes `cancelled: wait_cancel` to stderr), `ask` (asks the client to
//! sample an answer: `sampling/createMessage`), `roots` (lists the client's roots) and `touch`
//! (says the resource `uri` changed). It offers one resource, `fixture://note`, that clients of either
//! era may subscribe to (`resources/subscribe`, or `subscriptions/listen`).
//!
//! `--bytes N` is how much `spew` writes to each stream (default 1 MiB).
//! `--tag WORD` does nothing but mark the command line, so a test can find its processes.
//! `--stamp FILE` writes the nanoseconds since the Unix epoch to FILE just before a crash exit.
//! `--describe-from FILE` takes the `echo` tool's description from FILE at start (tool-pinning
//! tests change it between starts).
//!
//! With `SB_FIXTURE_PIDS=FILE` in its environment (a grandchild inherits it), every process of
//! the fixture appends `PID PGID START_TICKS` to FILE first thing: the kill-loop tests' own
//! record of what was ever started, independent of Switchboard's.

#![allow(clippy::disallowed_methods)] // a test fixture may start its grandchild directly
#![allow(clippy::expect_used)] // a fixture that cannot set itself up should die loudly
#![allow(deprecated)] // logging (SEP-2577) is what servers of every earlier revision use

use std::{io::Write, time::Duration};

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler, ServiceExt,
    handler::server::{
        router::tool::ToolRouter,
        tool::{InputResponses, RequestState},
        wrapper::Parameters,
    },
    model::{
        CallToolResponse, CallToolResult, ContentBlock, CreateMessageRequest,
        CreateMessageRequestParams, Implementation, InputRequest, InputRequiredResult,
        ListResourcesResult, LoggingLevel, LoggingMessageNotificationParam, PaginatedRequestParams,
        ProgressNotificationParam, ReadResourceRequestParams, ReadResourceResponse,
        ReadResourceResult, Resource, ResourceContents, ResourceUpdatedNotificationParam,
        SamplingMessage, ServerCapabilities, ServerConfig, SubscribeRequestParams,
        SubscriptionFilter, UnsubscribeRequestParams,
    },
    service::{RequestContext, SubscriptionContext},
    tool, tool_handler, tool_router,
};
use serde::Deserialize;

/// Like `eprintln!`, but a closed stderr (the owner is gone) is not a reason to panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// What to say back.
    message: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct CountArgs {
    /// How many notifications to send before answering.
    count: u32,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct HugeArgs {
    /// How many bytes of text to answer with.
    bytes: usize,
}

/// Where a shipment goes.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct Address {
    street: String,
    city: String,
    /// ISO 3166 country code.
    country: Option<String>,
}

// Serialize too, so that the schema carries the default.
#[derive(Debug, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Priority {
    Low,
    #[default]
    Normal,
    Urgent,
}

/// How to reach the recipient: by email or by phone.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
enum Contact {
    Email { email: String },
    Phone { phone: String },
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct Item {
    sku: String,
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    quantity: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ShipArgs {
    destination: Address,
    #[serde(default)]
    priority: Priority,
    contact: Contact,
    items: Vec<Item>,
    /// Gift wrapping.
    #[serde(default)]
    gift: bool,
}

/// An info-level log message from the fixture.
fn log(text: String) -> LoggingMessageNotificationParam {
    LoggingMessageNotificationParam::new(LoggingLevel::Info, serde_json::Value::String(text))
        .with_logger("sb-fixture")
}

#[derive(Debug, Clone)]
struct Fixture {
    tool_router: ToolRouter<Self>,
    /// URIs `touch` said changed, for the 2026-07-28 listen streams.
    updates: tokio::sync::broadcast::Sender<String>,
    /// URIs a stateful client subscribed to with `resources/subscribe`.
    subscribed: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

/// The one resource the fixture offers.
const NOTE: &str = "fixture://note";

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct AskArgs {
    /// What to ask the client's model.
    question: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct TouchArgs {
    /// The resource that changed.
    uri: String,
}

#[tool_router(router = tool_router)]
impl Fixture {
    #[tool(description = "Echo a message back")]
    async fn echo(&self, Parameters(args): Parameters<EchoArgs>) -> String {
        format!("Echo: {}", args.message)
    }

    #[tool(description = "The fixture's process id")]
    async fn pid(&self) -> String {
        std::process::id().to_string()
    }

    #[tool(description = "Ship items to an address")]
    async fn ship(&self, Parameters(args): Parameters<ShipArgs>) -> String {
        let count: u32 = args.items.iter().map(|i| i.quantity).sum();
        let contact = match args.contact {
            Contact::Email { email } => email,
            Contact::Phone { phone } => phone,
        };
        let skus: Vec<&str> = args.items.iter().map(|i| i.sku.as_str()).collect();
        let country = args.destination.country.map(|c| format!(", {c}")).unwrap_or_default();
        format!(
            "Shipping {count} item(s) [{}] to {}, {}{country} ({:?}{}); contact {contact}",
            skus.join(", "),
            args.destination.street,
            args.destination.city,
            args.priority,
            if args.gift { ", gift-wrapped" } else { "" }
        )
    }

    #[tool(description = "Never answers")]
    async fn hang(&self) -> String {
        std::future::pending::<()>().await;
        String::new()
    }

    #[tool(description = "Writes a line that is not JSON to stdout, then never answers")]
    async fn junk(&self) -> String {
        {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"this is not json {\n");
            let _ = out.flush();
        }
        std::future::pending::<()>().await;
        String::new()
    }

    #[tool(description = "Answers with the given number of bytes of text")]
    async fn huge(&self, Parameters(args): Parameters<HugeArgs>) -> String {
        "h".repeat(args.bytes)
    }

    #[tool(description = "Reports `count` steps of progress (to the caller's progress token) and \
                          logs each one, then answers")]
    async fn progress(
        &self,
        Parameters(args): Parameters<CountArgs>,
        context: RequestContext<RoleServer>,
    ) -> String {
        let token = context.meta.get_progress_token();
        for step in 1..=args.count {
            if let Some(token) = &token {
                let update = ProgressNotificationParam::new(token.clone(), f64::from(step))
                    .with_total(f64::from(args.count))
                    .with_message(format!("step {step}"));
                let _ = context.peer.notify_progress(update).await;
            }
            let _ = context.peer.notify_logging_message(log(format!("step {step}"))).await;
        }
        format!("{} steps", args.count)
    }

    #[tool(description = "Sends `count` log messages as fast as it can, then answers")]
    async fn flood(
        &self,
        Parameters(args): Parameters<CountArgs>,
        context: RequestContext<RoleServer>,
    ) -> String {
        for n in 0..args.count {
            let _ = context.peer.notify_logging_message(log(format!("flood {n}"))).await;
        }
        format!("flooded {}", args.count)
    }

    #[tool(description = "Waits until the call is cancelled; says so on stderr")]
    async fn wait_cancel(&self, context: RequestContext<RoleServer>) -> String {
        context.ct.cancelled().await;
        say!("cancelled: wait_cancel");
        String::new()
    }

    #[tool(description = "Says the resource `uri` changed (to subscribers of either era)")]
    async fn touch(
        &self,
        Parameters(args): Parameters<TouchArgs>,
        context: RequestContext<RoleServer>,
    ) -> String {
        let _ = self.updates.send(args.uri.clone());
        let legacy = self.subscribed.lock().map(|s| s.contains(&args.uri)).unwrap_or(false);
        if legacy {
            let _ = context
                .peer
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(args.uri.clone()))
                .await;
        }
        format!("touched {}", args.uri)
    }

    #[tool(description = "Asks the client to sample an answer to `question` \
                          (sampling/createMessage) and answers with it")]
    async fn ask(
        &self,
        Parameters(args): Parameters<AskArgs>,
        context: RequestContext<RoleServer>,
    ) -> String {
        let params =
            CreateMessageRequestParams::new(vec![SamplingMessage::user_text(args.question)], 100);
        match context.peer.create_message(params).await {
            Ok(result) => {
                let message = serde_json::to_value(&result.message).unwrap_or_default();
                format!("sampled: {}", message["content"]["text"].as_str().unwrap_or_default())
            }
            Err(e) => format!("no sample: {e}"),
        }
    }

    #[tool(description = "Asks the client to sample an answer to `question` the 2026-07-28 way: \
                          an input_required result, then the answer once the retry carries it")]
    async fn ask_later(
        &self,
        Parameters(args): Parameters<AskArgs>,
        InputResponses(answers): InputResponses,
        RequestState(state): RequestState,
    ) -> CallToolResponse {
        let sampled = answers.as_ref().and_then(|a| a.get("sample"));
        match (sampled, state.as_deref()) {
            (Some(answer), Some("asked")) => {
                let said = answer["content"]["text"].as_str().unwrap_or_default();
                CallToolResponse::Complete(CallToolResult::success(vec![ContentBlock::text(
                    format!("sampled later: {said}"),
                )]))
            }
            _ => {
                let params = CreateMessageRequestParams::new(
                    vec![SamplingMessage::user_text(args.question)],
                    100,
                );
                let asked = InputRequest::CreateMessage(CreateMessageRequest::new(params));
                CallToolResponse::InputRequired(InputRequiredResult::new(
                    Some([("sample".to_owned(), asked)].into_iter().collect()),
                    Some("asked".to_owned()),
                ))
            }
        }
    }

    #[tool(description = "Lists the client's roots (roots/list)")]
    async fn roots(&self, context: RequestContext<RoleServer>) -> String {
        match context.peer.list_roots().await {
            Ok(listed) => {
                let uris: Vec<String> = listed.roots.into_iter().map(|r| r.uri).collect();
                format!("roots: {}", uris.join(" "))
            }
            Err(e) => format!("no roots: {e}"),
        }
    }

    #[tool(description = "The process exits in the middle of the call")]
    async fn die(&self) -> String {
        say!("dying mid-call on purpose");
        std::process::exit(3);
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Fixture {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_logging()
            .enable_resources()
            .enable_resources_subscribe()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("sb-fixture", env!("CARGO_PKG_VERSION")))
            .with_instructions("sb-fixture: Switchboard's test server.")
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(vec![Resource::new(NOTE, "note")]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        if request.uri != NOTE {
            return Err(McpError::resource_not_found(format!("no resource {}", request.uri), None));
        }
        Ok(ReadResourceResponse::Complete(ReadResourceResult::new(vec![ResourceContents::text(
            "a note", NOTE,
        )])))
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut subscribed) = self.subscribed.lock() {
            subscribed.insert(request.uri);
        }
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut subscribed) = self.subscribed.lock() {
            subscribed.remove(&request.uri);
        }
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(requested.clone())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let wanted = context.accepted().resource_subscriptions.clone().unwrap_or_default();
        let mut updates = self.updates.subscribe();
        loop {
            tokio::select! {
                () = context.cancelled() => return Ok(()),
                update = updates.recv() => match update {
                    Ok(uri) if wanted.contains(&uri) => {
                        if context.sink().notify_resource_updated(uri).await.is_err() {
                            return Ok(());
                        }
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
                },
            }
        }
    }
}

struct Options {
    mode: String,
    exit_code: i32,
    after: Duration,
    stamp: Option<String>,
    describe_from: Option<String>,
    bytes: usize,
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        mode: args.next().unwrap_or_else(|| "ok".into()),
        exit_code: 1,
        after: Duration::from_millis(200),
        stamp: None,
        describe_from: None,
        bytes: 1024 * 1024,
    };
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--exit-code" => options.exit_code = value.parse().unwrap_or(1),
            "--after-ms" => options.after = Duration::from_millis(value.parse().unwrap_or(200)),
            "--stamp" => options.stamp = Some(value),
            "--describe-from" => options.describe_from = Some(value),
            "--bytes" => options.bytes = value.parse().unwrap_or(1024 * 1024),
            // Only there to be found in the process list by tests.
            "--tag" => {}
            other => {
                say!("sb-fixture: unknown flag {other}");
                std::process::exit(2);
            }
        }
    }
    options
}

/// Appends this process's `PID PGID START_TICKS` (field 22 of `/proc/self/stat`) to the file
/// `SB_FIXTURE_PIDS` names, in one `write` so that lines of concurrent processes do not mix.
fn record_pid() {
    let Some(path) = std::env::var_os("SB_FIXTURE_PIDS") else { return };
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string("/proc/self/stat").expect("read /proc/self/stat");
        let rest = &stat[stat.rfind(')').expect("comm") + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let line = format!("{} {} {}\n", std::process::id(), fields[2], fields[19]);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open the pid ledger");
        file.write_all(line.as_bytes()).expect("append to the pid ledger");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

fn stamp_and_exit(options: &Options) -> ! {
    if let Some(path) = &options.stamp {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let _ = std::fs::write(path, nanos.to_string());
    }
    std::process::exit(options.exit_code)
}

/// `bytes` bytes of numbered lines to stdout, then `bytes` bytes without a newline to stderr.
fn spew(bytes: usize) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut left = bytes;
    for i in 0u64.. {
        if left == 0 {
            break;
        }
        let line = format!("spew line {i}\n");
        let part = &line.as_bytes()[..line.len().min(left)];
        if out.write_all(part).is_err() {
            return;
        }
        left -= part.len();
    }
    let _ = out.flush();
    let mut err = std::io::stderr().lock();
    let block = [b'e'; 64 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len());
        if err.write_all(&block[..n]).is_err() {
            return;
        }
        left -= n;
    }
}

#[tokio::main]
async fn main() {
    record_pid();
    let options = options();
    match options.mode.as_str() {
        "exit-at-start" => {
            say!("fatal: the API key is missing");
            std::process::exit(options.exit_code);
        }
        "sleep" => loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        },
        "silent" => {
            let mut sink = tokio::io::sink();
            let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut sink).await;
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        }
        "ignore-sigterm" => {
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("install SIGTERM handler");
                tokio::spawn(async move {
                    while term.recv().await.is_some() {
                        say!("got SIGTERM, ignoring it");
                    }
                });
            }
        }
        "fork-grandchild" => {
            let exe = std::env::current_exe().expect("own path");
            let child = std::process::Command::new(exe)
                .arg("sleep")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("start grandchild");
            say!("grandchild pid {}", child.id());
            // Deliberately never waited for: it must not outlive its group.
            std::mem::forget(child);
        }
        // Starts flooding once it has announced itself (below).
        "flood-stderr" => {}
        "crash-after" => {
            let after = options.after;
            let exit_code = options.exit_code;
            let stamp = options.stamp.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                say!("crashing on purpose");
                stamp_and_exit(&Options {
                    mode: String::new(),
                    exit_code,
                    after,
                    stamp,
                    describe_from: None,
                    bytes: 0,
                });
            });
        }
        "spew" => {
            spew(options.bytes);
            std::process::exit(options.exit_code);
        }
        "ok" => {}
        other => {
            say!("sb-fixture: unknown mode {other}");
            std::process::exit(2);
        }
    }

    say!("sb-fixture {} serving on stdio (pid {})", options.mode, std::process::id());
    if options.mode == "flood-stderr" {
        // Each line takes the stderr lock on its own, so nothing else here is starved of it.
        std::thread::spawn(|| {
            let long = "y".repeat(64 * 1024);
            for i in 0u64.. {
                say!("flood line {i}");
                if i % 1000 == 0 {
                    say!("{long}{long}");
                }
            }
        });
    }
    let mut tool_router = Fixture::tool_router();
    if let Some(path) = &options.describe_from {
        let text = std::fs::read_to_string(path).expect("read --describe-from");
        if let Some(route) = tool_router.map.get_mut("echo") {
            route.attr.description = Some(text.trim_end().to_owned().into());
        }
    }
    let server = Fixture {
        tool_router,
        updates: tokio::sync::broadcast::channel(16).0,
        subscribed: Default::default(),
    };
    match server.serve(rmcp::transport::stdio()).await {
        Ok(running) => {
            let _ = running.waiting().await;
        }
        Err(e) => say!("sb-fixture: handshake failed: {e}"),
    }
    if options.mode == "ignore-sigterm" {
        // The owner may be gone (stderr is then a broken pipe): a write error must not end us.
        say!("stdin closed; staying alive anyway");
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
}
