//! Running the knowledge base as an MCP server: over stdio (the default, for a host or the
//! supervisor) or Streamable HTTP on a loopback address, behind the bearer token of `token`.

mod token;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use rmcp::{
    ServiceExt,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use tokio_util::sync::CancellationToken;

use crate::{
    engine::{Config, Engine},
    error::{Error, Result},
    server::KbServer,
};

pub use token::HttpToken;

/// `switchboard-kb` / `switchboard kb serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeOptions {
    /// A folder of documents (Markdown, MDX, plain text); repeat for more.
    #[arg(long = "root", value_name = "DIR", required = true)]
    pub roots: Vec<PathBuf>,
    /// Where the index lives [default: the data folder, one index per set of folders].
    #[arg(long, value_name = "DIR")]
    pub index_dir: Option<PathBuf>,
    /// Serve Streamable HTTP on this loopback address (path `/mcp`) instead of stdio. Every
    /// request needs `Authorization: Bearer TOKEN`, TOKEN being the contents of `http-token` in
    /// the index folder (made once, owner-only; its path is printed at start).
    #[arg(long, value_name = "127.0.0.1:PORT")]
    pub http: Option<SocketAddr>,
    /// With --http: accept requests without the token. Any local process, another user's too,
    /// can then search and read the documents; only for a client that cannot send a header.
    #[arg(long, requires = "http")]
    pub no_token: bool,
    /// Index once at start, but do not watch the folders for changes.
    #[arg(long)]
    pub no_watch: bool,
}

#[derive(Debug, clap::Parser)]
#[command(name = "switchboard-kb", version, about = "The Switchboard knowledge-base MCP server")]
pub struct ServeArgs {
    #[command(flatten)]
    pub options: ServeOptions,
}

/// The binary's whole life: logs to stderr, serve, exit code.
pub fn main(args: ServeArgs) -> std::process::ExitCode {
    init_logging();
    // One thread for the protocol: a search, a read or a sync runs on the blocking pool
    // (`spawn_blocking`), so the async side only moves messages, and a worker per core (each
    // with its own stack and malloc arena) bought nothing but memory.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchboard-kb: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // The binary's edge: the only place the environment is read.
    let data_dir = data_dir_from(std::env::var_os("SWITCHBOARD_HOME"));
    match runtime.block_on(serve(args.options, data_dir)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard-kb: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr (stdout is the MCP channel in stdio mode); `RUST_LOG` overrides the level.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=warn,tantivy=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

/// Switchboard's data folder: `<SWITCHBOARD_HOME>/data` when `home` is set and not empty, else
/// the OS's; `None` without a home folder.
pub fn data_dir_from(home: Option<std::ffi::OsString>) -> Option<PathBuf> {
    match home.filter(|v| !v.is_empty()) {
        Some(home) => Some(PathBuf::from(home).join("data")),
        None => directories::ProjectDirs::from("dev", "switchboard", "Switchboard")
            .map(|d| d.data_local_dir().to_path_buf()),
    }
}

/// The index folder for a set of roots when none is given: under `data_dir` (Switchboard's data
/// folder), named by a hash of the folders so different sets never share an index.
pub fn default_index_dir(roots: &[PathBuf], data_dir: Option<&Path>) -> Result<PathBuf> {
    use sha2::{Digest, Sha256};
    let mut canonical: Vec<String> = roots
        .iter()
        .map(|r| r.canonicalize().unwrap_or_else(|_| r.clone()).display().to_string())
        .collect();
    canonical.sort();
    let digest = format!("{:x}", Sha256::digest(canonical.join("\n").as_bytes()));
    let data =
        data_dir.ok_or_else(|| Error::Invalid("no home folder found; pass --index-dir".into()))?;
    Ok(data.join("kb").join(&digest[..16]))
}

/// Opens the index, starts watching, indexes in the background and serves until the client
/// goes away (stdio) or SIGINT/SIGTERM (HTTP).
/// `data_dir` holds the index when `--index-dir` is not given.
pub async fn serve(options: ServeOptions, data_dir: Option<PathBuf>) -> Result<()> {
    let index_dir = match options.index_dir.clone() {
        Some(dir) => dir,
        None => default_index_dir(&options.roots, data_dir.as_deref())?,
    };
    // The token before the engine makes the folder, so that a new one is owner-only.
    let http = match options.http {
        None => None,
        Some(addr) => {
            loopback_only(addr)?;
            if options.no_token {
                Some((addr, Access::Open))
            } else {
                let dir = index_dir.clone();
                let token = tokio::task::spawn_blocking(move || HttpToken::load_or_create(&dir))
                    .await
                    .map_err(|e| Error::Invalid(e.to_string()))??;
                Some((addr, Access::Token(token)))
            }
        }
    };
    let config = Config { roots: options.roots.clone(), index_dir };
    let engine = tokio::task::spawn_blocking(move || Engine::open(&config))
        .await
        .map_err(|e| Error::Invalid(e.to_string()))??;
    for root in engine.roots().iter() {
        tracing::info!("knowledge base {} = {}", root.label, root.dir.display());
    }
    let _watch = if options.no_watch { None } else { Some(engine.watch()?) };
    let indexing = start_indexing(&engine);
    if !engine.is_indexer() {
        take_over_when_the_indexer_leaves(engine.clone());
    }
    let served = match http {
        None => serve_stdio(engine).await,
        Some((addr, access)) => serve_http(engine, addr, access, shutdown_signal()).await,
    };
    // A normal end (the host closed stdin, or a signal) lets the start-up sync finish and
    // commit, within reason, so the next start does not index the same files again.
    if tokio::time::timeout(FINISH_INDEXING, indexing).await.is_err() {
        tracing::warn!("stopped before indexing finished; the next start resumes it");
    }
    served
}

/// How long a stopping server waits for the start-up sync to commit.
const FINISH_INDEXING: Duration = Duration::from_secs(10);

/// The start-up sync, in the background, with progress in the log. The handle ends with it.
pub fn start_indexing(engine: &Arc<Engine>) -> tokio::task::JoinHandle<()> {
    let worker = engine.clone();
    let indexing = tokio::task::spawn_blocking(move || worker.sync_all());
    let watcher = engine.clone();
    tokio::spawn(async move {
        let progress = async {
            let mut last = (u64::MAX, u64::MAX);
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let s = watcher.status();
                if (s.files_done, s.files_total) != last && s.files_total > 0 {
                    tracing::info!("indexing: {}/{} files", s.files_done, s.files_total);
                    last = (s.files_done, s.files_total);
                }
            }
        };
        tokio::select! {
            result = indexing => match result {
                Ok(Ok(change)) => {
                    let s = watcher.status();
                    tracing::info!(
                        "index ready: {} documents, {} sections, {} re-indexed, {} skipped, {} ms",
                        s.documents, s.sections, change.updated.len(), s.skipped_total, s.last_sync_ms
                    );
                }
                Ok(Err(e)) => tracing::error!("indexing failed: {e}"),
                Err(e) => tracing::error!("indexing stopped: {e}"),
            },
            () = progress => {}
        }
    })
}

/// A follower checks every few seconds whether the indexer it follows is still there, and takes
/// over the index when it is not (so the folders stay indexed whichever server outlives the other).
fn take_over_when_the_indexer_leaves(engine: Arc<Engine>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3));
        loop {
            tick.tick().await;
            let candidate = engine.clone();
            match tokio::task::spawn_blocking(move || candidate.try_promote()).await {
                Ok(Ok(true)) => break,
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!("could not take over the index: {e}"),
                Err(_) => break,
            }
        }
    });
}

