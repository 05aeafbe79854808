//! The engine in-process: incremental indexing, bad files, filters, sections, live re-indexing,
//! and recovery from crashes and corrupt state.

use std::{
    fs::File,
    sync::Arc,
    time::{Duration, SystemTime},
};

use switchboard_kb::{Config, Engine, Error, index::SearchQuery, roots::uri_of};
use switchboard_testkit::wait_until;

use crate::support::{Kb, WAIT, corpus, write};

const ALPHA: &str = "---\ntitle: Alpha guide\ntags: [guide, Setup]\n---\n\n# Alpha\n\nInstalling the zebrafish plugin.\n\n## Configuration\n\nSet the quokka option.\n";
const BETA: &str = "# Beta\n\nNothing about animals here, only invoices.\n";

#[test]
fn indexes_once_then_only_what_changed() {
    let kb = Kb::with(&[
        ("alpha.md", ALPHA),
        ("sub/beta.mdx", BETA),
        ("notes.txt", "plain pangolin text"),
    ]);
    let first = kb.engine().sync_all().unwrap();
    assert_eq!(first.updated.len(), 3);
    assert!(first.list_changed);
    let status = kb.engine().status();
    assert_eq!((status.state.as_str(), status.documents, status.files_total), ("ready", 3, 3));
    assert_eq!(
        status.sections, 4,
        "alpha 2 (no text before its first heading), beta 1, notes 1: {status:?}"
    );

    // Nothing changed: nothing re-indexed.
    assert!(kb.engine().sync_all().unwrap().updated.is_empty());

    // A new modification time with the same content: the hash says it is unchanged.
    let alpha = kb.docs().join("alpha.md");
    File::options()
        .write(true)
        .open(&alpha)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    assert!(kb.engine().sync_all().unwrap().updated.is_empty());

    // Changed content: exactly that document.
    write(&alpha, &ALPHA.replace("quokka", "wombat"));
    let change = kb.engine().sync_all().unwrap();
    assert_eq!(change.updated, vec![uri_of("docs/alpha.md")]);
    assert!(!change.list_changed);
    assert!(kb.find("quokka").is_empty());
    assert_eq!(kb.find("wombat"), vec!["docs/alpha.md"]);

    // Deleted: gone from the index and the listing.
    std::fs::remove_file(kb.docs().join("sub/beta.mdx")).unwrap();
    let change = kb.engine().sync_all().unwrap();
    assert_eq!(change.updated, vec![uri_of("docs/sub/beta.mdx")]);
    assert!(change.list_changed);
    assert!(kb.find("invoices").is_empty());
    assert_eq!(kb.engine().list(None, None, 10).total, 2);
}

#[test]
fn the_index_and_manifest_persist_across_restarts() {
    let mut kb = Kb::with(&[("alpha.md", ALPHA), ("b.md", BETA)]);
    kb.engine().sync_all().unwrap();
    kb.reopen();
    assert_eq!(kb.engine().status().documents, 2);
    assert_eq!(kb.find("zebrafish"), vec!["docs/alpha.md"], "searchable before any sync");
    assert!(
        kb.engine().sync_all().unwrap().updated.is_empty(),
        "nothing re-indexed after a restart"
    );
}

