//! The tray app: a thin Tauri layer over `switchboard-core`. It becomes the owner of the servers
//! (the same owner `switchboard serve` is, so the CLI drives the running app) or attaches to the
//! one that runs, keeps a tray icon and menu in step with them, shows the window (the UI in
//! `ui/`). Quit stops the servers it owns; with the `quitStopsServers` setting off it runs them
//! in a headless owner of its own (`switchboard-app serve`) that keeps serving the hosts after
//! it. A second launch focuses the first.
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
    init_tracing();

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
            commands::hosts_connect,
            commands::hosts_disconnect,
            commands::hosts_connections,
            commands::hosts_budget,
            commands::hosts_availability,
            commands::hosts_import,
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
            // Servers that must outlive the app run in a headless owner it starts (and then
            // attaches to, below); otherwise the app owns them itself.
            if let Ok(paths) = Paths::from_env()
                && !quit_stops_servers(&paths)
                && let Ok(me) = std::env::current_exe()
                && let Err(e) =
                    tauri::async_runtime::block_on(api::headless::ensure_owner(&paths, &me))
            {
                tracing::warn!(
                    "could not start a background owner, owning the servers instead: {e}"
                );
            }
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
            // A background owner is the app's own, whichever launch of it started it.
            state.background = matches!(state.link(), Ok(api::Link::Attached(_)))
                && Paths::from_env()
                    .ok()
                    .and_then(|p| switchboard_runtime::OwnerInfo::read(&p))
                    .is_some_and(|info| info.kind == BACKGROUND);
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
                // `switchboard shutdown` quits the app that owns the servers.
                let (owner, handle) = (launched.owner.clone(), app.handle().clone());
                tauri::async_runtime::spawn(async move {
                    owner.quit_requested().await;
                    tracing::info!("asked to quit through the control endpoint");
                    quit_gracefully(handle).await;
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
    if let Some(state) = state {
        let (link, background) = (state.take_link(), state.background);
        let stop = link.as_ref().is_none_or(|link| quit_stops_servers(link.paths()));
        match link {
            // Our own owner stops its servers; with `quitStopsServers` turned off since the app
            // started, a headless owner takes over once this process has let go of the lock.
            Some(api::Link::Own(owner)) => {
                owner.shutdown().await;
                if !stop {
                    hand_over(owner.paths());
                }
            }
            // The app's background owner stops with it if the setting says so by now; one
            // started by a host's bridge or by `serve` is never the app's to stop.
            Some(link @ api::Link::Attached(_)) if stop && background => {
                if let Err(e) = api::headless::quit_owner(link.paths()).await {
                    tracing::warn!("{e}");
                }
            }
            _ => {}
        }
    }
    app.exit(0);
}

/// The `quitStopsServers` setting (on when the settings cannot be read).
fn quit_stops_servers(paths: &Paths) -> bool {
    switchboard_core::settings::load(paths).map_or(true, |s| s.quit_stops_servers)
}

/// Starts `switchboard-app serve --take-over` (the background owner): it becomes the owner once
/// this process has ended and let go of the state folder.
fn hand_over(paths: &Paths) {
    let started = std::env::current_exe().map_err(|e| e.to_string()).and_then(|me| {
        let log = api::headless::serve_log(paths);
        switchboard_core::process::spawn_detached(&me, &["serve", TAKE_OVER_FLAG], &log)
            .map_err(|e| e.to_string())
    });
    match started {
        Ok(pid) => tracing::info!("a headless owner (pid {pid}) takes over the servers"),
        Err(e) => tracing::warn!("no headless owner could take over the servers: {e}"),
    }
}

/// `serve`'s flag for an owner started while the app that starts it still holds ownership.
const TAKE_OVER_FLAG: &str = "--take-over";

/// The kind a background owner records in `owner.json` (`switchboard serve` records `serve`).
const BACKGROUND: &str = "background";

/// `switchboard-app serve [--take-over]`: the app's background owner (the same owner
/// `switchboard serve` runs, recorded as `background`) for servers that outlive the app. With `--take-over` it waits up to 30 s for the
/// owner running now to end. Returns the process's exit code.
pub fn serve_headless(args: &[String]) -> i32 {
    init_tracing();
    let take_over = args.iter().any(|a| a == TAKE_OVER_FLAG);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("switchboard: cannot start: {e}");
            return 1;
        }
    };
    runtime.block_on(async move {
        let Ok(paths) = Paths::from_env() else {
            eprintln!("switchboard: Switchboard's data folder could not be determined");
            return 1;
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let launched = loop {
            let launch = api::Launch {
                kind: BACKGROUND,
                config: SupervisorConfig::default(),
                env: switchboard_core::Env::from_process(),
            };
            match api::launch(paths.clone(), launch).await {
                Ok(launched) => break launched,
                Err(api::Error::Runtime(switchboard_runtime::Error::AlreadyOwned { .. }))
                    if take_over && std::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => {
                    eprintln!("switchboard: {e}");
                    return 1;
                }
            }
        };
        let owner = launched.owner.clone();
        tracing::info!("serving headless (pid {})", owner.info().pid);
        let starting = launched.start_servers();
        let starting = tokio::spawn(async move {
            for (_, error) in starting.await {
                tracing::warn!("{error}");
            }
        });
        let why = api::headless::until_quit(&owner).await;
        tracing::info!("{why}: stopping every server");
        starting.abort();
        api::headless::stop(launched).await;
        0
    })
}

/// `switchboard-app connect [--host HOST] [--server NAME]`: the stdio bridge a connected host's
/// entry runs (as `switchboard connect`), for hosts whose entries the app wrote with its own
/// path. Returns the process's exit code.
pub fn connect_headless(args: &[String]) -> i32 {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .try_init();
    let value = |flag: &str| {
        args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).map(String::as_str)
    };
    let (host, server) = (value("--host").unwrap_or("default"), value("--server"));
    let (Ok(paths), Ok(me), Ok(runtime)) =
        (Paths::from_env(), std::env::current_exe(), tokio::runtime::Runtime::new())
    else {
        eprintln!("switchboard: cannot start the bridge (no data folder, executable or runtime)");
        return 1;
    };
    let announce = |text: &str| eprintln!("switchboard: {text}");
    match runtime.block_on(api::headless::bridge(&paths, &me, host, server, announce)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("switchboard: {e}");
            1
        }
    }
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
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
