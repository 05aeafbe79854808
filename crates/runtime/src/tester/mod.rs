//! Tester sessions: connect to a registered server, an ad-hoc command or a URL, and drive it as a
//! client (the protocol work is `switchboard_mcp::Session`). A stdio target runs as its own
//! process (a `ManagedChild`), in its own group, separate from the supervised instance; closing
//! the session climbs the stop ladder and ends the whole group. Tool calls are kept in a
//! per-target history that can be replayed.

mod workbench;

pub use workbench::{Offer, Opened, Workbench};

use std::{
    collections::{BTreeMap, HashMap},
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_mcp::{CallOutcome, HttpTransport, Session, SessionOptions};
use tokio_util::sync::CancellationToken;

use crate::{Error, Result};

use switchboard_core::{
    Env, ErrorCode, Launch, Paths, Registry, RemoteTransport, ServerName,
    clock::{Clock, SystemClock},
    process::{self, ChildOptions, CommandSpec, Exit, ManagedChild, StderrOptions, StopLadder},
};

/// What to test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Target {
    /// A server in the registry, by name.
    Server { name: String },
    /// A command, spawned for this session (argv, never a shell).
    Command {
        command: String,
        #[serde(default)]
        args: Vec<String>,
        #[serde(default)]
        env: BTreeMap<String, String>,
        #[serde(default)]
        cwd: Option<PathBuf>,
    },
    /// A remote endpoint. No transport: Streamable HTTP, falling back to legacy SSE.
    Url {
        url: String,
        #[serde(default)]
        transport: Option<HttpTransport>,
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
}

impl Target {
    /// A short human label.
    pub fn label(&self) -> String {
        match self {
            Target::Server { name } => name.clone(),
            Target::Command { command, args, .. } => std::iter::once(command.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
            Target::Url { url, .. } => url.clone(),
        }
    }

    /// The history file's stem: the server's name, or a stable digest of an ad-hoc target.
    fn history_key(&self) -> String {
        match self {
            Target::Server { name } => name.clone(),
            Target::Command { command, args, .. } => {
                format!(
                    "cmd-{:016x}",
                    fnv1a(
                        &[command.as_str()]
                            .into_iter()
                            .chain(args.iter().map(String::as_str))
                            .collect::<Vec<_>>()
                            .join("\0")
                    )
                )
            }
            Target::Url { url, .. } => format!("url-{:016x}", fnv1a(url)),
        }
    }
}

/// A stable 64-bit digest (FNV-1a), for file names only.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One call in a target's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub unix_ms: u64,
    pub tool: String,
    #[ts(type = "Record<string, unknown>")]
    pub arguments: Map<String, Value>,
    pub elapsed_ms: f64,
    /// `ok`, `tool-error` (the result had `isError`) or `failed` (no result).
    pub outcome: String,
    /// The first text of the result, or the error.
    pub summary: String,
}

/// How many history entries are kept per target.
pub const HISTORY_LIMIT: usize = 200;

/// A target's call history, as JSON lines under `data/history/`.
#[derive(Debug, Clone)]
pub struct History {
    path: PathBuf,
    /// Dates the entries.
    clock: Arc<dyn Clock>,
}

impl History {
    pub fn for_target(paths: &Paths, target: &Target) -> Self {
        History {
            path: paths.data_dir.join("history").join(format!("{}.jsonl", target.history_key())),
            clock: Arc::new(SystemClock),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Entries, oldest first. Lines that do not parse are skipped.
    pub fn entries(&self) -> Result<Vec<HistoryEntry>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::io("reading", &self.path)(e)),
        }
    }

    /// Appends an entry; past twice the limit, the file is rewritten (atomically) to the newest.
    pub fn append(&self, entry: &HistoryEntry) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
        }
        let mut line = serde_json::to_string(entry)
            .map_err(|source| Error::Encode { what: "a history entry", source })?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(Error::io("opening", &self.path))?;
        file.write_all(line.as_bytes()).map_err(Error::io("writing", &self.path))?;
        let entries = self.entries()?;
        if entries.len() > 2 * HISTORY_LIMIT {
            let keep = &entries[entries.len() - HISTORY_LIMIT..];
            let mut text = String::new();
            for entry in keep {
                if let Ok(line) = serde_json::to_string(entry) {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            switchboard_core::fsutil::write_atomic(&self.path, text.as_bytes())
                .map_err(Error::io("writing", &self.path))?;
        }
        Ok(())
    }
}

