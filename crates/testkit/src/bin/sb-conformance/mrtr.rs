//! The `input_required` fixtures of SEP-2322 (multi round-trip requests): the
//! `test_input_required_result_*` tools and the prompt `test_input_required_result_prompt`.
//!
//! Each is one round ([`crate::rounds`]): it reads the answers and the `requestState` its retry
//! carries, and finishes or asks again. States are sealed ([`crate::rounds::StateSeal`]) and
//! bound to the tool that made them, so a changed state is refused with -32602.

use rmcp::{
    ErrorData as McpError, RoleServer,
    model::{
        CallToolResult, ContentBlock, GetPromptResult, InputRequest, Prompt, PromptMessage, Role,
        Tool,
    },
    service::RequestContext,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    rounds::{
        Round, StateSeal, Step, accepted_text, ask, elicit, list_roots, sample, sampled_text,
    },
    tools::{no_arguments, tool},
};

pub const PROMPT: &str = "test_input_required_result_prompt";

pub fn prompts() -> Vec<Prompt> {
    vec![
        Prompt::new(
            PROMPT,
            Some("Asks the client for the context to use (an input_required result) first"),
            None,
        )
        .with_title("Prompt That Requires Input"),
    ]
}

const ELICITATION: &str = "test_input_required_result_elicitation";
const SAMPLING: &str = "test_input_required_result_sampling";
const LIST_ROOTS: &str = "test_input_required_result_list_roots";
const REQUEST_STATE: &str = "test_input_required_result_request_state";
const MULTIPLE_INPUTS: &str = "test_input_required_result_multiple_inputs";
const MULTI_ROUND: &str = "test_input_required_result_multi_round";
const TAMPERED_STATE: &str = "test_input_required_result_tampered_state";
const CAPABILITIES: &str = "test_input_required_result_capabilities";

pub fn tools() -> Vec<Tool> {
    vec![
        tool(
            ELICITATION,
            "MRTR: asks the user's name (elicitation), then greets them",
            no_arguments(),
        ),
        tool(SAMPLING, "MRTR: asks the client's model a question (sampling)", no_arguments()),
        tool(LIST_ROOTS, "MRTR: asks for the client's roots (roots/list)", no_arguments()),
        tool(
            REQUEST_STATE,
            "MRTR: asks for confirmation with a requestState it checks on the retry",
            no_arguments(),
        ),
        tool(
            MULTIPLE_INPUTS,
            "MRTR: asks for a name, a greeting and the roots at once",
            no_arguments(),
        ),
        tool(
            MULTI_ROUND,
            "MRTR: asks a name, then a colour, carrying the name in requestState",
            no_arguments(),
        ),
        tool(
            TAMPERED_STATE,
            "MRTR: refuses a requestState that is not the one it sealed",
            no_arguments(),
        ),
        tool(
            CAPABILITIES,
            "MRTR: asks only for what the client declared it can answer",
            no_arguments(),
        ),
    ]
}

/// What the sealed `requestState`s say.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    /// How many rounds are done.
    round: u32,
    /// The name given in round 1 (`test_input_required_result_multi_round`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

fn text_schema(field: &str) -> Value {
    json!({ "type": "object", "properties": { field: { "type": "string" } }, "required": [field] })
}

fn ask_name(message: &str) -> InputRequest {
    elicit(message, text_schema("name"))
}

fn confirm() -> InputRequest {
    elicit(
        "Please confirm",
        json!({ "type": "object", "properties": { "ok": { "type": "boolean" } }, "required": ["ok"] }),
    )
}

fn success(text: impl Into<String>) -> Step<CallToolResult> {
    Step::Done(CallToolResult::success(vec![ContentBlock::text(text)]))
}

/// One round of the `input_required` tool `name`; `None` if it is not one of them.
pub fn call(
    seal: &StateSeal,
    name: &str,
    round: &Round,
    context: &RequestContext<RoleServer>,
) -> Option<Result<Step<CallToolResult>, McpError>> {
    let step = match name {
        ELICITATION => elicitation(round),
        SAMPLING => round.sampled("capital_question").map(|answer| match answer {
            Some(answer) => success(format!("Sampling result: {}", sampled_text(&answer))),
            None => Step::Ask(ask(
                [("capital_question", sample("What is the capital of France?", 100))],
                None,
            )),
        }),
        LIST_ROOTS => round.roots("client_roots").map(|answer| match answer {
            Some(listed) => {
                let uris: Vec<&str> = listed.roots.iter().map(|r| r.uri.as_str()).collect();
                success(format!("Found {} root(s): {}", uris.len(), uris.join(" ")))
            }
            None => Step::Ask(ask([("client_roots", list_roots())], None)),
        }),
        REQUEST_STATE => confirmed(seal, round, REQUEST_STATE, "state-ok: requestState validated"),
        TAMPERED_STATE => confirmed(seal, round, TAMPERED_STATE, "integrity-ok: state verified"),
        MULTIPLE_INPUTS => multiple_inputs(seal, round),
        MULTI_ROUND => multi_round(seal, round),
        CAPABILITIES => Ok(capabilities(round, context)),
        _ => return None,
    };
    Some(step)
}

