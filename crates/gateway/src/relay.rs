//! One request from a host to a server, with what rides along while it runs: the server's
//! progress for it goes back under the host's own progress token (the upstream token is the
//! gateway's, unique on the server's one session however many hosts share it), and the server's
//! log messages go to the host whose call is in flight. A request dropped before its answer (the
//! call timed out, the host cancelled or went away) is cancelled upstream.

//!
//! While a call is in flight its host session is the server's *caller*: a server that asks its
//! client something mid-call (sampling, elicitation, roots: the stateful revisions'
//! server-to-client requests) is asked through [`Asker`], which puts the question to the one host
//! session with a call in flight on that server. Over stdio nothing ties such a request to the
//! call that caused it, so with calls of several host sessions in flight the request is refused
//! with an error that says why, rather than guessed. A 2026-07-28 host takes no such requests:
//! its call gets the request as `input_required` instead ([`crate::eras`]).

#![allow(deprecated)] // logging, sampling, roots (SEP-2577): what the stateful revisions use

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use futures::future::BoxFuture;
use rmcp::{
    ErrorData as McpError, Peer, RoleClient, RoleServer,
    model::{
        ClientRequest, CreateMessageRequest, CreateMessageRequestParams, CreateMessageResult,
        ElicitRequest, ElicitRequestParams, ElicitResult, InputRequest, ListRootsRequest,
        ListRootsResult, ProgressToken, RequestId, ServerResult,
    },
    service::{PeerRequestOptions, ServiceError},
};
use serde_json::Value;
use switchboard_mcp::{ClientRequests, Notice, Session};
use tokio::sync::{broadcast::error::RecvError, mpsc, oneshot};

/// A host session's identity, for telling callers apart.
pub(crate) fn next_session_key() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A host session with a call in flight.
struct Caller {
    key: u64,
    host: String,
    peer: Peer<RoleServer>,
    /// For a 2026-07-28 host, which takes no requests from servers: where a server's request
    /// goes instead, to reach the host as `input_required` ([`crate::eras`]).
    ask: Option<mpsc::UnboundedSender<Question>>,
}

/// A server's request to its client, put to a 2026-07-28 host's call as `input_required`; the
/// host's answer, once its retry brings it, goes back through `answer`.
pub(crate) struct Question {
    pub request: InputRequest,
    pub answer: oneshot::Sender<Result<Value, McpError>>,
}

/// The questions servers put to one call of a 2026-07-28 host.
pub(crate) type Questions = mpsc::UnboundedReceiver<Question>;

/// Per server, the host sessions with a call in flight (a session counted once per call).
#[derive(Default)]
pub(crate) struct Callers {
    by_server: Mutex<HashMap<String, Vec<Caller>>>,
}

/// A call in flight; dropping it ends it.
pub(crate) struct InCall {
    callers: Arc<Callers>,
    server: String,
    key: u64,
}

impl Drop for InCall {
    fn drop(&mut self) {
        let mut by_server = self.callers.lock();
        if let Some(list) = by_server.get_mut(&self.server)
            && let Some(at) = list.iter().position(|caller| caller.key == self.key)
        {
            list.remove(at);
        }
    }
}

impl Callers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Caller>>> {
        self.by_server.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A call of host session `key` on `server` begins; `ask` for a 2026-07-28 host.
    pub fn enter(
        self: &Arc<Self>,
        server: &str,
        key: u64,
        host: &str,
        peer: &Peer<RoleServer>,
        ask: Option<mpsc::UnboundedSender<Question>>,
    ) -> InCall {
        self.lock().entry(server.to_owned()).or_default().push(Caller {
            key,
            host: host.to_owned(),
            peer: peer.clone(),
            ask,
        });
        InCall { callers: self.clone(), server: server.to_owned(), key }
    }

    /// The host session a request of `server` to its client goes to: its host's name, its
    /// peer, and, for a 2026-07-28 host, where the request goes instead of the peer.
    fn asked(&self, server: &str, what: &str) -> Result<Asked, McpError> {
        let by_server = self.lock();
        let list = by_server.get(server).map(Vec::as_slice).unwrap_or_default();
        let mut keys: Vec<u64> = list.iter().map(|caller| caller.key).collect();
        keys.sort_unstable();
        keys.dedup();
        // The newest call of that session: a 2026-07-28 host's retry brings a new one.
        match (keys.len(), list.last()) {
            (1, Some(caller)) => Ok((caller.host.clone(), caller.peer.clone(), caller.ask.clone())),
            (0, _) | (_, None) => Err(McpError::internal_error(
                format!("{server} asked for {what} with no host call in flight to ask"),
                None,
            )),
            (n, _) => Err(McpError::internal_error(
                format!(
                    "{server} asked for {what} while {n} host sessions have calls in flight on \
                     it; over stdio the request cannot be tied to one of them, so none is asked"
                ),
                None,
            )),
        }
    }
}

