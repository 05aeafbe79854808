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
    switchboard_api::connect::ConnectPreview::export_all(&config).expect("ConnectPreview");
    switchboard_hosts::Connection::export_all(&config).expect("Connection");
    switchboard_api::budget::Budget::export_all(&config).expect("Budget");
    switchboard_api::connect::Availability::export_all(&config).expect("Availability");
    DriftReport::export_all(&config).expect("DriftReport");
    CatalogCard::export_all(&config).expect("CatalogCard");
    CatalogQuery::export_all(&config).expect("CatalogQuery");
    CatalogServer::export_all(&config).expect("CatalogServer");
    InstallForm::export_all(&config).expect("InstallForm");
    switchboard_catalog::CacheInfo::export_all(&config).expect("CacheInfo");
    InstallResult::export_all(&config).expect("InstallResult");
    InstallProgress::export_all(&config).expect("InstallProgress");
    ToolDiff::export_all(&config).expect("ToolDiff");

    let commands = commands::typescript(&ts_names(&config));
    std::fs::write(generated.path().join("Commands.ts"), commands).expect("Commands.ts");

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

/// The TypeScript name of each Rust type a command takes or returns, keyed by the Rust name the
/// command's signature spells (its last path segment). The names come from ts-rs, so a type
/// renamed for TypeScript is renamed here too.
fn ts_names(config: &Config) -> BTreeMap<&'static str, String> {
    let _ = config;
    BTreeMap::from([
        ("ServerEntry", ServerEntry::name(config)),
        ("ServerSpec", switchboard_core::ServerSpec::name(config)),
        ("ServerStatus", ServerStatus::name(config)),
        ("WireError", WireError::name(config)),
        ("LogLine", switchboard_core::logs::LogLine::name(config)),
        ("Settings", Settings::name(config)),
        ("DataLocations", DataLocations::name(config)),
        ("Target", Target::name(config)),
        ("Opened", Opened::name(config)),
        ("Offer", Offer::name(config)),
        ("CallOutcome", CallOutcome::name(config)),
        ("TrafficEntry", TrafficEntry::name(config)),
        ("HistoryEntry", HistoryEntry::name(config)),
        ("Format", switchboard_core::mcp::export::Format::name(config)),
        ("Export", Export::name(config)),
        ("Info", KbInfo::name(config)),
        ("HostStatus", HostStatus::name(config)),
        ("Preview", HostPreview::name(config)),
        ("Query", CatalogQuery::name(config)),
        ("Card", CatalogCard::name(config)),
        ("CacheInfo", switchboard_catalog::CacheInfo::name(config)),
        ("InstallForm", InstallForm::name(config)),
        ("Installed", InstallResult::name(config)),
        ("ToolDiff", ToolDiff::name(config)),
        ("HostTraffic", switchboard_runtime::HostTraffic::name(config)),
        ("Mode", switchboard_hosts::Mode::name(config)),
        ("Connection", switchboard_hosts::Connection::name(config)),
        ("ConnectPreview", switchboard_api::connect::ConnectPreview::name(config)),
        ("Budget", switchboard_api::budget::Budget::name(config)),
        ("Availability", switchboard_api::connect::Availability::name(config)),
    ])
}

/// `ui/src/lib/bindings/Commands.ts`, generated from the `#[tauri::command]` functions: each
/// command's name, its arguments as the window passes them (camelCase, as Tauri expects) and
/// its result. `ui/src/lib/tauri.ts` types every call with it, so a renamed command, argument or
/// result type fails the window's type check.
mod commands {
    use std::{
        collections::{BTreeMap, BTreeSet},
        path::Path,
    };

    use syn::{FnArg, GenericArgument, Item, PathArguments, ReturnType, Type};

    struct Command {
        name: String,
        args: Vec<(String, String)>,
        result: String,
    }

    pub fn typescript(names: &BTreeMap<&'static str, String>) -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri");
        let mut imports = BTreeSet::new();
        let mut commands = Vec::new();
        for file in ["commands.rs", "lib.rs"] {
            let text = std::fs::read_to_string(root.join(file)).expect("read source");
            let parsed = syn::parse_file(&text).expect("parse source");
            for item in parsed.items {
                let Item::Fn(f) = item else { continue };
                let is_command = f.attrs.iter().any(|a| {
                    let segments: Vec<String> =
                        a.path().segments.iter().map(|s| s.ident.to_string()).collect();
                    segments == ["tauri", "command"]
                });
                if !is_command {
                    continue;
                }
                let mut args = Vec::new();
                for input in &f.sig.inputs {
                    let FnArg::Typed(typed) = input else { continue };
                    let syn::Pat::Ident(ident) = &*typed.pat else { panic!("pattern argument") };
                    if injected(&typed.ty) {
                        continue;
                    }
                    let ts = ts_of(&typed.ty, names, &mut imports);
                    // An `Option` may be left out (Tauri passes `None`).
                    let optional = if ts.ends_with(" | null") { "?" } else { "" };
                    args.push((format!("{}{optional}", camel(&ident.ident.to_string())), ts));
                }
                let result = match &f.sig.output {
                    ReturnType::Default => "void".to_string(),
                    ReturnType::Type(_, ty) => match ts_of(ty, names, &mut imports) {
                        // A command that answers `()` resolves with nothing.
                        unit if unit == "null" => "void".to_string(),
                        ts => ts,
                    },
                };
                commands.push(Command { name: f.sig.ident.to_string(), args, result });
            }
        }
        commands.sort_by(|a, b| a.name.cmp(&b.name));
        let declared: BTreeSet<&str> = commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            declared,
            registered(&root.join("lib.rs")).iter().map(String::as_str).collect(),
            "the #[tauri::command] functions and generate_handler! differ"
        );