#[test]
fn bad_files_are_skipped_with_a_reason_and_the_rest_indexed() {
    let kb = Kb::with(&[("good.md", ALPHA)]);
    let docs = kb.docs();
    std::fs::write(docs.join("binary.md"), b"PK\x03\x04\0\0binary").unwrap();
    std::fs::write(docs.join("latin1.md"), b"caf\xe9 cr\xe8me").unwrap();
    // A sparse 9 MiB file: over the limit without writing 9 MiB.
    File::create(docs.join("huge.md")).unwrap().set_len(9 * 1024 * 1024).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&docs, docs.join("loop")).unwrap();
        std::os::unix::fs::symlink(docs.join("missing.md"), docs.join("dangling.md")).unwrap();
        write(&kb.dir.path().join("outside/secret.md"), "# Secret\n\nclassified aardvark\n");
        std::os::unix::fs::symlink(kb.dir.path().join("outside/secret.md"), docs.join("escape.md"))
            .unwrap();
    }
    kb.engine().sync_all().unwrap();
    let status = kb.engine().status();
    assert_eq!(status.state, "ready");
    assert_eq!(status.documents, 1, "{status:?}");
    let reason = |name: &str| -> String {
        status
            .skipped
            .iter()
            .find(|s| s.path == format!("docs/{name}"))
            .map(|s| s.reason.clone())
            .unwrap_or_else(|| panic!("{name} not among the skipped: {:?}", status.skipped))
    };
    assert_eq!(reason("binary.md"), "binary content");
    assert_eq!(reason("latin1.md"), "not valid UTF-8");
    assert!(reason("huge.md").starts_with("too large (9437184 bytes"), "{}", reason("huge.md"));
    #[cfg(unix)]
    {
        assert_eq!(reason("loop"), "a symlink loop");
        assert!(reason("dangling.md").starts_with("unreadable"), "{}", reason("dangling.md"));
        assert!(reason("escape.md").contains("outside"), "{}", reason("escape.md"));
        assert!(kb.find("aardvark").is_empty(), "a symlink out of the folder was indexed");
    }
    assert_eq!(status.skipped_total as usize, status.skipped.len());
    assert_eq!(kb.find("zebrafish"), vec!["docs/good.md"]);
}

#[test]
fn query_syntax_errors_are_clear_errors() {
    let kb = Kb::with(&[("alpha.md", ALPHA)]);
    kb.engine().sync_all().unwrap();
    let search = |text: &str| {
        kb.engine().search(&SearchQuery { text: text.into(), limit: 5, ..Default::default() })
    };
    let Err(Error::Query(message)) = search("colour:red") else {
        panic!("a field that does not exist")
    };
    assert!(
        message.contains("no field \"colour\"") && message.contains("title, heading and body"),
        "{message}"
    );
    let Err(Error::Query(message)) = search("   ") else { panic!("an empty query") };
    assert_eq!(message, "the query is empty");
    let Err(Error::Query(message)) = search("(zebrafish") else { panic!("unbalanced parenthesis") };
    assert!(message.starts_with("syntax error"), "{message}");
    // The same text, leniently (as the prompts search), finds the document.
    let lenient =
        SearchQuery { text: "(zebrafish".into(), limit: 5, lenient: true, ..Default::default() };
    assert_eq!(kb.engine().search(&lenient).unwrap()[0].key, "docs/alpha.md");
    // An apostrophe in a word is not syntax to a person.
    assert_eq!(search("the quokka's option").unwrap()[0].key, "docs/alpha.md");
    // Syntax that parses works.
    assert_eq!(search("title:alpha +quokka").unwrap()[0].key, "docs/alpha.md");
}

#[test]
fn hits_point_at_sections_with_marked_snippets_and_filters_apply() {
    let kb = Kb::with(&[
        ("guides/alpha.md", ALPHA),
        ("ref/quokka.md", "# Quokka reference\n\n## Quokka\n\nThe quokka is a marsupial.\n"),
        ("beta.md", BETA),
    ]);
    kb.engine().sync_all().unwrap();
    let search = |q: SearchQuery| kb.engine().search(&q).unwrap();
    let hits =
        search(SearchQuery { text: "quokka option".into(), limit: 10, ..Default::default() });
    let alpha = hits.iter().find(|h| h.key == "docs/guides/alpha.md").expect("alpha found");
    assert_eq!(
        (alpha.section.as_str(), alpha.anchor.as_str(), alpha.line),
        ("Configuration", "configuration", 10)
    );
    assert_eq!(alpha.snippet, "Set the **quokka** **option**");
    assert_eq!(alpha.uri, "kb://docs/guides/alpha.md");
    assert_eq!(alpha.tags, vec!["guide", "setup"]);
    assert_eq!(hits.len(), 2, "one hit per document: {hits:?}");

    let only = |prefixes: Vec<&str>, tags: Vec<&str>| -> Vec<String> {
        let q = SearchQuery {
            text: "quokka".into(),
            limit: 10,
            prefixes: prefixes.into_iter().map(String::from).collect(),
            tags: tags.into_iter().map(String::from).collect(),
            lenient: false,
            ..SearchQuery::default()
        };
        search(q).into_iter().map(|h| h.key).collect()
    };
    assert_eq!(only(vec!["ref"], vec![]), vec!["docs/ref/quokka.md"]);
    assert_eq!(only(vec!["kb://docs/guides"], vec![]), vec!["docs/guides/alpha.md"]);
    assert_eq!(only(vec!["docs/guides/alpha.md"], vec![]), vec!["docs/guides/alpha.md"]);
    assert!(only(vec!["gui"], vec![]).is_empty(), "prefixes are whole path segments");
    assert_eq!(only(vec![], vec!["SETUP"]), vec!["docs/guides/alpha.md"]);
    assert!(only(vec!["ref"], vec!["setup"]).is_empty());
}

