//! `sb-conformance`: an MCP server (rmcp) that offers every fixture the official conformance
//! suite's server scenarios name, so the suite can run against one server directly and through
//! Switchboard's gateway, and the two runs can be compared check by check.
//!
//! It follows `@modelcontextprotocol/conformance@0.2.0-alpha.12`, server mode, `--suite all`, for
//! the protocol revisions 2025-11-25 and 2026-07-28: the scenarios of the package's
//! `src/scenarios/server/` (bundled in its `dist/index.js`: tools, resources, prompts,
//! completion, logging, elicitation defaults and enums, JSON Schema 2020-12, SSE, stateless
//! lifecycle with its diagnostic tools, caching, standard and custom headers, input_required
//! results), with the suite's reference server (`examples/servers/typescript/everything-server.ts`)
//! read for the expected behaviour. Extension scenarios (tasks, skills) are not part of a
//! `--spec-version` run and are not implemented.
//!
//! `sb-conformance` serves stdio (how Switchboard runs it). `sb-conformance --http
//! 127.0.0.1:PORT` serves Streamable HTTP at `/mcp` instead: sessions for 2025-11-25 clients,
//! stateless requests for 2026-07-28 ones.
//!
//! What it offers:
//!
//! - tools ([`tools`]): `test_simple_text`, `test_image_content`, `test_audio_content`,
//!   `test_embedded_resource`, `test_multiple_content_types`, `test_tool_with_logging`,
//!   `test_tool_with_progress`, `test_error_handling`, `test_sampling`, `test_elicitation`,
//!   `test_elicitation_sep1034_defaults`, `test_elicitation_sep1330_enums`,
//!   `json_schema_2020_12_tool`, `test_custom_headers` (`x-mcp-header` parameters), and the
//!   diagnostic tools of the stateless scenario: `test_missing_capability`,
//!   `test_streaming_elicitation`, `test_logging_tool`, `test_trigger_tool_change`,
//!   `test_trigger_prompt_change`;
//! - the `input_required` tools and prompt ([`mrtr`]): `test_input_required_result_elicitation`,
//!   `_sampling`, `_list_roots`, `_request_state`, `_multiple_inputs`, `_multi_round`,
//!   `_tampered_state`, `_capabilities`, and the prompt `test_input_required_result_prompt`;
//! - resources ([`fixtures`]): `test://static-text`, `test://static-binary`,
//!   `test://watched-resource` and the template `test://template/{id}/data`;
//! - prompts: `test_simple_prompt`, `test_prompt_with_arguments`,
//!   `test_prompt_with_embedded_resource`, `test_prompt_with_image`;
//! - completions, `logging/setLevel` (and the per-request log level of 2026-07-28),
//!   `resources/subscribe`, and `subscriptions/listen` for tool and prompt list changes
//!   ([`session`], [`server`]).
//!
//! Every tool that needs the client's input asks for it the 2026-07-28 way, with an
//! `input_required` result ([`rounds`]). A client of an earlier revision cannot answer those, so
//! for it the server puts the same questions to the client itself (`sampling/createMessage`,
//! `elicitation/create`, `roots/list`) and retries the tool with the answers. Either way it asks
//! only what the request's client declared it can answer: otherwise a 2026-07-28 request fails
//! with -32021 (MissingRequiredClientCapability), an earlier one with a tool error.
//!
//! Not implemented: `test_reconnection` (the 2025-11-25 SSE polling scenario's optional tool that
//! closes its own response stream mid-call; without it that scenario reports one WARNING). rmcp
//! gives a handler no way to close the stream of the request it serves:
//! `LocalSessionHandle::close_sse_stream` wants the transport's internal HTTP request id, which
//! handlers never see. The other way, a `SessionManager` wrapping rmcp's that ends that POST
//! stream after its priming event, needs a `futures::Stream` implementation, and this crate does
//! not depend on `futures`.

#![allow(clippy::expect_used)] // fixture-internal invariants (literal schemas) only; never client input
#![allow(deprecated)] // sampling, roots and logging (SEP-2577) are what 2025-11-25 clients use

mod fixtures;
mod mrtr;
mod rounds;
mod server;
mod session;
mod tools;

use std::{io::Write, net::SocketAddr, sync::Arc};

use rmcp::{
    ServiceExt,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};

use crate::{
    server::Conformance,
    session::{Session, Shared},
};

/// Like `eprintln!`, but a closed stderr (the owner is gone) is not a reason to panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

const USAGE: &str = "usage: sb-conformance [--http 127.0.0.1:PORT]";

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let mut http = None;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--http", Some(addr)) => match addr.parse::<SocketAddr>() {
                Ok(addr) if addr.ip().is_loopback() => http = Some(addr),
                _ => {
                    say!("sb-conformance: --http wants a loopback address, got {addr}");
                    return std::process::ExitCode::from(2);
                }
            },
            _ => {
                say!("{USAGE}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            say!("sb-conformance: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let shared = Arc::new(Shared::new());
    let served = runtime.block_on(async move {
        match http {
            None => serve_stdio(shared).await,
            Some(addr) => serve_http(shared, addr).await,
        }
    });
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            say!("sb-conformance: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// One session over stdin/stdout, until the client closes stdin.
async fn serve_stdio(shared: Arc<Shared>) -> Result<(), String> {
    let running = Conformance::new(Session::new(shared))
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("the MCP session did not start: {e}"))?;
    let _ = running.waiting().await;
    Ok(())
}

/// Streamable HTTP at `http://ADDR/mcp` until SIGINT or SIGTERM. Prints `listening on URL`.
async fn serve_http(shared: Arc<Shared>, addr: SocketAddr) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let config = StreamableHttpServerConfig::default().with_allowed_origins([
        "http://127.0.0.1:*",
        "http://localhost:*",
        "http://[::1]:*",
    ]);
    let stop_sessions = config.cancellation_token.clone();
    // Each stateful session (and each stateless request) gets its own view; what the trigger
    // tools announce and the requestState key are shared.
    let service = StreamableHttpService::new(
        move || Ok(Conformance::new(Session::new(shared.clone()))),
        LocalSessionManager::default().into(),
        config,
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    say!("listening on http://{bound}/mcp");
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            stop_sessions.cancel();
        })
        .await
        .map_err(|e| format!("the HTTP server failed: {e}"))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
