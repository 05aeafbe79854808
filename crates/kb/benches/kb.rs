//! The knowledge base's benchmark (`cargo bench -p switchboard-kb --bench kb`, run by `./x bench`).
//!
//! - indexing throughput on the corpus (344 documents) and on a 30x corpus generated here from it
//!   (every file copied 30 times under new names, with words perturbed per copy);
//! - search latency p50/p99 in-process (both corpora) and over stdio (the release binary, our MCP
//!   client);
//! - time from a saved file to it being found (watcher, debounce, index, commit);
//! - index size on disk and memory (this process's peak RSS; the stdio server's RSS after
//!   indexing and once it settled, and the default one-document knowledge base's when idle);
//! - the stdio server's start over a persisted index, to the answer of its first search, and
//!   its exit code when its input ends.
//!
//! `KB_BENCH_BASELINE=<an earlier switchboard-kb>` measures that binary beside this build's in
//! the same run, for before/after figures on a loaded machine.
//!
//! Every figure is a median (or percentile) of repeated runs; nothing here asserts a speed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)] // a benchmark

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use switchboard_kb::{Config, Engine, embed::HashEmbedder, index::SearchQuery, rank::Ranking};

const COPIES: usize = 30;
const INDEX_RUNS: usize = 3;
/// The hashed-trigram vectors' size, as in the evaluation.
const HASHED_DIMENSIONS: usize = 512;

fn corpus() -> PathBuf {
    switchboard_testkit::testdata::mcp_docs()
}

fn questions() -> Vec<String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/questions.json"))
            .unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["q"].as_str().unwrap().to_string())
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn percentile(xs: &[f64], p: f64) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[((xs.len() as f64 - 1.0) * p).round() as usize]
}

fn rss_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)
                .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

/// The corpus replicated `COPIES` times: `copy-N/<path>`, with each copy's words perturbed (a
/// copy-specific token every few words) so no two documents are identical.
fn replicate(into: &Path) -> usize {
    let mut count = 0;
    let files: Vec<PathBuf> = walkdir::WalkDir::new(corpus())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "mdx"))
        .map(|e| e.into_path())
        .collect();
    for n in 0..COPIES {
        for file in &files {
            let rel = file.strip_prefix(corpus()).unwrap();
            let target = into.join(format!("copy-{n}")).join(rel);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            let text = std::fs::read_to_string(file).unwrap();
            let mut out = String::with_capacity(text.len() + text.len() / 20);
            for (i, word) in text.split(' ').enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(word);
                if i % 17 == 0 {
                    out.push_str(&format!(" variant{n}x{}", i % 7));
                }
            }
            std::fs::write(target, out).unwrap();
            count += 1;
        }
    }
    count
}

struct Indexed {
    docs_per_s: f64,
    seconds: f64,
    bytes: u64,
    sections: u64,
}

fn index(root: &Path) -> (Indexed, std::sync::Arc<Engine>, tempfile::TempDir) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..INDEX_RUNS {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let engine = Engine::open(&Config {
            roots: vec![root.to_path_buf()],
            index_dir: dir.path().to_path_buf(),
        })
        .unwrap();
        engine.sync_all().unwrap();
        times.push(started.elapsed().as_secs_f64());
        last = Some((engine, dir));
    }
    let (engine, dir) = last.unwrap();
    let status = engine.status();
    let seconds = median(times);
    (
        Indexed {
            docs_per_s: status.documents as f64 / seconds,
            seconds,
            bytes: status.index_bytes,
            sections: status.sections,
        },
        engine,
        dir,
    )
}

fn search_latencies(engine: &Engine, queries: &[String], rounds: usize) -> Vec<f64> {
    search_latencies_with(engine, queries, rounds, Ranking::default())
}

fn search_latencies_with(
    engine: &Engine,
    queries: &[String],
    rounds: usize,
    ranking: Ranking,
) -> Vec<f64> {
    let mut ms = Vec::new();
    for _ in 0..rounds {
        for q in queries {
            let query = SearchQuery {
                text: q.clone(),
                limit: 10,
                lenient: true,
                ranking,
                ..SearchQuery::default()
            };
            let started = Instant::now();
            let hits = engine.search(&query).unwrap();
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(hits);
        }
    }
    ms
}

