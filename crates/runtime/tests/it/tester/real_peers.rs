//! The tester engine against real third-party servers: server-everything over stdio, SSE and
//! Streamable HTTP, the Python SDK 2.x, mcp-server-time from PyPI through uvx.

use super::*;

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
async fn server_log_messages_are_collected_and_the_level_is_set() {
    let home = temp_home();
    let python = peers::python().display().to_string();
    let script = peers::py_server().display().to_string();
    let paths = Paths::under(home.path());
    let mut opts = options(Duration::from_secs(60));
    // Logging is deprecated in 2026-07-28; a 2025-11-25 session still has it.
    opts.connect.protocol = ProtocolChoice::Force("2025-11-25".to_owned());
    let session =
        TesterSession::open(&paths, &Env::from_process(), command(&python, &[&script]), &opts)
            .await
            .expect("connects");
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
