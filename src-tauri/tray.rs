//! The tray icon and its menu. The menu is rebuilt from the servers' states whenever one changes:
//! one submenu per server (its state in the label; Start, Stop, Restart, Show logs), then Start
//! all, Stop all, Open Switchboard and Quit. The icon and title show the aggregate state.

use std::sync::Arc;

use switchboard_runtime::{
    Owner, ServerState, ServerStatus,
    supervisor::{Aggregate, aggregate},
};

use switchboard_api as api;
use tauri::{
    AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder,
    image::Image,
    menu::{Menu, MenuItem, PredefinedMenuItem, Submenu},
    tray::{TrayIcon, TrayIconBuilder},
};

use crate::state::AppState;

pub const TRAY_ID: &str = "main";

fn icon(state: Aggregate) -> Option<Image<'static>> {
    let bytes: &'static [u8] = match state {
        Aggregate::AllRunning => include_bytes!("../icons/tray-running.png"),
        Aggregate::SomeFailed => include_bytes!("../icons/tray-degraded.png"),
        Aggregate::NotAllRunning => include_bytes!("../icons/tray-stopped.png"),
    };
    Image::from_bytes(bytes).ok()
}

/// "2 of 3 running" or "1 failed".
pub fn summary(statuses: &[ServerStatus]) -> String {
    let running =
        statuses.iter().filter(|s| matches!(s.state, ServerState::Running { .. })).count();
    let failed = statuses.iter().filter(|s| matches!(s.state, ServerState::Failed { .. })).count();
    match failed {
        0 => format!("{running} of {} running", statuses.len()),
        n => format!("{running} of {} running, {n} failed", statuses.len()),
    }
}

pub fn create(app: &AppHandle, statuses: &[ServerStatus]) -> tauri::Result<TrayIcon> {
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .menu(&menu(app, statuses)?)
        .title(format!("Switchboard: {}", summary(statuses)))
        .tooltip(format!("Switchboard: {}", summary(statuses)))
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()));
    if let Some(icon) = icon(aggregate(statuses)) {
        builder = builder.icon(icon);
    }
    builder.build(app)
}

/// Brings the tray in line with `statuses`.
pub fn refresh(app: &AppHandle, statuses: &[ServerStatus]) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else { return };
    match menu(app, statuses) {
        Ok(menu) => {
            let _ = tray.set_menu(Some(menu));
        }
        Err(e) => tracing::warn!("cannot rebuild the tray menu: {e}"),
    }
    let _ = tray.set_icon(icon(aggregate(statuses)));
    let text = format!("Switchboard: {}", summary(statuses));
    let _ = tray.set_title(Some(&text));
    let _ = tray.set_tooltip(Some(&text));
}

fn menu(app: &AppHandle, statuses: &[ServerStatus]) -> tauri::Result<Menu<tauri::Wry>> {
    let menu = Menu::new(app)?;
    if statuses.is_empty() {
        menu.append(&MenuItem::with_id(app, "none", "No servers yet", false, None::<&str>)?)?;
    }
    for status in statuses {
        let name = status.name.as_str();
        let running = matches!(status.state, ServerState::Running { .. });
        let stdio = status.transport == switchboard_core::spec::ServerTransport::Stdio;
        let item = |action: &str, label: &str, enabled: bool| {
            MenuItem::with_id(app, format!("server:{name}:{action}"), label, enabled, None::<&str>)
        };
        let submenu = Submenu::with_items(
            app,
            format!("{name} — {}", status.state.label()),
            true,
            &[
                &item("start", "Start", stdio && !running)?,
                &item("stop", "Stop", running)?,
                &item("restart", "Restart", stdio)?,
                &item("logs", "Show logs", true)?,
            ],
        )?;
        menu.append(&submenu)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "start-all", "Start all", true, None::<&str>)?)?;
    menu.append(&MenuItem::with_id(app, "stop-all", "Stop all", true, None::<&str>)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "open", "Open Switchboard", true, None::<&str>)?)?;
    menu.append(&MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?)?;
    Ok(menu)
}

/// Shows the window, creating it if it was closed. `view` (e.g. `logs:NAME`) selects what it
/// opens on.
pub fn show_window(app: &AppHandle, view: Option<&str>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
        if let Some(view) = view {
            let _ = app.emit("switchboard://navigate", view);
        }
        return;
    }
    let url = match view {
        Some(view) => WebviewUrl::App(format!("index.html#{view}").into()),
        None => WebviewUrl::default(),
    };
    let built = WebviewWindowBuilder::new(app, "main", url)
        .title("Switchboard")
        .inner_size(1100.0, 700.0)
        .min_inner_size(760.0, 480.0)
        .build();
    match built {
        Ok(window) => tune_webview(&window),
        Err(e) => tracing::error!("cannot open the window: {e}"),
    }
}

/// The window is tables and forms: WebKit's GPU compositing gains it nothing and, where there is no
/// GPU, makes a software compositor repaint on every change. Measured with the window open at
/// rest (footprint bench): web process PSS 144 -> 70 MiB, CPU 2.8 % -> 0.8 %.
/// Not under WebDriver (tauri-driver sets TAURI_WEBVIEW_AUTOMATION): WebKit's snapshot for a
/// WebDriver screenshot never completes on a non-composited view.
fn tune_webview(window: &tauri::WebviewWindow) {
    #[cfg(target_os = "linux")]
    if std::env::var_os("TAURI_WEBVIEW_AUTOMATION").is_none() {
        let result = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(e) = result {
            tracing::debug!("cannot tune the webview: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

fn on_menu(app: &AppHandle, id: &str) {
    match id {
        "open" => show_window(app, None),
        "quit" => crate::quit(app),
        "start-all" => with_owner(app, |owner| async move {
            for (_, error) in api::start_all(&owner).await {
                tracing::warn!("{error}");
            }
        }),
        "stop-all" => with_owner(app, |owner| async move { api::stop_all(&owner).await }),
        other => {
            let Some((name, action)) =
                other.strip_prefix("server:").and_then(|r| r.rsplit_once(':'))
            else {
                return;
            };
            let name = name.to_owned();
            match action {
                "logs" => show_window(app, Some(&format!("logs:{name}"))),
                "start" | "stop" | "restart" => {
                    let action = action.to_owned();
                    with_owner(app, move |owner| async move {
                        let result = match action.as_str() {
                            "start" => api::start(&owner, &name).await,
                            "stop" => api::stop(&owner, &name).await,
                            _ => api::restart(&owner, &name).await,
                        };
                        if let Err(error) = result {
                            tracing::warn!("{error}");
                        }
                    });
                }
                _ => {}
            }
        }
    }
}

fn with_owner<F, Fut>(app: &AppHandle, run: F)
where
    F: FnOnce(Arc<Owner>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if let Ok(owner) = app.state::<AppState>().owner() {
        tauri::async_runtime::spawn(run(owner));
    }
}
