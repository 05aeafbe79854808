//! Carries the core's events to the tray, the window and the desktop: the tray is rebuilt when a
//! server's state changes, a notification is shown when one fails, and the window gets every
//! event in batches (collected for at most 100 ms after the first; nothing runs while idle) so a server flooding its log cannot flood the webview.

use std::{sync::Arc, time::Duration};

use switchboard_api::Link;

use switchboard_runtime::{Event, ServerState, tester::Workbench};
use tauri::{AppHandle, Emitter};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

/// At most this many events per batch; older log lines beyond it are dropped from the batch
/// (the Logs view re-reads the ring when it is opened).
const MAX_BATCH: usize = 500;

/// Forwards the owner's events (ours, or those of the owner the app is attached to).
pub fn spawn(app: AppHandle, link: Link) {
    let mut events = link.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            // Sleep until something happens; then collect for up to 100 ms and send one batch.
            let first = match events.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!("the window and tray missed {missed} events");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            react(&app, &link, &first).await;
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + Duration::from_millis(100);
            loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Err(_) => break,
                    Ok(Ok(event)) => {
                        react(&app, &link, &event).await;
                        batch.push(event);
                        if batch.len() > MAX_BATCH
                            && let Some(i) =
                                batch.iter().position(|e| matches!(e, Event::Log { .. }))
                        {
                            batch.remove(i);
                        }
                    }
                    Ok(Err(RecvError::Lagged(missed))) => {
                        tracing::debug!("the window and tray missed {missed} events")
                    }
                    Ok(Err(RecvError::Closed)) => return,
                }
            }
            let _ = app.emit("switchboard://events", batch);
        }
    });
}

async fn react(app: &AppHandle, link: &Link, event: &Event) {
    match event {
        Event::StateChanged { name, state, .. } => {
            crate::tray::refresh(app, &link.status().await.unwrap_or_default());
            if let ServerState::Failed { reason } = state {
                let shown = app
                    .notification()
                    .builder()
                    .title(format!("{name} failed"))
                    .body(reason.lines().next().unwrap_or(reason))
                    .show();
                if let Err(e) = shown {
                    tracing::debug!("no notification shown: {e}");
                }
            }
        }
        Event::ServerAdded { .. } | Event::ServerRemoved { .. } | Event::ServerChanged { .. } => {
            crate::tray::refresh(app, &link.status().await.unwrap_or_default());
        }
        Event::Traffic { servers } => {
            crate::tray::set_traffic(app, servers);
            crate::tray::refresh(app, &link.status().await.unwrap_or_default());
        }
        Event::Log { .. }
        | Event::Stats { .. }
        | Event::ToolsChanged { .. }
        | Event::HostDrift { .. }
        | Event::InstallProgress { .. } => {}
    }
}

/// Pushes a tester session's traffic to the window: `switchboard://tester-traffic` with the
/// session's id whenever its log grows (at most every 100 ms), until the session closes. The
/// Tester view reads the new entries then, instead of asking on a timer.
pub fn spawn_traffic(app: AppHandle, workbench: Arc<Workbench>, id: u64) {
    let Ok(mut latest) = workbench.traffic_watch(id) else { return };
    tauri::async_runtime::spawn(async move {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), latest.changed()).await {
                Ok(Ok(())) => {
                    latest.borrow_and_update();
                    let _ = app.emit("switchboard://tester-traffic", id);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                // The log is gone: the session closed.
                Ok(Err(_)) => return,
                // Quiet: stop once the session is closed, even if its log lingers.
                Err(_) if workbench.traffic_watch(id).is_err() => return,
                Err(_) => {}
            }
        }
    });
}

/// Pushes "a knowledge-base index wrote its status" to the window as `switchboard://kb-status`
/// (at most every 200 ms) for as long as the app runs; the Knowledge base view refreshes then.
pub fn spawn_kb_status(app: AppHandle, paths: &switchboard_core::Paths) {
    let mut watch = match switchboard_api::knowledge_base::watch_status(paths) {
        Ok(watch) => watch,
        Err(e) => {
            return tracing::warn!("the knowledge base's progress will not be shown live: {e}");
        }
    };
    tauri::async_runtime::spawn(async move {
        while watch.changed().await.is_some() {
            let _ = app.emit("switchboard://kb-status", ());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}
