//! The registry API client against a fake registry on 127.0.0.1: pagination, search, exact and
//! latest versions, and every way a registry can fail.

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_catalog::{Catalog, RegistryClient, Source};
use switchboard_testkit::registry::{PAGE, RegistryFixture};

fn entry(name: &str, version: &str, description: &str) -> Value {
    json!({
        "name": name,
        "description": description,
        "version": version,
        "packages": [{"registryType": "npm", "identifier": format!("@example/{}", name.rsplit('/').next().unwrap_or(name)),
                      "version": version, "transport": {"type": "stdio"}}]
    })
}

fn fixture() -> RegistryFixture {
    RegistryFixture::start(vec![
        entry("io.example/weather", "1.0.0", "Forecasts"),
        entry("io.example/weather", "1.1.0", "Forecasts and alerts"),
        entry("io.example/notes", "0.3.0", "Take notes"),
        entry("io.example/tickets", "2.0.0", "File tickets"),
        entry("io.example/calendar", "5.0.0", "Calendar events"),
        entry("io.example/mail", "0.9.1", "Read mail"),
        // Breaks the format's rules: skipped, not fatal.
        json!({"name": "no-slash", "description": "bad", "version": "1.0.0",
               "remotes": [{"type": "streamable-http", "url": "https://x.example/mcp"}]}),
        entry("io.example/ranged", "^1.0.0", "Has a range"),
    ])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

#[test]
fn a_refresh_follows_every_page_keeps_the_latest_versions_and_skips_invalid_entries() {
    let registry = fixture();
    let client = RegistryClient::new(&registry.url("")).expect("client");
    let servers = runtime().block_on(client.list(None)).expect("list");
    let names: Vec<(&str, &str)> =
        servers.iter().map(|s| (s.name.as_str(), s.version.as_str())).collect();
    assert_eq!(
        names,
        [
            ("io.example/weather", "1.1.0"),
            ("io.example/notes", "0.3.0"),
            ("io.example/tickets", "2.0.0"),
            ("io.example/calendar", "5.0.0"),
            ("io.example/mail", "0.9.1"),
        ]
    );
    // 7 listed entries at two a page: four pages.
    assert_eq!(registry.requests(), 7usize.div_ceil(PAGE));

    let found = runtime().block_on(client.list(Some("alerts"))).expect("search");
    assert_eq!(found.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["io.example/weather"]);

    // Cached, then usable with the registry gone.
    let data = tempfile::tempdir().expect("tmp");
    let mut catalog = Catalog::load(data.path()).expect("load");
    catalog.store_refresh(data.path(), client.base(), servers, 1).expect("store");
    drop(registry);
    let offline = Catalog::load(data.path()).expect("offline load");
    let weather = offline.find("io.example/weather").expect("cached entry");
    assert_eq!((weather.server.version.as_str(), weather.source), ("1.1.0", Source::Registry));
    assert!(offline.find("server-everything").is_ok(), "the bundled entries are still there");
}

#[test]
fn exact_and_latest_versions_are_fetched_by_name_and_missing_ones_are_named() {
    let registry = fixture();
    let client = RegistryClient::new(&registry.url("")).expect("client");
    let rt = runtime();
    assert_eq!(rt.block_on(client.latest("io.example/weather")).expect("latest").version, "1.1.0");
    let old = rt.block_on(client.version("io.example/weather", "1.0.0")).expect("1.0.0");
    assert_eq!(old.description, "Forecasts");

    let missing = rt.block_on(client.version("io.example/weather", "9.9.9")).expect_err("9.9.9");
    assert!(
        missing.to_string().contains("has no version 9.9.9 of io.example/weather"),
        "{missing}"
    );
    let unknown = rt.block_on(client.latest("io.example/nothing")).expect_err("unknown");
    assert_eq!(unknown.code(), "unknown_catalog_entry", "{unknown}");
    let ranged = rt.block_on(client.latest("io.example/ranged")).expect_err("range");
    assert!(ranged.to_string().contains("not an exact version"), "{ranged}");
}

#[test]
fn an_unreachable_garbage_failing_or_silent_registry_is_a_clear_error() {
    let registry = fixture();
    let rt = runtime();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let cases = [
        (format!("http://{closed}"), "could not be reached"),
        (registry.url("/garbage"), "not a registry response"),
        (registry.url("/broken"), "answered HTTP 500"),
        (registry.url("/slow"), "timed out"),
    ];
    for (url, expected) in cases {
        let client = RegistryClient::with_timeout(&url, Duration::from_secs(1)).expect("client");
        let error = rt.block_on(client.list(None)).expect_err(&url);
        assert_eq!(error.code(), "registry", "{url}: {error}");
        assert!(error.to_string().contains(expected), "{url}: {error}");
        assert!(error.to_string().contains(&url), "the error does not name {url}: {error}");
    }
    for bad in ["not a url", "ftp://127.0.0.1/"] {
        let error = RegistryClient::new(bad).expect_err(bad);
        assert_eq!(error.code(), "registry", "{bad}: {error}");
    }
}
