//! Search quality on the real corpus: `eval/questions.json` holds 50 realistic questions over
//! the repository's `testdata/mcp-docs` and the documents that answer each. Reports recall@5 and
//! MRR@10 of the knowledge base's ranking and of a plain term-count baseline (a document's score
//! is how often the question's words occur in it, as the seed documents' example server does), and
//! fails below the thresholds set after measuring, or if the baseline is not clearly beaten.
//!
//! `harness = false`: the figures are printed on every run, not only on failure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test whose set-up fails should stop loudly

use std::{collections::HashMap, path::Path, process::ExitCode};

use switchboard_kb::{Config, Engine, index::SearchQuery};

/// Measured 2026-11-22: recall@5 0.84, MRR@10 0.77 (baseline 0.30 / 0.22). A few points of
/// slack below, so a change that loses two questions fails.
const MIN_RECALL_AT_5: f64 = 0.80;
const MIN_MRR: f64 = 0.72;
/// The ranking must beat the baseline by at least this much on both measures.
const MIN_MARGIN: f64 = 0.30;

#[derive(serde::Deserialize)]
struct Set {
    questions: Vec<Question>,
}

#[derive(serde::Deserialize)]
struct Question {
    q: String,
    relevant: Vec<String>,
}

/// `*` matches any run of characters, `/` included.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first)
        || !text[first.len()..].ends_with(last)
        || text.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[derive(Default)]
struct Score {
    hits_at_5: usize,
    reciprocal: f64,
}

impl Score {
    fn add(&mut self, ranked: &[String], relevant: &[String]) -> Option<usize> {
        let rank = ranked.iter().take(10).position(|doc| relevant.iter().any(|p| glob(p, doc)))?;
        if rank < 5 {
            self.hits_at_5 += 1;
        }
        self.reciprocal += 1.0 / (rank as f64 + 1.0);
        Some(rank + 1)
    }
}

fn words(text: &str) -> Vec<String> {
    const STOP: &[&str] = &[
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from",
        "how", "i", "if", "in", "into", "is", "it", "its", "may", "my", "no", "not", "of", "on",
        "or", "so", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to",
        "was", "what", "when", "where", "which", "who", "why", "will", "with", "work", "you",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP.contains(&w.as_str()))
        .collect()
}

fn main() -> ExitCode {
    let corpus = switchboard_testkit::testdata::mcp_docs();
    let set: Set = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/questions.json"))
            .unwrap(),
    )
    .unwrap();
    let index = tempfile::tempdir().unwrap();
    let engine = Engine::open(&Config {
        roots: vec![corpus.clone()],
        index_dir: index.path().to_path_buf(),
    })
    .unwrap();
    engine.sync_all().unwrap();

    // The baseline reads every document's text once, as a scanning server would.
    let mut texts: Vec<(String, HashMap<String, usize>)> = Vec::new();
    for entry in walkdir::WalkDir::new(&corpus).into_iter().filter_map(Result::ok) {
        if entry.path().extension().is_some_and(|e| e == "mdx" || e == "md") {
            let rel =
                entry.path().strip_prefix(&corpus).unwrap().to_string_lossy().replace('\\', "/");
            let mut counts = HashMap::new();
            for w in words(&std::fs::read_to_string(entry.path()).unwrap()) {
                *counts.entry(w).or_insert(0) += 1;
            }
            texts.push((rel, counts));
        }
    }

    let (mut ours, mut base) = (Score::default(), Score::default());
    let mut misses = Vec::new();
    for question in &set.questions {
        let query = SearchQuery {
            text: question.q.clone(),
            limit: 10,
            lenient: true,
            ..SearchQuery::default()
        };
        let ranked: Vec<String> = engine
            .search(&query)
            .unwrap()
            .into_iter()
            .map(|h| h.key.split_once('/').map(|(_, rel)| rel.to_string()).unwrap_or(h.key))
            .collect();
        match ours.add(&ranked, &question.relevant) {
            Some(rank) if rank <= 5 => {}
            rank => misses.push(format!(
                "  rank {:>4}  {}  (top: {})",
                rank.map_or("-".into(), |r| r.to_string()),
                question.q,
                ranked.first().map_or("", String::as_str)
            )),
        }
        let terms = words(&question.q);
        let mut scored: Vec<(usize, &String)> = texts
            .iter()
            .map(|(doc, counts)| {
                (terms.iter().map(|t| counts.get(t).copied().unwrap_or(0)).sum(), doc)
            })
            .filter(|(s, _)| *s > 0)
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        let ranked: Vec<String> = scored.into_iter().map(|(_, d)| d.clone()).collect();
        base.add(&ranked, &question.relevant);
    }
    let n = set.questions.len() as f64;
    let (recall, mrr) = (ours.hits_at_5 as f64 / n, ours.reciprocal / n);
    let (base_recall, base_mrr) = (base.hits_at_5 as f64 / n, base.reciprocal / n);
    println!("kb eval: {} questions over {} documents", set.questions.len(), texts.len());
    println!("  switchboard-kb       recall@5 {recall:.3}  MRR@10 {mrr:.3}");
    println!("  term-count baseline  recall@5 {base_recall:.3}  MRR@10 {base_mrr:.3}");
    if !misses.is_empty() {
        println!("  not in the top 5:");
        println!("{}", misses.join("\n"));
    }
    let mut failures = Vec::new();
    if recall < MIN_RECALL_AT_5 {
        failures.push(format!("recall@5 {recall:.3} < {MIN_RECALL_AT_5}"));
    }
    if mrr < MIN_MRR {
        failures.push(format!("MRR {mrr:.3} < {MIN_MRR}"));
    }
    if recall - base_recall < MIN_MARGIN || mrr - base_mrr < MIN_MARGIN {
        failures.push(format!("does not beat the baseline by {MIN_MARGIN}"));
    }
    if failures.is_empty() {
        println!("test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
        ExitCode::SUCCESS
    } else {
        println!("  FAILED: {}", failures.join("; "));
        println!("test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out");
        ExitCode::FAILURE
    }
}
