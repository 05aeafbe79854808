//! Where a host and a server speak different eras of the protocol.
//!
//! A 2026-07-28 server that needs something from its client mid-request answers
//! `input_required` (SEP-2322): the requests it wants answered (sampling, elicitation, roots)
//! and an opaque `requestState`, and the client retries with the answers. A host of the
//! stateful revisions cannot read that result. For such a host the gateway plays the 2026
//! client: it puts each request to the host as the server-to-client request its revision has
//! (`sampling/createMessage`, `elicitation/create`, `roots/list`), then retries the server's
//! request with the answers and the state, for at most [`DEFAULT_MRTR_MAX_ROUNDS`] rounds.
//! A 2026-07-28 host gets `input_required` as it is and drives the rounds itself.
//!
//! The other way round, a server of the stateful revisions sends its client a request mid-call
//! (sampling, elicitation, roots), and a 2026-07-28 host takes no requests. The gateway answers
//! the host's call with `input_required` carrying that request and a `requestState` of its own,
//! and keeps the server's call waiting ([`Parking`]). The host's retry brings the answer: it goes
//! to the server, and the retry waits for the server's result, or for its next request.

#![allow(deprecated)] // sampling and roots (SEP-2577): what the stateful revisions use

use rmcp::{
    ErrorData as McpError, Peer, RoleServer,
    model::{
        CallToolRequest, CallToolRequestParams, CallToolResponse, ClientCapabilities,
        ClientRequest, GetPromptRequest, GetPromptRequestParams, GetPromptResponse, InputRequest,
        InputRequests, InputRequiredResult, InputResponses, ProgressToken, ReadResourceRequest,
        ReadResourceRequestParams, ReadResourceResponse, RequestMetaObject, ServerResult,
    },
    service::{RequestContext, ServiceError},
};
use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::Value;
use switchboard_mcp::Session;
use tokio::sync::oneshot;

use crate::relay::{Questions, answered, host_declares, relay};

use rmcp::model::DEFAULT_MRTR_MAX_ROUNDS;

/// The host a request came from, as far as an `input_required` answer is concerned.
#[derive(Clone)]
pub(crate) struct Host {
    pub name: String,
    pub peer: Peer<RoleServer>,
    /// The host speaks a stateful revision: `input_required` is put to it as requests.
    pub stateful: bool,
    /// What a 2026-07-28 server is told about this host with each of its requests (the server
    /// asks only what the host can answer, and logs at the host's level).
    pub context: RequestMetaObject,
}

/// The client capabilities the gateway can carry between a server and a host.
const CARRIED: [&str; 3] = ["sampling", "elicitation", "roots"];

impl Host {
    /// `level`: the log level a stateful host session set (`logging/setLevel`); a 2026-07-28
    /// host names its own with each request.
    pub fn of(
        name: &str,
        context: &RequestContext<RoleServer>,
        level: Option<rmcp::model::LoggingLevel>,
    ) -> Host {
        let stateful = context.protocol_version().is_some_and(|v| v.has_initialize());
        let (capabilities, level) = if stateful {
            (context.peer.peer_info().map(|info| info.capabilities.clone()), level)
        } else {
            (context.meta.client_capabilities(), context.meta.log_level())
        };
        let mut meta = RequestMetaObject::new();
        if let Some(capabilities) = capabilities.and_then(carried) {
            meta.set_client_capabilities(capabilities);
        }
        if let Some(level) = level {
            meta.set_log_level(level);
        }
        Host { name: name.to_owned(), peer: context.peer.clone(), stateful, context: meta }
    }

    /// Puts each of `server`'s input requests to this (stateful) host and returns its answers
    /// under the same keys, for the retry.
    pub async fn fulfil(
        &self,
        server: &str,
        requests: InputRequests,
    ) -> Result<InputResponses, McpError> {
        let mut answers = InputResponses::new();
        for (key, request) in requests {
            let answer = match request {
                InputRequest::CreateMessage(asked) => {
                    self.check(server, "sampling/createMessage", "sampling")?;
                    let result = self.peer.create_message(asked.params).await;
                    json(answered(&self.name, "sampling/createMessage", result)?)
                }
                InputRequest::Elicitation(asked) => {
                    self.check(server, "elicitation/create", "elicitation")?;
                    let result = self.peer.create_elicitation(asked.params).await;
                    json(answered(&self.name, "elicitation/create", result)?)
                }
                InputRequest::ListRoots(_) => {
                    self.check(server, "roots/list", "roots")?;
                    json(answered(&self.name, "roots/list", self.peer.list_roots().await)?)
                }
                other => {
                    let method = serde_json::to_value(&other)
                        .ok()
                        .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_owned))
                        .unwrap_or_else(|| "an unknown request".to_owned());
                    return Err(McpError::internal_error(
                        format!(
                            "{server} asked for {method}, which the gateway cannot put to a host"
                        ),
                        None,
                    ));
                }
            }?;
            answers.insert(key, answer);
        }
        Ok(answers)
    }

    fn check(&self, server: &str, what: &str, capability: &str) -> Result<(), McpError> {
        if host_declares(&self.peer, capability) {
            return Ok(());
        }
        Err(McpError::internal_error(
            format!(
                "{server} needs {what} to go on, and {} does not support {capability}",
                self.name
            ),
            None,
        ))
    }
}

