//! The bundled catalog's validity, search and filters, lookups by name, parsing registry entries, and the cache.

use serde_json::json;

use super::*;

fn bundled_catalog() -> Catalog {
    Catalog::bundled().expect("bundled parses")
}

#[test]
fn the_bundled_catalog_is_valid_exact_and_covers_what_the_tests_install() {
    let servers = bundled().expect("parses");
    assert!(servers.len() >= 25, "only {} entries", servers.len());
    let mut names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), servers.len(), "duplicate names");
    for s in &servers {
        assert_eq!(s.problems(), Vec::<String>::new(), "{}", s.name);
        assert!(s.description.chars().count() <= 100, "{}: description too long", s.name);
        for p in &s.packages {
            let exact = match p.registry_type {
                RegistryType::Oci => {
                    p.identifier.rsplit_once(':').is_some_and(|(_, tag)| !is_range(tag))
                }
                _ => p.version.as_deref().is_some_and(|v| !format::is_range(v)),
            };
            assert!(exact, "{}: {} has no exact version", s.name, p.identifier);
        }
        // Round trip: what is read is what would be written.
        let again: ServerJson =
            serde_json::from_value(serde_json::to_value(s).expect("to json")).expect("from json");
        assert_eq!(&again, s);
    }
    let catalog = bundled_catalog();
    for (name, registry) in [
        ("server-everything", RegistryType::Npm),
        ("server-filesystem", RegistryType::Npm),
        ("server-memory", RegistryType::Npm),
        ("server-time", RegistryType::Pypi),
        ("github-mcp-server", RegistryType::Oci),
    ] {
        let entry = catalog.find(name).expect(name);
        assert!(entry.server.packages.iter().any(|p| p.registry_type == registry), "{name}");
    }
    let fs = catalog.find("Filesystem").expect("by title");
    let arg = &fs.server.packages[0].package_arguments[0];
    assert!(arg.input.is_required && arg.is_repeated && arg.kind == ArgumentKind::Positional);
    let kinds: Vec<&str> =
        servers.iter().flat_map(|s| s.packages.iter().map(|p| p.registry_type.as_str())).collect();
    for kind in ["npm", "pypi", "oci"] {
        assert!(kinds.contains(&kind), "no {kind} entry");
    }
    assert!(
        servers.iter().any(|s| s.packages.is_empty() && !s.remotes.is_empty()),
        "no remote-only entry"
    );
}

fn is_range(v: &str) -> bool {
    format::is_range(v)
}

#[test]
fn search_ranks_name_matches_first_and_filters_by_runtime_transport_and_secrets() {
    let catalog = bundled_catalog();
    let found = catalog.search(&Query { text: "file".into(), ..Query::default() });
    assert_eq!(
        found.first().map(|c| c.name.as_str()),
        Some("io.github.modelcontextprotocol/server-filesystem")
    );
    let words = catalog.search(&Query { text: "GIT repositories".into(), ..Query::default() });
    // Every word must appear somewhere; "git" in the name beats "git" in the description.
    let names: Vec<&str> = words.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.last(), Some(&"com.deepwiki/mcp"), "{names:?}");
    assert!(names.contains(&"io.github.modelcontextprotocol/server-git"), "{names:?}");
    assert!(!names.contains(&"io.github.modelcontextprotocol/server-gitlab"), "{names:?}");

    let pypi = catalog.search(&Query { runtime: Some("pypi".into()), ..Query::default() });
    assert!(
        pypi.len() >= 4 && pypi.iter().all(|c| c.runtimes.contains(&"pypi".to_string())),
        "{pypi:?}"
    );
    let sse = catalog.search(&Query { transport: Some("sse".into()), ..Query::default() });
    assert_eq!(sse.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["com.deepwiki/mcp"]);

    let free = catalog.search(&Query { needs_secrets: Some(false), ..Query::default() });
    let names: Vec<&str> = free.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"io.github.modelcontextprotocol/server-everything"), "{names:?}");
    assert!(!names.contains(&"io.github.modelcontextprotocol/server-brave-search"), "{names:?}");
    // Context7 runs without its optional key; GitHub cannot run without a token.
    assert!(names.contains(&"io.github.upstash/context7"), "{names:?}");
    assert!(!names.contains(&"io.github.github/github-mcp-server"), "{names:?}");
    let secret = catalog.search(&Query { needs_secrets: Some(true), ..Query::default() });
    assert_eq!(free.len() + secret.len(), catalog.entries().len());

    assert!(catalog.search(&Query { text: "zzzz-nothing".into(), ..Query::default() }).is_empty());
}