/// Whom a server's request goes to: host name, peer, and the 2026-07-28 way in, if any.
type Asked = (String, Peer<RoleServer>, Option<mpsc::UnboundedSender<Question>>);

/// Answers one server's requests to its client by asking the host whose call is in flight.
pub(crate) struct Asker {
    pub server: String,
    pub callers: Arc<Callers>,
}

/// How a server's request reaches the host.
enum Route {
    /// A stateful host, asked directly.
    Direct(String, Peer<RoleServer>),
    /// A 2026-07-28 host: the request becomes `input_required` on its call.
    InputRequired(String, mpsc::UnboundedSender<Question>),
}

impl Asker {
    /// Where `what` goes; a stateful host must have declared `capability` (`sampling`,
    /// `elicitation`, `roots`). A 2026-07-28 host declares capabilities per request, and
    /// answers or refuses the `input_required` itself.
    fn route(&self, what: &str, capability: &str) -> Result<Route, McpError> {
        let (host, peer, ask) = self.callers.asked(&self.server, what)?;
        if let Some(ask) = ask {
            return Ok(Route::InputRequired(host, ask));
        }
        if !host_declares(&peer, capability) {
            return Err(McpError::internal_error(
                format!(
                    "{} asked for {what}, and {host}, whose call is in flight, does not support \
                     {capability}",
                    self.server
                ),
                None,
            ));
        }
        Ok(Route::Direct(host, peer))
    }
}

/// Puts `request` to a 2026-07-28 host's call and waits for the answer its retry brings.
async fn through_input_required<T: serde::de::DeserializeOwned>(
    host: &str,
    ask: &mpsc::UnboundedSender<Question>,
    what: &str,
    request: InputRequest,
) -> Result<T, McpError> {
    let (answer, answered) = oneshot::channel();
    ask.send(Question { request, answer }).map_err(|_| {
        McpError::internal_error(format!("{host}'s call ended before {what} reached it"), None)
    })?;
    let value = answered.await.map_err(|_| {
        McpError::internal_error(
            format!("{host} did not answer {what}: its call ended or was not retried in time"),
            None,
        )
    })??;
    serde_json::from_value(value)
        .map_err(|e| McpError::invalid_params(format!("{host}'s answer to {what}: {e}"), None))
}

/// Whether a host session declared the client `capability` (`sampling`, `elicitation`, `roots`).
pub(crate) fn host_declares(peer: &Peer<RoleServer>, capability: &str) -> bool {
    peer.peer_info().is_some_and(|info| {
        serde_json::to_value(&info.capabilities)
            .ok()
            .and_then(|c| c.get(capability).cloned())
            .is_some_and(|c| !c.is_null())
    })
}

/// A host's answer, or its refusal as the server should see it.
pub(crate) fn answered<T>(
    host: &str,
    what: &str,
    result: Result<T, ServiceError>,
) -> Result<T, McpError> {
    result.map_err(|e| match e {
        ServiceError::McpError(error) => error,
        other => McpError::internal_error(format!("{host} did not answer {what}: {other}"), None),
    })
}

