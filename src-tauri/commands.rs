//! The window's commands: mostly one-line adapters over `switchboard_api`. Errors cross as
//! `{code, message}`.

use std::sync::Arc;

use serde_json::{Map, Value};
use switchboard_api::{self as api, ServerEntry, knowledge_base};
use switchboard_catalog::{Card, Query};
use switchboard_core::mcp::{
    CallOutcome, TrafficEntry,
    export::{Export, Format},
};
use switchboard_core::{
    ErrorCode, ServerSpec, WireError,
    logs::LogLine,
    settings::{DataLocations, Settings},
};
use switchboard_hosts as hosts;
use switchboard_install::Installed;
use switchboard_runtime::tester::{HistoryEntry, Offer, Opened, Target, Workbench};
use switchboard_runtime::{HostTraffic, ServerStatus};
use tauri::State;
use tauri_plugin_autostart::ManagerExt;

use crate::state::AppState;

type Answer<T> = Result<T, WireError>;

fn link(state: &State<'_, AppState>) -> Answer<api::Link> {
    state.link()
}

/// Any of our crates' errors as it crosses to the window: its code and its sentence.
fn wire<E>(error: E) -> WireError
where
    for<'a> WireError: From<&'a E>,
{
    WireError::from(&error)
}

#[tauri::command]
pub async fn servers(state: State<'_, AppState>) -> Answer<Vec<ServerEntry>> {
    api::servers(&link(&state)?).await.map_err(wire)
}

/// Who reaches each server through the gateway now (then kept current by `traffic` events).
#[tauri::command]
pub async fn gateway_traffic(state: State<'_, AppState>) -> Answer<Vec<HostTraffic>> {
    let link = link(&state)?;
    if let Some(attached) = link.attached_traffic().await {
        return attached.map_err(wire);
    }
    let (Some(owner), Some(gateway)) = (link.own(), state.gateway.as_ref()) else {
        return Ok(Vec::new());
    };
    Ok(api::traffic(owner, &gateway.activity()))
}

#[tauri::command]
pub async fn add_server(state: State<'_, AppState>, name: String, spec: ServerSpec) -> Answer<()> {
    api::add_server(&link(&state)?, &name, spec).await.map_err(wire)
}

#[tauri::command]
pub async fn update_server(
    state: State<'_, AppState>,
    name: String,
    spec: ServerSpec,
) -> Answer<()> {
    api::update_server(&link(&state)?, &name, spec).await.map_err(wire)
}

#[tauri::command]
pub async fn remove_server(state: State<'_, AppState>, name: String) -> Answer<()> {
    api::remove_server(&link(&state)?, &name).await.map_err(wire)
}

#[tauri::command]
pub async fn start_server(state: State<'_, AppState>, name: String) -> Answer<ServerStatus> {
    api::start(&link(&state)?, &name).await.map_err(wire)
}

#[tauri::command]
pub async fn stop_server(state: State<'_, AppState>, name: String) -> Answer<ServerStatus> {
    api::stop(&link(&state)?, &name).await.map_err(wire)
}

#[tauri::command]
pub async fn restart_server(state: State<'_, AppState>, name: String) -> Answer<ServerStatus> {
    api::restart(&link(&state)?, &name).await.map_err(wire)
}