/// Asks the name; a retry that lacks it (or answers other keys only) is asked again.
fn elicitation(round: &Round) -> Result<Step<CallToolResult>, McpError> {
    Ok(match round.elicited("user_name")? {
        Some(answer) => {
            let name = accepted_text(&answer, "name").unwrap_or_else(|| "stranger".to_owned());
            success(format!("Hello, {name}!"))
        }
        None => Step::Ask(ask([("user_name", ask_name("What is your name?"))], None)),
    })
}

/// Asks for confirmation under a sealed state; completes only when the retry brings both the
/// answer and that state back.
fn confirmed(
    seal: &StateSeal,
    round: &Round,
    tool: &str,
    done: &str,
) -> Result<Step<CallToolResult>, McpError> {
    let state: Option<State> = round.state().map(|s| seal.open(tool, s)).transpose()?;
    Ok(match (state, round.elicited("confirm")?) {
        (Some(State { round: 1, .. }), Some(answer)) => {
            let ok =
                answer.content.as_ref().and_then(|c| c.get("ok")).cloned().unwrap_or(Value::Null);
            success(format!("{done} (ok={ok})"))
        }
        _ => Step::Ask(ask(
            [("confirm", confirm())],
            Some(seal.seal(tool, &State { round: 1, name: None })),
        )),
    })
}

/// An elicitation, a sampling and a roots request in one result; all three answers are needed.
fn multiple_inputs(seal: &StateSeal, round: &Round) -> Result<Step<CallToolResult>, McpError> {
    let state: Option<State> = round.state().map(|s| seal.open(MULTIPLE_INPUTS, s)).transpose()?;
    let answers =
        (round.elicited("user_name")?, round.sampled("greeting")?, round.roots("client_roots")?);
    Ok(match (state, answers) {
        (Some(_), (Some(name), Some(greeting), Some(roots))) => success(format!(
            "Name: {}; Greeting: {}; Roots: {}",
            accepted_text(&name, "name").unwrap_or_else(|| "unknown".to_owned()),
            sampled_text(&greeting),
            roots.roots.len()
        )),
        _ => Step::Ask(ask(
            [
                ("user_name", ask_name("What is your name?")),
                ("greeting", sample("Generate a greeting", 50)),
                ("client_roots", list_roots()),
            ],
            Some(seal.seal(MULTIPLE_INPUTS, &State { round: 1, name: None })),
        )),
    })
}

/// Round 1 asks the name, round 2 the colour (the name rides in the state), round 3 completes.
/// A retry that does not fit the state it carries starts over.
fn multi_round(seal: &StateSeal, round: &Round) -> Result<Step<CallToolResult>, McpError> {
    let state: Option<State> = round.state().map(|s| seal.open(MULTI_ROUND, s)).transpose()?;
    if let Some(State { round: 1, .. }) = state
        && let Some(answer) = round.elicited("step1")?
    {
        let name = accepted_text(&answer, "name").unwrap_or_else(|| "friend".to_owned());
        let next = seal.seal(MULTI_ROUND, &State { round: 2, name: Some(name) });
        let colour = elicit("Step 2: What is your favorite color?", text_schema("color"));
        return Ok(Step::Ask(ask([("step2", colour)], Some(next))));
    }
    if let Some(State { round: 2, name }) = state
        && let Some(answer) = round.elicited("step2")?
    {
        let colour = accepted_text(&answer, "color").unwrap_or_else(|| "no colour".to_owned());
        let name = name.unwrap_or_else(|| "friend".to_owned());
        return Ok(success(format!("Multi-round complete for {name} who likes {colour}")));
    }
    let first = seal.seal(MULTI_ROUND, &State { round: 1, name: None });
    Ok(Step::Ask(ask([("step1", ask_name("Step 1: What is your name?"))], Some(first))))
}

/// Asks only for what the request's client capabilities allow: elicitation and sampling each
/// only when declared.
fn capabilities(round: &Round, context: &RequestContext<RoleServer>) -> Step<CallToolResult> {
    let answered: Vec<&str> = round.answered().collect();
    if !answered.is_empty() {
        return success(format!("capabilities-ok: received {}", answered.join(",")));
    }
    let declared = context.client_capabilities().unwrap_or_default();
    let mut requests = Vec::new();
    if declared.elicitation.is_some() {
        requests.push(("elicit_input", elicit("Elicitation input", text_schema("value"))));
    }
    if declared.sampling.is_some() {
        requests.push(("sample_input", sample("Sample request", 50)));
    }
    if requests.is_empty() {
        return success("No supported capabilities declared");
    }
    Step::Ask(ask(requests, None))
}

/// One round of `test_input_required_result_prompt`: asks for the context, then renders with it.
pub fn prompt(round: &Round) -> Result<Step<GetPromptResult>, McpError> {
    Ok(match round.elicited("user_context")? {
        Some(answer) => {
            let context = accepted_text(&answer, "context").unwrap_or_else(|| "none".to_owned());
            Step::Done(GetPromptResult::new(vec![PromptMessage::new_text(
                Role::User,
                format!("Prompt with context: {context}"),
            )]))
        }
        None => Step::Ask(ask(
            [(
                "user_context",
                elicit("What context should the prompt use?", text_schema("context")),
            )],
            None,
        )),
    })
}
