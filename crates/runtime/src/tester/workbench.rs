//! The window's tester: open sessions by id, with the operations the Tester view offers. Calls can
//! be cancelled by a caller-chosen id; arguments are validated against the tool's input schema
//! before anything is sent.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_mcp::{
    CallOutcome, ConnectOptions, ProtocolChoice, ServerDetails, SessionOptions, TrafficEntry, args,
    export::{self, Export, Format},
};
use tokio_util::sync::CancellationToken;

use super::{HistoryEntry, Target, TesterSession};
use crate::{Error, Result};
use switchboard_core::{
    Env, ErrorCode, Paths,
    clock::{Clock, SystemClock},
};

/// A session just opened.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Opened {
    pub id: u64,
    pub label: String,
    pub details: ServerDetails,
    /// The server's process, for a stdio target.
    pub pid: Option<u32>,
}

/// Everything a server lists, as the server sent it; a list that failed has its error instead.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    #[ts(type = "import('../mcp').Tool[]")]
    pub tools: Vec<Value>,
    #[ts(type = "import('../mcp').Resource[]")]
    pub resources: Vec<Value>,
    #[ts(type = "import('../mcp').ResourceTemplate[]")]
    pub templates: Vec<Value>,
    #[ts(type = "import('../mcp').Prompt[]")]
    pub prompts: Vec<Value>,
    /// `list method: error`, for each list that failed.
    pub errors: Vec<String>,
    /// Tool descriptions that look like they try to steer the model (see `flags`), so the
    /// tester shows the warning wherever it lists the tool.
    #[serde(default)]
    pub flags: Vec<crate::flags::Flag>,
}

/// Open tester sessions.
pub struct Workbench {
    paths: Paths,
    env: Env,
    clock: Arc<dyn Clock>,
    sessions: Mutex<HashMap<u64, Arc<TesterSession>>>,
    calls: Mutex<HashMap<u64, CancellationToken>>,
    next: AtomicU64,
}

impl std::fmt::Debug for Workbench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbench").finish_non_exhaustive()
    }
}

