//! `switchboard catalog …`: search and show offline from the bundled catalog, refresh from a fake
//! registry on 127.0.0.1 (chosen by `SWITCHBOARD_REGISTRY_URL`), and the failure paths.

use serde_json::{Value, json};
use switchboard_testkit::registry::RegistryFixture;

use crate::support::Home;

fn registry() -> RegistryFixture {
    RegistryFixture::start(vec![json!({
        "name": "io.example/weather",
        "title": "Weather",
        "description": "Forecasts and severe-weather alerts",
        "version": "3.1.4",
        "packages": [{"registryType": "pypi", "identifier": "weather-mcp", "version": "3.1.4",
                      "transport": {"type": "stdio"},
                      "environmentVariables": [{"name": "WEATHER_API_KEY", "isRequired": true, "isSecret": true}]}]
    })])
}

#[test]
fn search_and_show_work_offline_with_filters_text_and_json() {
    let home = Home::new();
    // Nothing is reachable at this registry: search and show must not need it.
    let offline = |args: &[&str]| {
        let mut c = home.command(args);
        c.env("SWITCHBOARD_REGISTRY_URL", "http://127.0.0.1:9/");
        crate::support::Run(c.stdin(std::process::Stdio::null()).output().expect("run"))
    };
    let run = offline(&["catalog", "search", "memory"]);
    run.assert_ok();
    assert!(
        run.stdout().contains("io.github.modelcontextprotocol/server-memory"),
        "{}",
        run.stdout()
    );

    let run = offline(&["catalog", "search", "--runtime", "pypi", "--json"]);
    run.assert_ok();
    let cards: Vec<Value> = serde_json::from_str(&run.stdout()).expect("json");
    assert!(cards.len() >= 4);
    assert!(
        cards.iter().all(|c| c["runtimes"].as_array().is_some_and(|r| r.contains(&json!("pypi"))))
    );
    assert!(cards.iter().any(|c| c["name"] == "io.github.modelcontextprotocol/server-time"));

    let run = offline(&["catalog", "search", "--no-secrets", "--json"]);
    let cards: Vec<Value> = serde_json::from_str(&run.stdout()).expect("json");
    assert!(cards.iter().all(|c| c["needsSecrets"] == false), "{cards:?}");
    let run = offline(&["catalog", "search", "--transport", "sse", "--json"]);
    let cards: Vec<Value> = serde_json::from_str(&run.stdout()).expect("json");
    assert_eq!(cards.len(), 1, "{cards:?}");

    let run = offline(&["catalog", "show", "filesystem"]);
    run.assert_ok();
    let text = run.stdout();
    assert!(text.contains("npm @modelcontextprotocol/server-filesystem@2026.8.31"), "{text}");
    assert!(text.contains("arg <allowed_directory> (repeatable) [required, filepath]"), "{text}");
    let run = offline(&["catalog", "show", "server-brave-search", "--json"]);
    let entry: Value = serde_json::from_str(&run.stdout()).expect("json");
    assert_eq!(entry["packages"][0]["environmentVariables"][0]["isSecret"], true);

    let run = offline(&["catalog", "show", "filesys"]);
    run.assert_code(2);
    assert!(
        run.stderr().contains("did you mean io.github.modelcontextprotocol/server-filesystem"),
        "{}",
        run.stderr()
    );
    let run = offline(&["catalog", "search", "--runtime", "cobol"]);
    run.assert_code(2);
}

#[test]
fn refresh_caches_the_registry_and_a_failing_registry_changes_nothing() {
    let home = Home::new();
    let registry = registry();
    let with_registry = |url: &str, args: &[&str]| {
        let mut c = home.command(args);
        c.env("SWITCHBOARD_REGISTRY_URL", url);
        crate::support::Run(c.stdin(std::process::Stdio::null()).output().expect("run"))
    };
    let run = with_registry(&registry.url(""), &["catalog", "refresh"]);
    run.assert_ok();
    assert!(run.stdout().starts_with("1 servers from http://127.0.0.1:"), "{}", run.stdout());
    let cache = home.path().join("data/catalog/registry.json");
    let cached = std::fs::read(&cache).expect("cache written");

    // Garbage, an HTTP error and a closed port: a clear error, exit 1, the cache as it was.
    for url in [registry.url("/garbage"), registry.url("/broken"), "http://127.0.0.1:9".into()] {
        let run = with_registry(&url, &["catalog", "refresh"]);
        run.assert_code(1);
        assert!(run.stderr().contains(&url), "{url}: {}", run.stderr());
        assert_eq!(std::fs::read(&cache).expect("cache"), cached, "{url} changed the cache");
    }

    // The registry's entry is there offline, next to the bundled ones.
    drop(registry);
    let run = with_registry("http://127.0.0.1:9/", &["catalog", "search", "weather", "--json"]);
    run.assert_ok();
    let cards: Vec<Value> = serde_json::from_str(&run.stdout()).expect("json");
    assert_eq!(cards[0]["name"], "io.example/weather");
    assert_eq!(cards[0]["source"], "registry");
    assert_eq!(cards[0]["needsSecrets"], true);
    let run = with_registry("http://127.0.0.1:9/", &["catalog", "search", "everything"]);
    assert!(run.stdout().contains("server-everything"), "{}", run.stdout());
}

#[test]
fn show_with_a_version_asks_the_registry_for_exactly_that_version() {
    let home = Home::new();
    let registry = registry();
    let run = |args: &[&str]| {
        let mut c = home.command(args);
        c.env("SWITCHBOARD_REGISTRY_URL", registry.url(""));
        crate::support::Run(c.stdin(std::process::Stdio::null()).output().expect("run"))
    };
    let ok = run(&["catalog", "show", "io.example/weather", "--version", "3.1.4", "--json"]);
    ok.assert_ok();
    let entry: Value = serde_json::from_str(&ok.stdout()).expect("json");
    assert_eq!(entry["version"], "3.1.4");
    let missing = run(&["catalog", "show", "io.example/weather", "--version", "0.0.1"]);
    missing.assert_code(2);
    assert!(
        missing.stderr().contains("has no version 0.0.1 of io.example/weather"),
        "{}",
        missing.stderr()
    );
}
