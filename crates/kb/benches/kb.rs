//! The knowledge base's benchmark (`cargo bench -p switchboard-kb --bench kb`, run by `./x bench`).
//!
//! - indexing throughput on the corpus (344 documents) and on a 30x corpus generated here from it
//!   (every file copied 30 times under new names, with words perturbed per copy);
//! - search latency p50/p99 in-process (both corpora) and over stdio (the release binary, our MCP
//!   client);
//! - time from a saved file to it being found (watcher, debounce, index, commit);
//! - index size on disk and memory (this process's peak RSS; the stdio server's RSS).
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

fn stdio(root: &Path, queries: &[String], rounds: usize) -> (Vec<f64>, u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let exe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/switchboard-kb");
        assert!(exe.exists(), "build it first: cargo build --release -p switchboard-kb");
        let index = tempfile::tempdir().unwrap();
        let mut child = tokio::process::Command::new(exe)
            .arg("--root")
            .arg(root)
            .arg("--index-dir")
            .arg(index.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap().to_string();
        let session = switchboard_mcp::Session::stdio(
            child.stdout.take().unwrap(),
            child.stdin.take().unwrap(),
            &switchboard_mcp::SessionOptions::default(),
        )
        .await
        .unwrap();
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
        let mut ms = Vec::new();
        for _ in 0..rounds {
            for q in queries {
                let args = serde_json::json!({"query": q.replace(':', " "), "limit": 10});
                let started = Instant::now();
                let outcome = session
                    .call_tool("search", args.as_object().unwrap().clone(), None, None)
                    .await
                    .unwrap();
                ms.push(started.elapsed().as_secs_f64() * 1000.0);
                assert_ne!(outcome.result.is_error, Some(true), "{:?}", outcome.result.content);
            }
        }
        let rss = rss_kib(&pid, "VmRSS:");
        session.close(Duration::from_secs(5)).await;
        let _ = child.wait().await;
        (ms, rss)
    })
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

fn report_stdio(corpus: &str, (lat, rss): (Vec<f64>, u64)) {
    println!(
        "search over stdio (release server, {corpus}): p50 {:.3} ms  p99 {:.3} ms  over {} calls; server RSS {} MiB after indexing",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.len(),
        rss / 1024
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
    report_stdio("30x", stdio(big.path(), &queries, 4));

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

    report_stdio("1x", stdio(&corpus(), &queries, 10));
}