#[test]
fn unknown_names_get_a_suggestion_and_ambiguous_ones_are_named() {
    let catalog = bundled_catalog();
    let error = catalog.find("filesys").expect_err("no such name");
    assert_eq!(error.code(), "unknown_catalog_entry");
    assert!(
        error.to_string().contains("did you mean io.github.modelcontextprotocol/server-filesystem"),
        "{error}"
    );
    let none = catalog.find("qqqq").expect_err("nothing like it");
    assert!(none.to_string().contains("catalog search"), "{none}");
    let server = |name: &str| ServerJson {
        schema: None,
        name: name.into(),
        description: "d".into(),
        version: "1.0.0".into(),
        title: None,
        repository: None,
        website_url: None,
        packages: Vec::new(),
        remotes: vec![RemoteEntry {
            kind: "streamable-http".into(),
            url: "https://x.example/mcp".into(),
            headers: Vec::new(),
            variables: Default::default(),
        }],
    };
    let two = Catalog::from_entries(
        ["a.example/weather", "b.example/weather"]
            .map(|n| Entry { server: server(n), source: Source::Registry })
            .to_vec(),
    );
    let error = two.find("weather").expect_err("ambiguous");
    assert!(error.to_string().contains("a.example/weather, b.example/weather"), "{error}");
}

#[test]
fn registry_entries_parse_with_unknown_types_and_fields_and_bad_ones_are_explained() {
    let entry: ServerResponse = serde_json::from_value(json!({
        "server": {
            "$schema": format::SCHEMA_URL,
            "name": "io.github.someone/tool",
            "description": "A tool",
            "version": "1.2.3",
            "icons": [{"src": "https://x.example/i.png"}],
            "packages": [
                {"registryType": "cargo", "identifier": "tool-mcp", "version": "1.2.3",
                 "transport": {"type": "stdio"}, "somethingNew": true},
                {"registryType": "npm", "identifier": "tool-mcp", "version": "1.2.3",
                 "transport": {"type": "streamable-http", "url": "http://localhost:{port}/mcp"},
                 "packageArguments": [{"type": "named", "name": "--port", "default": "8080",
                                       "format": "number"}]}
            ]
        },
        "_meta": {"io.modelcontextprotocol.registry/official": {"isLatest": true}}
    }))
    .expect("parses");
    assert_eq!(entry.server.packages[0].registry_type, RegistryType::Other("cargo".into()));
    assert_eq!(
        entry.server.packages[1].package_arguments[0].input.default.as_deref(),
        Some("8080")
    );
    assert!(entry.server.problems().is_empty());

    let mut bad = entry.server.clone();
    bad.name = "no-slash".into();
    bad.packages[0].version = Some("^1.2".into());
    bad.packages[1].file_sha256 = Some("abc".into());
    let problems = bad.problems().join("\n");
    for part in ["not reverse-DNS", "\"^1.2\", not an exact version", "malformed fileSha256"] {
        assert!(problems.contains(part), "{part}: {problems}");
    }
    for v in ["latest", "^1", "~1.2", ">=1", "1.x", "1.*", ""] {
        assert!(is_range(v), "{v}");
    }
    for v in ["1.2.3", "2026.8.31", "0.0.1a4", "1.0.0-beta.1"] {
        assert!(!is_range(v), "{v}");
    }
}

#[test]
fn a_refresh_is_cached_and_overlays_the_bundled_entries_and_a_broken_cache_is_ignored() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut catalog = Catalog::load(dir.path()).expect("load");
    let bundled_count = catalog.entries().len();
    let mut everything = catalog.find("server-everything").expect("bundled").server.clone();
    everything.version = "2099.1.1".into();
    let mut newcomer = everything.clone();
    newcomer.name = "io.example/newcomer".into();
    catalog
        .store_refresh(dir.path(), "http://127.0.0.1:1/", vec![everything, newcomer], 42)
        .expect("store");
    let again = Catalog::load(dir.path()).expect("reload");
    assert_eq!(again.entries().len(), bundled_count + 1);
    let e = again.find("server-everything").expect("overlaid");
    assert_eq!((e.server.version.as_str(), e.source), ("2099.1.1", Source::Registry));
    assert_eq!(again.refreshed.as_ref().map(|r| r.fetched_at_ms), Some(42));

    std::fs::write(cache_path(dir.path()), b"{ not json").expect("corrupt");
    let fallback = Catalog::load(dir.path()).expect("bundled still loads");
    assert_eq!(fallback.entries().len(), bundled_count);
    assert!(fallback.refreshed.is_none());
}
