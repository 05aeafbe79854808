//! Carries the core's events to the tray, the window and the desktop: the tray is rebuilt when a
//! server's state changes, a notification is shown when one fails, and the window gets every
//! event in batches (at most every 100 ms) so a server flooding its log cannot flood the webview.

use std::{sync::Arc, time::Duration};

use switchboard_core::{Event, Owner, ServerState};
use tauri::{AppHandle, Emitter};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

/// At most this many events per batch; older log lines beyond it are dropped from the batch
/// (the Logs view re-reads the ring when it is opened).
const MAX_BATCH: usize = 500;

pub fn spawn(app: AppHandle, owner: Arc<Owner>) {
    let mut events = owner.supervisor().subscribe();
    tauri::async_runtime::spawn(async move {
        let mut batch: Vec<Event> = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => {
                        react(&app, &owner, &event);
                        batch.push(event);
                        if batch.len() > MAX_BATCH
                            && let Some(i) = batch.iter().position(|e| matches!(e, Event::Log { .. }))
                        {
                            batch.remove(i);
                        }
                    }
                    Err(RecvError::Lagged(missed)) => tracing::debug!("bridge missed {missed} events"),
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    if !batch.is_empty() {
                        let _ = app.emit("switchboard://events", std::mem::take(&mut batch));
                    }
                }
            }
        }
    });
}

fn react(app: &AppHandle, owner: &Owner, event: &Event) {
    match event {
        Event::StateChanged { name, state, .. } => {
            crate::tray::refresh(app, &owner.supervisor().status());
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
            crate::tray::refresh(app, &owner.supervisor().status());
        }
        Event::Log { .. } | Event::Stats { .. } => {}
    }
}