fn mcp_code(error: &switchboard_mcp::Error) -> ErrorCode {
    use switchboard_mcp::Error as E;
    match error {
        E::Timeout(_) | E::RequestTimeout { .. } => ErrorCode::McpTimeout,
        E::Handshake(_) => ErrorCode::McpHandshake,
        E::UnknownRevision(_) => ErrorCode::InvalidSpec,
        E::Transport(_) => ErrorCode::McpTransport,
        E::Server { .. } => ErrorCode::McpServerError,
        E::Closed { .. } => ErrorCode::McpClosed,
        E::Cancelled { .. } => ErrorCode::McpCancelled,
        E::Protocol { .. } => ErrorCode::McpProtocol,
    }
}

fn mcp_error(error: switchboard_mcp::Error) -> Error {
    Error::Mcp { code: mcp_code(&error), message: error.to_string() }
}

const STDERR_LINES: usize = 200;
const STDERR_LINE_BYTES: usize = 16 * 1024;

/// A stdio target's stderr: the newest 200 lines, each cut at 16 KiB (the byte bound leaves room
/// for the cut mark, so that it never binds before the line count).
const STDERR: StderrOptions = StderrOptions {
    max_line_bytes: STDERR_LINE_BYTES,
    max_total_bytes: None,
    ring_lines: STDERR_LINES,
    ring_bytes: STDERR_LINES * (STDERR_LINE_BYTES + 64),
};

/// Closing a session (or dropping the last handle to it): a moment to leave once stdin is closed,
/// then SIGTERM, then SIGKILL.
const LADDER: StopLadder = StopLadder {
    after_stdin_close: Duration::from_secs(2),
    after_terminate: Duration::from_secs(2),
    after_kill: Duration::from_secs(6),
};

/// How long a closed connection waits for a stdio server's exit and last stderr lines.
const LAST_WORDS: Duration = Duration::from_millis(500);

/// A live tester session.
pub struct TesterSession {
    target: Target,
    session: Session,
    child: Option<ManagedChild>,
    history: History,
}

impl std::fmt::Debug for TesterSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TesterSession").field("target", &self.target).finish_non_exhaustive()
    }
}

impl TesterSession {
    /// Connects to `target`. Registered servers are looked up in the registry under `paths`;
    /// bare commands are found through `process_env`.
    pub async fn open(
        paths: &Paths,
        process_env: &Env,
        target: Target,
        options: &SessionOptions,
    ) -> Result<Self> {
        let history = History::for_target(paths, &target);
        let launch = match &target {
            Target::Server { name } => {
                let name: ServerName = name.parse()?;
                let servers = Registry::new(paths).load()?;
                let spec =
                    servers.get(&name).ok_or_else(|| Error::UnknownServer(name.to_string()))?;
                switchboard_core::secrets::filled(paths, &name, spec)?.launch
            }
            Target::Command { command, args, env, cwd } => Launch::Stdio {
                command: command.clone(),
                args: args.clone(),
                env: env.clone(),
                cwd: cwd.clone(),
            },
            Target::Url { url, transport, headers } => {
                let headers: HashMap<String, String> = headers.clone().into_iter().collect();
                let session =
                    Session::http(url, &headers, *transport, options).await.map_err(mcp_error)?;
                return Ok(TesterSession { target, session, child: None, history });
            }
        };
        match launch {
            Launch::Remote { url, transport, headers } => {
                let transport = match transport {
                    RemoteTransport::StreamableHttp => HttpTransport::StreamableHttp,
                    RemoteTransport::Sse => HttpTransport::Sse,
                };
                let headers: HashMap<String, String> = headers.into_iter().collect();
                let session = Session::http(&url, &headers, Some(transport), options)
                    .await
                    .map_err(mcp_error)?;
                Ok(TesterSession { target, session, child: None, history })
            }
            Launch::Stdio { command, args, env, cwd } => {
                let inherit = process_env.server_inherit();
                let spec = CommandSpec { program: command, args, env, cwd, inherit };
                Self::spawn(target, spec, process_env.search(), options, history).await
            }
        }
    }