/// Serves one client over stdin/stdout until it goes. End of input is a normal end, also
/// before any request (a host that started the server and changed its mind, or a supervisor
/// stopping it): exit code 0.
async fn serve_stdio(engine: Arc<Engine>) -> Result<()> {
    let server = KbServer::new(engine);
    let running = match server.serve(rmcp::transport::stdio()).await {
        Ok(running) => running,
        Err(rmcp::service::ServerInitializeError::ConnectionClosed(when)) => {
            tracing::info!("the client closed the connection before starting ({when})");
            return Ok(());
        }
        Err(e) => return Err(Error::Invalid(format!("the MCP session did not start: {e}"))),
    };
    let _ = running.waiting().await;
    tracing::info!("the client closed the connection");
    Ok(())
}

/// Who may use the HTTP endpoint.
#[derive(Debug, Clone)]
pub enum Access {
    /// A request without `Authorization: Bearer <token>` is answered 401 before rmcp sees it.
    Token(HttpToken),
    /// `--no-token`: anyone who can reach the port.
    Open,
}

/// Streamable HTTP on `addr` (loopback only), path `/mcp`, until `shutdown` completes. Prints on
/// stderr `token in PATH` (the token file, never the token; a warning instead with
/// [`Access::Open`]) and then the bound address as `listening on http://ADDR/mcp`.
pub async fn serve_http(
    engine: Arc<Engine>,
    addr: SocketAddr,
    access: Access,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    loopback_only(addr)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Invalid(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener.local_addr().map_err(|e| Error::Invalid(e.to_string()))?;
    let cancel = CancellationToken::new();
    let config = StreamableHttpServerConfig::default()
        .with_allowed_origins(["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"])
        .with_cancellation_token(cancel.child_token())
        // No SSE priming events: clients before 2025-11-25 (Gemini CLI 0.61 among them) read an
        // event with empty data as a broken message and drop the server, and a search's one
        // answer needs no stream to resume.
        .with_sse_retry(None);
    let factory_engine = engine.clone();
    let service = StreamableHttpService::new(
        move || Ok(KbServer::new(factory_engine.clone())),
        LocalSessionManager::default().into(),
        config,
    );
    // Every path, the fallback included, is behind the token: nothing answers without it.
    let router = axum::Router::new()
        .nest_service("/mcp", service)
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND });
    let router = match access {
        Access::Token(token) => {
            eprintln!("token in {}", token.file().display());
            tracing::info!("the HTTP token is in {}", token.file().display());
            router.layer(axum::middleware::from_fn_with_state(token, token::require))
        }
        Access::Open => {
            eprintln!(
                "WARNING: --no-token: no token is asked; any local process, another user's too, \
                 can search and read these documents over http://{bound}/mcp"
            );
            tracing::warn!("serving without a token (--no-token)");
            router
        }
    };
    eprintln!("listening on http://{bound}/mcp");
    tracing::info!("listening on http://{bound}/mcp");
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            cancel.cancel();
        })
        .await
        .map_err(|e| Error::Invalid(format!("the HTTP server failed: {e}")))
}

fn loopback_only(addr: SocketAddr) -> Result<()> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "{addr} is not a loopback address; the knowledge base only listens on 127.0.0.1 or ::1"
    )))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