#[test]
fn read_document_whole_or_by_section_and_never_outside() {
    let kb = Kb::with(&[("alpha.md", ALPHA)]);
    write(&kb.dir.path().join("secret.md"), "top secret");
    kb.engine().sync_all().unwrap();
    let whole = kb.engine().read("kb://docs/alpha.md", None).unwrap();
    assert_eq!(whole.text, ALPHA);
    assert_eq!(whole.title, "Alpha guide");
    let anchors: Vec<&str> = whole.sections.iter().map(|s| s.anchor.as_str()).collect();
    assert_eq!(anchors, vec!["alpha", "configuration"]);
    let section = kb.engine().read("alpha.md", Some("configuration")).unwrap();
    assert_eq!(section.text, "## Configuration\n\nSet the quokka option.\n");
    // A level-1 section runs over its subsections.
    let top = kb.engine().read("docs/alpha.md", Some("Alpha")).unwrap();
    assert!(top.text.starts_with("# Alpha") && top.text.contains("quokka"), "{}", top.text);
    let Err(Error::NotFound(message)) = kb.engine().read("alpha.md", Some("nope")) else {
        panic!()
    };
    assert!(message.contains("alpha, configuration"), "{message}");
    for bad in ["../secret.md", "kb://docs/../secret.md", "docs/../../secret.md"] {
        assert!(matches!(kb.engine().read(bad, None), Err(Error::OutsideRoots(_))), "{bad}");
    }
    assert!(matches!(kb.engine().read("missing.md", None), Err(Error::NotFound(_))));
}

#[test]
fn listing_is_paginated_by_key() {
    let files: Vec<(String, String)> =
        (0..25).map(|i| (format!("d{i:02}.md"), format!("# Doc {i}\n\ntext {i}\n"))).collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let kb = Kb::with(&refs);
    write(&kb.docs().join("other/x.md"), "# X\n");
    kb.engine().sync_all().unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = kb.engine().list(Some("d"), cursor.as_deref(), 10);
        assert_eq!(page.total, 25);
        seen.extend(page.documents.into_iter().map(|d| d.key));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("docs/d{i:02}.md")).collect();
    assert_eq!(seen, expected);
    assert_eq!(kb.engine().list(Some("other"), None, 10).documents[0].title, "X");
}