    async fn spawn(
        target: Target,
        spec: CommandSpec,
        search: process::Search<'_>,
        options: &SessionOptions,
        history: History,
    ) -> Result<Self> {
        let resolved = process::resolve(&spec.program, spec.cwd.as_deref(), search)?;
        let spawn = ChildOptions { stderr: STDERR, on_stderr: None, on_drop: LADDER };
        let (child, pipes) = ManagedChild::spawn(&spec, &resolved, spawn)?;
        match Session::stdio(pipes.stdout, pipes.stdin, options).await {
            Ok(session) => Ok(TesterSession { target, session, child: Some(child), history }),
            Err(error) => {
                // Let a crashing server's last words arrive before quoting them.
                last_words(&child).await;
                let message = with_child_context(&child, &error.to_string());
                child.stop(LADDER, |_| {}).await;
                Err(Error::Mcp { code: mcp_code(&error), message })
            }
        }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Dates the calls recorded from now on with `clock` (the system's by default).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.history.clock = clock;
        self
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    /// The child's pid, for stdio targets.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(ManagedChild::pid)
    }

    /// The last lines the child wrote to stderr.
    pub fn stderr_tail(&self, lines: usize) -> Vec<String> {
        self.child.as_ref().map(|c| c.stderr_tail(lines)).unwrap_or_default()
    }

    /// Turns a protocol error into ours. When the connection closed, waits a moment for a stdio
    /// server's exit and quotes its exit status and last stderr lines.
    pub async fn error(&self, error: switchboard_mcp::Error) -> Error {
        let closed = matches!(error, switchboard_mcp::Error::Closed { .. });
        let mut converted = mcp_error(error);
        if closed && let (Some(child), Error::Mcp { message, .. }) = (&self.child, &mut converted) {
            last_words(child).await;
            *message = with_child_context(child, message);
        }
        converted
    }

    /// Passes a protocol result through, converting its error with [`Self::error`].
    pub async fn check<T>(
        &self,
        result: std::result::Result<T, switchboard_mcp::Error>,
    ) -> Result<T> {
        match result {
            Ok(value) => Ok(value),
            Err(error) => Err(self.error(error).await),
        }
    }

    /// Calls a tool and records the call in the target's history.
    pub async fn call_tool(
        &self,
        tool: &str,
        arguments: Map<String, Value>,
        timeout: Option<Duration>,
        cancel: Option<&CancellationToken>,
    ) -> Result<CallOutcome> {
        let started = std::time::Instant::now();
        let outcome = self.session.call_tool(tool, arguments.clone(), timeout, cancel).await;
        let (label, summary) = match &outcome {
            Ok(outcome) => {
                let text = outcome
                    .result
                    .content
                    .iter()
                    .find_map(|c| c.as_text().map(|t| t.text.clone()))
                    .unwrap_or_default();
                let label = if outcome.result.is_error == Some(true) { "tool-error" } else { "ok" };
                (label, text.chars().take(200).collect())
            }
            Err(error) => ("failed", error.to_string().chars().take(200).collect()),
        };
        let entry = HistoryEntry {
            unix_ms: self.history.clock.now_ms(),
            tool: tool.to_owned(),
            arguments,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            outcome: label.to_owned(),
            summary,
        };
        if let Err(error) = self.history.append(&entry) {
            tracing::warn!(
                "could not record the call in {}: {error}",
                self.history.path().display()
            );
        }
        match outcome {
            Ok(outcome) => Ok(outcome),
            Err(error) => Err(self.error(error).await),
        }
    }

    /// Closes the session; a stdio server's whole process group is gone when this returns.
    pub async fn close(mut self) {
        self.session.close(Duration::from_secs(1)).await;
        if let Some(child) = self.child.take() {
            child.stop(LADDER, |_| {}).await;
        }
    }
}

/// Waits (at most [`LAST_WORDS`]) for the child's exit and the end of its stderr.
async fn last_words(child: &ManagedChild) {
    let _ = tokio::time::timeout(LAST_WORDS, async {
        child.exited().await;
        child.stderr_drained(LAST_WORDS).await;
    })
    .await;
}

fn with_child_context(child: &ManagedChild, message: &str) -> String {
    let mut message = message.to_owned();
    if let Some(exit) = child.exit() {
        message.push_str(&format!("; the server exited ({})", exit_wording(&exit)));
    }
    let tail = child.stderr_tail(10);
    if !tail.is_empty() {
        message.push_str(&format!("; stderr:\n{}", tail.join("\n")));
    }
    message
}

/// An exit in the words the tester has always quoted it with (`exit status: 3`).
fn exit_wording(exit: &Exit) -> String {
    match exit {
        Exit::Code(code) => format!("exit status: {code}"),
        Exit::Signal(signal) => format!("signal: {signal}"),
        Exit::Unknown(why) => format!("unknown exit ({why})"),
    }
}
