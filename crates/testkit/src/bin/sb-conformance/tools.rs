//! The tools the suite's scenarios call by name, but the `input_required` ones (`mrtr`).

use std::time::Duration;

use rmcp::{
    ErrorData as McpError, RoleServer,
    model::{
        CallToolResult, ContentBlock, JsonObject, LoggingLevel, ProgressNotificationParam,
        ResourceContents, Tool,
    },
    service::RequestContext,
};
use serde_json::{Value, json};

use crate::{
    fixtures::{AUDIO_WAV, IMAGE_PNG},
    rounds::{Round, Step, action, ask, elicit, sample, sampled_text},
    session::{Change, Session},
};

pub fn tool(name: &'static str, description: &'static str, input_schema: Value) -> Tool {
    let schema: JsonObject =
        serde_json::from_value(input_schema).expect("the fixture's input schemas are objects");
    Tool::new(name, description, schema)
}

pub fn no_arguments() -> Value {
    json!({ "type": "object", "properties": {} })
}

pub fn tools() -> Vec<Tool> {
    vec![
        tool("test_simple_text", "Tests simple text content response", no_arguments()),
        tool("test_image_content", "Tests image content response", no_arguments()),
        tool("test_audio_content", "Tests audio content response", no_arguments()),
        tool("test_embedded_resource", "Tests embedded resource content response", no_arguments()),
        tool(
            "test_multiple_content_types",
            "Tests response with multiple content types (text, image, resource)",
            no_arguments(),
        ),
        tool(
            "test_tool_with_logging",
            "Tests tool that emits log messages during execution",
            no_arguments(),
        ),
        tool(
            "test_tool_with_progress",
            "Tests tool that reports progress notifications",
            no_arguments(),
        ),
        tool("test_error_handling", "Tests error response handling", no_arguments()),
        tool(
            "test_sampling",
            "Tests server-initiated sampling (LLM completion request)",
            json!({
                "type": "object",
                "properties": { "prompt": { "type": "string", "description": "The prompt to send to the LLM" } },
                "required": ["prompt"],
            }),
        ),
        tool(
            "test_elicitation",
            "Tests server-initiated elicitation (user input request)",
            json!({
                "type": "object",
                "properties": { "message": { "type": "string", "description": "The message to show the user" } },
                "required": ["message"],
            }),
        ),
        tool(
            "test_elicitation_sep1034_defaults",
            "Tests elicitation with default values per SEP-1034",
            no_arguments(),
        ),
        tool(
            "test_elicitation_sep1330_enums",
            "Tests elicitation with enum schema improvements per SEP-1330",
            no_arguments(),
        ),
        tool(
            "json_schema_2020_12_tool",
            "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613, SEP-2106)",
            json_schema_2020_12(),
        ),
        tool(
            "test_custom_headers",
            "Tool whose parameters are mirrored into Mcp-Param-* headers (SEP-2243 x-mcp-header)",
            json!({
                "type": "object",
                "properties": {
                    "region": { "type": "string", "description": "Where to run", "x-mcp-header": "Region" },
                    "priority": { "type": "integer", "description": "How urgent", "x-mcp-header": "Priority" },
                    "query": { "type": "string", "description": "Not mirrored into a header" },
                },
                "required": ["region"],
            }),
        ),
        tool(
            "test_missing_capability",
            "Diagnostic: requires the client's sampling capability (-32021 without it)",
            no_arguments(),
        ),
        tool(
            "test_streaming_elicitation",
            "Diagnostic: asks for confirmation through its response (input_required), never with \
             an independent request",
            no_arguments(),
        ),
        tool(
            "test_logging_tool",
            "Diagnostic: logs only at the level the request asked for",
            no_arguments(),
        ),
        tool(
            "test_trigger_tool_change",
            "Diagnostic: announces a tool list change to listeners",
            no_arguments(),
        ),
        tool(
            "test_trigger_prompt_change",
            "Diagnostic: announces a prompt list change to listeners",
            no_arguments(),
        ),
    ]
}

/// SEP-1613 and SEP-2106: `$schema`, `$defs` with an `$anchor`, `additionalProperties`,
/// composition and conditional keywords, all to survive `tools/list` untouched.
fn json_schema_2020_12() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": { "street": { "type": "string" }, "city": { "type": "string" } },
            },
        },
        "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" },
        },
        "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
        "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
        "then": { "required": ["phone"] },
        "else": { "required": ["email"] },
        "additionalProperties": false,
    })
}

