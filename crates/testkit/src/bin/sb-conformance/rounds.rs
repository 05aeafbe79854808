//! Asking the client for input, in either era.
//!
//! A tool or prompt that needs the client (a sampled message, an elicited form, the roots) is
//! written once, as one round of a 2026-07-28 multi round-trip request (SEP-2322): it reads the
//! answers the retry carries ([`Round`]) and either finishes ([`Step::Done`]) or asks
//! ([`Step::Ask`]) with an `input_required` result. A 2026-07-28 client gets that result and
//! retries. A client of an earlier revision cannot, so the server asks it directly
//! ([`Round::answered_directly`]: server-to-client requests on the session) and runs the next
//! round itself.

use std::hash::{BuildHasher, RandomState};

use rmcp::{
    ErrorData as McpError, Peer, RoleServer,
    model::{
        ClientCapabilities, CreateMessageResult, ElicitResult, InputRequest, InputRequests,
        InputRequiredResult, InputResponses, ListRootsResult, ProtocolVersion, ServerRequest,
    },
    service::RequestContext,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

/// How many rounds the server drives for a client of an earlier revision before giving up.
pub const MAX_ROUNDS: usize = 10;

/// What one round of a tool or prompt comes to.
pub enum Step<T> {
    /// The request is complete.
    Done(T),
    /// The client must answer these input requests, then retry.
    Ask(InputRequiredResult),
}

/// Whether the request speaks 2026-07-28 or later (no server-to-client requests: the server asks
/// with `input_required` results instead). The same test rmcp applies before letting an
/// `input_required` result out.
pub fn modern(context: &RequestContext<RoleServer>) -> bool {
    context.protocol_version().is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

/// SEP-2575: a server must not rely on a capability the client did not declare. The error
/// (-32021, naming them) when `asked` needs capabilities the request's client lacks.
pub fn undeclared(
    asked: &InputRequiredResult,
    context: &RequestContext<RoleServer>,
) -> Option<McpError> {
    let declared = context.client_capabilities().unwrap_or_default();
    let mut missing = ClientCapabilities::default();
    for request in asked.input_requests.iter().flat_map(|requests| requests.values()) {
        match request {
            InputRequest::CreateMessage(_) if declared.sampling.is_none() => {
                missing.sampling = Some(Default::default());
            }
            InputRequest::Elicitation(_) if declared.elicitation.is_none() => {
                missing.elicitation = Some(Default::default());
            }
            InputRequest::ListRoots(_) if declared.roots.is_none() => {
                missing.roots = Some(Default::default());
            }
            _ => {}
        }
    }
    (missing != ClientCapabilities::default())
        .then(|| McpError::missing_required_client_capability(missing))
}

/// The input a round sees: the answers (`inputResponses`) and the `requestState` of the retry.
pub struct Round {
    responses: InputResponses,
    state: Option<String>,
    number: usize,
}

impl Round {
    pub fn new(responses: Option<InputResponses>, state: Option<String>) -> Self {
        Round { responses: responses.unwrap_or_default(), state, number: 1 }
    }

    /// The `requestState` the client echoed back, if any.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The keys the client answered (its extra keys included).
    pub fn answered(&self) -> impl Iterator<Item = &str> {
        self.responses.keys().map(String::as_str)
    }

    /// The client's elicitation result for `key`, if the retry carries one.
    pub fn elicited(&self, key: &str) -> Result<Option<ElicitResult>, McpError> {
        self.typed(key, "an elicitation result")
    }

    /// The client's sampling result for `key`, if the retry carries one.
    pub fn sampled(&self, key: &str) -> Result<Option<CreateMessageResult>, McpError> {
        self.typed(key, "a sampling result")
    }

    /// The client's roots for `key`, if the retry carries them.
    pub fn roots(&self, key: &str) -> Result<Option<ListRootsResult>, McpError> {
        self.typed(key, "a roots/list result")
    }

    /// An answer that is there but is not what was asked for is the client's error.
    fn typed<T: DeserializeOwned>(&self, key: &str, what: &str) -> Result<Option<T>, McpError> {
        let Some(answer) = self.responses.get(key) else { return Ok(None) };
        serde_json::from_value(answer.clone()).map(Some).map_err(|e| {
            McpError::invalid_params(format!("inputResponses.{key} is not {what}: {e}"), None)
        })
    }

    /// For a client of an earlier revision: puts the questions of `asked` to the client now, one
    /// request after another on its session, and returns the round that carries the answers.
    pub async fn answered_directly(
        &self,
        asked: InputRequiredResult,
        peer: &Peer<RoleServer>,
    ) -> Result<Round, String> {
        if self.number >= MAX_ROUNDS {
            return Err(format!("still asking after {MAX_ROUNDS} rounds"));
        }
        let mut responses = InputResponses::new();
        for (key, request) in asked.input_requests.unwrap_or_default() {
            let request = match request {
                InputRequest::CreateMessage(r) => ServerRequest::from(r),
                InputRequest::Elicitation(r) => ServerRequest::from(r),
                InputRequest::ListRoots(r) => ServerRequest::from(r),
                other => return Err(format!("cannot send {other:?}")),
            };
            let answer = peer
                .send_request(request)
                .await
                .map_err(|e| format!("the client did not answer {key}: {e}"))?;
            let answer = serde_json::to_value(answer).map_err(|e| e.to_string())?;
            responses.insert(key, answer);
        }
        Ok(Round { responses, state: asked.request_state, number: self.number + 1 })
    }
}

/// An `input_required` result asking `requests`, with `state` to be echoed back.
pub fn ask<'a>(
    requests: impl IntoIterator<Item = (&'a str, InputRequest)>,
    state: Option<String>,
) -> InputRequiredResult {
    let requests: InputRequests =
        requests.into_iter().map(|(key, request)| (key.to_owned(), request)).collect();
    InputRequiredResult::new(Some(requests), state)
}

/// `elicitation/create` in form mode with `requested_schema`.
pub fn elicit(message: &str, requested_schema: Value) -> InputRequest {
    input(json!({
        "method": "elicitation/create",
        "params": { "mode": "form", "message": message, "requestedSchema": requested_schema },
    }))
}

/// `sampling/createMessage` of one user message.
pub fn sample(prompt: &str, max_tokens: u32) -> InputRequest {
    input(json!({
        "method": "sampling/createMessage",
        "params": {
            "messages": [{ "role": "user", "content": { "type": "text", "text": prompt } }],
            "maxTokens": max_tokens,
        },
    }))
}

/// `roots/list`.
pub fn list_roots() -> InputRequest {
    input(json!({ "method": "roots/list" }))
}

fn input(request: Value) -> InputRequest {
    serde_json::from_value(request).expect("the fixture's input requests are well-formed")
}

/// `accept`, `decline` or `cancel`.
pub fn action(result: &ElicitResult) -> String {
    match serde_json::to_value(&result.action) {
        Ok(Value::String(action)) => action,
        _ => format!("{:?}", result.action),
    }
}

/// The string the user gave for `field`, when they accepted the form.
pub fn accepted_text(result: &ElicitResult, field: &str) -> Option<String> {
    (action(result) == "accept")
        .then(|| result.content.as_ref()?.get(field)?.as_str().map(str::to_owned))
        .flatten()
}

/// The text of a sampled message (its first text block).
pub fn sampled_text(result: &CreateMessageResult) -> String {
    let message = serde_json::to_value(&result.message).unwrap_or_default();
    let content = &message["content"];
    let text = match content {
        Value::Array(blocks) => blocks.iter().find_map(|b| b["text"].as_str()),
        block => block["text"].as_str(),
    };
    text.unwrap_or("(no text)").to_owned()
}

/// Seals and opens `requestState`: the state's JSON, a dot, and a tag computed over the tool's
/// name and that JSON with SipHash under this process's random keys (std's `RandomState`).
///
/// rmcp's own `RequestStateCodec` (HMAC-SHA256) sits behind its `request-state` feature, whose
/// `hmac` crate is not in the workspace's lockfile; a keyed SipHash tag is a sound MAC for a
/// test fixture, and the suite only needs tampering to be detected.
pub struct StateSeal {
    keys: RandomState,
}

impl StateSeal {
    pub fn new() -> Self {
        StateSeal { keys: RandomState::new() }
    }

    fn tag(&self, owner: &str, json: &str) -> String {
        format!("{:016x}", self.keys.hash_one((owner, json)))
    }

    /// `state` as an opaque string that only this process can open, for `owner` only.
    pub fn seal<T: Serialize>(&self, owner: &str, state: &T) -> String {
        let json = serde_json::to_string(state).expect("the fixture's states serialize");
        let tag = self.tag(owner, &json);
        format!("{json}.{tag}")
    }

    /// The state `seal` made for `owner`; an error if it was altered or made for another owner.
    pub fn open<T: DeserializeOwned>(&self, owner: &str, sealed: &str) -> Result<T, McpError> {
        let tampered = || McpError::invalid_params("requestState failed its integrity check", None);
        let (json, tag) = sealed.rsplit_once('.').ok_or_else(tampered)?;
        if self.tag(owner, json) != tag {
            return Err(tampered());
        }
        serde_json::from_str(json).map_err(|_| tampered())
    }
}
