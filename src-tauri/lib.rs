//! The tray app: a thin Tauri layer over `switchboard-core`. It becomes the owner of the servers
//! (the same owner `switchboard serve` is, so the CLI drives the running app), keeps a tray icon
//! and menu in step with them, shows the window (the UI in `ui/`), and stops every server on
//! Quit. A second launch focuses the first.
//!
//! Everything here is an adapter; the behaviour lives in the core.

mod commands;
mod forward;
mod state;
mod tray;

use std::sync::Arc;

use switchboard_runtime::SupervisorConfig;

use switchboard_api as api;
use switchboard_core::{Paths, WireError, clock::SystemClock};
use tauri::{AppHandle, Manager, RunEvent};

/// Start in the tray without opening the window (what a login start passes).
const HIDDEN_FLAG: &str = "--hidden";

use crate::state::AppState;

/// Why the app is not the owner, if it is not (the window shows it).
#[tauri::command]
fn owner_error(state: tauri::State<'_, AppState>) -> Option<WireError> {
    state.error.clone()
}

pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();

    let app = tauri::Builder::default()
        // Must come first: a second launch hands over to the first and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| tray::show_window(app, None)))
        .plugin(tauri_plugin_notification::init())
        // Started at login, the app goes straight to the tray.
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN_FLAG]),
        ))
        .invoke_handler(tauri::generate_handler![
            owner_error,
            commands::servers,
            commands::gateway_traffic,
            commands::add_server,
            commands::update_server,
            commands::remove_server,
            commands::start_server,
            commands::stop_server,
            commands::restart_server,
            commands::server_logs,
            commands::get_settings,
            commands::save_settings,
            commands::data_locations,
            commands::autostart_enabled,
            commands::set_autostart,
            commands::tester_open,
            commands::tester_offer,
            commands::tester_call,
            commands::tester_cancel,
            commands::tester_read,
            commands::tester_prompt,
            commands::tester_traffic,
            commands::tester_traffic_json_lines,
            commands::tester_history,
            commands::tester_export,
            commands::tester_close,
            commands::kb_info,
            commands::kb_call,
            commands::kb_set_folders,
            commands::hosts_status,
            commands::hosts_preview,
            commands::hosts_write,
            commands::hosts_undo,
            commands::catalog_search,
            commands::catalog_refresh,
            commands::install_form,
            commands::install_server,
            commands::uninstall_server,
            commands::pins_diff,
            commands::pins_approve,
        ])
        .setup(|app| {
            // The environment is read here, once, and passed down.
            let env = switchboard_core::Env::from_process();
            let workbench = Paths::from_env().ok().map(|paths| {
                Arc::new(switchboard_runtime::tester::Workbench::new(paths, env.clone()))
            });
            let launched = Paths::from_env().map(|paths| {
                let launch = api::Launch {
                    kind: "app",
                    config: SupervisorConfig::default(),
                    env: env.clone(),
                };
                tauri::async_runtime::block_on(api::launch(paths, launch))
            });
            let (launched, error) = match launched {
                Ok(Ok(launched)) => (Some(launched), None),
                Ok(Err(e)) => (None, Some(WireError::from(&e))),
                Err(e) => (None, Some(WireError::from(&e))),
            };
            // Another process owns the servers (a headless owner that `switchboard connect`
            // started for a host, or `serve`): attach to it instead, through its control
            // endpoint. Its servers keep running and hosts keep their sessions.
            let (link, error) = match (&launched, error) {
                (Some(launched), _) => (Some(api::Link::Own(launched.owner.clone())), None),
                (None, error) => match Paths::from_env().map(|paths| {
                    tauri::async_runtime::block_on(async {
                        api::Attached::connect(&paths, &env, Arc::new(SystemClock))
                    })
                }) {
                    Ok(Ok(attached)) => {
                        tracing::info!("attached to the owner already running");
                        (Some(api::Link::Attached(attached)), None)
                    }
                    _ => {
                        if let Some(e) = &error {
                            tracing::error!("{}", e.message);
                        }
                        (None, error)
                    }
                },
            };
            let statuses = match &link {
                Some(link) => tauri::async_runtime::block_on(link.status()).unwrap_or_default(),
                None => Vec::new(),
            };
            tray::create(app.handle(), &statuses)?;
            if let Some(link) = &link {
                forward::spawn(app.handle().clone(), link.clone());
                forward::spawn_kb_status(app.handle().clone(), link.paths());
            }
            exit_on_signals(app.handle().clone());
            let mut state = AppState::new(link, error, workbench);
            if launched.is_none() {
                state.hosts = Paths::from_env().ok().and_then(|paths| api::hosts(&paths, &env));
            }
            if let Some(launched) = launched {
                // Events are forwarded already: start the servers now, so the tray sees every change.
                let starting = launched.start_servers();
                state.hosts = launched.hosts;
                state.guardian = launched.guardian;
                state.gateway = launched.gateway;
                tauri::async_runtime::spawn(async move {
                    for (_, error) in starting.await {
                        tracing::warn!("{error}");
                    }
                });
            }
            app.manage(state);
            if !std::env::args().any(|a| a == HIDDEN_FLAG) {
                tray::show_window(app.handle(), None);
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("switchboard: the app could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let RunEvent::ExitRequested { code, api, .. } = event {
            // Closing the window destroys it (WebKit's processes go with it) and the app lives on
            // in the tray; only an explicit exit (Quit, a signal) ends it.
            if code.is_none() {
                api.prevent_exit();
                return;
            }
            stop_servers(handle);
        }
    });
}

/// Quit: stop every server gracefully (without blocking the event loop), then exit 0.
pub(crate) fn quit(app: &AppHandle) {
    tauri::async_runtime::spawn(quit_gracefully(app.clone()));
}

async fn quit_gracefully(app: AppHandle) {
    let state = app.try_state::<AppState>();
    if let Some(workbench) = state.as_ref().and_then(|s| s.workbench.clone()) {
        workbench.close_all().await;
    }
    // The Knowledge base view's own connection runs a `kb serve` of its own: end it here rather
    // than leave it to notice the closed pipe after we are gone.
    if let Some(state) = state.as_ref() {
        state.kb.close().await;
    }
    // Our own owner stops its servers; one the app is attached to keeps serving its hosts.
    let link = state.and_then(|state| state.take_link());
    if let Some(api::Link::Own(owner)) = link {
        owner.shutdown().await;
    }
    app.exit(0);
}

/// SIGTERM (logout, `kill`) and SIGINT quit like the tray's Quit.
fn exit_on_signals(app: AppHandle) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) =
            (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
        else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("signal received: quitting");
        quit_gracefully(app).await;
    });
    #[cfg(not(unix))]
    let _ = app;
}

/// Any other way out (the last window closed by the system, an OS shutdown): stop every server
/// before the process ends. Runs on the event-loop thread; does nothing if already stopped.
fn stop_servers(app: &AppHandle) {
    let Some(state) = app.try_state::<AppState>() else { return };
    if let Some(api::Link::Own(owner)) = state.take_link() {
        tauri::async_runtime::block_on(owner.shutdown());
    }
}