fn success(text: impl Into<String>) -> Step<CallToolResult> {
    Step::Done(CallToolResult::success(vec![ContentBlock::text(text)]))
}

fn string(args: &JsonObject, name: &str) -> Result<String, McpError> {
    args.get(name).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
        McpError::invalid_params(format!("the argument {name:?} (a string) is required"), None)
    })
}

/// One round of the tool `name`; `None` if it is not one of these.
pub async fn call(
    session: &Session,
    name: &str,
    args: &JsonObject,
    round: &Round,
    context: &RequestContext<RoleServer>,
) -> Result<Option<Step<CallToolResult>>, McpError> {
    let done = |content: Vec<ContentBlock>| Ok(Step::Done(CallToolResult::success(content)));
    let step = match name {
        "test_simple_text" => {
            done(vec![ContentBlock::text("This is a simple text response for testing.")])
        }
        "test_image_content" => done(vec![ContentBlock::image(IMAGE_PNG, "image/png")]),
        "test_audio_content" => done(vec![ContentBlock::audio(AUDIO_WAV, "audio/wav")]),
        "test_embedded_resource" => done(vec![ContentBlock::resource(
            ResourceContents::text(
                "This is an embedded resource content.",
                "test://embedded-resource",
            )
            .with_mime_type("text/plain"),
        )]),
        "test_multiple_content_types" => done(vec![
            ContentBlock::text("Multiple content types test:"),
            ContentBlock::image(IMAGE_PNG, "image/png"),
            ContentBlock::resource(
                ResourceContents::text(
                    json!({ "test": "data", "value": 123 }).to_string(),
                    "test://mixed-content-resource",
                )
                .with_mime_type("application/json"),
            ),
        ]),
        "test_tool_with_logging" => {
            let steps =
                ["Tool execution started", "Tool processing data", "Tool execution completed"];
            for (n, message) in steps.into_iter().enumerate() {
                if n > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                session.log(context, LoggingLevel::Info, message).await;
            }
            Ok(success("Tool with logging executed successfully"))
        }
        "test_tool_with_progress" => progress(context).await,
        "test_error_handling" => Ok(Step::Done(CallToolResult::error(vec![ContentBlock::text(
            "This tool intentionally returns an error for testing",
        )]))),
        "test_sampling" => {
            let prompt = string(args, "prompt")?;
            Ok(match round.sampled("answer")? {
                Some(answer) => success(format!("LLM response: {}", sampled_text(&answer))),
                None => Step::Ask(ask([("answer", sample(&prompt, 100))], None)),
            })
        }
        "test_elicitation" => {
            let message = string(args, "message")?;
            let schema = json!({
                "type": "object",
                "properties": {
                    "username": { "type": "string", "description": "User's response" },
                    "email": { "type": "string", "description": "User's email address" },
                },
                "required": ["username", "email"],
            });
            elicited_form(round, "User response", &message, schema)
        }
        "test_elicitation_sep1034_defaults" => elicited_form(
            round,
            "Elicitation completed",
            "Please review and update the form fields with defaults",
            sep1034_defaults(),
        ),
        "test_elicitation_sep1330_enums" => elicited_form(
            round,
            "Elicitation completed",
            "Please select options from the enum fields",
            sep1330_enums(),
        ),
        "json_schema_2020_12_tool" => Ok(success(format!(
            "JSON Schema 2020-12 tool called with: {}",
            Value::Object(args.clone())
        ))),
        "test_custom_headers" => {
            let region = string(args, "region")?;
            Ok(success(format!(
                "Custom headers received for region {region}: {}",
                Value::Object(args.clone())
            )))
        }
        "test_missing_capability" => missing_capability(round),
        "test_streaming_elicitation" => streaming_elicitation(round),
        "test_logging_tool" => {
            session.log(context, LoggingLevel::Info, "Diagnostic trace logging activated").await;
            Ok(success("Logging evaluated"))
        }
        "test_trigger_tool_change" => {
            session.announce(Change::Tools);
            Ok(success("Tool list change announced"))
        }
        "test_trigger_prompt_change" => {
            session.announce(Change::Prompts);
            Ok(success("Prompt list change announced"))
        }
        _ => return Ok(None),
    };
    step.map(Some)
}

