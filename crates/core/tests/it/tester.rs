//! The tester's client engine against real servers: the fixture (rmcp, misbehaving on purpose),
//! `@modelcontextprotocol/server-everything` over stdio, SSE and Streamable HTTP, the Python SDK
//! 2.x, and `mcp-server-time` from PyPI through `uvx`.

use std::{collections::BTreeMap, time::Duration};

use serde_json::{Map, Value, json};
use switchboard_core::{
    Paths,
    mcp::{
        ConnectOptions, HttpTransport, ProtocolChoice, SessionOptions, TransportKind,
        export::{self, Format},
        rmcp::model::{ContentBlock, Reference},
    },
    tester::{History, Target, TesterSession},
};
use switchboard_testkit::{fixture, live_processes_mentioning, peers, temp_home, wait_until};
use tokio_util::sync::CancellationToken;

fn options(timeout: Duration) -> SessionOptions {
    SessionOptions {
        connect: ConnectOptions { timeout, ..ConnectOptions::default() },
        request_timeout: timeout,
        ..SessionOptions::default()
    }
}

fn command(program: &str, args: &[&str]) -> Target {
    Target::Command {
        command: program.to_owned(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: BTreeMap::new(),
        cwd: None,
    }
}

fn fixture_target(tag: &str) -> Target {
    command(&fixture().display().to_string(), &["ok", "--tag", tag])
}

async fn open(home: &tempfile::TempDir, target: Target, timeout: Duration) -> TesterSession {
    let paths = Paths::under(home.path());
    TesterSession::open(&paths, target, &options(timeout)).await.expect("connects")
}

fn text_of(content: &[ContentBlock]) -> String {
    content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn gone(tag: &str) -> bool {
    wait_until(Duration::from_secs(5), || {
        live_processes_mentioning(tag).into_iter().all(|pid| pid == std::process::id())
    })
}

/// Plausible arguments for a schema: required properties filled with a value of their type.
fn sample(schema: &Value) -> Map<String, Value> {
    let mut args = Map::new();
    let required = switchboard_core::mcp::args::required_names(schema);
    if let Some(props) = schema["properties"].as_object() {
        for (name, prop) in props {
            if !required.contains(&name.as_str()) {
                continue;
            }
            let value = if let Some(first) = prop["enum"].as_array().and_then(|e| e.first()) {
                first.clone()
            } else {
                match prop["type"].as_str() {
                    Some("number" | "integer") => json!(2),
                    Some("boolean") => json!(true),
                    Some("array") => json!([]),
                    Some("object") => Value::Object(sample(prop)),
                    _ => json!("hello"),
                }
            };
            args.insert(name.clone(), value);
        }
    }
    args
}

#[tokio::test]
async fn auto_negotiates_2026_07_28_with_rmcp_and_every_forced_revision_is_honoured() {
    let home = temp_home();
    let session = open(&home, fixture_target("tester-rev"), Duration::from_secs(20)).await;
    let details = session.session().details().clone();
    assert_eq!(details.negotiated.protocol_version, "2026-07-28");
    assert!(details.negotiated.stateless);
    assert_eq!(details.transport, TransportKind::Stdio);
    assert!(details.capabilities.get("tools").is_some(), "{:?}", details.capabilities);
    session.close().await;
    for revision in switchboard_core::mcp::REVISIONS {
        let paths = Paths::under(home.path());
        let mut opts = options(Duration::from_secs(20));
        opts.connect.protocol = ProtocolChoice::Force((*revision).to_owned());
        let session =
            TesterSession::open(&paths, fixture_target("tester-rev"), &opts).await.expect(revision);
        assert_eq!(&session.session().details().negotiated.protocol_version, revision);
        let listing = session.session().list_tools().await.expect("tools/list");
        assert!(listing.items.iter().any(|t| t.name == "echo"), "{revision}");
        session.close().await;
    }
    assert!(gone("tester-rev"), "a fixture outlived its session");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_is_sent_a_cancellation() {
    let home = temp_home();
    let session = open(&home, fixture_target("tester-hang"), Duration::from_secs(20)).await;
    let error = session
        .call_tool("hang", Map::new(), Some(Duration::from_millis(500)), None)
        .await
        .expect_err("times out");
    assert_eq!(error.code(), "mcp_timeout");
    assert!(error.to_string().contains("tools/call: no answer within 0.5 s"), "{error}");
    // rmcp sends the cancellation from a task of its own once the call is abandoned.
    let mut cancelled = false;
    for _ in 0..100 {
        cancelled = session.session().traffic().entries().into_iter().any(|e| {
            e.method.as_deref() == Some("notifications/cancelled")
                && e.direction == switchboard_core::mcp::Direction::Sent
        });
        if cancelled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(cancelled, "no notifications/cancelled went out");
    // The session is still usable after a timed-out call.
    let echo = session
        .call_tool(
            "echo",
            json!({"message": "still here"}).as_object().cloned().unwrap(),
            None,
            None,
        )
        .await
        .expect("echo");
    assert_eq!(text_of(&echo.result.content), "Echo: still here");
    session.close().await;
    assert!(gone("tester-hang"));
}

#[tokio::test]
async fn a_call_can_be_cancelled_in_flight() {
    let home = temp_home();
    let session = open(&home, fixture_target("tester-cancel"), Duration::from_secs(20)).await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let error =
        session.call_tool("hang", Map::new(), None, Some(&cancel)).await.expect_err("cancelled");
    assert_eq!(error.code(), "mcp_cancelled", "{error}");
    let history = session.history().entries().expect("history");
    assert_eq!(history.last().map(|h| h.outcome.as_str()), Some("failed"));
    session.close().await;
    assert!(gone("tester-cancel"));
}

#[tokio::test]
async fn junk_on_stdout_is_quoted_in_the_error() {
    let home = temp_home();
    let session = open(&home, fixture_target("tester-junk"), Duration::from_secs(20)).await;
    let error = session
        .call_tool("junk", Map::new(), Some(Duration::from_secs(1)), None)
        .await
        .expect_err("no answer");
    let message = error.to_string();
    assert!(message.contains("this is not json {"), "{message}");
    assert!(message.contains("not JSON"), "{message}");
    let invalid = session
        .session()
        .traffic()
        .entries()
        .into_iter()
        .filter(|e| e.direction == switchboard_core::mcp::Direction::Invalid)
        .count();
    assert_eq!(invalid, 1);
    session.close().await;
    assert!(gone("tester-junk"));
}

#[tokio::test]
async fn a_server_that_dies_mid_call_is_reported_with_its_exit_and_stderr() {
    let home = temp_home();
    let session = open(&home, fixture_target("tester-die"), Duration::from_secs(20)).await;
    let error = session.call_tool("die", Map::new(), None, None).await.expect_err("closed");
    assert_eq!(error.code(), "mcp_closed");
    let message = error.to_string();
    assert!(message.contains("exit status: 3"), "{message}");
    assert!(message.contains("dying mid-call on purpose"), "{message}");
    session.close().await;
}

#[tokio::test]
async fn an_oversized_answer_is_refused_with_a_bounded_error() {
    let home = temp_home();
    let paths = Paths::under(home.path());
    let mut opts = options(Duration::from_secs(20));
    opts.max_message_bytes = 1024 * 1024;
    let session =
        TesterSession::open(&paths, fixture_target("tester-huge"), &opts).await.expect("connects");
    // Under the limit: the whole answer.
    let fine = session
        .call_tool("huge", json!({"bytes": 500_000}).as_object().cloned().unwrap(), None, None)
        .await
        .expect("fits");
    assert_eq!(text_of(&fine.result.content).len(), 500_000);
    let error = session
        .call_tool("huge", json!({"bytes": 5_000_000}).as_object().cloned().unwrap(), None, None)
        .await
        .expect_err("too big");
    let message = error.to_string();
    assert!(message.contains("over the limit of 1048576 bytes"), "{message}");
    assert!(message.len() < 4096, "the error itself must stay small: {} bytes", message.len());
    session.close().await;
    assert!(gone("tester-huge"));
}

#[tokio::test]
async fn a_silent_server_fails_the_handshake_in_time_and_is_ended() {
    let home = temp_home();
    let paths = Paths::under(home.path());
    let target = command(&fixture().display().to_string(), &["silent", "--tag", "tester-silent"]);
    let error = TesterSession::open(&paths, target, &options(Duration::from_millis(700)))
        .await
        .expect_err("times out");
    assert!(error.to_string().contains("no MCP handshake within 0.7 s"), "{error}");
    assert!(gone("tester-silent"));
}

#[tokio::test]
async fn a_missing_command_and_an_unreachable_url_are_clear_errors() {
    let home = temp_home();
    let paths = Paths::under(home.path());
    let error = TesterSession::open(
        &paths,
        command("no-such-mcp-server", &[]),
        &options(Duration::from_secs(5)),
    )
    .await
    .expect_err("not found");
    assert_eq!(error.code(), "command_not_found", "{error}");
    let port = peers::free_port();
    let target = Target::Url {
        url: format!("http://127.0.0.1:{port}/mcp"),
        transport: None,
        headers: BTreeMap::new(),
    };
    let error = TesterSession::open(&paths, target, &options(Duration::from_secs(5)))
        .await
        .expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("answered neither transport"), "{message}");
}

#[tokio::test]
async fn calls_are_recorded_in_a_history_that_survives_the_session() {
    let home = temp_home();
    let target = fixture_target("tester-history");
    let session = open(&home, target.clone(), Duration::from_secs(20)).await;
    for word in ["one", "two"] {
        session
            .call_tool("echo", json!({"message": word}).as_object().cloned().unwrap(), None, None)
            .await
            .expect("echo");
    }
    session.close().await;
    let history =
        History::for_target(&Paths::under(home.path()), &target).entries().expect("reads");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].arguments["message"], "two");
    assert_eq!(history[1].summary, "Echo: two");
    assert_eq!(history[1].outcome, "ok");
    // Replaying an entry is calling it again with the same arguments.
    let session = open(&home, target.clone(), Duration::from_secs(20)).await;
    let again = session
        .call_tool(&history[0].tool, history[0].arguments.clone(), None, None)
        .await
        .expect("replay");
    assert_eq!(text_of(&again.result.content), "Echo: one");
    session.close().await;
}

/// server-everything over stdio: every list, every tool, every resource and prompt.
#[tokio::test]
async fn server_everything_over_stdio_lists_and_calls_everything() {
    let home = temp_home();
    let js = peers::everything().display().to_string();
    let session = open(&home, command("node", &[&js]), Duration::from_secs(60)).await;
    let s = session.session();
    let details = s.details();
    // A TypeScript SDK server: no server/discover, so auto falls back to initialize.
    assert_eq!(details.negotiated.protocol_version, "2025-11-25");
    assert!(details.negotiated.instructions.as_deref().is_some_and(|i| i.contains("Everything")));

    let tools = s.list_tools().await.expect("tools").items;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for expected in [
        "echo",
        "get-sum",
        "get-tiny-image",
        "get-structured-content",
        "trigger-long-running-operation",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    // Tools that need client features the tester does not offer are not listed at all.
    for hidden in ["trigger-sampling-request", "trigger-elicitation-request", "get-roots-list"] {
        assert!(!names.contains(&hidden), "{hidden} should need a client capability");
    }

    let mut report = Vec::new();
    for tool in &tools {
        let schema = Value::Object(tool.input_schema.as_ref().clone());
        let mut args = sample(&schema);
        if tool.name == "trigger-long-running-operation" {
            args = json!({"duration": 1, "steps": 4}).as_object().cloned().unwrap();
        }
        if tool.name == "get-annotated-message" {
            args.insert("includeImage".into(), json!(true));
        }
        let outcome =
            session.call_tool(&tool.name, args, Some(Duration::from_secs(30)), None).await;
        match &outcome {
            Ok(o) => report.push(format!(
                "{}: {} ({} content)",
                tool.name,
                if o.result.is_error == Some(true) { "isError" } else { "ok" },
                o.result.content.len()
            )),
            Err(e) => report.push(format!("{}: {e}", tool.name)),
        }
        let outcome = match outcome {
            Ok(outcome) => outcome,
            // Anything else must at least be a clear protocol-level answer, never a hang.
            Err(error) => {
                assert_ne!(error.code(), "mcp_timeout", "{}: {error}", tool.name);
                continue;
            }
        };
        let result = &outcome.result;
        match tool.name.as_ref() {
            "echo" => assert_eq!(text_of(&result.content), "Echo: hello"),
            "get-sum" => assert!(text_of(&result.content).contains('4'), "{result:?}"),
            "get-tiny-image" => assert!(
                result
                    .content
                    .iter()
                    .any(|c| matches!(c, ContentBlock::Image(i) if i.mime_type == "image/png"))
            ),
            "get-annotated-message" => {
                let annotated = result.content.iter().any(|c| match c {
                    ContentBlock::Text(t) => t.annotations.is_some(),
                    ContentBlock::Image(i) => i.annotations.is_some(),
                    _ => false,
                });
                assert!(annotated, "{result:?}");
            }
            "get-resource-links" => {
                assert!(result.content.iter().any(|c| matches!(c, ContentBlock::ResourceLink(_))))
            }
            "get-resource-reference" => {
                assert!(result.content.iter().any(|c| matches!(c, ContentBlock::Resource(_))))
            }
            "get-structured-content" => {
                let check = outcome.structured.as_ref().expect("checked");
                assert!(check.has_output_schema && check.has_structured_content, "{check:?}");
                assert!(check.errors.is_empty(), "{check:?}");
            }
            "trigger-long-running-operation" => {
                assert!(outcome.progress.len() >= 4, "progress: {:?}", outcome.progress);
                assert!(outcome.progress.windows(2).all(|w| w[0].progress <= w[1].progress));
                assert!(outcome.elapsed_ms >= 900.0, "{}", outcome.elapsed_ms);
            }
            // Needs the tasks extension, which the tester does not offer: said plainly.
            "simulate-research-query" => {
                assert_eq!(result.is_error, Some(true));
                assert!(text_of(&result.content).contains("task augmentation"), "{result:?}");
            }
            _ => {}
        }
    }
    eprintln!("server-everything tools:\n  {}", report.join("\n  "));

    let resources = s.list_resources().await.expect("resources").items;
    assert!(resources.len() >= 7);
    for resource in &resources {
        let read = s.read_resource(&resource.uri).await.expect("reads");
        assert!(!read.contents.is_empty(), "{}", resource.uri);
    }
    let templates = s.list_resource_templates().await.expect("templates").items;
    assert!(templates.iter().any(|t| t.uri_template.contains("{resourceId}")));
    let dynamic = s.read_resource("demo://resource/dynamic/text/1").await.expect("template read");
    assert!(!dynamic.contents.is_empty());

    let prompts = s.list_prompts().await.expect("prompts").items;
    for prompt in &prompts {
        let mut args = Map::new();
        for arg in prompt.arguments.iter().flatten() {
            if arg.required == Some(true) {
                let value = match arg.name.as_str() {
                    "department" => "Engineering",
                    "resourceType" => "Text",
                    "resourceId" => "1",
                    _ => "hello",
                };
                args.insert(arg.name.clone(), json!(value));
            }
        }
        let got = s.get_prompt(&prompt.name, args).await.expect(&prompt.name);
        assert!(!got.messages.is_empty(), "{}", prompt.name);
    }
    // server-everything declares `logging`: setting the level is accepted.
    assert!(details.capabilities.get("logging").is_some());
    s.set_log_level("debug").await.expect("logging/setLevel");

    let values = s
        .complete(Reference::for_prompt("completable-prompt"), "department", "E")
        .await
        .expect("completion");
    assert!(values.iter().any(|v| v.starts_with('E')), "{values:?}");

    // Export: every tool, valid names, no $ref left.
    for format in [Format::Openai, Format::Anthropic] {
        let exported = export::export(&tools, format);
        assert_eq!(exported.tools.len(), tools.len());
        for tool in &exported.tools {
            let (name, schema) = match format {
                Format::Openai => (&tool["function"]["name"], &tool["function"]["parameters"]),
                Format::Anthropic => (&tool["name"], &tool["input_schema"]),
            };
            let name = name.as_str().expect("name");
            assert!(!name.is_empty() && name.len() <= 64);
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "{name}"
            );
            assert_eq!(schema["type"], "object");
            assert!(!schema.to_string().contains("\"$ref\""), "{schema}");
        }
    }
    session.close().await;
}

#[tokio::test]
async fn server_everything_over_legacy_sse_and_streamable_http() {
    let home = temp_home();
    let sse = peers::HttpPeer::start("sse");
    let target = Target::Url {
        url: sse.url("/sse"),
        transport: Some(HttpTransport::Sse),
        headers: BTreeMap::new(),
    };
    let session = open(&home, target, Duration::from_secs(30)).await;
    assert_eq!(session.session().details().transport, TransportKind::Sse);
    let echo = session
        .call_tool("echo", json!({"message": "over sse"}).as_object().cloned().unwrap(), None, None)
        .await
        .expect("echo over SSE");
    assert_eq!(text_of(&echo.result.content), "Echo: over sse");
    let progress = session
        .call_tool(
            "trigger-long-running-operation",
            json!({"duration": 1, "steps": 3}).as_object().cloned().unwrap(),
            None,
            None,
        )
        .await
        .expect("progress over SSE");
    assert!(progress.progress.len() >= 3, "{:?}", progress.progress);
    session.close().await;

    // No transport named: Streamable HTTP is tried first and fails on an SSE-only server.
    let target = Target::Url { url: sse.url("/sse"), transport: None, headers: BTreeMap::new() };
    let session = open(&home, target, Duration::from_secs(30)).await;
    assert_eq!(session.session().details().transport, TransportKind::Sse, "fell back to SSE");
    session.close().await;

    let http = peers::HttpPeer::start("streamableHttp");
    let mut headers = BTreeMap::new();
    headers.insert("Authorization".to_owned(), "Bearer test-token".to_owned());
    let target = Target::Url { url: http.url("/mcp"), transport: None, headers };
    let session = open(&home, target, Duration::from_secs(30)).await;
    assert_eq!(session.session().details().transport, TransportKind::StreamableHttp);
    let tools = session.session().list_tools().await.expect("tools").items;
    assert!(tools.iter().any(|t| t.name == "echo"));
    let sum = session
        .call_tool("get-sum", json!({"a": 2, "b": 40}).as_object().cloned().unwrap(), None, None)
        .await
        .expect("sum over HTTP");
    assert!(text_of(&sum.result.content).contains("42"));
    // get-env echoes the server's environment, not our headers; the header must simply not break
    // the session. What went over the wire is in the traffic log either way.
    assert!(session.session().traffic().entries().iter().any(|e| e.latency_ms.is_some()));
    session.close().await;
}

#[tokio::test]
async fn python_sdk_2_server_speaks_2026_07_28() {
    let home = temp_home();
    let python = peers::python().display().to_string();
    let script = peers::py_server().display().to_string();
    let session = open(&home, command(&python, &[&script]), Duration::from_secs(60)).await;
    let s = session.session();
    assert_eq!(s.details().negotiated.protocol_version, "2026-07-28");
    assert!(s.details().negotiated.stateless);
    let add = session
        .call_tool("add", json!({"a": 2, "b": 3}).as_object().cloned().unwrap(), None, None)
        .await
        .expect("add");
    assert_eq!(add.result.structured_content, Some(json!({"total": 5, "terms": [2, 3]})));
    let check = add.structured.expect("checked");
    assert!(check.has_output_schema && check.errors.is_empty(), "{check:?}");
    let read = s.read_resource("notes://day/monday").await.expect("template");
    assert!(format!("{:?}", read.contents).contains("Note for monday."));
    let prompt = s
        .get_prompt("summarise", json!({"topic": "MCP"}).as_object().cloned().unwrap())
        .await
        .expect("prompt");
    assert!(format!("{:?}", prompt.messages).contains("summarise MCP"));
    // An unknown tool is the server's error answer (or an isError result), never a hang.
    match session.call_tool("nope", Map::new(), Some(Duration::from_secs(10)), None).await {
        Ok(outcome) => assert_eq!(outcome.result.is_error, Some(true)),
        Err(error) => assert_eq!(error.code(), "mcp_server_error", "{error}"),
    }
    session.close().await;
}

#[tokio::test]
async fn mcp_server_time_from_pypi_through_uvx() {
    let home = temp_home();
    let (uvx, env) = peers::uvx();
    let target = Target::Command {
        command: uvx.display().to_string(),
        args: vec![peers::TIME_SERVER.to_owned()],
        env: env.into_iter().collect(),
        cwd: None,
    };
    let session = open(&home, target, Duration::from_secs(120)).await;
    let tools = session.session().list_tools().await.expect("tools").items;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"get_current_time") && names.contains(&"convert_time"), "{names:?}");
    let now = session
        .call_tool(
            "get_current_time",
            json!({"timezone": "UTC"}).as_object().cloned().unwrap(),
            None,
            None,
        )
        .await
        .expect("time");
    assert!(text_of(&now.result.content).contains("UTC"), "{:?}", now.result);
    session.close().await;
}

#[tokio::test]
async fn server_log_messages_are_collected_and_the_level_is_set() {
    let home = temp_home();
    let python = peers::python().display().to_string();
    let script = peers::py_server().display().to_string();
    let paths = Paths::under(home.path());
    let mut opts = options(Duration::from_secs(60));
    // Logging is deprecated in 2026-07-28; a 2025-11-25 session still has it.
    opts.connect.protocol = ProtocolChoice::Force("2025-11-25".to_owned());
    let session =
        TesterSession::open(&paths, command(&python, &[&script]), &opts).await.expect("connects");
    let s = session.session();
    session.call_tool("noisy", Map::new(), None, None).await.expect("noisy");
    let logged = s.log_messages();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].level, "info");
    assert_eq!(logged[0].data, json!("working on it"));
    let error = s.set_log_level("loud").await.expect_err("unknown level");
    assert!(error.to_string().contains("unknown log level \"loud\""), "{error}");
    // This server declares no `logging` capability: asking it is a clear error answer.
    assert!(s.details().capabilities.get("logging").is_none());
    let error = s.set_log_level("error").await.expect_err("not supported");
    assert!(matches!(&error, switchboard_core::mcp::Error::Server { code: -32601, .. }), "{error}");
    session.close().await;
}