fn json<T: serde::Serialize>(answer: T) -> Result<Value, McpError> {
    serde_json::to_value(answer)
        .map_err(|e| McpError::internal_error(format!("the host's answer: {e}"), None))
}

/// Of a host's capabilities, those the gateway can carry ([`CARRIED`]); `None` if they cannot
/// be read back.
fn carried(capabilities: ClientCapabilities) -> Option<ClientCapabilities> {
    let Ok(Value::Object(mut all)) = serde_json::to_value(capabilities) else { return None };
    all.retain(|key, _| CARRIED.contains(&key.as_str()));
    serde_json::from_value(Value::Object(all)).ok()
}

/// A request a 2026-07-28 server may answer with `input_required`, and retried with answers.
pub(crate) trait Retried: Clone {
    fn request(&self) -> ClientRequest;
    fn answer(&mut self, answers: InputResponses, state: Option<String>);
    /// The `requestState` a retry echoes, and its answers.
    fn retry(&self) -> (Option<&str>, Option<&InputResponses>);
}

/// What such a request gets back.
pub(crate) trait Answer: Sized {
    /// The final answer, or the input the server asks for first.
    fn read(result: ServerResult) -> Result<Result<Self, InputRequiredResult>, ServiceError>;
    /// `input_required` passed on as it is (to a 2026-07-28 host).
    fn asking(asked: InputRequiredResult) -> Self;
}

/// Sends `params` to `server` through its session and carries input requests across eras
/// (module docs): a 2026-07-28 server's `input_required` to a stateful host is asked and
/// retried; a stateful server's request to a 2026-07-28 host (`questions`) becomes
/// `input_required`, its call parked until the retry.
pub(crate) async fn rounds<P: Retried, A: Answer>(
    session: Arc<Session>,
    host: &Host,
    server: &str,
    mut params: P,
    token: Option<ProgressToken>,
    questions: Option<Questions>,
    parking: &Parking,
) -> Result<A, ServiceError> {
    if let Some(questions) = questions {
        let call = match params.retry() {
            (Some(state), answers) if state.starts_with(STATE_PREFIX) => {
                parking.resume(state, &host.name, answers).map_err(ServiceError::McpError)?
            }
            _ => {
                let (request, peer, meta) =
                    (params.request(), host.peer.clone(), host.context.clone());
                Box::pin(async move { relay(&session, request, &peer, token, meta).await }) as Call
            }
        };
        return wait(call, questions, parking, &host.name).await;
    }
    for _ in 0..DEFAULT_MRTR_MAX_ROUNDS {
        let sent =
            relay(&session, params.request(), &host.peer, token.clone(), host.context.clone());
        match A::read(sent.await?)? {
            Ok(done) => return Ok(done),
            Err(asked) if host.stateful => {
                let requests = asked.input_requests.unwrap_or_default();
                let answers =
                    host.fulfil(server, requests).await.map_err(ServiceError::McpError)?;
                params.answer(answers, asked.request_state);
            }
            Err(asked) => return Ok(A::asking(asked)),
        }
    }
    Err(ServiceError::McpError(too_many_rounds(server)))
}

/// A server's call in flight for a 2026-07-28 host.
type Call = Pin<Box<dyn Future<Output = Result<ServerResult, ServiceError>> + Send>>;

/// What the gateway's own `requestState` values start with.
const STATE_PREFIX: &str = "switchboard-input:";
/// How long a parked call waits for its host's retry before it is cancelled at the server.
const PARKED_FOR: Duration = Duration::from_secs(600);
/// The key of the one input request in the gateway's own `input_required`.
const INPUT_KEY: &str = "input";

/// Waits for the server's answer to `call`, or for its request to the host, which parks the call
/// and answers the host `input_required`.
async fn wait<A: Answer>(
    mut call: Call,
    mut questions: Questions,
    parking: &Parking,
    host: &str,
) -> Result<A, ServiceError> {
    tokio::select! {
        biased;
        result = &mut call => match A::read(result?)? {
            Ok(done) => Ok(done),
            Err(asked) => Ok(A::asking(asked)),
        },
        Some(question) = questions.recv() => {
            let state = parking.park(host, call, question.answer);
            let requests = InputRequests::from([(INPUT_KEY.to_owned(), question.request)]);
            Ok(A::asking(InputRequiredResult::new(Some(requests), Some(state))))
        }
    }
}