/// 0, 50 and 100 of 100 to the caller's progress token, 50 ms apart; answers with the token.
async fn progress(context: &RequestContext<RoleServer>) -> Result<Step<CallToolResult>, McpError> {
    let token = context.meta.get_progress_token();
    for (n, step) in [0u32, 50, 100].into_iter().enumerate() {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if let Some(token) = &token {
            let update = ProgressNotificationParam::new(token.clone(), f64::from(step))
                .with_total(100.0)
                .with_message(format!("Completed step {step} of 100"));
            let _ = context.peer.notify_progress(update).await;
        }
    }
    Ok(success(match token {
        Some(token) => serde_json::to_value(&token).map(|t| t.to_string()).unwrap_or_default(),
        None => "no progress token".to_owned(),
    }))
}

/// Asks the user to fill `schema` in, then says what they did with it.
fn elicited_form(
    round: &Round,
    said: &str,
    message: &str,
    schema: Value,
) -> Result<Step<CallToolResult>, McpError> {
    Ok(match round.elicited("form")? {
        Some(answer) => {
            let content = answer.content.clone().unwrap_or_else(|| json!({}));
            success(format!("{said}: action={}, content={content}", action(&answer)))
        }
        None => Step::Ask(ask([("form", elicit(message, schema))], None)),
    })
}

/// SEP-1034: a default for every primitive type.
fn sep1034_defaults() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "description": "User name", "default": "John Doe" },
            "age": { "type": "integer", "description": "User age", "default": 30 },
            "score": { "type": "number", "description": "User score", "default": 95.5 },
            "status": {
                "type": "string",
                "description": "User status",
                "enum": ["active", "inactive", "pending"],
                "default": "active",
            },
            "verified": { "type": "boolean", "description": "Verification status", "default": true },
        },
        "required": [],
    })
}

/// SEP-1330: the five enum forms.
fn sep1330_enums() -> Value {
    let titled = |titles: [&str; 3]| -> Vec<Value> {
        titles
            .iter()
            .enumerate()
            .map(|(n, title)| json!({ "const": format!("value{}", n + 1), "title": title }))
            .collect()
    };
    json!({
        "type": "object",
        "properties": {
            "untitledSingle": {
                "type": "string",
                "description": "Select one option",
                "enum": ["option1", "option2", "option3"],
            },
            "titledSingle": {
                "type": "string",
                "description": "Select one option with titles",
                "oneOf": titled(["First Option", "Second Option", "Third Option"]),
            },
            "legacyEnum": {
                "type": "string",
                "description": "Select one option (legacy)",
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"],
            },
            "untitledMulti": {
                "type": "array",
                "description": "Select multiple options",
                "minItems": 1,
                "maxItems": 3,
                "items": { "type": "string", "enum": ["option1", "option2", "option3"] },
            },
            "titledMulti": {
                "type": "array",
                "description": "Select multiple options with titles",
                "minItems": 1,
                "maxItems": 3,
                "items": { "anyOf": titled(["First Choice", "Second Choice", "Third Choice"]) },
            },
        },
        "required": [],
    })
}

/// Samples. What makes it diagnostic is the rule every asking tool follows
/// ([`crate::rounds::undeclared`]): a request whose client did not declare sampling gets
/// -32021 (MissingRequiredClientCapability; rmcp answers it with HTTP 400) instead.
fn missing_capability(round: &Round) -> Result<Step<CallToolResult>, McpError> {
    Ok(match round.sampled("probe")? {
        Some(answer) => success(format!("Success: the client sampled {:?}", sampled_text(&answer))),
        None => Step::Ask(ask([("probe", sample("Say hello", 20))], None)),
    })
}

/// SEP-2575: what the server needs from the client comes back in the response (an
/// `input_required` result), never as a request of its own on the response stream.
fn streaming_elicitation(round: &Round) -> Result<Step<CallToolResult>, McpError> {
    let schema = json!({ "type": "object", "properties": { "ok": { "type": "boolean" } }, "required": ["ok"] });
    Ok(match round.elicited("confirm")? {
        Some(answer) => {
            let content = answer.content.clone().unwrap_or_else(|| json!({}));
            success(format!("Streaming complete: action={}, content={content}", action(&answer)))
        }
        None => Step::Ask(ask([("confirm", elicit("Continue streaming?", schema))], None)),
    })
}
