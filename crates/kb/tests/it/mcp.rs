//! The real `switchboard-kb` binary over stdio and Streamable HTTP, driven by our MCP client
//! (rmcp underneath), under the stateful and stateless revisions. Every message the server sends
//! is validated against the official JSON Schema of the negotiated revision.

#![allow(clippy::disallowed_methods)] // the test runs the binary under test directly

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};
use switchboard_mcp::{
    ConnectOptions, Direction, ProtocolChoice, Session, SessionOptions,
    rmcp::model::{
        ContentBlock, Reference, ResourceContents, SubscribeRequestParams, SubscriptionFilter,
    },
};
use switchboard_testkit::wait_until;
use tokio::process::{Child, Command};

use crate::support::{WAIT, write};

const KB: &str = env!("CARGO_BIN_EXE_switchboard-kb");

struct Running {
    child: Child,
    session: Session,
}

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("docs/guide.md"),
        "---\ntitle: Setup guide\ntags: [setup]\n---\n\n# Setup\n\nInstall the flamingo package.\n\n## Tokens\n\nPut the API token in the keychain.\n",
    );
    write(&dir.path().join("docs/faq.md"), "# FAQ\n\nWhy is the flamingo pink? Diet.\n");
    write(&dir.path().join("secret.md"), "outside the folder");
    dir
}

/// The server over `dir`'s `docs` folder, its index in `dir`'s `index_name` folder.
fn kb_over(dir: &Path, index_name: &str) -> Command {
    let mut command = Command::new(KB);
    command.arg("--root").arg(dir.join("docs")).arg("--index-dir").arg(dir.join(index_name));
    command
}

fn options(protocol: &ProtocolChoice) -> SessionOptions {
    SessionOptions {
        connect: ConnectOptions { protocol: protocol.clone(), ..ConnectOptions::default() },
        ..SessionOptions::default()
    }
}