/// Server calls waiting for a 2026-07-28 host's retry, by the `requestState` it was given.
#[derive(Default)]
pub(crate) struct Parking {
    calls: Mutex<HashMap<String, Parked>>,
    next: AtomicU64,
}

struct Parked {
    host: String,
    call: Call,
    answer: oneshot::Sender<Result<Value, McpError>>,
    since: Instant,
}

impl Parking {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Parked>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `call` until `host` retries; calls left longer than [`PARKED_FOR`] are dropped,
    /// which cancels them at their server.
    fn park(
        &self,
        host: &str,
        call: Call,
        answer: oneshot::Sender<Result<Value, McpError>>,
    ) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let secret: u64 = rand::random();
        let state = format!("{STATE_PREFIX}{n}:{secret:016x}");
        let mut calls = self.lock();
        calls.retain(|_, parked| parked.since.elapsed() < PARKED_FOR);
        calls.insert(
            state.clone(),
            Parked { host: host.to_owned(), call, answer, since: Instant::now() },
        );
        state
    }

    /// The call `host`'s retry resumes, its answer handed to the server.
    fn resume(
        &self,
        state: &str,
        host: &str,
        answers: Option<&InputResponses>,
    ) -> Result<Call, McpError> {
        let parked = {
            let mut calls = self.lock();
            match calls.get(state) {
                Some(parked) if parked.host == host => calls.remove(state),
                _ => None,
            }
        };
        let Some(parked) = parked else {
            return Err(McpError::invalid_params(
                "the gateway holds no request for this requestState (it expired, was answered \
                 already, or the owner restarted); call again without it",
                None,
            ));
        };
        let answer = answers.and_then(|a| a.get(INPUT_KEY)).cloned().ok_or_else(|| {
            McpError::invalid_params(
                format!("the retry carried no answer under {INPUT_KEY:?}"),
                None,
            )
        });
        // The server may have given up meanwhile; its call's result says so.
        let _ = parked.answer.send(answer);
        Ok(parked.call)
    }
}

macro_rules! retried {
    ($params:ty, $variant:ident, $request:ty) => {
        impl Retried for $params {
            fn request(&self) -> ClientRequest {
                ClientRequest::$variant(<$request>::new(self.clone()))
            }
            fn answer(&mut self, answers: InputResponses, state: Option<String>) {
                self.input_responses = Some(answers);
                self.request_state = state;
            }
            fn retry(&self) -> (Option<&str>, Option<&InputResponses>) {
                (self.request_state.as_deref(), self.input_responses.as_ref())
            }
        }
    };
}
retried!(CallToolRequestParams, CallToolRequest, CallToolRequest);
retried!(GetPromptRequestParams, GetPromptRequest, GetPromptRequest);
retried!(ReadResourceRequestParams, ReadResourceRequest, ReadResourceRequest);

impl Answer for CallToolResponse {
    fn read(result: ServerResult) -> Result<Result<Self, InputRequiredResult>, ServiceError> {
        match result {
            ServerResult::CallToolResult(done) => Ok(Ok(CallToolResponse::Complete(done))),
            ServerResult::CreateTaskResult(task) => Ok(Ok(CallToolResponse::Task(task))),
            ServerResult::InputRequiredResult(asked) => Ok(Err(asked)),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }
    fn asking(asked: InputRequiredResult) -> Self {
        CallToolResponse::InputRequired(asked)
    }
}

impl Answer for GetPromptResponse {
    fn read(result: ServerResult) -> Result<Result<Self, InputRequiredResult>, ServiceError> {
        match result {
            ServerResult::GetPromptResult(done) => Ok(Ok(GetPromptResponse::Complete(done))),
            ServerResult::InputRequiredResult(asked) => Ok(Err(asked)),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }
    fn asking(asked: InputRequiredResult) -> Self {
        GetPromptResponse::InputRequired(asked)
    }
}

impl Answer for ReadResourceResponse {
    fn read(result: ServerResult) -> Result<Result<Self, InputRequiredResult>, ServiceError> {
        match result {
            ServerResult::ReadResourceResult(done) => Ok(Ok(ReadResourceResponse::Complete(done))),
            ServerResult::InputRequiredResult(asked) => Ok(Err(asked)),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }
    fn asking(asked: InputRequiredResult) -> Self {
        ReadResourceResponse::InputRequired(asked)
    }
}

/// The error for a server that keeps asking.
fn too_many_rounds(server: &str) -> McpError {
    McpError::internal_error(
        format!(
            "{server} asked for input more than {DEFAULT_MRTR_MAX_ROUNDS} times in one request; \
             the gateway stopped there"
        ),
        None,
    )
}
