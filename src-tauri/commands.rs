//! The window's commands: each a one-line adapter over `switchboard_core::api`. Errors cross as
//! `{code, message}`.

use std::sync::Arc;

use switchboard_core::{
    Owner, ServerSpec, ServerStatus, WireError,
    api::{self, ServerEntry},
    logs::LogLine,
    settings::{DataLocations, Settings},
};
use tauri::State;
use tauri_plugin_autostart::ManagerExt;

use crate::state::AppState;

type Answer<T> = Result<T, WireError>;

fn owner(state: &State<'_, AppState>) -> Answer<Arc<Owner>> {
    state.owner()
}

fn wire(error: switchboard_core::Error) -> WireError {
    WireError::from(&error)
}

#[tauri::command]
pub async fn servers(state: State<'_, AppState>) -> Answer<Vec<ServerEntry>> {
    api::servers(&*owner(&state)?).await.map_err(wire)
}

#[tauri::command]
pub async fn add_server(state: State<'_, AppState>, name: String, spec: ServerSpec) -> Answer<()> {
    api::add_server(&*owner(&state)?, &name, spec).await.map_err(wire)
}

#[tauri::command]
pub async fn update_server(
    state: State<'_, AppState>,
    name: String,
    spec: ServerSpec,
) -> Answer<()> {
    api::update_server(&*owner(&state)?, &name, spec).await.map_err(wire)
}

#[tauri::command]
pub async fn remove_server(state: State<'_, AppState>, name: String) -> Answer<()> {
    api::remove_server(&*owner(&state)?, &name).await.map_err(wire)
}

#[tauri::command]
pub async fn start_server(state: State<'_, AppState>, name: String) -> Answer<ServerStatus> {
    api::start(&*owner(&state)?, &name).await.map_err(wire)
}

#[tauri::command]
pub async fn stop_server(state: State<'_, AppState>, name: String) -> Answer<ServerStatus> {
    api::stop(&*owner(&state)?, &name).await.map_err(wire)
}

#[tauri::command]
pub async fn restart_server(state: State<'_, AppState>, name: String) -> Answer<ServerStatus> {
    api::restart(&*owner(&state)?, &name).await.map_err(wire)
}

#[tauri::command]
pub fn server_logs(state: State<'_, AppState>, name: String) -> Answer<Vec<LogLine>> {
    api::logs(&*owner(&state)?, &name).map_err(wire)
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Answer<Settings> {
    api::settings(&*owner(&state)?).await.map_err(wire)
}

#[tauri::command]
pub async fn save_settings(state: State<'_, AppState>, settings: Settings) -> Answer<()> {
    api::save_settings(&*owner(&state)?, settings).await.map_err(wire)
}

#[tauri::command]
pub fn data_locations(state: State<'_, AppState>) -> Answer<DataLocations> {
    Ok(api::locations(&*owner(&state)?))
}

#[tauri::command]
pub fn autostart_enabled(app: tauri::AppHandle) -> Answer<bool> {
    app.autolaunch()
        .is_enabled()
        .map_err(|e| WireError { code: "autostart".into(), message: e.to_string() })
}

#[tauri::command]
pub fn set_autostart(app: tauri::AppHandle, enabled: bool) -> Answer<()> {
    let launcher = app.autolaunch();
    let result = if enabled { launcher.enable() } else { launcher.disable() };
    result.map_err(|e| WireError { code: "autostart".into(), message: e.to_string() })
}
