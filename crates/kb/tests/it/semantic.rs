//! Semantic retrieval's extension point end to end, with the deterministic hashed-trigram
//! embedder: vectors made at index time and kept beside the index, fused with the words'
//! ranking only when a search asks for it, made again when the embedder changes.

use std::sync::Arc;

use switchboard_kb::{
    Engine,
    embed::{Embedder, HashEmbedder},
    index::SearchQuery,
    rank::Ranking,
};

use crate::support::{Kb, write};

fn search(engine: &Engine, text: &str, semantic: f32) -> Vec<(String, f32)> {
    let query = SearchQuery {
        text: text.into(),
        limit: 10,
        ranking: Ranking { semantic, ..Ranking::default() },
        ..SearchQuery::default()
    };
    engine.search(&query).unwrap().into_iter().map(|h| (h.key, h.score)).collect()
}

#[test]
fn hybrid_search_fuses_vectors_with_words_is_deterministic_and_keeps_its_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    write(&docs.join("retry.md"), "# Retry\n\nThe client retransmits a message after a timeout.\n");
    write(&docs.join("paint.md"), "# Colours\n\nPaint the shed green before the winter.\n");
    write(&docs.join("timeouts.md"), "# Timeouts\n\nA timeout ends a request that waited.\n");
    let config = Kb::config_in(dir.path());
    let open = |embedder: Arc<dyn Embedder>| Engine::open_with(&config, Some(embedder)).unwrap();

    let engine = open(Arc::new(HashEmbedder::new(256)));
    assert_eq!(engine.sync_all().unwrap().updated.len(), 3);
    assert!(dir.path().join("index/vectors.bin").is_file());
    // No word of the question is in the corpus, nor within one edit of one: the words find
    // nothing, and by default that is the answer.
    assert!(search(&engine, "retransmission", 0.0).is_empty());
    // The vectors share the word's trigrams with `retransmits`.
    let fused = search(&engine, "retransmission", 1.0);
    assert_eq!(fused.first().map(|(k, _)| k.as_str()), Some("docs/retry.md"));
    assert_eq!(fused, search(&engine, "retransmission", 1.0), "the same every time");
    // Where the words do find something, their best stays on top when both agree.
    let fused = search(&engine, "timeout request", 1.0);
    assert_eq!(fused.first().map(|(k, _)| k.as_str()), Some("docs/timeouts.md"));
    assert_eq!(search(&engine, "timeout request", 0.0)[0].0, "docs/timeouts.md");
    drop(engine);

    // The same embedder again: the saved vectors are used, nothing is indexed again.
    let engine = open(Arc::new(HashEmbedder::new(256)));
    assert!(engine.sync_all().unwrap().updated.is_empty());
    assert_eq!(search(&engine, "retransmission", 1.0)[0].0, "docs/retry.md");
    drop(engine);

    // Another embedder (another id): every document is indexed again for its vectors.
    let engine = open(Arc::new(HashEmbedder::new(64)));
    assert_eq!(engine.sync_all().unwrap().updated.len(), 3);
    assert_eq!(search(&engine, "retransmission", 1.0)[0].0, "docs/retry.md");
    // A deleted file's vectors go with it.
    std::fs::remove_file(docs.join("retry.md")).unwrap();
    engine.sync_all().unwrap();
    assert!(search(&engine, "retransmission", 1.0).iter().all(|(k, _)| k != "docs/retry.md"));
}

#[test]
fn an_embedder_that_fails_leaves_search_lexical() {
    struct Broken;
    impl Embedder for Broken {
        fn id(&self) -> &str {
            "broken"
        }
        fn dimensions(&self) -> usize {
            4
        }
        fn embed(&self, _: &[&str]) -> switchboard_kb::Result<Vec<Vec<f32>>> {
            Err(switchboard_kb::Error::Invalid("the endpoint is down".into()))
        }
    }
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("docs/a.md"), "# Sampling\n\nA server asks the client's model.\n");
    let engine = Engine::open_with(&Kb::config_in(dir.path()), Some(Arc::new(Broken))).unwrap();
    assert_eq!(engine.sync_all().unwrap().updated.len(), 1, "indexing does not fail");
    assert_eq!(search(&engine, "sampling model", 1.0)[0].0, "docs/a.md");
    assert_eq!(search(&engine, "sampling model", 1.0), search(&engine, "sampling model", 0.0));
}