        let mut out = String::from(
            "// Generated by tests/bindings.rs from the #[tauri::command] functions in src-tauri/. \
             Do not edit this file manually.\n",
        );
        for import in &imports {
            out.push_str(&format!("import type {{ {import} }} from \"./{import}\";\n"));
        }
        out.push_str(
            "\n/** Every command the window can invoke: its arguments and its result. */\n",
        );
        out.push_str("export type Commands = {\n");
        for c in &commands {
            let args = if c.args.is_empty() {
                "Record<string, never>".to_string()
            } else {
                let fields: Vec<String> =
                    c.args.iter().map(|(name, ts)| format!("{name}: {ts}")).collect();
                format!("{{ {} }}", fields.join("; "))
            };
            out.push_str(&format!("  {}: {{ args: {args}; result: {} }};\n", c.name, c.result));
        }
        out.push_str("};\n");
        out
    }

    /// Arguments Tauri supplies itself.
    fn injected(ty: &Type) -> bool {
        let Type::Path(path) = ty else { return false };
        path.path.segments.last().is_some_and(|s| s.ident == "State" || s.ident == "AppHandle")
    }

    /// The names in `tauri::generate_handler![...]`.
    fn registered(lib: &Path) -> BTreeSet<String> {
        let text = std::fs::read_to_string(lib).expect("read lib.rs");
        let start = text.find("generate_handler![").expect("generate_handler!") + 18;
        let end = start + text[start..].find(']').expect("end of generate_handler!");
        text[start..end]
            .split(',')
            .map(|s| s.trim().rsplit("::").next().unwrap_or_default().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn quote_type(ty: &Type) -> String {
        use syn::__private::ToTokens;
        ty.to_token_stream().to_string()
    }

    fn camel(snake: &str) -> String {
        let mut out = String::new();
        let mut upper = false;
        for ch in snake.chars() {
            if ch == '_' {
                upper = true;
            } else if upper {
                out.extend(ch.to_uppercase());
                upper = false;
            } else {
                out.push(ch);
            }
        }
        out
    }

    fn generic(segment: &syn::PathSegment) -> Vec<&Type> {
        let PathArguments::AngleBracketed(args) = &segment.arguments else { return Vec::new() };
        args.args
            .iter()
            .filter_map(|a| if let GenericArgument::Type(t) = a { Some(t) } else { None })
            .collect()
    }

    fn ts_of(
        ty: &Type,
        names: &BTreeMap<&'static str, String>,
        imports: &mut BTreeSet<String>,
    ) -> String {
        match ty {
            Type::Tuple(tuple) if tuple.elems.is_empty() => "null".into(),
            Type::Tuple(tuple) => {
                let parts: Vec<String> =
                    tuple.elems.iter().map(|t| ts_of(t, names, imports)).collect();
                format!("[{}]", parts.join(", "))
            }
            Type::Reference(r) => ts_of(&r.elem, names, imports),
            Type::Path(path) => {
                let segment = path.path.segments.last().expect("a type name");
                let args = generic(segment);
                let ident = segment.ident.to_string();
                match ident.as_str() {
                    "String" | "str" | "PathBuf" => "string".into(),
                    "bool" => "boolean".into(),
                    "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" | "f32" | "f64" => {
                        "number".into()
                    }
                    "Value" => "unknown".into(),
                    "Map" => "Record<string, unknown>".into(),
                    "Answer" | "Arc" | "Box" => ts_of(args[0], names, imports),
                    "Vec" => format!("Array<{}>", ts_of(args[0], names, imports)),
                    "Option" => format!("{} | null", ts_of(args[0], names, imports)),
                    other => {
                        let ts = names.get(other).unwrap_or_else(|| {
                            panic!("no TypeScript name for {other}: add it to ts_names")
                        });
                        imports.insert(ts.clone());
                        ts.clone()
                    }
                }
            }
            other => {
                panic!("a command type this generator does not know: {}", quote_type(other))
            }
        }
    }
}