#[test]
fn tickets_and_notes_are_written_with_front_matter_and_found_at_once() {
    let kb = Kb::with(&[]);
    kb.engine().sync_all().unwrap();
    let front = [
        ("priority", "high".to_string()),
        ("status", "open".to_string()),
        ("tags", "[\"billing\"]".to_string()),
    ];
    let created = kb
        .engine()
        .create_file("tickets", "Invoice totals: off by one", &front, "The totals are **wrong**.")
        .unwrap();
    assert!(
        created.key.starts_with("docs/tickets/")
            && created.key.ends_with("-invoice-totals-off-by-one.md"),
        "{}",
        created.key
    );
    let text = std::fs::read_to_string(&created.path).unwrap();
    assert!(text.starts_with("---\ntitle: \"Invoice totals: off by one\"\npriority: high\nstatus: open\ntags: [\"billing\"]\ncreated: "), "{text}");
    assert_eq!(kb.find("totals"), vec![created.key.clone()]);
    let hits = kb
        .engine()
        .search(&SearchQuery {
            text: "wrong".into(),
            limit: 5,
            tags: vec!["billing".into()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(hits[0].title, "Invoice totals: off by one");
    // The same title again: a new file, never an overwrite.
    let again =
        kb.engine().create_file("tickets", "Invoice totals: off by one", &front, "Again.").unwrap();
    assert_ne!(again.path, created.path);
    assert!(std::fs::read_to_string(&created.path).unwrap().contains("**wrong**"));
    assert!(matches!(kb.engine().create_file("notes", "  ", &[], "x"), Err(Error::Invalid(_))));
}

#[test]
fn the_watcher_reindexes_creates_edits_renames_and_deletes() {
    let kb = Kb::with(&[("alpha.md", ALPHA)]);
    kb.engine().sync_all().unwrap();
    let mut changes = kb.engine().subscribe();
    let _watch = kb.engine().watch().unwrap();
    assert!(kb.engine().status().watching);
    let docs = kb.docs();

    write(&docs.join("new/gamma.md"), "# Gamma\n\nthe capybara arrives\n");
    assert!(
        wait_until(WAIT, || kb.find("capybara") == vec!["docs/new/gamma.md"]),
        "create not seen"
    );

    write(&docs.join("new/gamma.md"), "# Gamma\n\nthe okapi replaced it\n");
    assert!(
        wait_until(WAIT, || kb.find("okapi") == vec!["docs/new/gamma.md"]
            && kb.find("capybara").is_empty()),
        "edit not seen"
    );

    std::fs::rename(docs.join("new/gamma.md"), docs.join("new/delta.md")).unwrap();
    assert!(
        wait_until(WAIT, || kb.find("okapi") == vec!["docs/new/delta.md"]),
        "rename not seen: {:?}",
        kb.find("okapi")
    );

    std::fs::rename(docs.join("new"), docs.join("moved")).unwrap();
    assert!(
        wait_until(WAIT, || kb.find("okapi") == vec!["docs/moved/delta.md"]),
        "folder rename not seen: {:?}",
        kb.find("okapi")
    );

    std::fs::remove_dir_all(docs.join("moved")).unwrap();
    assert!(wait_until(WAIT, || kb.find("okapi").is_empty()), "delete not seen");
    assert_eq!(kb.engine().list(None, None, 10).total, 1);

    // Every step was announced.
    let mut announced = Vec::new();
    while let Ok(change) = changes.try_recv() {
        announced.extend(change.updated);
    }
    for key in ["docs/new/gamma.md", "docs/new/delta.md", "docs/moved/delta.md"] {
        assert!(announced.contains(&uri_of(key)), "{key} not announced: {announced:?}");
    }
}

#[test]
fn a_crash_between_index_commit_and_manifest_save_heals_without_doubles() {
    let mut kb = Kb::with(&[("alpha.md", ALPHA), ("beta.md", BETA)]);
    kb.engine().sync_all().unwrap();
    let sections = kb.engine().status().sections;
    let manifest = kb.dir.path().join("index/manifest.json");
    let stale = std::fs::read(&manifest).unwrap();
    write(&kb.docs().join("alpha.md"), &ALPHA.replace("quokka", "wombat"));
    write(&kb.docs().join("gamma.md"), "# Gamma\n\nnew wombat\n");
    kb.engine().sync_all().unwrap();
    // As if the process died after tantivy's commit, before the manifest was saved.
    kb.close();
    std::fs::write(&manifest, stale).unwrap();
    kb.reopen();
    kb.engine().sync_all().unwrap();
    assert_eq!(kb.engine().status().sections, sections + 1, "gamma's one section, nothing doubled");
    let mut found = kb.find("wombat");
    found.sort();
    assert_eq!(found, vec!["docs/alpha.md", "docs/gamma.md"]);
    assert!(kb.find("quokka").is_empty());
}

#[test]
fn a_corrupt_or_foreign_index_is_rebuilt() {
    let mut kb = Kb::with(&[("alpha.md", ALPHA), ("beta.md", BETA)]);
    kb.engine().sync_all().unwrap();
    kb.close();
    std::fs::write(kb.dir.path().join("index/tantivy/meta.json"), "{ not json").unwrap();
    kb.reopen();
    assert_eq!(kb.engine().status().documents, 0);
    kb.engine().sync_all().unwrap();
    assert_eq!(kb.engine().status().documents, 2);
    assert_eq!(kb.find("zebrafish"), vec!["docs/alpha.md"]);

    kb.close();
    std::fs::write(kb.dir.path().join("index/manifest.json"), "garbage").unwrap();
    kb.reopen();
    kb.engine().sync_all().unwrap();
    assert_eq!(
        kb.engine().status().sections,
        3,
        "index cleared with the lost manifest, then rebuilt once"
    );

    // The manifest is read on first use, not at open: an unreadable one found then still starts
    // the index over, so a document deleted meanwhile leaves no orphan section behind.
    kb.close();
    std::fs::write(kb.dir.path().join("index/manifest.json"), "garbage").unwrap();
    std::fs::remove_file(kb.docs().join("beta.md")).unwrap();
    kb.reopen();
    kb.engine().sync_all().unwrap();
    assert!(kb.find("invoices").is_empty(), "a deleted document outlived the lost manifest");
    assert_eq!(kb.engine().status().sections, 2);
}

#[test]
fn the_corpus_indexes_completely() {
    let dir = tempfile::tempdir().unwrap();
    let engine =
        Engine::open(&Config { roots: vec![corpus()], index_dir: dir.path().to_path_buf() })
            .unwrap();
    engine.sync_all().unwrap();
    let status = engine.status();
    assert_eq!(status.documents, 344, "{:?}", status.skipped);
    assert_eq!(status.skipped_total, 0, "{:?}", status.skipped);
    assert!(status.sections > 2000, "{}", status.sections);
    let q = SearchQuery {
        text: "elicitation".into(),
        limit: 10,
        prefixes: vec!["specification/2025-06-18".into()],
        ..Default::default()
    };
    let hits = engine.search(&q).unwrap();
    assert!(
        hits.iter().all(|h| h.key.starts_with("mcp-docs/specification/2025-06-18/")),
        "{hits:?}"
    );
    assert_eq!(hits[0].key, "mcp-docs/specification/2025-06-18/client/elicitation.mdx");
}

/// The writer exists only while a sync changes the index: none after the start-up sync, none
/// after a change is indexed, and a later change opens one again and is found.
#[test]
fn the_writer_is_closed_when_idle_and_a_later_change_still_indexes() {
    let mut kb = Kb::with(&[("alpha.md", ALPHA)]);
    assert!(!kb.engine().has_writer(), "a writer before any change");
    kb.engine().sync_all().unwrap();
    assert!(kb.engine().is_indexer());
    assert!(!kb.engine().has_writer(), "the writer outlived the start-up sync");
    assert_eq!(kb.find("zebrafish"), vec!["docs/alpha.md"]);
    // A sync that changes nothing opens none either.
    assert!(kb.engine().sync_all().unwrap().updated.is_empty());
    assert!(!kb.engine().has_writer());
    write(&kb.docs().join("beta.md"), BETA);
    let change = kb.engine().sync_paths(&[kb.docs().join("beta.md")]).unwrap();
    assert_eq!(change.updated, vec![uri_of("docs/beta.md")]);
    assert!(!kb.engine().has_writer(), "the writer outlived the change");
    assert_eq!(kb.find("invoices"), vec!["docs/beta.md"]);
    std::fs::remove_file(kb.docs().join("alpha.md")).unwrap();
    kb.engine().sync_all().unwrap();
    assert!(kb.find("zebrafish").is_empty());
    assert!(!kb.engine().has_writer());
    // Still the one indexer, with the writer closed: another engine on the index follows.
    let follower = Engine::open(&Kb::config_in(kb.dir.path())).unwrap();
    assert!(!follower.is_indexer());
    assert!(!follower.try_promote().unwrap(), "took over from an indexer that is still there");
    // Once the indexer is gone, the follower takes over and indexes.
    kb.close();
    assert!(follower.try_promote().unwrap() && follower.is_indexer());
    write(&kb.docs().join("gamma.md"), "# Gamma\n\nA capybara.\n");
    follower.sync_paths(&[kb.docs().join("gamma.md")]).unwrap();
    let q = SearchQuery { text: "capybara".into(), limit: 5, ..Default::default() };
    assert_eq!(follower.search(&q).unwrap().len(), 1);
    assert!(!follower.has_writer());
}

#[test]
fn a_second_process_on_the_same_index_follows_the_indexer() {
    let kb = Kb::with(&[("alpha.md", ALPHA)]);
    kb.engine().sync_all().unwrap();
    let follower = Engine::open(&Kb::config_in(kb.dir.path())).unwrap();
    assert!(kb.engine().is_indexer() && !follower.is_indexer());
    assert!(follower.sync_all().unwrap().updated.is_empty());
    let find = |engine: &Engine, text: &str| -> Vec<String> {
        let q = SearchQuery { text: text.into(), limit: 5, ..Default::default() };
        engine.search(&q).unwrap().into_iter().map(|h| h.key).collect()
    };
    assert_eq!(find(&follower, "zebrafish"), vec!["docs/alpha.md"]);
    // The follower writes a file; the indexer indexes it; the follower sees the commit.
    let created = follower.create_file("notes", "Heron sighting", &[], "A grey heron.").unwrap();
    assert!(
        kb.engine()
            .sync_paths(&[created.path.clone().into()])
            .unwrap()
            .updated
            .contains(&created.uri)
    );
    assert_eq!(find(&follower, "heron"), vec![created.key.clone()]);
    assert_eq!(follower.list(None, None, 10).total, 2);
    let status = follower.status();
    assert_eq!(
        (status.state.as_str(), status.documents),
        ("ready", 2),
        "the indexer's status: {status:?}"
    );
}

/// The app's view and its supervised server start together on a new set of folders: both open
/// the same brand-new index. Each must open it (one as the indexer, the rest following), none
/// may clear what another has just created.
#[test]
fn servers_opening_a_brand_new_index_together_all_open_it() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("docs/alpha.md"), ALPHA);
        let config = Kb::config_in(dir.path());
        let start = std::sync::Barrier::new(4);
        let opened: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        Engine::open(&config)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let engines: Vec<Arc<Engine>> = opened
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("round {round}: an open failed: {e}")))
            .collect();
        let indexers = engines.iter().filter(|e| e.is_indexer()).count();
        assert_eq!(indexers, 1, "round {round}: one indexer");
        let indexer = engines.iter().find(|e| e.is_indexer()).unwrap();
        indexer.sync_all().unwrap();
        for engine in &engines {
            engine.sync_all().unwrap();
            let q = SearchQuery { text: "zebrafish".into(), limit: 5, ..Default::default() };
            let keys: Vec<String> = engine.search(&q).unwrap().into_iter().map(|h| h.key).collect();
            assert_eq!(keys, vec!["docs/alpha.md"], "round {round}");
        }
    }
}