fn no_session(id: u64) -> Error {
    Error::Mcp { code: ErrorCode::NoSession, message: format!("tester session {id} is not open") }
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Workbench {
    /// Sessions find bare commands through `env`.
    pub fn new(paths: Paths, env: Env) -> Self {
        Workbench {
            paths,
            env,
            clock: Arc::new(SystemClock),
            sessions: Mutex::new(HashMap::new()),
            calls: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        }
    }

    /// Dates the calls of sessions opened from now on with `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn get(&self, id: u64) -> Result<Arc<TesterSession>> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.get(&id).cloned().ok_or_else(|| no_session(id))
    }

    /// Connects to `target`. `protocol` forces a revision; `timeout_secs` bounds the handshake
    /// and every request (default 60 s).
    pub async fn open(
        &self,
        target: Target,
        protocol: Option<String>,
        timeout_secs: Option<f64>,
    ) -> Result<Opened> {
        let timeout = Duration::from_secs_f64(timeout_secs.filter(|t| *t > 0.0).unwrap_or(60.0));
        let options = SessionOptions {
            connect: ConnectOptions {
                timeout,
                protocol: protocol.map_or(ProtocolChoice::Auto, ProtocolChoice::Force),
                ..ConnectOptions::default()
            },
            request_timeout: timeout,
            ..SessionOptions::default()
        };
        let session = TesterSession::open(&self.paths, &self.env, target, &options)
            .await?
            .with_clock(self.clock.clone());
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let opened = Opened {
            id,
            label: session.target().label(),
            details: session.session().details().clone(),
            pid: session.pid(),
        };
        self.sessions.lock().unwrap_or_else(|p| p.into_inner()).insert(id, Arc::new(session));
        Ok(opened)
    }

    /// Lists tools, resources, templates and prompts (every page of each).
    pub async fn offer(&self, id: u64) -> Result<Offer> {
        let session = self.get(id)?;
        let s = session.session();
        let mut offer = Offer::default();
        match s.list_tools().await {
            Ok(l) => offer.tools = l.items.iter().map(json).collect(),
            Err(e) => offer.errors.push(e.to_string()),
        }
        offer.flags = offer.tools.iter().flat_map(crate::flags::of_listed).collect();
        match s.list_resources().await {
            Ok(l) => offer.resources = l.items.iter().map(json).collect(),
            Err(e) => offer.errors.push(e.to_string()),
        }
        match s.list_resource_templates().await {
            Ok(l) => offer.templates = l.items.iter().map(json).collect(),
            Err(e) => offer.errors.push(e.to_string()),
        }
        match s.list_prompts().await {
            Ok(l) => offer.prompts = l.items.iter().map(json).collect(),
            Err(e) => offer.errors.push(e.to_string()),
        }
        Ok(offer)
    }

    /// Calls a tool after checking `arguments` against its input schema. `call_id` lets
    /// [`Self::cancel`] stop it.
    pub async fn call(
        &self,
        id: u64,
        tool: &str,
        arguments: Value,
        call_id: u64,
        timeout_secs: Option<f64>,
    ) -> Result<CallOutcome> {
        let session = self.get(id)?;
        let Value::Object(arguments) = arguments else {
            return Err(Error::InvalidArguments(vec!["arguments must be a JSON object".into()]));
        };
        let found = session.check(session.session().tool(tool).await).await?;
        let Some(found) = found else {
            return Err(Error::Mcp {
                code: ErrorCode::McpProtocol,
                message: format!("the server has no tool {tool:?}"),
            });
        };
        let schema = Value::Object(found.input_schema.as_ref().clone());
        let problems = args::validate(&Value::Object(arguments.clone()), &schema);
        if !problems.is_empty() {
            return Err(Error::InvalidArguments(problems));
        }
        let cancel = CancellationToken::new();
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).insert(call_id, cancel.clone());
        let timeout = timeout_secs.filter(|t| *t > 0.0).map(Duration::from_secs_f64);
        let outcome = session.call_tool(tool, arguments, timeout, Some(&cancel)).await;
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).remove(&call_id);
        outcome
    }

    /// Cancels an in-flight call; false when it already finished.
    pub fn cancel(&self, call_id: u64) -> bool {
        match self.calls.lock().unwrap_or_else(|p| p.into_inner()).remove(&call_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    pub async fn read(&self, id: u64, uri: &str) -> Result<Value> {
        let session = self.get(id)?;
        let result = session.check(session.session().read_resource(uri).await).await?;
        Ok(json(&result))
    }

    pub async fn prompt(
        &self,
        id: u64,
        name: &str,
        arguments: Map<String, Value>,
    ) -> Result<Value> {
        let session = self.get(id)?;
        let result = session.check(session.session().get_prompt(name, arguments).await).await?;
        Ok(json(&result))
    }

    /// Traffic entries after `after` (a sequence number; 0 for all).
    pub fn traffic(&self, id: u64, after: u64) -> Result<Vec<TrafficEntry>> {
        Ok(self.get(id)?.session().traffic().since(after))
    }

    /// The newest traffic entry's sequence number, as it changes (ends when the session closes).
    pub fn traffic_watch(&self, id: u64) -> Result<tokio::sync::watch::Receiver<u64>> {
        Ok(self.get(id)?.session().traffic().watch())
    }

    /// The whole traffic log as JSON lines.
    pub fn traffic_json_lines(&self, id: u64) -> Result<String> {
        Ok(self.get(id)?.session().traffic().to_json_lines())
    }

    /// The target's call history, newest last.
    pub fn history(&self, id: u64) -> Result<Vec<HistoryEntry>> {
        self.get(id)?.history().entries()
    }

    /// The server's tools (or one of them) as provider tool definitions.
    pub async fn export(&self, id: u64, format: Format, tool: Option<&str>) -> Result<Export> {
        let session = self.get(id)?;
        let tools = session.check(session.session().list_tools().await).await?.items;
        let chosen: Vec<_> = match tool {
            Some(name) => tools.into_iter().filter(|t| t.name == name).collect(),
            None => tools,
        };
        Ok(export::export(&chosen, format))
    }

    /// Closes a session (a stdio server's process group ends with it).
    pub async fn close(&self, id: u64) {
        let session = self.sessions.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        if let Some(session) = session {
            match Arc::try_unwrap(session) {
                Ok(session) => session.close().await,
                // An operation is still running; dropping the last handle ends the session.
                Err(shared) => drop(shared),
            }
        }
    }

    /// Closes every session (at quit).
    pub async fn close_all(&self) {
        let ids: Vec<u64> =
            self.sessions.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect();
        for id in ids {
            self.close(id).await;
        }
    }
}
