//! The owner's side of the control endpoint (axum).

use std::{collections::VecDeque, convert::Infallible};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Path, Query, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};
use tokio_util::sync::CancellationToken;

use crate::{
    Error,
    events::{Event, HostTraffic},
    supervisor::Supervisor,
};

use switchboard_core::{ErrorCode, WireError, logs::LogLine, registry::Registry};

#[derive(Clone)]
pub(crate) struct ControlState {
    pub supervisor: Supervisor,
    pub registry: Registry,
    pub token: String,
    pub port: u16,
    pub cancel: CancellationToken,
    /// Cancelled by `POST /v1/quit`; the owner's process decides how to end.
    pub quit: CancellationToken,
    pub traffic: LatestTraffic,
}

/// The newest `traffic` event the owner published (who reaches each server through the
/// gateway), for a window that attaches after it was sent.
#[derive(Clone, Default)]
pub(crate) struct LatestTraffic(std::sync::Arc<std::sync::Mutex<Vec<HostTraffic>>>);

impl LatestTraffic {
    /// Keeps the newest one from `events` until `cancel`.
    pub fn follow(events: &crate::events::EventBus, cancel: CancellationToken) -> Self {
        let latest = LatestTraffic::default();
        let (kept, mut events) = (latest.clone(), events.subscribe());
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    event = events.recv() => event,
                    () = cancel.cancelled() => return,
                };
                match event {
                    Ok(Event::Traffic { servers }) => {
                        *kept.0.lock().unwrap_or_else(|p| p.into_inner()) = servers;
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        latest
    }

    fn get(&self) -> Vec<HostTraffic> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

pub(crate) fn router(state: ControlState) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/reload", post(reload))
        .route("/v1/quit", post(quit))
        .route("/v1/events", get(events))
        .route("/v1/traffic", get(traffic))
        .route("/v1/tools", get(tools))
        .route("/v1/servers/{name}/logs", get(logs))
        .route("/v1/servers/{name}/{action}", post(action))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

pub(crate) async fn serve(listener: tokio::net::TcpListener, state: ControlState) {
    let cancel = state.cancel.clone();
    let app = router(state);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await;
    if let Err(e) = result {
        tracing::error!("control endpoint stopped: {e}");
    }
}

/// Token, loopback `Host`, no `Origin`.
async fn guard(State(state): State<ControlState>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    if headers.contains_key(header::ORIGIN) {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "requests from web pages are refused",
        );
    }
    let host_ok = headers.get(header::HOST).and_then(|h| h.to_str().ok()).is_some_and(|host| {
        host == format!("127.0.0.1:{}", state.port) || host == format!("localhost:{}", state.port)
    });
    if !host_ok {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "the Host header must be loopback",
        );
    }
    if !token_matches(headers, &state.token) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "a valid bearer token is required",
        );
    }
    next.run(request).await
}

fn token_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    // Constant-time comparison: the time taken does not depend on where the strings differ.
    given.len() == token.len()
        && given.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (status, Json(WireError { code, message: message.into() })).into_response()
}

struct ApiError(Error);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self.0.code() {
            ErrorCode::UnknownServer => StatusCode::NOT_FOUND,
            ErrorCode::InvalidName | ErrorCode::InvalidSpec | ErrorCode::UnknownAction => {
                StatusCode::BAD_REQUEST
            }
            ErrorCode::StartFailed | ErrorCode::RemoteNotSupervised => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, Json(WireError::from(&self.0))).into_response()
    }
}

async fn status(State(state): State<ControlState>) -> Response {
    Json(state.supervisor.status()).into_response()
}

async fn traffic(State(state): State<ControlState>) -> Response {
    Json(state.traffic.get()).into_response()
}