/// The real binary, SIGKILLed while it indexes (after at least one commit): the next start
/// finishes the job and the index holds exactly what a clean build holds.
#[cfg(unix)]
#[test]
fn a_server_killed_mid_index_leaves_an_index_the_next_start_completes() {
    #![allow(clippy::disallowed_methods)] // the test runs the binary under test directly
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    // Five copies of the corpus: enough that indexing is still under way when it is killed.
    for n in 0..5 {
        for entry in walkdir::WalkDir::new(corpus()).into_iter().filter_map(Result::ok) {
            let rel = entry.path().strip_prefix(corpus()).unwrap();
            let target = docs.join(format!("copy{n}")).join(rel);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&target).unwrap();
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let index = dir.path().join("index");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-kb"))
        .arg("--root")
        .arg(&docs)
        .arg("--index-dir")
        .arg(&index)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for a first commit (the manifest appears), then kill it mid-way.
    let committed = wait_until(WAIT, || std::fs::metadata(index.join("manifest.json")).is_ok());
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(index.join("status.json")).unwrap_or_default())
            .unwrap_or_default();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(committed, "no commit before the deadline");
    let partial =
        switchboard_kb::manifest::Manifest::load(&index.join("manifest.json")).files.len();
    assert!(
        partial < 1720,
        "killed too late to test anything: {partial} documents already done ({status})"
    );

    let engine = Engine::open(&Config { roots: vec![docs.clone()], index_dir: index }).unwrap();
    engine.sync_all().unwrap();
    let recovered = engine.status();
    let clean_dir = tempfile::tempdir().unwrap();
    let clean =
        Engine::open(&Config { roots: vec![docs], index_dir: clean_dir.path().to_path_buf() })
            .unwrap();
    clean.sync_all().unwrap();
    assert_eq!(recovered.documents, 1720);
    assert_eq!(
        recovered.sections,
        clean.status().sections,
        "sections lost or doubled after the crash"
    );
    let q = SearchQuery { text: "elicitation".into(), limit: 50, ..Default::default() };
    assert_eq!(engine.search(&q).unwrap().len(), clean.search(&q).unwrap().len());
}
