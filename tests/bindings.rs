//! The Rust types that cross into the UI are the source of truth: their TypeScript bindings are
//! generated here and compared with the checked-in ones in `ui/src/lib/bindings/`. Stale bindings
//! fail the test; `UPDATE_BINDINGS=1 cargo test --test bindings` rewrites them.

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly

use std::{collections::BTreeMap, path::Path};

use switchboard_runtime::{
    Event, ServerStatus,
    pins::ToolDiff,
    supervisor::Aggregate,
    tester::{HistoryEntry, Offer, Opened, Target},
};

use switchboard_core::{
    ErrorCode, WireError,
    mcp::{CallOutcome, TrafficEntry, export::Export},
    settings::{DataLocations, Settings},
};

use switchboard_api::{InstallForm, ServerEntry, knowledge_base::Info as KbInfo};

use switchboard_catalog::{
    Card as CatalogCard, Query as CatalogQuery, ServerJson as CatalogServer,
};

use switchboard_hosts::{DriftReport, HostStatus, Preview as HostPreview};
use switchboard_install::{Installed as InstallResult, Progress as InstallProgress};
use ts_rs::{Config, TS};

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                .map(|e| {
                    let text = std::fs::read_to_string(e.path()).expect("read binding");
                    (e.file_name().to_string_lossy().into_owned(), text)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn typescript_bindings_are_fresh() {
    let generated = tempfile::tempdir().expect("tempdir");
    let config = Config::new().with_out_dir(generated.path()).with_large_int("number");
    ServerEntry::export_all(&config).expect("ServerEntry");
    ServerStatus::export_all(&config).expect("ServerStatus");
    Event::export_all(&config).expect("Event");
    WireError::export_all(&config).expect("WireError");
    ErrorCode::export_all(&config).expect("ErrorCode");
    Settings::export_all(&config).expect("Settings");
    DataLocations::export_all(&config).expect("DataLocations");
    Aggregate::export_all(&config).expect("Aggregate");
    Opened::export_all(&config).expect("Opened");
    Offer::export_all(&config).expect("Offer");
    Target::export_all(&config).expect("Target");
    HistoryEntry::export_all(&config).expect("HistoryEntry");
    CallOutcome::export_all(&config).expect("CallOutcome");
    TrafficEntry::export_all(&config).expect("TrafficEntry");
    Export::export_all(&config).expect("Export");
    KbInfo::export_all(&config).expect("KbInfo");
    HostStatus::export_all(&config).expect("HostStatus");
    HostPreview::export_all(&config).expect("HostPreview");
    DriftReport::export_all(&config).expect("DriftReport");
    CatalogCard::export_all(&config).expect("CatalogCard");
    CatalogQuery::export_all(&config).expect("CatalogQuery");
    CatalogServer::export_all(&config).expect("CatalogServer");
    InstallForm::export_all(&config).expect("InstallForm");
    switchboard_catalog::CacheInfo::export_all(&config).expect("CacheInfo");
    InstallResult::export_all(&config).expect("InstallResult");
    InstallProgress::export_all(&config).expect("InstallProgress");
    ToolDiff::export_all(&config).expect("ToolDiff");

    let checked_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings");
    let fresh = read_dir(generated.path());
    assert!(fresh.len() >= 10, "expected the whole type graph, got {:?}", fresh.keys());
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&checked_in);
        std::fs::create_dir_all(&checked_in).expect("mkdir");
        for (name, text) in &fresh {
            std::fs::write(checked_in.join(name), text).expect("write binding");
        }
    }
    let current = read_dir(&checked_in);
    let stale: Vec<&String> = fresh
        .keys()
        .chain(current.keys())
        .filter(|name| fresh.get(*name) != current.get(*name))
        .collect();
    assert!(
        stale.is_empty(),
        "ui/src/lib/bindings is stale ({stale:?}); run: UPDATE_BINDINGS=1 cargo test --test bindings"
    );
}