#[tauri::command]
pub async fn server_logs(state: State<'_, AppState>, name: String) -> Answer<Vec<LogLine>> {
    api::logs(&link(&state)?, &name).await.map_err(wire)
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Answer<Settings> {
    api::settings(&link(&state)?).await.map_err(wire)
}

#[tauri::command]
pub async fn save_settings(state: State<'_, AppState>, settings: Settings) -> Answer<()> {
    let auto = settings.hosts_auto_reapply;
    api::save_settings(&link(&state)?, settings).await.map_err(wire)?;
    if let Some(guardian) = &state.guardian {
        guardian.set_auto_reapply(auto);
    }
    Ok(())
}

#[tauri::command]
pub fn data_locations(state: State<'_, AppState>) -> Answer<DataLocations> {
    Ok(api::locations(&link(&state)?))
}

#[tauri::command]
pub fn autostart_enabled(app: tauri::AppHandle) -> Answer<bool> {
    app.autolaunch()
        .is_enabled()
        .map_err(|e| WireError { code: ErrorCode::Autostart, message: e.to_string() })
}

#[tauri::command]
pub fn set_autostart(app: tauri::AppHandle, enabled: bool) -> Answer<()> {
    let launcher = app.autolaunch();
    let result = if enabled { launcher.enable() } else { launcher.disable() };
    result.map_err(|e| WireError { code: ErrorCode::Autostart, message: e.to_string() })
}

fn workbench(state: &State<'_, AppState>) -> Answer<Arc<Workbench>> {
    state.workbench()
}

#[tauri::command]
pub async fn tester_open(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    target: Target,
    protocol: Option<String>,
    timeout_secs: Option<f64>,
) -> Answer<Opened> {
    let workbench = workbench(&state)?;
    let opened = workbench.open(target, protocol, timeout_secs).await.map_err(wire)?;
    crate::forward::spawn_traffic(app, workbench, opened.id);
    Ok(opened)
}

#[tauri::command]
pub async fn tester_offer(state: State<'_, AppState>, id: u64) -> Answer<Offer> {
    workbench(&state)?.offer(id).await.map_err(wire)
}

#[tauri::command]
pub async fn tester_call(
    state: State<'_, AppState>,
    id: u64,
    tool: String,
    arguments: Value,
    call_id: u64,
    timeout_secs: Option<f64>,
) -> Answer<CallOutcome> {
    workbench(&state)?.call(id, &tool, arguments, call_id, timeout_secs).await.map_err(wire)
}

#[tauri::command]
pub fn tester_cancel(state: State<'_, AppState>, call_id: u64) -> Answer<bool> {
    Ok(workbench(&state)?.cancel(call_id))
}

#[tauri::command]
pub async fn tester_read(state: State<'_, AppState>, id: u64, uri: String) -> Answer<Value> {
    workbench(&state)?.read(id, &uri).await.map_err(wire)
}

#[tauri::command]
pub async fn tester_prompt(
    state: State<'_, AppState>,
    id: u64,
    name: String,
    arguments: Map<String, Value>,
) -> Answer<Value> {
    workbench(&state)?.prompt(id, &name, arguments).await.map_err(wire)
}

#[tauri::command]
pub fn tester_traffic(
    state: State<'_, AppState>,
    id: u64,
    after: u64,
) -> Answer<Vec<TrafficEntry>> {
    workbench(&state)?.traffic(id, after).map_err(wire)
}

#[tauri::command]
pub fn tester_traffic_json_lines(state: State<'_, AppState>, id: u64) -> Answer<String> {
    workbench(&state)?.traffic_json_lines(id).map_err(wire)
}

#[tauri::command]
pub fn tester_history(state: State<'_, AppState>, id: u64) -> Answer<Vec<HistoryEntry>> {
    workbench(&state)?.history(id).map_err(wire)
}

#[tauri::command]
pub async fn tester_export(
    state: State<'_, AppState>,
    id: u64,
    format: Format,
    tool: Option<String>,
) -> Answer<Export> {
    workbench(&state)?.export(id, format, tool.as_deref()).await.map_err(wire)
}

#[tauri::command]
pub async fn tester_close(state: State<'_, AppState>, id: u64) -> Answer<()> {
    workbench(&state)?.close(id).await;
    Ok(())
}

#[tauri::command]
pub async fn kb_info(state: State<'_, AppState>) -> Answer<knowledge_base::Info> {
    knowledge_base::info_of(&link(&state)?).await.map_err(wire)
}

/// Calls one of the built-in server's tools (`index_status`, `search`, ...) and returns its
/// structured result.
#[tauri::command]
pub async fn kb_call(state: State<'_, AppState>, tool: String, arguments: Value) -> Answer<Value> {
    state.kb.call(&link(&state)?, &tool, arguments).await.map_err(wire)
}

/// Replaces the knowledge base's folders and restarts the server on them.
#[tauri::command]
pub async fn kb_set_folders(
    state: State<'_, AppState>,
    folders: Vec<std::path::PathBuf>,
) -> Answer<knowledge_base::Info> {
    knowledge_base::set_folders(&link(&state)?, &state.kb, folders).await.map_err(wire)
}

/// Every host: detected or not, its files, our entries and others', drift.
#[tauri::command]
pub async fn hosts_status(state: State<'_, AppState>) -> Answer<Vec<hosts::HostStatus>> {
    api::host_status(state.hosts()?, link(&state)?.paths(), None).await.map_err(wire)
}

/// What making our entries in `host`'s user file exactly `servers` would change, as a diff.
#[tauri::command]
pub async fn hosts_preview(
    state: State<'_, AppState>,
    host: String,
    servers: Vec<String>,
) -> Answer<hosts::Preview> {
    host_sync(&state, &host, servers, true).await
}

/// Writes it (journalled, backed up, undoable).
#[tauri::command]
pub async fn hosts_write(
    state: State<'_, AppState>,
    host: String,
    servers: Vec<String>,
) -> Answer<hosts::Preview> {
    host_sync(&state, &host, servers, false).await
}

/// Undoes Switchboard's last write to `host`'s files.
#[tauri::command]
pub async fn hosts_undo(state: State<'_, AppState>, host: String) -> Answer<String> {
    let host: hosts::HostId = host.parse().map_err(wire)?;
    let record = api::host_undo(state.hosts()?, host, false).await.map_err(wire)?;
    Ok(record.path.display().to_string())
}

/// Makes our entries in `host`'s user file exactly `servers` (or plans it, `dry_run`).
async fn host_sync(
    state: &State<'_, AppState>,
    host: &str,
    servers: Vec<String>,
    dry_run: bool,
) -> Answer<hosts::Preview> {
    let host: hosts::HostId = host.parse().map_err(wire)?;
    let write = api::HostWrite {
        host,
        project: None,
        profile: None,
        entries: api::Entries::Sync(servers),
        force: false,
        dry_run,
    };
    let (plan, written) =
        api::host_write(state.hosts()?, link(state)?.paths(), write).await.map_err(wire)?;
    Ok(hosts::Preview::of(&plan, written))
}

/// Points `host` at the gateway (`mode`: its default when `None`), or with `dry_run` shows what
/// that would change.
#[tauri::command]
pub async fn hosts_connect(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    host: String,
    mode: Option<hosts::Mode>,
    dry_run: bool,
) -> Answer<api::connect::ConnectPreview> {
    let host: hosts::HostId = host.parse().map_err(wire)?;
    let link = link(&state)?;
    let clock = link.context().clock.clone();
    let done = api::connect::connect(state.hosts()?, link.paths(), clock, host, mode, dry_run)
        .await
        .map_err(wire)?;
    if !dry_run {
        refresh_tray(&app, &link).await;
    }
    Ok(done.to_preview())
}

/// The tray's menu shows the connected hosts: rebuilt after a change to them.
async fn refresh_tray(app: &tauri::AppHandle, link: &api::Link) {
    if let Ok(statuses) = link.status().await {
        crate::tray::refresh(app, &statuses);
    }
}

/// Removes what connecting wrote and revokes the host's token (or, `dry_run`, shows it).
#[tauri::command]
pub async fn hosts_disconnect(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    host: String,
    dry_run: bool,
) -> Answer<hosts::Preview> {
    let host: hosts::HostId = host.parse().map_err(wire)?;
    let link = link(&state)?;
    let done = api::connect::disconnect(state.hosts()?, link.paths(), host, dry_run)
        .await
        .map_err(wire)?;
    if !dry_run {
        refresh_tray(&app, &link).await;
    }
    Ok(done.to_preview())
}

/// Takes a server the user wrote into connected `host`'s file into Switchboard (or, `dry_run`,
/// shows the change to the file).
#[tauri::command]
pub async fn hosts_import(
    state: State<'_, AppState>,
    host: String,
    name: String,
    dry_run: bool,
) -> Answer<hosts::Preview> {
    let host: hosts::HostId = host.parse().map_err(wire)?;
    let link = link(&state)?;
    let clock = link.context().clock.clone();
    let done = api::connect::import(state.hosts()?, link.paths(), clock, host, &name, dry_run)
        .await
        .map_err(wire)?;
    if !dry_run {
        link.reload().await.map_err(wire)?;
    }
    let mut preview = done.change.to_preview();
    if !done.secrets.is_empty() {
        preview
            .notes
            .push(format!("To the secret store, not the registry: {}", done.secrets.join(", ")));
    }
    Ok(preview)
}

/// The hosts connected to the gateway.
#[tauri::command]
pub async fn hosts_connections(state: State<'_, AppState>) -> Answer<Vec<hosts::Connection>> {
    api::connect::connections(state.hosts()?).await.map_err(wire)
}

/// Where a server added now is available: the connected hosts, and what each needs to see it.
#[tauri::command]
pub async fn hosts_availability(
    state: State<'_, AppState>,
) -> Answer<Vec<api::connect::Availability>> {
    let link = link(&state)?;
    let now = link.context().clock.now_ms();
    api::connect::availability_for_window(link.paths(), state.hosts()?, now).await.map_err(wire)
}

/// A host's tools through the gateway against its limits.
#[tauri::command]
pub async fn hosts_budget(state: State<'_, AppState>, host: String) -> Answer<api::budget::Budget> {
    let host: hosts::HostId = host.parse().map_err(wire)?;
    let link = link(&state)?;
    let now = link.context().clock.now_ms();
    api::budget::budget(link.paths(), Some(state.hosts()?), host, now).await.map_err(wire)
}

/// Catalog cards matching `query` (works offline).
#[tauri::command]
pub async fn catalog_search(state: State<'_, AppState>, query: Query) -> Answer<Vec<Card>> {
    link(&state)?.context().catalog_search(query).await.map_err(wire)
}

/// Refreshes the catalog from the configured MCP Registry.
#[tauri::command]
pub async fn catalog_refresh(state: State<'_, AppState>) -> Answer<switchboard_catalog::CacheInfo> {
    link(&state)?.context().catalog_refresh(None).await.map_err(wire)
}

/// The install dialog of a catalog entry: its form, the commands that will run, or why not.
#[tauri::command]
pub async fn install_form(state: State<'_, AppState>, entry: String) -> Answer<api::InstallForm> {
    api::install_form(&link(&state)?.context(), &entry).await.map_err(wire)
}

/// Installs and starts a catalog entry; each step goes to the window as
/// `switchboard://install-progress`.
#[tauri::command]
pub async fn install_server(
    state: State<'_, AppState>,
    entry: String,
    name: Option<String>,
    answers: Vec<(String, String)>,
) -> Answer<Installed> {
    api::install(&link(&state)?, &entry, name, answers).await.map_err(wire)
}

/// Uninstalls a server and everything its install created.
#[tauri::command]
pub async fn uninstall_server(state: State<'_, AppState>, name: String) -> Answer<Vec<String>> {
    api::uninstall(&link(&state)?, &name).await.map_err(wire)
}

/// How a held server's tools differ from the ones the user approved.
#[tauri::command]
pub async fn pins_diff(
    state: State<'_, AppState>,
    name: String,
) -> Answer<Option<switchboard_runtime::pins::ToolDiff>> {
    link(&state)?.context().pins_diff(&name).await.map_err(wire)
}

/// Approves them and starts the server.
#[tauri::command]
pub async fn pins_approve(state: State<'_, AppState>, name: String) -> Answer<ServerStatus> {
    api::pins_approve(&link(&state)?, &name).await.map_err(wire)
}
