//! The tray app: a thin Tauri layer over `switchboard-core`. It becomes the owner of the servers
//! (the same owner `switchboard serve` is, so the CLI drives the running app), shows a tray icon
//! that follows the servers' aggregate state, and stops every server on Quit.
//!
//! Everything here is an adapter; the behaviour lives in the core.

use std::sync::Mutex;

use switchboard_core::{
    Event, Owner, Paths, ServerStatus, SupervisorConfig, WireError,
    supervisor::{Aggregate, aggregate},
};
use tauri::{
    AppHandle, Manager, RunEvent, WindowEvent,
    image::Image,
    menu::{Menu, MenuItem},
    tray::{TrayIcon, TrayIconBuilder},
};

/// What the app manages: the owner, or why it could not become one.
struct AppState {
    owner: Mutex<Option<Owner>>,
    error: Option<WireError>,
}

fn tray_icon(state: Aggregate) -> Option<Image<'static>> {
    let bytes: &'static [u8] = match state {
        Aggregate::AllRunning => include_bytes!("../icons/tray-running.png"),
        Aggregate::SomeFailed => include_bytes!("../icons/tray-degraded.png"),
        Aggregate::NotAllRunning => include_bytes!("../icons/tray-stopped.png"),
    };
    Image::from_bytes(bytes).ok()
}

fn tooltip(statuses: &[ServerStatus]) -> String {
    let running = statuses.iter().filter(|s| s.pid().is_some()).count();
    format!("Switchboard: {running} of {} servers running", statuses.len())
}

/// Every server's status, for the window.
#[tauri::command]
fn status(state: tauri::State<'_, AppState>) -> Result<Vec<ServerStatus>, WireError> {
    let owner = state.owner.lock().unwrap_or_else(|p| p.into_inner());
    match (&*owner, &state.error) {
        (Some(owner), _) => Ok(owner.supervisor().status()),
        (None, Some(error)) => Err(error.clone()),
        (None, None) => Err(WireError { code: "shutting_down".into(), message: "quitting".into() }),
    }
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
        .invoke_handler(tauri::generate_handler![status])
        .setup(|app| {
            let started = Paths::from_env().map(|paths| {
                tauri::async_runtime::block_on(Owner::start(
                    paths,
                    SupervisorConfig::default(),
                    "app",
                ))
            });
            let (owner, error) = match started {
                Ok(Ok(owner)) => (Some(owner), None),
                Ok(Err(e)) | Err(e) => {
                    tracing::error!("{e}");
                    (None, Some(WireError::from(&e)))
                }
            };
            let tray = build_tray(app.handle())?;
            if let Some(owner) = &owner {
                follow_events(tray, owner);
                exit_on_signals(app.handle().clone());
                let supervisor = owner.supervisor().clone();
                tauri::async_runtime::spawn(async move {
                    for (_, error) in supervisor.start_enabled().await {
                        tracing::warn!("{error}");
                    }
                });
            }
            app.manage(AppState { owner: Mutex::new(owner), error });
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window hides it; the app lives on in the tray.
            if let WindowEvent::CloseRequested { api, .. } = event {
                api.prevent_close();
                let _ = window.hide();
            }
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
        if let RunEvent::ExitRequested { .. } = event {
            shutdown(handle);
        }
    });
}

fn build_tray(app: &AppHandle) -> tauri::Result<TrayIcon> {
    let open = MenuItem::with_id(app, "open", "Open Switchboard", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut builder = TrayIconBuilder::with_id("main")
        .menu(&menu)
        .title("Switchboard")
        .tooltip("Switchboard")
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => {
                if let Some(window) = app.get_webview_window("main") {
                    let _ = window.show();
                    let _ = window.set_focus();
                }
            }
            "quit" => {
                shutdown(app);
                app.exit(0);
            }
            _ => {}
        });
    if let Some(icon) = tray_icon(Aggregate::NotAllRunning) {
        builder = builder.icon(icon);
    }
    builder.build(app)
}

/// Keeps the tray icon and tooltip in step with the servers.
fn follow_events(tray: TrayIcon, owner: &Owner) {
    let supervisor = owner.supervisor().clone();
    let mut events = supervisor.subscribe();
    tauri::async_runtime::spawn(async move {
        let mut shown = None;
        loop {
            match events.recv().await {
                Ok(
                    Event::StateChanged { .. }
                    | Event::ServerAdded { .. }
                    | Event::ServerRemoved { .. },
                ) => {}
                Ok(_) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
            let statuses = supervisor.status();
            let state = aggregate(&statuses);
            if shown != Some(state) {
                shown = Some(state);
                let _ = tray.set_icon(tray_icon(state));
            }
            let _ = tray.set_tooltip(Some(tooltip(&statuses)));
        }
    });
}

/// SIGTERM (logout, `kill`) and SIGINT quit like the tray's Quit: servers stop gracefully.
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
        app.exit(0);
    });
    #[cfg(not(unix))]
    let _ = app;
}

/// Stops every server gracefully; later calls do nothing.
fn shutdown(app: &AppHandle) {
    let Some(state) = app.try_state::<AppState>() else { return };
    let owner = state.owner.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(owner) = owner {
        tauri::async_runtime::block_on(owner.shutdown());
    }
}