fn save_to_found(engine: &std::sync::Arc<Engine>, root: &Path) -> Vec<f64> {
    let _watch = engine.watch().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut ms = Vec::new();
    for i in 0..15 {
        let word = format!("zqxbench{i}marker");
        let path = root.join(format!("bench-note-{i}.md"));
        let started = Instant::now();
        std::fs::write(&path, format!("# Bench note {i}\n\nThe word {word} appears here.\n"))
            .unwrap();
        let query = SearchQuery { text: word, limit: 1, ..SearchQuery::default() };
        loop {
            if !engine.search(&query).unwrap().is_empty() {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "a saved file was never found");
            std::thread::sleep(Duration::from_millis(2));
        }
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        std::fs::remove_file(&path).unwrap();
        std::thread::sleep(Duration::from_millis(400));
    }
    ms
}

/// The release server, or the one `KB_BENCH_BASELINE` names beside it (an earlier build, to
/// compare in the same run).
fn servers() -> Vec<(String, PathBuf)> {
    let exe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/switchboard-kb");
    assert!(exe.exists(), "build it first: cargo build --release -p switchboard-kb");
    let mut servers = vec![("this build".to_string(), exe)];
    if let Some(baseline) = std::env::var_os("KB_BENCH_BASELINE") {
        servers.push(("baseline".to_string(), PathBuf::from(baseline)));
    }
    servers
}

/// What one run of the server over stdio measured.
struct Served {
    /// From spawning it to the answer of its first search (a search may come before the
    /// start-up sync is done: it searches the index as it is).
    first_answer_ms: f64,
    /// Search round trips once the index is ready.
    latencies: Vec<f64>,
    /// RSS once ready (after the queries), and after `settle` more without requests.
    rss_ready_kib: u64,
    rss_settled_kib: u64,
    /// Of `rss_settled_kib`: the process's own memory, and the index's mapped file pages (the
    /// kernel's page cache, shared and reclaimable).
    anon_settled_kib: u64,
    file_settled_kib: u64,
    threads: u64,
    exit_ok: bool,
}

