//! The tray icon and its menu. The menu is rebuilt from the servers' states whenever one changes:
//! one submenu per server (its state in the label; Start, Stop, Restart, Show logs; the hosts
//! that reach it through the gateway and its call count), then "Hosts" (the AI apps connected
//! to the gateway, and Connect apps…), Start all, Stop all, Open Switchboard and Quit. The icon and title show the aggregate state.

use switchboard_runtime::{
    HostTraffic, ServerState, ServerStatus,
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

/// Who reaches each server through the gateway, as the latest `traffic` event said.
#[derive(Default)]
struct Traffic(std::sync::Mutex<Vec<HostTraffic>>);

/// Keeps the gateway's latest traffic for the menu.
pub fn set_traffic(app: &AppHandle, servers: &[HostTraffic]) {
    if app.try_state::<Traffic>().is_none() {
        app.manage(Traffic::default());
    }
    if let Some(traffic) = app.try_state::<Traffic>() {
        *traffic.0.lock().unwrap_or_else(|p| p.into_inner()) = servers.to_vec();
    }
}

/// "cursor, zed · 12 calls" for a server hosts reach, `None` for one they do not.
fn reached(app: &AppHandle, name: &str) -> Option<String> {
    let traffic = app.try_state::<Traffic>()?;
    let servers = traffic.0.lock().unwrap_or_else(|p| p.into_inner());
    let t = servers.iter().find(|t| t.name == name && (!t.hosts.is_empty() || t.calls > 0))?;
    let hosts = if t.hosts.is_empty() { "no host now".to_owned() } else { t.hosts.join(", ") };
    Some(format!("{hosts} · {} call{}", t.calls, if t.calls == 1 { "" } else { "s" }))
}

/// "2 of 3 running", "1 of 3 running, 2 idle" or "0 of 1 running, 1 failed".
pub fn summary(statuses: &[ServerStatus]) -> String {
    let count = |f: fn(&ServerState) -> bool| statuses.iter().filter(|s| f(&s.state)).count();
    let running = count(|s| matches!(s, ServerState::Running { .. }));
    let idle = count(|s| matches!(s, ServerState::Idle));
    let failed = count(|s| matches!(s, ServerState::Failed { .. }));
    let mut text = format!("{running} of {} running", statuses.len());
    if idle > 0 {
        text.push_str(&format!(", {idle} idle"));
    }
    if failed > 0 {
        text.push_str(&format!(", {failed} failed"));
    }
    text
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
        // An idle (lazy) server is stopped from the tray so hosts stop reaching it.
        let stoppable = running || status.state == ServerState::Idle;
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
                &item("stop", "Stop", stoppable)?,
                &item("restart", "Restart", stdio)?,
                &item("logs", "Show logs", true)?,
            ],
        )?;
        // Which assistants reach it through the gateway, shown (not clickable) under the actions.
        if let Some(reached) = reached(app, name) {
            submenu.append(&PredefinedMenuItem::separator(app)?)?;
            submenu.append(&item("hosts", &reached, false)?)?;
        }
        menu.append(&submenu)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&hosts_menu(app)?)?;
    menu.append(&MenuItem::with_id(app, "start-all", "Start all", true, None::<&str>)?)?;
    menu.append(&MenuItem::with_id(app, "stop-all", "Stop all", true, None::<&str>)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "open", "Open Switchboard", true, None::<&str>)?)?;
    menu.append(&MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?)?;
    Ok(menu)
}

/// "Hosts": the AI apps connected to the gateway (how, not clickable), "Connect NAME…" for each
/// one detected here and not connected (it opens the window on the change to review: nothing is
/// written from the tray unseen), and a way to the Hosts view.
fn hosts_menu(app: &AppHandle) -> tauri::Result<Submenu<tauri::Wry>> {
    let hosts = app.try_state::<AppState>().and_then(|state| state.hosts().ok());
    let connections = hosts.as_ref().and_then(|hosts| hosts.connections().ok()).unwrap_or_default();
    let detected: Vec<switchboard_hosts::HostId> = match &hosts {
        Some(hosts) => switchboard_hosts::HostId::ALL
            .into_iter()
            .filter(|h| !connections.contains_key(h.id()) && hosts.detect(*h).is_some())
            .collect(),
        None => Vec::new(),
    };
    let submenu = Submenu::with_id(app, "hosts", "Hosts", true)?;
    if connections.is_empty() {
        submenu.append(&MenuItem::with_id(
            app,
            "hosts:none",
            "No app connected",
            false,
            None::<&str>,
        )?)?;
    }
    for connection in connections.values() {
        let name = connection
            .host
            .parse::<switchboard_hosts::HostId>()
            .map_or(connection.host.clone(), |h| h.display_name().to_owned());
        let mode = match connection.mode {
            switchboard_hosts::Mode::Aggregate => "one entry for all servers",
            switchboard_hosts::Mode::PerServer => "one entry per server",
        };
        let label = format!("{name} — {mode}");
        submenu.append(&MenuItem::with_id(
            app,
            format!("hosts:{}", connection.host),
            label,
            false,
            None::<&str>,
        )?)?;
    }
    submenu.append(&PredefinedMenuItem::separator(app)?)?;
    for host in detected {
        submenu.append(&MenuItem::with_id(
            app,
            format!("hosts:connect:{}", host.id()),
            format!("Connect {}…", host.display_name()),
            true,
            None::<&str>,
        )?)?;
    }
    submenu.append(&MenuItem::with_id(app, "hosts:open", "Connect apps…", true, None::<&str>)?)?;
    Ok(submenu)
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
        "hosts:open" => show_window(app, Some("hosts")),
        "quit" => crate::quit(app),
        "start-all" => with_owner(app, |link| async move {
            for (name, error) in api::start_all(&link).await {
                tracing::warn!("{name}: {error}");
            }
        }),
        "stop-all" => with_owner(app, |link| async move { api::stop_all(&link).await }),
        other if other.starts_with("hosts:connect:") => {
            let host = other.trim_start_matches("hosts:connect:");
            show_window(app, Some(&format!("hosts:{host}")));
        }
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
                    with_owner(app, move |link| async move {
                        let result = match action.as_str() {
                            "start" => api::start(&link, &name).await,
                            "stop" => api::stop(&link, &name).await,
                            _ => api::restart(&link, &name).await,
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
    F: FnOnce(api::Link) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if let Ok(link) = app.state::<AppState>().link() {
        tauri::async_runtime::spawn(run(link));
    }
}