async fn reload(State(state): State<ControlState>) -> Result<Response, ApiError> {
    super::reload(&state.registry, &state.supervisor).await.map_err(ApiError)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The tool definitions each running server lists now (a server that does not answer within
/// 10 s is left out), by server.
async fn tools(
    State(state): State<ControlState>,
) -> Json<std::collections::BTreeMap<String, Vec<serde_json::Value>>> {
    let mut all = std::collections::BTreeMap::new();
    for status in state.supervisor.status() {
        let Some(session) = state.supervisor.connection(status.name.as_str()) else { continue };
        let listed =
            tokio::time::timeout(std::time::Duration::from_secs(10), session.list_tools()).await;
        if let Ok(Ok(listing)) = listed {
            let tools = listing.items.iter().filter_map(|t| serde_json::to_value(t).ok()).collect();
            all.insert(status.name.to_string(), tools);
        }
    }
    Json(all)
}

/// Asks the owner's process to quit; it answers at once and stops its servers after.
async fn quit(State(state): State<ControlState>) -> Response {
    tracing::info!("asked to quit through the control endpoint");
    state.quit.cancel();
    StatusCode::ACCEPTED.into_response()
}

async fn action(
    State(state): State<ControlState>,
    Path((name, action)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let supervisor = &state.supervisor;
    let status = match action.as_str() {
        "start" => supervisor.start(&name).await,
        "stop" => supervisor.stop(&name).await,
        "restart" => supervisor.restart(&name).await,
        other => return Err(ApiError(Error::UnknownAction(other.to_string()))),
    }
    .map_err(ApiError)?;
    Ok(Json(status).into_response())
}

#[derive(Deserialize)]
struct LogsQuery {
    #[serde(default)]
    follow: bool,
}

async fn logs(
    State(state): State<ControlState>,
    Path(name): Path<String>,
    Query(query): Query<LogsQuery>,
) -> Result<Response, ApiError> {
    // Subscribe before taking the snapshot so no line falls between the two.
    let live = state.supervisor.subscribe();
    let history = state.supervisor.logs(&name).map_err(ApiError)?;
    if !query.follow {
        return Ok(Json(history).into_response());
    }
    let last_ms = history.last().map_or(0, |l| l.at_ms);
    let mut seen: VecDeque<LogLine> =
        history.iter().filter(|l| l.at_ms == last_ms).cloned().collect();
    let history = futures::stream::iter(history);
    let live = BroadcastStream::new(live).filter_map(move |event| {
        let line = match event {
            Ok(Event::Log { name: from, line }) if from.as_str() == name => Some(line),
            _ => None,
        };
        let line = line.filter(|line| {
            if line.at_ms < last_ms {
                return false;
            }
            match seen.iter().position(|s| s == line) {
                Some(i) => {
                    seen.remove(i);
                    false
                }
                None => true,
            }
        });
        std::future::ready(line)
    });
    Ok(json_lines(history.chain(live), state.cancel.clone()))
}

async fn events(State(state): State<ControlState>) -> Response {
    // A reader that falls behind by more than the bus holds is told so, once, and let go: it
    // neither slows the owner (the bus never waits) nor follows on with a silent gap.
    let stream = BroadcastStream::new(state.supervisor.subscribe())
        .map(|event| match event {
            Ok(event) => EventsLine::Event(Box::new(event)),
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                tracing::warn!("dropped an events reader that fell behind by {missed} events");
                EventsLine::Dropped(Dropped {
                    event: "dropped",
                    missed,
                    reason: format!(
                        "this reader fell behind and {missed} events were dropped; the owner \
                         closed the stream, read it again to follow on"
                    ),
                })
            }
        })
        .scan(false, |ended, line| {
            let last = matches!(line, EventsLine::Dropped(_));
            let item = (!*ended).then_some(line);
            *ended |= last;
            std::future::ready(item)
        });
    json_lines(stream, state.cancel.clone())
}

/// One line of `GET /v1/events`: an event, or the last line a reader that fell behind gets.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum EventsLine {
    Event(Box<Event>),
    Dropped(Dropped),
}

#[derive(serde::Serialize)]
struct Dropped {
    /// Always `"dropped"`, so a reader can tell it from the events (which all have `event`).
    event: &'static str,
    missed: u64,
    reason: String,
}

/// A streaming body of JSON lines that ends when the owner shuts down.
fn json_lines<T, S>(items: S, cancel: CancellationToken) -> Response
where
    T: serde::Serialize,
    S: Stream<Item = T> + Send + 'static,
{
    let body = items
        .filter_map(|item| {
            std::future::ready(serde_json::to_vec(&item).ok().map(|mut bytes| {
                bytes.push(b'\n');
                Ok::<_, Infallible>(Bytes::from(bytes))
            }))
        })
        .take_until(async move { cancel.cancelled_owned().await });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