/// The server over stdio, as soon as it answers its handshake.
async fn connect(dir: &Path, index_name: &str, protocol: ProtocolChoice) -> Running {
    let mut child = kb_over(dir, index_name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stdin = child.stdin.take().unwrap();
    let session = Session::stdio(stdout, stdin, &options(&protocol)).await.unwrap();
    Running { child, session }
}

async fn start(dir: &Path, protocol: ProtocolChoice) -> Running {
    let Running { child, session } = connect(dir, "index", protocol).await;
    // Wait for the start-up indexing.
    let mut ready = false;
    for _ in 0..200 {
        let status =
            session.call_tool("index_status", Default::default(), None, None).await.unwrap();
        if status.result.structured_content.as_ref().and_then(|s| s["state"].as_str())
            == Some("ready")
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the index never became ready");
    Running { child, session }
}

fn args(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn text_of(content: &[ContentBlock]) -> String {
    content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Validates every message the server sent against the negotiated revision's schema: results by
/// the method of the request they answer, notifications as `ServerNotification`.
fn assert_schema_valid(session: &Session) {
    let revision = session.details().negotiated.protocol_version.clone();
    let path = switchboard_testkit::testdata::mcp_schema(&revision);
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let defs = if schema.get("$defs").is_some() { "$defs" } else { "definitions" };
    let validator = |name: &str| {
        let mut root = schema.clone();
        root["$ref"] = json!(format!("#/{defs}/{name}"));
        jsonschema::validator_for(&root).unwrap()
    };
    let entries = session.traffic().entries();
    let mut methods: HashMap<String, String> = HashMap::new();
    let mut checked = 0;
    for entry in &entries {
        let message = &entry.message;
        match entry.direction {
            Direction::Sent => {
                if let (Some(id), Some(method)) = (message.get("id"), message["method"].as_str()) {
                    methods.insert(id.to_string(), method.to_string());
                }
            }
            Direction::Invalid => {
                panic!("the server wrote something that is not JSON-RPC: {message}")
            }
            Direction::Received => {
                let (name, instance) = if message.get("method").is_some()
                    && message.get("id").is_none()
                {
                    ("ServerNotification", message.clone())
                } else if let Some(result) = message.get("result") {
                    let method =
                        methods.get(&message["id"].to_string()).cloned().unwrap_or_default();
                    let name = match method.as_str() {
                        "initialize" => "InitializeResult",
                        "server/discover" => "DiscoverResult",
                        "tools/list" => "ListToolsResult",
                        "tools/call" => "CallToolResult",
                        "resources/list" => "ListResourcesResult",
                        "resources/templates/list" => "ListResourceTemplatesResult",
                        "resources/read" => "ReadResourceResult",
                        "prompts/list" => "ListPromptsResult",
                        "prompts/get" => "GetPromptResult",
                        "subscriptions/listen" => "SubscriptionsListenResult",
                        _ => "Result",
                    };
                    (name, result.clone())
                } else if message.get("error").is_some() {
                    (
                        if defs == "definitions" { "JSONRPCError" } else { "JSONRPCErrorResponse" },
                        message.clone(),
                    )
                } else {
                    ("JSONRPCMessage", message.clone())
                };
                let errors: Vec<String> = validator(name)
                    .iter_errors(&instance)
                    .map(|e| format!("{} at {}", e, e.instance_path))
                    .collect();
                assert!(errors.is_empty(), "{revision} {name} invalid: {errors:?}\n{instance}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 3, "only {checked} messages checked");
}

async fn exercise(protocol: ProtocolChoice, expect_revision: &str) {
    let dir = folder();
    let Running { mut child, session } = start(dir.path(), protocol).await;
    assert_eq!(session.details().negotiated.protocol_version, expect_revision);

    // Tools: output schemas and honest annotations.
    let tools = session.list_tools().await.unwrap().items;
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort();
    assert_eq!(
        names,
        ["add_note", "create_ticket", "index_status", "list_documents", "read_document", "search"]
    );
    for tool in &tools {
        assert!(tool.output_schema.is_some(), "{} has no outputSchema", tool.name);
        let hints = tool.annotations.as_ref().unwrap();
        let writes = matches!(tool.name.as_ref(), "add_note" | "create_ticket");
        assert_eq!(hints.read_only_hint, Some(!writes), "{}", tool.name);
        assert_eq!(hints.open_world_hint, Some(false), "{}", tool.name);
        if writes {
            assert_eq!(hints.destructive_hint, Some(false), "{}", tool.name);
        }
    }

    // Search: structured content valid against the output schema, section and snippet.
    let found = session
        .call_tool("search", args(json!({"query": "keychain token"})), None, None)
        .await
        .unwrap();
    let check = found.structured.unwrap();
    assert!(check.has_structured_content && check.errors.is_empty(), "{check:?}");
    let hit = &found.result.structured_content.unwrap()["hits"][0];
    assert_eq!(hit["uri"], "kb://docs/guide.md");
    assert_eq!(hit["section"], "Tokens");
    assert_eq!(hit["snippet"], "Put the API **token** in the **keychain**");

    // Tool errors are results with isError and a clear message, not crashes.
    let bad = session
        .call_tool("search", args(json!({"query": "colour:red"})), None, None)
        .await
        .unwrap();
    assert_eq!(bad.result.is_error, Some(true));
    assert!(
        text_of(&bad.result.content).contains("no field \"colour\""),
        "{:?}",
        bad.result.content
    );
    let outside = session
        .call_tool("read_document", args(json!({"document": "../secret.md"})), None, None)
        .await
        .unwrap();
    assert_eq!(outside.result.is_error, Some(true));
    assert_eq!(
        text_of(&outside.result.content),
        "../secret.md is outside the knowledge-base folders"
    );
    let section = session
        .call_tool(
            "read_document",
            args(json!({"document": "kb://docs/guide.md", "section": "tokens"})),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        section.result.structured_content.unwrap()["text"],
        "## Tokens\n\nPut the API token in the keychain.\n"
    );

    // Resources: every document, a template, reads; unknown URIs are resource errors.
    let resources = session.list_resources().await.unwrap().items;
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris, ["kb://docs/faq.md", "kb://docs/guide.md"]);
    assert_eq!(resources[1].title.as_deref(), Some("Setup guide"));
    let templates = session.list_resource_templates().await.unwrap().items;
    assert_eq!(templates[0].uri_template, "kb://{+path}");
    let read = session.read_resource("kb://docs/faq.md").await.unwrap();
    let ResourceContents::TextResourceContents { text, mime_type, .. } = &read.contents[0] else {
        panic!()
    };
    assert!(text.starts_with("# FAQ") && mime_type.as_deref() == Some("text/markdown"));
    let missing = session.read_resource("kb://docs/nope.md").await.unwrap_err().to_string();
    assert!(missing.contains("no document"), "{missing}");

    // Prompts: sources embedded with citations.
    let prompt = session
        .get_prompt(
            "answer_with_sources",
            args(json!({"question": "where does the API token go?"})),
        )
        .await
        .unwrap();
    let first = prompt.messages[0].content.as_text().unwrap().text.clone();
    assert!(first.contains("[1] Setup guide — Tokens <kb://docs/guide.md#tokens>"), "{first}");
    let embedded = prompt.messages[1].content.as_resource().expect("an embedded resource");
    let ResourceContents::TextResourceContents { uri, text, .. } = &embedded.resource else {
        panic!()
    };
    assert_eq!(uri, "kb://docs/guide.md#tokens");
    assert!(text.contains("keychain"));
    let summary =
        session.get_prompt("summarize_document", args(json!({"uri": "faq.md"}))).await.unwrap();
    assert_eq!(summary.messages.len(), 2);
    let no_arg =
        session.get_prompt("summarize_document", Default::default()).await.unwrap_err().to_string();
    assert!(no_arg.contains("needs the argument \"uri\""), "{no_arg}");

    // Completion of document arguments, by path or title.
    let values = session
        .complete(Reference::for_prompt("summarize_document"), "uri", "setup")
        .await
        .unwrap();
    assert_eq!(values, ["kb://docs/guide.md"], "by title");
    let values =
        session.complete(Reference::for_resource("kb://{+path}"), "path", "docs/f").await.unwrap();
    assert_eq!(values, ["docs/faq.md"], "by path");

    // Writing tools: the ticket is a file, indexed at once.
    let ticket = session.call_tool("create_ticket", args(json!({"title": "Flamingo colour wrong", "description": "It is **orange**.", "priority": "high", "tags": ["bug"]})), None, None).await.unwrap();
    let created = ticket.result.structured_content.unwrap();
    assert!(created["key"].as_str().unwrap().starts_with("docs/tickets/"), "{created}");
    let path = created["path"].as_str().unwrap();
    assert!(
        std::fs::read_to_string(path)
            .unwrap()
            .contains("priority: high\nstatus: open\ntags: [\"bug\"]")
    );
    let found = session
        .call_tool("search", args(json!({"query": "orange", "tags": ["bug"]})), None, None)
        .await
        .unwrap();
    assert_eq!(found.result.structured_content.unwrap()["hits"][0]["uri"], created["uri"]);

    assert_schema_valid(&session);
    session.close(Duration::from_secs(5)).await;
    let status =
        tokio::time::timeout(Duration::from_secs(10), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "the server exited with {status} when its client left");
}

/// A host's first search, made the moment a fresh server answers (no index yet), gets the
/// small folder's documents, not an empty list: it waits for the first index to exist.
#[tokio::test(flavor = "multi_thread")]
async fn a_first_search_on_a_fresh_index_waits_for_it() {
    let dir = folder();
    for round in 0..5 {
        let Running { mut child, session } =
            connect(dir.path(), &format!("index-{round}"), ProtocolChoice::default()).await;
        let found = session
            .call_tool("search", args(json!({"query": "flamingo"})), None, None)
            .await
            .unwrap();
        let result = found.result.structured_content.unwrap();
        assert_eq!(result["hits"].as_array().map(Vec::len), Some(2), "round {round}: {result}");
        assert_eq!(result["indexing"], false, "round {round}: {result}");
        drop(session);
        let _ = child.wait().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_stateless_2026() {
    exercise(ProtocolChoice::Auto, "2026-07-28").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_stateful_2025_11_25() {
    exercise(ProtocolChoice::Force("2025-11-25".into()), "2025-11-25").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_oldest_2024_11_05() {
    exercise(ProtocolChoice::Force("2024-11-05".into()), "2024-11-05").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stateful_sessions_get_resource_notifications() {
    let dir = folder();
    let Running { session, child: _child } =
        start(dir.path(), ProtocolChoice::Force("2025-11-25".into())).await;
    #[allow(deprecated)] // the stateful revisions' way, which is what this test is about
    session.peer().subscribe(SubscribeRequestParams::new("kb://docs/faq.md")).await.unwrap();
    // Only what arrives from here on (the start-up indexing announced the first documents).
    let mark = session.traffic().next_seq();
    let received = |method: &str, uri: Option<&str>| {
        session.traffic().entries().iter().any(|e| {
            e.seq >= mark
                && e.direction == Direction::Received
                && e.message["method"] == method
                && uri.is_none_or(|u| e.message["params"]["uri"] == u)
        })
    };
    write(&dir.path().join("docs/faq.md"), "# FAQ\n\nWhy is the flamingo pink? Shrimp.\n");
    assert!(wait_until(WAIT, || received(
        "notifications/resources/updated",
        Some("kb://docs/faq.md")
    )));
    assert!(
        !received("notifications/resources/list_changed", None),
        "an edit does not change the list"
    );
    write(&dir.path().join("docs/new.md"), "# New\n");
    assert!(wait_until(WAIT, || received("notifications/resources/list_changed", None)));
    // Not subscribed: no update for it.
    write(&dir.path().join("docs/guide.md"), "# Changed\n");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!received("notifications/resources/updated", Some("kb://docs/guide.md")));
    assert_schema_valid(&session);
}

#[tokio::test(flavor = "multi_thread")]
async fn stateless_sessions_listen_for_changes() {
    let dir = folder();
    let Running { session, child: _child } = start(dir.path(), ProtocolChoice::Auto).await;
    let filter = SubscriptionFilter::builder()
        .resources_list_changed()
        .resource_subscription("kb://docs/guide.md")
        .build();
    let mut subscription = session.peer().listen(filter).await.unwrap();
    assert_eq!(
        subscription.acknowledged().resource_subscriptions.as_deref(),
        Some(&["kb://docs/guide.md".to_string()][..])
    );
    write(&dir.path().join("docs/guide.md"), "# Setup\n\nChanged.\n");
    let next = tokio::time::timeout(WAIT, subscription.next()).await.unwrap().unwrap().unwrap();
    let json = serde_json::to_value(&next).unwrap();
    assert_eq!(json["method"], "notifications/resources/updated", "{json}");
    assert_eq!(json["params"]["uri"], "kb://docs/guide.md");
    write(&dir.path().join("docs/another.md"), "# Another\n");
    let next = tokio::time::timeout(WAIT, subscription.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&next).unwrap()["method"],
        "notifications/resources/list_changed"
    );
    assert_schema_valid(&session);
}

/// The binary over HTTP: its URL, the token file it named, and everything it wrote to stderr.
struct HttpKb {
    child: Child,
    url: String,
    token_file: Option<PathBuf>,
    stderr: Arc<Mutex<String>>,
}

impl HttpKb {
    /// The token in the file the server named.
    fn token(&self) -> String {
        let file = self.token_file.as_ref().expect("the server named no token file");
        std::fs::read_to_string(file).unwrap().trim().to_owned()
    }

    /// `Authorization: Bearer <token>` for our MCP client.
    fn auth(&self) -> HashMap<String, String> {
        HashMap::from([("Authorization".to_owned(), format!("Bearer {}", self.token()))])
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    async fn stop(mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}

/// The binary with `--http 127.0.0.1:0` (and `extra` arguments) over `dir`, once it listens.
async fn start_http(dir: &Path, extra: &[&str]) -> HttpKb {
    use tokio::io::AsyncBufReadExt;
    let mut child = kb_over(dir, "index")
        .args(["--http", "127.0.0.1:0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let stderr = Arc::new(Mutex::new(String::new()));
    let seen = stderr.clone();
    let (url, token_file) = tokio::time::timeout(WAIT, async {
        let mut token_file = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some(path) = line.strip_prefix("token in ") {
                token_file = Some(PathBuf::from(path));
            }
            if let Some(url) = line.strip_prefix("listening on ") {
                return (url.to_string(), token_file);
            }
        }
        panic!("the server exited without listening: {}", seen.lock().unwrap());
    })
    .await
    .unwrap();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            seen.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    HttpKb { child, url, token_file, stderr }
}

#[tokio::test(flavor = "multi_thread")]
async fn streamable_http_serves_both_eras_and_refuses_foreign_origins() {
    let dir = folder();
    let kb = start_http(dir.path(), &[]).await;
    let url = kb.url.clone();
    for (protocol, revision) in [
        (ProtocolChoice::Auto, "2026-07-28"),
        (ProtocolChoice::Force("2025-11-25".into()), "2025-11-25"),
    ] {
        let session = Session::http(&url, &kb.auth(), None, &options(&protocol)).await.unwrap();
        assert_eq!(session.details().negotiated.protocol_version, revision);
        let mut hits = Value::Null;
        for _ in 0..100 {
            let found = session
                .call_tool("search", args(json!({"query": "flamingo"})), None, None)
                .await
                .unwrap();
            hits = found.result.structured_content.unwrap()["hits"].clone();
            if hits.as_array().is_some_and(|h| h.len() == 2) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(hits.as_array().map(Vec::len), Some(2), "{hits}");
        assert_schema_valid(&session);
        session.close(Duration::from_secs(5)).await;
    }

    // DNS rebinding: a page on another origin, or a request for another host, is refused by
    // rmcp's own checks even when it carries the token.
    let client = reqwest::Client::new();
    let bearer = format!("Bearer {}", kb.token());
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}});
    let post = |headers: Vec<(&'static str, &'static str)>| {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "server/discover")
            .header("authorization", &bearer)
            .json(&body);
        for (k, v) in headers {
            request = request.header(k, v);
        }
        request.send()
    };
    assert_eq!(post(vec![("origin", "http://evil.example")]).await.unwrap().status(), 403);
    assert_eq!(post(vec![("host", "evil.example")]).await.unwrap().status(), 403);
    let local = post(vec![("origin", "http://localhost:3000")]).await.unwrap();
    assert_eq!(local.status(), 200, "{:?}", local.text().await);

    kb.stop().await;
}

/// One stateless 2026-07-28 request over raw HTTP, with `authorization` when given.
async fn stateless(
    url: &str,
    method: &str,
    name: Option<&str>,
    mut params: Value,
    authorization: Option<&str>,
) -> reqwest::Response {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .json(&body);
    if let Some(name) = name {
        request = request.header("mcp-name", name);
    }
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    request.send().await.unwrap()
}

async fn discover(url: &str, authorization: Option<&str>) -> reqwest::StatusCode {
    stateless(url, "server/discover", None, json!({}), authorization).await.status()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn is_token(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Over HTTP every request needs the token, which lives in an owner-only file beside the index:
/// without it, or with a wrong one, a request that would write a note is 401 and writes nothing,
/// and so is every other method and path; with it the same request writes the note. The file is
/// made once, 0600 in a new 0700 folder, named on stderr (the token itself never is), reused by
/// the next start (tightened again if loosened), and replaced with a warning when it is corrupted
/// or empty, after which the old token is refused.
#[tokio::test(flavor = "multi_thread")]
async fn http_requests_need_the_token_kept_owner_only_beside_the_index() {
    let dir = folder();
    let index = dir.path().join("index");
    let file = index.join("http-token");
    let kb = start_http(dir.path(), &[]).await;
    assert_eq!(kb.token_file.as_deref(), Some(file.as_path()), "{}", kb.stderr());
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&index), 0o700);
    let mut token = kb.token();
    assert!(is_token(&token), "{token:?}");
    let stderr = kb.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    let token_line = lines.iter().position(|l| l.starts_with("token in ")).unwrap();
    let listening = lines.iter().position(|l| l.starts_with("listening on http://")).unwrap();
    assert!(token_line < listening, "{stderr}");

    let notes = dir.path().join("docs/notes");
    let note =
        json!({"name": "add_note", "arguments": {"title": "Planted", "text": "from a stranger"}});
    let mut wrong = token.clone().into_bytes();
    wrong[63] = if wrong[63] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    for authorization in [
        None,
        Some(format!("Bearer {wrong}")),
        Some(format!("Bearer {}", &token[..32])),
        Some(format!("Bearer {token}0")),
        Some(token.clone()),
        Some(format!("Basic {token}")),
        Some("Bearer ".to_owned()),
    ] {
        let answer = stateless(
            &kb.url,
            "tools/call",
            Some("add_note"),
            note.clone(),
            authorization.as_deref(),
        )
        .await;
        assert_eq!(answer.status(), 401, "{authorization:?}");
        assert_eq!(answer.headers()["www-authenticate"], "Bearer");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], -32600, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("http-token"), "{body}");
    }
    let client = reqwest::Client::new();
    let get = client.get(&kb.url).header("accept", "text/event-stream").send().await.unwrap();
    assert_eq!(get.status(), 401);
    let delete = client.delete(&kb.url).header("mcp-session-id", "any").send().await.unwrap();
    assert_eq!(delete.status(), 401);
    let elsewhere = client.get(kb.url.replace("/mcp", "/elsewhere")).send().await.unwrap();
    assert_eq!(elsewhere.status(), 401);
    // A page's foreign Origin without the token is refused too (401 before rmcp's 403).
    let page = client.post(&kb.url).header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(page.status(), 401);
    assert!(
        Session::http(&kb.url, &HashMap::new(), None, &options(&ProtocolChoice::Auto))
            .await
            .is_err()
    );
    assert!(!notes.exists(), "a request without the token wrote a note");

    // The same call with the token writes the note; our client works with it.
    let bearer = format!("Bearer {token}");
    let answer = stateless(&kb.url, "tools/call", Some("add_note"), note, Some(&bearer)).await;
    assert_eq!(answer.status(), 200);
    let text = answer.text().await.unwrap();
    assert!(text.contains("kb://docs/notes/"), "{text}");
    assert_eq!(std::fs::read_dir(&notes).unwrap().count(), 1);
    let session =
        Session::http(&kb.url, &kb.auth(), None, &options(&ProtocolChoice::Auto)).await.unwrap();
    assert_eq!(session.list_tools().await.unwrap().items.len(), 6);
    session.close(Duration::from_secs(5)).await;
    assert!(!kb.stderr().contains(&token), "the token was logged: {}", kb.stderr());
    kb.stop().await;

    // The next start reuses it, and makes a loosened file owner-only again.
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let kb = start_http(dir.path(), &[]).await;
    assert_eq!(kb.token(), token);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(discover(&kb.url, Some(&bearer)).await, 200);
    assert!(kb.stderr().contains("made owner-only"), "{}", kb.stderr());
    kb.stop().await;

    // A corrupted or empty file is replaced, with a warning; the old token is refused then.
    for (corrupt, says) in [
        ("not a token\n", "does not hold a token"),
        (&*"ab".repeat(31), "does not hold a token"),
        ("", "is empty"),
    ] {
        std::fs::write(&file, corrupt).unwrap();
        let kb = start_http(dir.path(), &[]).await;
        let new = kb.token();
        assert!(is_token(&new) && new != token, "{new:?}");
        let stderr = kb.stderr();
        assert!(
            stderr.contains(says) && stderr.contains("replacing it with a new token"),
            "{stderr}"
        );
        assert!(!stderr.contains(&new), "the token was logged: {stderr}");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(discover(&kb.url, Some(&format!("Bearer {token}"))).await, 401);
        assert_eq!(discover(&kb.url, Some(&format!("Bearer {new}"))).await, 200);
        kb.stop().await;
        token = new;
    }
}

/// Two servers started at once over one index (the second follows the first's index) agree on
/// one token: the one in the file, accepted by both. The index is made first by a stdio run
/// (which makes no token), so that only the token's file is raced for.
#[tokio::test(flavor = "multi_thread")]
async fn servers_started_together_over_one_index_share_its_token() {
    let dir = folder();
    let stdio = kb_over(dir.path(), "index").stdin(Stdio::null()).output().await.unwrap();
    assert!(stdio.status.success(), "{}", String::from_utf8_lossy(&stdio.stderr));
    assert!(!dir.path().join("index/http-token").exists());
    let (a, b) = tokio::join!(start_http(dir.path(), &[]), start_http(dir.path(), &[]));
    let token = a.token();
    assert!(is_token(&token), "{token:?}");
    assert_eq!(a.token_file, b.token_file);
    let bearer = format!("Bearer {token}");
    assert_eq!(discover(&a.url, Some(&bearer)).await, 200, "{}", a.stderr());
    assert_eq!(discover(&b.url, Some(&bearer)).await, 200, "{}", b.stderr());
    for kb in [&a, &b] {
        assert!(!kb.stderr().contains("replacing"), "{}", kb.stderr());
    }
    a.stop().await;
    b.stop().await;
}

/// `--no-token` serves anyone, says so on stderr, and is only accepted with `--http`.
#[tokio::test(flavor = "multi_thread")]
async fn no_token_serves_without_one_and_warns() {
    let dir = folder();
    let kb = start_http(dir.path(), &["--no-token"]).await;
    assert!(kb.token_file.is_none(), "{}", kb.stderr());
    assert!(kb.stderr().contains("WARNING: --no-token"), "{}", kb.stderr());
    assert_eq!(discover(&kb.url, None).await, 200);
    kb.stop().await;
    assert!(!dir.path().join("index/http-token").exists());

    let output = Command::new(KB)
        .arg("--root")
        .arg(dir.path().join("docs"))
        .arg("--no-token")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--http"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_loopback_address_is_refused() {
    let dir = folder();
    let output = kb_over(dir.path(), "index").args(["--http", "0.0.0.0:0"]).output().await.unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("0.0.0.0:0 is not a loopback address"), "{stderr}");
    assert!(!dir.path().join("index/http-token").exists(), "a token was made for nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_folder_is_a_clear_error() {
    let output =
        Command::new(KB).args(["--root", "/nonexistent/kb-folder"]).output().await.unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the folder /nonexistent/kb-folder does not exist"), "{stderr}");
}

/// The two stateful revisions the full exercise above does not cover: a handshake, a search and a
/// read, every message valid under that revision's schema.
#[tokio::test(flavor = "multi_thread")]
async fn stdio_2025_03_26_and_2025_06_18() {
    for revision in ["2025-03-26", "2025-06-18"] {
        let dir = folder();
        let Running { session, child: _child } =
            start(dir.path(), ProtocolChoice::Force(revision.into())).await;
        assert_eq!(session.details().negotiated.protocol_version, revision);
        assert_eq!(session.list_tools().await.unwrap().items.len(), 6);
        let found = session
            .call_tool("search", args(json!({"query": "flamingo"})), None, None)
            .await
            .unwrap();
        assert!(text_of(&found.result.content).contains("kb://docs/faq.md"), "{revision}");
        let read = session.read_resource("kb://docs/guide.md").await.unwrap();
        assert_eq!(read.contents.len(), 1);
        assert_schema_valid(&session);
    }
}

/// End of input is a normal end, also before any request (a host that started the server and
/// changed its mind; a supervisor stopping a server no client has spoken to): exit code 0, and
/// the start-up indexing is committed, so the next start indexes nothing again.
#[tokio::test(flavor = "multi_thread")]
async fn end_of_input_before_any_request_exits_0_with_the_index_committed() {
    let dir = folder();
    let run = || {
        kb_over(dir.path(), "index")
            .env("RUST_LOG", "info")
            .stdin(std::process::Stdio::null())
            .output()
    };
    let first = run().await.unwrap();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "exit {}: {stderr}", first.status);
    assert!(stderr.contains("re-indexed"), "indexing did not finish: {stderr}");
    let second = run().await.unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "exit {}: {stderr}", second.status);
    assert!(stderr.contains(" 0 re-indexed"), "the first run's index was not kept: {stderr}");
}

/// The real server over a folder of PDFs, a page, code and bad files: it starts, reports each
/// bad file with its reason in `index_status` (valid against its output schema), finds text on a
/// PDF's page, serves the PDF's text as a resource, and keeps answering after all of it.
#[tokio::test(flavor = "multi_thread")]
async fn pdf_html_code_and_bad_files_through_the_real_server() {
    use crate::formats::pdf;
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    write(&docs.join("guide.md"), "# Guide\n\nThe flamingo is pink.\n");
    write(
        &docs.join("site/page.html"),
        "<title>Heron page</title><nav>menu</nav><h1>Herons</h1><p>Herons nest in colonies.</p>",
    );
    write(&docs.join("src/lib.py"), "def nest_count(colony):\n    return len(colony)\n");
    let page = |line: &str| vec![line.to_string()];
    std::fs::write(
        docs.join("field.pdf"),
        pdf(
            &[page("Page one is about egrets."), page("Page two: the bittern booms at dusk.")],
            false,
        ),
    )
    .unwrap();
    std::fs::write(docs.join("locked.pdf"), pdf(&[page("secret bittern")], true)).unwrap();
    std::fs::write(docs.join("broken.pdf"), b"%PDF-1.4\n1 0 obj << /Type /Catalog").unwrap();
    std::fs::File::create(docs.join("huge.html")).unwrap().set_len(9 * 1024 * 1024).unwrap();
    let Running { mut child, session } = start(dir.path(), ProtocolChoice::Auto).await;

    let status = session.call_tool("index_status", Default::default(), None, None).await.unwrap();
    let check = status.structured.unwrap();
    assert!(check.has_structured_content && check.errors.is_empty(), "{check:?}");
    let status = status.result.structured_content.unwrap();
    assert_eq!(status["documents"], 4, "{status}");
    assert_eq!(
        status["documents_by_format"],
        json!({"code": 1, "html": 1, "markdown": 1, "pdf": 1})
    );
    let reasons: HashMap<String, String> = status["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["path"].as_str().unwrap().into(), s["reason"].as_str().unwrap().into()))
        .collect();
    assert_eq!(reasons["docs/locked.pdf"], "encrypted (a PDF that needs a password)");
    assert!(reasons["docs/broken.pdf"].starts_with("could not read this PDF: "), "{reasons:?}");
    assert!(reasons["docs/huge.html"].starts_with("too large"), "{reasons:?}");

    let found = session
        .call_tool("search", args(json!({"query": "bittern booms"})), None, None)
        .await
        .unwrap();
    let hit = &found.result.structured_content.unwrap()["hits"][0];
    assert_eq!(hit["uri"], "kb://docs/field.pdf");
    assert_eq!((hit["section"].as_str(), hit["anchor"].as_str()), (Some("Page 2"), Some("page=2")));

    let resources = session.list_resources().await.unwrap().items;
    let mimes: Vec<(&str, Option<&str>)> =
        resources.iter().map(|r| (r.uri.as_str(), r.mime_type.as_deref())).collect();
    assert_eq!(
        mimes,
        [
            ("kb://docs/field.pdf", Some("text/markdown")),
            ("kb://docs/guide.md", Some("text/markdown")),
            ("kb://docs/site/page.html", Some("text/markdown")),
            ("kb://docs/src/lib.py", Some("text/plain")),
        ]
    );
    let read = session.read_resource("kb://docs/field.pdf").await.unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else { panic!() };
    assert_eq!(
        text,
        "# Page 1\n\nPage one is about egrets.\n\n# Page 2\n\nPage two: the bittern booms at dusk.\n"
    );
    let locked = session
        .call_tool("read_document", args(json!({"document": "locked.pdf"})), None, None)
        .await
        .unwrap();
    assert_eq!(locked.result.is_error, Some(true));
    assert!(text_of(&locked.result.content).contains("encrypted"), "{:?}", locked.result.content);

    // Still serving.
    let found =
        session.call_tool("search", args(json!({"query": "flamingo"})), None, None).await.unwrap();
    assert_eq!(found.result.structured_content.unwrap()["hits"][0]["uri"], "kb://docs/guide.md");
    assert_schema_valid(&session);
    assert!(child.try_wait().unwrap().is_none(), "the server exited");
    session.close(Duration::from_secs(5)).await;
    let _ = child.kill().await;
}