/// Runs `exe` over `root` with its index in `index` (kept, so a second run starts from it),
/// `rounds` of the queries once it is ready, then ends its input.
fn stdio(
    exe: &Path,
    root: &Path,
    index: &Path,
    queries: &[String],
    rounds: usize,
    settle: Duration,
) -> Served {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let mut child = tokio::process::Command::new(exe)
            .arg("--root")
            .arg(root)
            .arg("--index-dir")
            .arg(index)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap().to_string();
        let options = switchboard_mcp::SessionOptions {
            connect: switchboard_mcp::ConnectOptions {
                protocol: switchboard_mcp::ProtocolChoice::Force("2025-11-25".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let session = switchboard_mcp::Session::stdio(
            child.stdout.take().unwrap(),
            child.stdin.take().unwrap(),
            &options,
        )
        .await
        .unwrap();
        let search = |q: &str| {
            let args = serde_json::json!({"query": q.replace(':', " "), "limit": 10});
            session.call_tool("search", args.as_object().unwrap().clone(), None, None)
        };
        let first = search(&queries[0]).await.unwrap();
        let first_answer_ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_ne!(first.result.is_error, Some(true), "{:?}", first.result.content);
        loop {
            let status =
                session.call_tool("index_status", Default::default(), None, None).await.unwrap();
            if status.result.structured_content.as_ref().and_then(|s| s["state"].as_str())
                == Some("ready")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut latencies = Vec::new();
        for _ in 0..rounds {
            for q in queries {
                let started = Instant::now();
                let outcome = search(q).await.unwrap();
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                assert_ne!(outcome.result.is_error, Some(true), "{:?}", outcome.result.content);
            }
        }
        let rss_ready_kib = rss_kib(&pid, "VmRSS:");
        tokio::time::sleep(settle).await;
        let rss_settled_kib = rss_kib(&pid, "VmRSS:");
        let anon_settled_kib = rss_kib(&pid, "RssAnon:");
        let file_settled_kib = rss_kib(&pid, "RssFile:");
        let threads = rss_kib(&pid, "Threads:");
        session.close(Duration::from_secs(5)).await;
        let exit_ok = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .is_ok_and(|status| status.is_ok_and(|s| s.success()));
        Served {
            first_answer_ms,
            latencies,
            rss_ready_kib,
            rss_settled_kib,
            anon_settled_kib,
            file_settled_kib,
            threads,
            exit_ok,
        }
    })
}

/// The 30x corpus over stdio: indexed by the server, then started again over its index.
fn report_stdio(corpus: &str, root: &Path, queries: &[String], rounds: usize) {
    for (name, exe) in servers() {
        let index = tempfile::tempdir().unwrap();
        let fresh = stdio(&exe, root, index.path(), queries, rounds, Duration::from_secs(5));
        let lat = &fresh.latencies;
        println!(
            "search over stdio ({name}, {corpus}): p50 {:.3} ms  p99 {:.3} ms  over {} calls",
            percentile(lat, 0.5),
            percentile(lat, 0.99),
            lat.len(),
        );
        println!(
            "  server RSS after indexing {} MiB, 5 s later {} MiB ({} MiB its own, {} MiB the \
             index's mapped files); {} threads; exit {}",
            fresh.rss_ready_kib / 1024,
            fresh.rss_settled_kib / 1024,
            fresh.anon_settled_kib / 1024,
            fresh.file_settled_kib / 1024,
            fresh.threads,
            if fresh.exit_ok { "0" } else { "FAILED" },
        );
        let mut starts = Vec::new();
        let mut again = None;
        for _ in 0..5 {
            let run = stdio(&exe, root, index.path(), &queries[..1], 1, Duration::ZERO);
            starts.push(run.first_answer_ms);
            again = Some(run);
        }
        let again = again.unwrap();
        println!(
            "  started over its persisted index: first answer after median {:.0} ms (of 5 starts); RSS {} MiB",
            median(starts),
            again.rss_settled_kib / 1024,
        );
    }
}

/// The default knowledge base: one welcome document, as `switchboard kb setup` makes it. Its
/// RSS once it answered a search and idled, started fresh and again over its index.
fn report_default_kb() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join("Welcome.md"),
        "---\ntitle: Welcome to your knowledge base\ntags: [switchboard, welcome]\n---\n\n# Welcome to your knowledge base\n\nEvery Markdown file in this folder is searchable by your AI assistants.\n\n## Adding documents\n\nSave or copy files here. New and changed files are indexed within a second.\n",
    )
    .unwrap();
    let queries = vec!["adding documents".to_string()];
    for (name, exe) in servers() {
        let index = dir.path().join(format!("index-{name}"));
        let fresh = stdio(&exe, &docs, &index, &queries, 1, Duration::from_secs(3));
        let again = stdio(&exe, &docs, &index, &queries, 1, Duration::from_secs(3));
        println!(
            "default knowledge base ({name}, 1 document): idle RSS {:.1} MiB fresh, {:.1} MiB over its index; {} threads; first answer {:.0} ms; exit {}",
            fresh.rss_settled_kib as f64 / 1024.0,
            again.rss_settled_kib as f64 / 1024.0,
            again.threads,
            again.first_answer_ms,
            if fresh.exit_ok && again.exit_ok { "0" } else { "FAILED" },
        );
    }
}