impl ClientRequests for Asker {
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
    ) -> BoxFuture<'_, Result<CreateMessageResult, McpError>> {
        const WHAT: &str = "sampling/createMessage";
        Box::pin(async move {
            match self.route(WHAT, "sampling")? {
                Route::Direct(host, peer) => {
                    answered(&host, WHAT, peer.create_message(params).await)
                }
                Route::InputRequired(host, ask) => {
                    let request = InputRequest::CreateMessage(CreateMessageRequest::new(params));
                    through_input_required(&host, &ask, WHAT, request).await
                }
            }
        })
    }

    fn create_elicitation(
        &self,
        params: ElicitRequestParams,
    ) -> BoxFuture<'_, Result<ElicitResult, McpError>> {
        const WHAT: &str = "elicitation/create";
        Box::pin(async move {
            match self.route(WHAT, "elicitation")? {
                Route::Direct(host, peer) => {
                    answered(&host, WHAT, peer.create_elicitation(params).await)
                }
                Route::InputRequired(host, ask) => {
                    let request = InputRequest::Elicitation(ElicitRequest::new(params));
                    through_input_required(&host, &ask, WHAT, request).await
                }
            }
        })
    }

    fn list_roots(&self) -> BoxFuture<'_, Result<ListRootsResult, McpError>> {
        const WHAT: &str = "roots/list";
        Box::pin(async move {
            match self.route(WHAT, "roots")? {
                Route::Direct(host, peer) => answered(&host, WHAT, peer.list_roots().await),
                Route::InputRequired(host, ask) => {
                    let request = InputRequest::ListRoots(ListRootsRequest::default());
                    through_input_required(&host, &ask, WHAT, request).await
                }
            }
        })
    }
}

/// Cancels the upstream request when dropped before [`CancelUpstream::disarm`].
struct CancelUpstream {
    peer: Peer<RoleClient>,
    id: Option<RequestId>,
}

impl CancelUpstream {
    fn disarm(&mut self) {
        self.id = None;
    }
}

impl Drop for CancelUpstream {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let peer = self.peer.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let cancelled = rmcp::model::CancelledNotificationParam::new(
                    Some(id),
                    Some(
                        "the host's call ended before the answer (timed out, cancelled or left)"
                            .to_owned(),
                    ),
                );
                if let Err(e) = peer.notify_cancelled(cancelled).await {
                    tracing::debug!("cancelling upstream: {e}");
                }
            });
        }
    }
}

/// Sends `request` to `session`'s server and waits for the answer, passing the server's
/// notifications for it on to `host` meanwhile (progress only when the host asked for it with
/// `host_token`). A 2026-07-28 server also gets `context` in the request's `_meta`: the host's
/// capabilities and log level, in place of the gateway's own session's.
pub(crate) async fn relay(
    session: &Session,
    request: ClientRequest,
    host: &Peer<RoleServer>,
    host_token: Option<ProgressToken>,
    context: rmcp::model::RequestMetaObject,
) -> Result<ServerResult, ServiceError> {
    // Listening before sending: the first progress can come before the send returns.
    let mut notices = Some(session.notices());
    let options = if session.details().negotiated.stateless && !context.is_empty() {
        PeerRequestOptions::no_options().with_meta(context)
    } else {
        PeerRequestOptions::no_options()
    };
    let handle = session.peer().send_request_with_option(request, options).await?;
    let mut guard = CancelUpstream { peer: session.peer().clone(), id: Some(handle.id.clone()) };
    let ours = handle.progress_token.clone();
    let answer = handle.await_response();
    tokio::pin!(answer);
    loop {
        let notice = tokio::select! {
            biased;
            result = &mut answer => {
                guard.disarm();
                // What the server wrote before its answer was published before the answer
                // arrived: pass on what is still waiting.
                if let Some(receiver) = notices.as_mut() {
                    while let Ok(notice) = receiver.try_recv() {
                        pass_on(notice, &ours, host, host_token.as_ref()).await;
                    }
                }
                return result;
            }
            notice = recv(&mut notices) => notice,
        };
        match notice {
            Ok(notice) => pass_on(notice, &ours, host, host_token.as_ref()).await,
            // A flood the host could not keep up with: the oldest were dropped.
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!("a host fell {missed} notifications behind a server");
            }
            Err(RecvError::Closed) => notices = None,
        }
    }
}

/// Passes one notice on to the host whose request is in flight: its progress (under the host's
/// token, if it asked for progress), and the server's log messages.
async fn pass_on(
    notice: Notice,
    ours: &ProgressToken,
    host: &Peer<RoleServer>,
    host_token: Option<&ProgressToken>,
) {
    // A host that cannot take it (gone, or its stream closed) misses it.
    match notice {
        Notice::Progress(mut progress) if &progress.progress_token == ours => {
            if let Some(token) = host_token {
                progress.progress_token = token.clone();
                let _ = host.notify_progress(progress).await;
            }
        }
        Notice::Log(message) => {
            let _ = host.notify_logging_message(message).await;
        }
        _ => {}
    }
}

/// The next notice, or never once the session's notices ended.
async fn recv(
    notices: &mut Option<tokio::sync::broadcast::Receiver<Notice>>,
) -> Result<Notice, RecvError> {
    match notices {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}