fn report_index(corpus: &str, indexed: &Indexed, engine: &Engine, lat: &[f64]) {
    println!(
        "corpus {corpus}: {} docs, {} sections indexed in {:.2} s = {:.0} docs/s; index {:.1} MiB",
        engine.status().documents,
        indexed.sections,
        indexed.seconds,
        indexed.docs_per_s,
        indexed.bytes as f64 / 1048576.0
    );
    println!(
        "search in-process ({corpus}): p50 {:.3} ms  p99 {:.3} ms  over {} queries",
        percentile(lat, 0.5),
        percentile(lat, 0.99),
        lat.len()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let queries = questions();
    println!("knowledge-base benchmark ({} indexing runs per corpus, medians)", INDEX_RUNS);

    let (one, engine, _dir) = index(&corpus());
    report_index("1x", &one, &engine, &search_latencies(&engine, &queries, 20));
    drop(engine);

    let big = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let files = replicate(big.path());
    println!("generated the 30x corpus: {files} files in {:.1} s", started.elapsed().as_secs_f64());
    let (thirty, engine30, _dir30) = index(big.path());
    report_index("30x", &thirty, &engine30, &search_latencies(&engine30, &queries, 10));
    // What each ranking method costs, in the same run.
    for (name, ranking) in [
        ("the ranking before", Ranking::before()),
        ("no proximity", Ranking { proximity: 0.0, ..Ranking::default() }),
        ("not folded", Ranking { fold: false, ..Ranking::default() }),
        ("no typos", Ranking { typos: false, ..Ranking::default() }),
        ("identifiers parts only", Ranking { whole_identifiers: 0.0, ..Ranking::default() }),
        ("no feedback (PRF)", Ranking { expansion: 0.0, ..Ranking::default() }),
        ("feedback searched again", Ranking { feedback_search: true, ..Ranking::default() }),
    ] {
        let mut ms = search_latencies_with(&engine30, &queries, 4, ranking);
        ms.sort_by(f64::total_cmp);
        println!(
            "  search in-process (30x), {name}: p50 {:.3} ms  p99 {:.3} ms",
            percentile(&ms, 0.5),
            percentile(&ms, 0.99)
        );
    }
    println!(
        "this process: RSS {} MiB now, peak {} MiB (after indexing both corpora, 3 times each)",
        rss_kib("self", "VmRSS:") / 1024,
        rss_kib("self", "VmHWM:") / 1024
    );
    drop(engine30);
    // The hybrid ranking with the hashed-trigram embedder: indexing with vectors once, then the
    // same queries lexical only and fused with the vectors, on that engine. On the 1x corpus:
    // at 30x the vectors would take ~0.4 GiB (210k sections x 512 x 4 bytes), and comparing
    // them all grows with the sections, so 30x costs about 30 times the 1x scan.
    let vectors_dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let hybrid = Engine::open_with(
        &Config { roots: vec![corpus()], index_dir: vectors_dir.path().to_path_buf() },
        Some(std::sync::Arc::new(HashEmbedder::new(HASHED_DIMENSIONS))),
    )
    .unwrap();
    hybrid.sync_all().unwrap();
    println!(
        "indexing (1x) with {HASHED_DIMENSIONS}-dimension hashed vectors: {:.1} s; RSS {} MiB now",
        started.elapsed().as_secs_f64(),
        rss_kib("self", "VmRSS:") / 1024
    );
    for (name, ranking) in [
        ("lexical", Ranking::default()),
        ("hashed vectors, RRF 0.5", Ranking { semantic: 0.5, ..Ranking::default() }),
    ] {
        let mut ms = search_latencies_with(&hybrid, &queries, 20, ranking);
        ms.sort_by(f64::total_cmp);
        println!(
            "  search in-process (1x, vectors kept), {name}: p50 {:.3} ms  p99 {:.3} ms",
            percentile(&ms, 0.5),
            percentile(&ms, 0.99)
        );
    }
    drop(hybrid);
    report_default_kb();
    report_stdio("30x", big.path(), &queries, 4);

    // Live: from a saved file to a search that finds it, on a copy of the corpus being watched.
    let live = tempfile::tempdir().unwrap();
    let live_root = live.path().join("docs");
    for entry in walkdir::WalkDir::new(corpus()).into_iter().filter_map(Result::ok) {
        let rel = entry.path().strip_prefix(corpus()).unwrap();
        let target = live_root.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    let index_dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(&Config {
        roots: vec![live_root.clone()],
        index_dir: index_dir.path().to_path_buf(),
    })
    .unwrap();
    engine.sync_all().unwrap();
    let found = save_to_found(&engine, &live_root);
    println!(
        "saved file -> found by search: median {:.0} ms, max {:.0} ms over {} saves (200 ms of it is the debounce)",
        median(found.clone()),
        found.iter().copied().fold(0.0, f64::max),
        found.len()
    );
    drop(engine);

    report_stdio("1x", &corpus(), &queries, 10);
}
