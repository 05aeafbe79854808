//! The tantivy index: one tantivy document per section, keyed by the document's key so a file's
//! sections are replaced together. Ranking is BM25 over title, heading and body (title and
//! heading boosted), English stemming and stop words; results are grouped to the best section
//! of each document.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use serde::Serialize;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Score, Searcher, TantivyDocument,
    Term,
    collector::TopDocs,
    columnar::StrColumn,
    index::SegmentId,
    query::{BooleanQuery, Occur, Query, QueryParser, TermQuery},
    schema::{
        FAST, Facet, FacetOptions, Field, IndexRecordOption, STORED, STRING, Schema,
        TextFieldIndexing, TextOptions, Value,
    },
    snippet::SnippetGenerator,
    tokenizer::{Language, LowerCaser, RemoveLongFilter, StopWordFilter, TextAnalyzer},
};

use crate::{
    embed::{self, Embedder, SectionVector, Vectors},
    error::{Error, Result},
    ident::{Emit, IdentifierTokenizer},
    rank,
    roots::uri_of,
    source::{Document, normalize_tag},
    stem::CachedStemmer,
};

/// The analyzers' names are part of the schema: a new name rebuilds an index made by the old one.
/// Title, heading and body: words, identifiers in parts.
const TOKENIZER: &str = "kb_en_parts";
/// The `ident` field: identifiers whole, from the title, heading and body.
const IDENT_TOKENIZER: &str = "kb_ident";
/// The lock this process holds for as long as it is the index's one indexer, whether or not it
/// has a writer open at the moment (tantivy's own writer lock lasts only as long as a writer).
const INDEXER_LOCK: &str = ".kb-indexer.lock";
/// Decompressed document-store blocks kept per segment. A search reads a few dozen sections
/// (feedback, hits, their other sections' headings); tantivy's default of 100 blocks per segment
/// kept megabytes of decompressed text per segment for little gain.
const DOC_STORE_CACHE_BLOCKS: usize = 20;

/// What tantivy refuses below, per indexing thread (its `MEMORY_BUDGET_NUM_BYTES_MIN`).
pub const MIN_HEAP_PER_THREAD: usize = 15_000_000;
/// The most one indexing thread is given: past it, bigger segments before a flush save little
/// (merges join them anyway) and cost their size in memory.
pub const MAX_HEAP_PER_THREAD: usize = 32 << 20;
/// Below this much text to index, one thread indexes it: a second would only add threads, a
/// hash table and a segment to merge.
pub const ONE_THREAD_BELOW: u64 = 16 << 20;

/// The index writer's threads and memory, sized to the work at hand rather than fixed: a note
/// saved in a small folder gets one thread and tantivy's minimum; re-indexing a large corpus
/// gets a thread per core (two at most) and up to [`MAX_HEAP_PER_THREAD`] each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterBudget {
    pub threads: usize,
    pub heap_per_thread: usize,
}

impl WriterBudget {
    /// For `bytes` of files to index on a machine with `cpus` cores. A thread's in-memory
    /// segment is about the size of the text it indexed, so a thread is given its share of the
    /// text, within tantivy's minimum and [`MAX_HEAP_PER_THREAD`].
    pub fn for_work(bytes: u64, cpus: usize) -> WriterBudget {
        let threads = if bytes < ONE_THREAD_BELOW { 1 } else { cpus.clamp(1, 2) };
        let share = bytes / threads as u64;
        let heap_per_thread =
            share.clamp(MIN_HEAP_PER_THREAD as u64, MAX_HEAP_PER_THREAD as u64) as usize;
        WriterBudget { threads, heap_per_thread }
    }

    /// [`WriterBudget::for_work`] on this machine.
    pub fn here(bytes: u64) -> WriterBudget {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        WriterBudget::for_work(bytes, cpus)
    }

    pub fn total(&self) -> usize {
        self.threads * self.heap_per_thread
    }
}

/// A segment's `key` column and its keys by ordinal.
type KeyColumn = Option<(StrColumn, Arc<Vec<String>>)>;

/// Held by the index's one indexer; released when dropped (or when the process ends, however).
pub struct IndexerLock {
    _lock: tantivy::directory::DirectoryLock,
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    folder: Field,
    title: Field,
    heading: Field,
    anchor: Field,
    line: Field,
    body: Field,
    tags: Field,
    ident: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        // FAST: a hit's document is read from the column, not the document store.
        key: b.add_text_field("key", STRING | STORED | FAST),
        folder: b.add_facet_field("folder", FacetOptions::default()),
        title: b.add_text_field("title", text.clone()),
        heading: b.add_text_field("heading", text.clone()),
        anchor: b.add_text_field("anchor", STORED),
        line: b.add_u64_field("line", STORED | FAST),
        body: b.add_text_field("body", text),
        tags: b.add_text_field("tags", STRING | STORED),
        ident: b.add_text_field(
            "ident",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(IDENT_TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        ),
    };
    (b.build(), fields)
}

/// Words and identifiers (whole and in parts), lower-cased, stop words dropped, stemmed: how a
/// question is read. The fields hold the parts ([`Emit::Parts`]) or the wholes
/// ([`Emit::Wholes`]), analyzed the same way.
pub fn analyzer() -> TextAnalyzer {
    analyzer_emitting(Emit::Both)
}

fn analyzer_emitting(emit: Emit) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(IdentifierTokenizer::new(emit))
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder.filter(stop).filter(CachedStemmer).build(),
        None => builder.filter(CachedStemmer).build(),
    }
}

/// What a search asks for.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    pub limit: usize,
    /// Folder or document path prefixes (keys), at path-segment granularity; any may match.
    pub prefixes: Vec<String>,
    /// Any of these tags (case-insensitive).
    pub tags: Vec<String>,
    /// Treat query syntax errors as plain words instead of failing.
    pub lenient: bool,
    /// The ranking's methods (all, by default).
    pub ranking: rank::Ranking,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Hit {
    /// The document's resource URI (`kb://...`).
    pub uri: String,
    /// The document's key: root label, then the path in that folder.
    pub key: String,
    pub title: String,
    /// The heading of the best-matching section (empty: before the first heading).
    pub section: String,
    /// The section's anchor, for `read_document`'s `section`.
    pub anchor: String,
    /// 1-based line where the section starts.
    pub line: u64,
    pub score: f32,
    /// An excerpt with the matched terms marked `**like this**`.
    pub snippet: String,
    pub tags: Vec<String>,
    /// Headings of other sections of the same document that also matched.
    pub other_sections: Vec<String>,
}

pub struct SearchIndex {
    path: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// The embedder and the vectors it made, when one is configured.
    semantic: Option<Semantic>,
    /// Each segment's document keys by term ordinal (see [`SearchIndex::segment_keys`]).
    keys: Mutex<HashMap<SegmentId, Arc<Vec<String>>>>,
}

struct Semantic {
    embedder: Arc<dyn Embedder>,
    vectors: RwLock<Vectors>,
}

impl SearchIndex {
    /// Opens the index in `dir`, or creates it. A directory that cannot be opened as this schema
    /// is cleared and recreated (the caller then re-indexes everything).
    pub fn open_or_create(dir: &Path) -> Result<(Self, bool)> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (schema, fields) = schema();
        let mut fresh = false;
        let index = if dir.join("meta.json").exists() {
            match Index::open_in_dir(dir) {
                Ok(index) if index.schema() == schema => index,
                Ok(_) | Err(_) => {
                    tracing::warn!(path = %dir.display(), "index unreadable or from another version; rebuilding");
                    clear_dir(dir)?;
                    fresh = true;
                    Index::create_in_dir(dir, schema).map_err(|e| tantivy_error(dir, e))?
                }
            }
        } else {
            clear_dir(dir)?;
            fresh = true;
            Index::create_in_dir(dir, schema).map_err(|e| tantivy_error(dir, e))?
        };
        index.tokenizers().register(TOKENIZER, analyzer_emitting(Emit::Parts));
        index.tokenizers().register(IDENT_TOKENIZER, analyzer_emitting(Emit::Wholes));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
            .try_into()
            .map_err(|e| index_error(dir, e))?;
        let keys = Mutex::new(HashMap::new());
        Ok((
            SearchIndex { path: dir.to_path_buf(), index, reader, fields, semantic: None, keys },
            fresh,
        ))
    }

    /// Becomes the index's one indexer: fails with [`Error::IndexBusy`] when another process
    /// is (or a server of an earlier version holds tantivy's writer lock).
    pub fn indexer_lock(&self) -> Result<IndexerLock> {
        use tantivy::directory::{Directory, Lock, error::LockError};
        let lock = Lock { filepath: PathBuf::from(INDEXER_LOCK), is_blocking: false };
        let held = self.index.directory().acquire_lock(&lock).map_err(|e| match e {
            LockError::LockBusy => Error::IndexBusy(self.path.clone()),
            LockError::IoError(io) => {
                index_error(&self.path, format!("cannot lock {INDEXER_LOCK}: {io}"))
            }
        })?;
        // An earlier version's server holds tantivy's writer lock for as long as it runs.
        let writer_lock = &tantivy::directory::INDEX_WRITER_LOCK;
        drop(self.index.directory().acquire_lock(writer_lock).map_err(|e| match e {
            LockError::LockBusy => Error::IndexBusy(self.path.clone()),
            LockError::IoError(io) => index_error(&self.path, io),
        })?);
        Ok(IndexerLock { _lock: held })
    }

    /// A writer with `budget`'s threads and memory (and one merge thread), for one sync: the
    /// caller holds the [`IndexerLock`], and drops the writer when the sync is done.
    pub fn writer(&self, budget: WriterBudget) -> Result<IndexWriter> {
        let options = tantivy::indexer::IndexWriterOptions::builder()
            .num_worker_threads(budget.threads)
            .memory_budget_per_thread(budget.heap_per_thread)
            .num_merge_threads(1)
            .build();
        self.index.writer_with_options(options).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => Error::IndexBusy(self.path.clone()),
            other => tantivy_error(&self.path, other),
        })
    }

    /// Makes and keeps a vector per section with `embedder` (in `vectors.bin` beside the index
    /// folder), for searches that ask for [`rank::Ranking::semantic`]. Returns `false` when the
    /// saved vectors were missing or made by another embedder: every document must be indexed
    /// again for its vectors.
    pub fn set_embedder(&mut self, embedder: Arc<dyn Embedder>) -> bool {
        let dir = self.path.parent().unwrap_or(&self.path);
        let (vectors, valid) = Vectors::load(&dir.join("vectors.bin"), embedder.as_ref());
        self.semantic = Some(Semantic { embedder, vectors: RwLock::new(vectors) });
        valid
    }

    /// Forgets every vector (the index is being rebuilt).
    pub fn clear_vectors(&self) {
        if let Some(semantic) = &self.semantic {
            write_lock(&semantic.vectors).clear();
        }
    }

    pub fn delete(&self, writer: &IndexWriter, key: &str) {
        writer.delete_term(Term::from_field_text(self.fields.key, key));
        if let Some(semantic) = &self.semantic {
            write_lock(&semantic.vectors).remove(key);
        }
    }

    /// The vectors of `doc`'s sections, those whose text is unchanged taken from `old`, the
    /// others made in one batch. An embedder that fails leaves the document without vectors
    /// (found by words only) rather than failing the sync.
    fn embed_sections(
        semantic: &Semantic,
        key: &str,
        doc: &Document,
        old: &[SectionVector],
    ) -> Vec<SectionVector> {
        let texts: Vec<String> = doc
            .sections
            .iter()
            .map(|s| format!("{}\n{}\n{}", doc.title, s.heading, s.text))
            .collect();
        let hashes: Vec<u64> = texts.iter().map(|t| embed::text_hash(t)).collect();
        let missing: Vec<&str> = texts
            .iter()
            .zip(&hashes)
            .filter(|(_, h)| !old.iter().any(|o| o.hash == **h))
            .map(|(t, _)| t.as_str())
            .collect();
        let mut made = if missing.is_empty() {
            Vec::new()
        } else {
            match semantic.embedder.embed(&missing) {
                Ok(made) if made.len() == missing.len() => made,
                Ok(_) | Err(_) => {
                    tracing::warn!(key, embedder = semantic.embedder.id(), "embedding failed");
                    return Vec::new();
                }
            }
        }
        .into_iter();
        let mut out = Vec::with_capacity(texts.len());
        for (section, hash) in doc.sections.iter().zip(hashes) {
            let vector = match old.iter().find(|o| o.hash == hash) {
                Some(o) => o.vector.clone(),
                None => made.next().unwrap_or_default(),
            };
            out.push(SectionVector { line: u64::from(section.line), hash, vector });
        }
        out
    }

    /// Replaces every section of `key` with `doc`'s.
    pub fn replace(&self, writer: &IndexWriter, key: &str, doc: &Document) -> Result<()> {
        if let Some(semantic) = &self.semantic {
            let old = read_lock(&semantic.vectors).get(key).map(<[_]>::to_vec).unwrap_or_default();
            let vectors = Self::embed_sections(semantic, key, doc, &old);
            self.delete(writer, key);
            write_lock(&semantic.vectors).set(key, vectors);
        } else {
            self.delete(writer, key);
        }
        let f = self.fields;
        let folder = Facet::from_path(key.split('/'));
        for section in &doc.sections {
            let mut d = TantivyDocument::default();
            d.add_text(f.key, key);
            d.add_facet(f.folder, folder.clone());
            d.add_text(f.title, &doc.title);
            if let Some(description) = &doc.description {
                d.add_text(f.title, description);
            }
            d.add_text(f.heading, &section.heading);
            d.add_text(f.anchor, &section.anchor);
            d.add_u64(f.line, u64::from(section.line));
            d.add_text(f.body, &section.text);
            for text in [doc.title.as_str(), section.heading.as_str(), section.text.as_str()] {
                d.add_text(f.ident, text);
            }
            for tag in &doc.tags {
                d.add_text(f.tags, tag);
            }
            writer.add_document(d).map_err(|e| tantivy_error(&self.path, e))?;
        }
        Ok(())
    }

    pub fn commit(&self, writer: &mut IndexWriter) -> Result<()> {
        writer.commit().map_err(|e| tantivy_error(&self.path, e))?;
        if let Some(semantic) = &self.semantic {
            read_lock(&semantic.vectors).save()?;
        }
        self.reader.reload().map_err(|e| index_error(&self.path, e))
    }

    /// Ends a writer once its sync is done: its merges finish (so searches see few segments),
    /// its threads end and its buffers go; the reader then sees the merged segments. A merge
    /// that fails leaves the committed segments as they were, so it is logged, not returned.
    pub fn close_writer(&self, writer: IndexWriter) {
        if let Err(e) = writer.wait_merging_threads() {
            tracing::warn!(path = %self.path.display(), "merging the index's segments failed: {e}");
        }
        if let Err(e) = self.reload() {
            tracing::warn!("{e}");
        }
        release_freed_memory();
    }

    /// Documents (keys, best first) whose sections' vectors are nearest to the question's, and
    /// each one's nearest section's line. Empty without an embedder, or when it fails (the
    /// search is then lexical only).
    fn nearest(&self, text: &str, k: usize) -> (Vec<String>, HashMap<String, u64>) {
        let mut keys = Vec::new();
        let mut lines = HashMap::new();
        let Some(semantic) = &self.semantic else { return (keys, lines) };
        let vector = match semantic.embedder.embed(&[text]) {
            Ok(mut v) if v.len() == 1 => v.remove(0),
            Ok(_) | Err(_) => {
                tracing::warn!(embedder = semantic.embedder.id(), "embedding the query failed");
                return (keys, lines);
            }
        };
        for (_, key, line) in read_lock(&semantic.vectors).nearest(&vector, k) {
            if !lines.contains_key(key) {
                lines.insert(key.to_owned(), line);
                keys.push(key.to_owned());
            }
        }
        (keys, lines)
    }

    /// The address of `key`'s section starting at `line` (else its first), for a document
    /// found by its vectors only.
    fn section_at(&self, searcher: &Searcher, key: &str, line: u64) -> Result<Option<DocAddress>> {
        let query =
            TermQuery::new(Term::from_field_text(self.fields.key, key), IndexRecordOption::Basic);
        let sections = searcher
            .search(&query, &TopDocs::with_limit(1000))
            .map_err(|e| index_error(&self.path, e))?;
        let mut first = None;
        for (_, address) in sections {
            first = first.or(Some(address));
            let reader = searcher.segment_reader(address.segment_ord);
            let at = reader
                .fast_fields()
                .u64("line")
                .ok()
                .and_then(|column| column.first(address.doc_id));
            if at == Some(line) {
                return Ok(Some(address));
            }
        }
        Ok(first)
    }

    /// The keys of a segment's documents by their ordinal in its `key` column, read once per
    /// segment (segments never change) and kept while the segment is searched: looking a hit's
    /// key up in the column instead decompresses a block of the column's dictionary (zstd, a new
    /// context each time) per hit, which took a fifth of a search's time at 30 times the
    /// corpus. About a megabyte per ten thousand documents.
    fn segment_keys(&self, searcher: &Searcher, segment_ord: u32) -> Result<Arc<Vec<String>>> {
        let reader = searcher.segment_reader(segment_ord);
        let id = reader.segment_id();
        if let Some(keys) =
            self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id)
        {
            return Ok(keys.clone());
        }
        let mut keys = Vec::new();
        if let Some(column) =
            reader.fast_fields().str("key").map_err(|e| index_error(&self.path, e))?
        {
            let dictionary = column.dictionary();
            keys.reserve(dictionary.num_terms());
            let mut stream = dictionary.stream().map_err(|e| index_error(&self.path, e))?;
            while stream.advance() {
                keys.push(String::from_utf8_lossy(stream.key()).into_owned());
            }
        }
        let keys = Arc::new(keys);
        let live: std::collections::HashSet<SegmentId> =
            searcher.segment_readers().iter().map(|r| r.segment_id()).collect();
        let mut cache = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.retain(|id, _| live.contains(id));
        cache.insert(id, keys.clone());
        Ok(keys)
    }

    /// Sees the latest commit (another process's included).
    pub fn reload(&self) -> Result<()> {
        self.reader.reload().map_err(|e| index_error(&self.path, e))
    }

    /// Bytes the index takes on disk.
    pub fn size_on_disk(&self) -> u64 {
        walkdir::WalkDir::new(&self.path)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    }

    pub fn sections(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn search(&self, q: &SearchQuery, labels: &[String]) -> Result<Vec<Hit>> {
        let f = self.fields;
        if q.text.trim().is_empty() {
            return Err(Error::Query("the query is empty".into()));
        }
        let searcher = self.reader.searcher();
        let question = (q.ranking.words && !rank::has_syntax(&q.text)).then(|| {
            let mut analyzer = analyzer();
            rank::Question::read(&q.text, &mut analyzer, q.ranking)
        });
        let plain = question.as_ref().and_then(|question| {
            question.query(
                rank::Fields { title: f.title, heading: f.heading, body: f.body, ident: f.ident },
                &searcher,
                q.ranking,
            )
        });
        let text_query: Box<dyn Query> = match plain {
            Some(query) => query,
            None => {
                let mut parser =
                    QueryParser::for_index(&self.index, vec![f.title, f.heading, f.body]);
                parser.set_field_boost(f.title, rank::TITLE_BOOST);
                parser.set_field_boost(f.heading, rank::HEADING_BOOST);
                let text = without_apostrophes(&q.text);
                if q.lenient {
                    parser.parse_query_lenient(&text).0
                } else {
                    parser.parse_query(&text).map_err(|e| Error::Query(describe_query_error(&e)))?
                }
            }
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query.box_clone())];
        if !q.prefixes.is_empty() {
            let mut any = Vec::new();
            for prefix in &q.prefixes {
                let prefix = prefix.trim().trim_start_matches(crate::roots::SCHEME);
                let parts: Vec<&str> =
                    prefix.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
                if parts.is_empty() {
                    continue;
                }
                // A prefix may start with a root label or be relative to any root.
                let mut facets = vec![Facet::from_path(parts.iter().copied())];
                if !labels.iter().any(|l| l == parts[0]) {
                    facets = labels
                        .iter()
                        .map(|l| {
                            Facet::from_path(
                                std::iter::once(l.as_str()).chain(parts.iter().copied()),
                            )
                        })
                        .collect();
                }
                for facet in facets {
                    let term = Term::from_facet(f.folder, &facet);
                    any.push((
                        Occur::Should,
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>,
                    ));
                }
            }
            if !any.is_empty() {
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
            }
        }
        if !q.tags.is_empty() {
            let any: Vec<(Occur, Box<dyn Query>)> = q
                .tags
                .iter()
                .map(|t| {
                    let term = Term::from_field_text(f.tags, &normalize_tag(t));
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>,
                    )
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        let limit = q.limit.clamp(1, 100);
        // Sections, best first, grouped to documents: each document's best section, the
        // headings of its others. Enough sections that folding versions still fills `limit`.
        let fields =
            rank::Fields { title: f.title, heading: f.heading, body: f.body, ident: f.ident };
        let near = match &question {
            Some(question) => question.near_queries(fields, q.ranking),
            None => Vec::new(),
        };
        let run = |clauses: Vec<(Occur, Box<dyn Query>)>| -> Result<Vec<(Score, DocAddress)>> {
            let query = BooleanQuery::new(clauses);
            let mut top = searcher
                .search(&query, &TopDocs::with_limit(limit * 20 + 50))
                .map_err(|e| index_error(&self.path, e))?;
            rank::rescore(&searcher, &mut top, &near).map_err(|e| index_error(&self.path, e))?;
            Ok(top)
        };
        let mut top = run(clauses.iter().map(|(o, c)| (*o, c.box_clone())).collect())?;
        if let Some(question) = question.as_ref().filter(|_| q.ranking.expansion > 0.0) {
            // Pseudo-relevance feedback: the words that weigh most in the best sections found,
            // searched again at a low weight beside the question's own.
            let mut analyzer = analyzer_emitting(Emit::Parts);
            let mut feedback = Vec::new();
            for (score, address) in top.iter().take(rank::FEEDBACK_SECTIONS) {
                let doc: TantivyDocument =
                    searcher.doc(*address).map_err(|e| index_error(&self.path, e))?;
                let text: Vec<&str> = [f.title, f.heading, f.body]
                    .iter()
                    .filter_map(|field| doc.get_first(*field).and_then(|v| v.as_str()))
                    .collect();
                feedback.push((*score, rank::words_of(&mut analyzer, &text.join("\n"))));
            }
            if let Some(expansion) = question.expansion(&feedback, fields, &searcher, q.ranking) {
                if q.ranking.feedback_search {
                    clauses.push((Occur::Should, expansion));
                    top = run(clauses)?;
                } else {
                    rank::rescore(&searcher, &mut top, &[expansion])
                        .map_err(|e| index_error(&self.path, e))?;
                }
            }
        }
        let mut best: Vec<(String, f32)> = Vec::new();
        let mut found: std::collections::HashMap<String, (DocAddress, Vec<DocAddress>)> =
            std::collections::HashMap::new();
        let mut columns: HashMap<u32, KeyColumn> = HashMap::new();
        for (score, address) in top {
            let column = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => {
                    let reader = searcher.segment_reader(address.segment_ord);
                    let column = match reader.fast_fields().str("key").ok().flatten() {
                        Some(column) => {
                            Some((column, self.segment_keys(&searcher, address.segment_ord)?))
                        }
                        None => None,
                    };
                    entry.insert(column)
                }
            };
            let Some((column, keys)) = column.as_ref() else { continue };
            let Some(ord) = column.ords().first(address.doc_id) else { continue };
            let key = keys.get(ord as usize).cloned().unwrap_or_default();
            match found.get_mut(&key) {
                Some((_, others)) => {
                    if others.len() < 5 {
                        others.push(address);
                    }
                }
                None => {
                    found.insert(key.clone(), (address, Vec::new()));
                    best.push((key, score));
                }
            }
        }
        let mut vector_lines = HashMap::new();
        if q.ranking.semantic > 0.0 && self.semantic.is_some() {
            // Hybrid: the lexical ranking and the vectors' fused by their ranks.
            // Nothing near (no vectors, or the embedder failed): the lexical ranking as it is.
            let (nearest, lines) = self.nearest(&q.text, limit * 20 + 50);
            if !nearest.is_empty() {
                let lexical: Vec<String> = best.iter().map(|(key, _)| key.clone()).collect();
                best = embed::fuse(&[(&lexical, 1.0), (&nearest, q.ranking.semantic)]);
                vector_lines = lines;
            }
        }
        let wanted = question.as_ref().and_then(|question| question.version.as_deref());
        let ranked = if q.ranking.fold { rank::fold(best, wanted) } else { best };
        let mut snippets = SnippetGenerator::create(&searcher, &*text_query, f.body)
            .map_err(|e| index_error(&self.path, e))?;
        snippets.set_max_num_chars(240);
        let mut hits: Vec<Hit> = Vec::new();
        for (key, score) in ranked.into_iter().take(limit) {
            let (address, other_addresses) = match found.remove(&key) {
                Some(found) => found,
                None => {
                    let line = vector_lines.get(&key).copied().unwrap_or(1);
                    match self.section_at(&searcher, &key, line)? {
                        Some(address) => (address, Vec::new()),
                        None => continue,
                    }
                }
            };
            let mut others = Vec::new();
            for other in other_addresses {
                let doc: TantivyDocument =
                    searcher.doc(other).map_err(|e| index_error(&self.path, e))?;
                match doc.get_first(f.heading).and_then(|v| v.as_str()) {
                    Some(heading) if !heading.is_empty() => others.push(heading.to_owned()),
                    _ => {}
                }
            }
            let doc: TantivyDocument =
                searcher.doc(address).map_err(|e| index_error(&self.path, e))?;
            let text = |field: Field| -> String {
                doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string()
            };
            let body = text(f.body);
            let mut snippet = snippets.snippet(&body);
            let snippet = if snippet.is_empty() {
                excerpt(&body, 240)
            } else {
                snippet.set_snippet_prefix_postfix("**", "**");
                snippet.to_html_unescaped()
            };
            hits.push(Hit {
                uri: uri_of(&key),
                title: text(f.title),
                section: text(f.heading),
                anchor: text(f.anchor),
                line: doc.get_first(f.line).and_then(|v| v.as_u64()).unwrap_or(1),
                score: score as Score,
                snippet,
                tags: doc.get_all(f.tags).filter_map(|v| v.as_str().map(str::to_string)).collect(),
                other_sections: others,
                key,
            });
        }
        Ok(hits)
    }
}

fn read_lock<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// tantivy's snippet renders HTML-escaped text; ours is Markdown-ish, so undo the escaping.
trait Unescaped {
    fn to_html_unescaped(&self) -> String;
}

impl Unescaped for tantivy::snippet::Snippet {
    fn to_html_unescaped(&self) -> String {
        let fragment = self.fragment();
        let mut out = String::with_capacity(fragment.len() + 16);
        let mut at = 0;
        // An identifier and its parts are highlighted as overlapping ranges: merge them.
        let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
        for range in self.highlighted() {
            match ranges.last_mut() {
                Some(last) if range.start < last.end => last.end = last.end.max(range.end),
                _ => ranges.push(range.clone()),
            }
        }
        for range in &ranges {
            if range.start < at || range.end > fragment.len() {
                continue;
            }
            out.push_str(&fragment[at..range.start]);
            out.push_str("**");
            out.push_str(&fragment[range.clone()]);
            out.push_str("**");
            at = range.end;
        }
        out.push_str(&fragment[at..]);
        out.replace('\n', " ")
    }
}

/// An apostrophe inside a word (`client's`, `don’t`) is not query syntax to a person, but it is
/// to tantivy's parser: drop it, so the word is searched as one token.
fn without_apostrophes(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut in_phrase = false;
    for (i, c) in chars.iter().enumerate() {
        if *c == '"' {
            in_phrase = !in_phrase;
        }
        let between_letters = i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if matches!(c, '\'' | '\u{2019}') && between_letters && !in_phrase {
            continue;
        }
        out.push(*c);
    }
    out
}

fn excerpt(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].replace('\n', " ")
}

fn describe_query_error(e: &tantivy::query::QueryParserError) -> String {
    use tantivy::query::QueryParserError as E;
    match e {
        E::SyntaxError(s) => format!(
            "syntax error ({s}); use plain words, \"a phrase\", +required, -excluded, title:word, or AND/OR"
        ),
        E::FieldDoesNotExist(field) => format!(
            "there is no field {field:?}; the fields are title, heading and body (write `{field}\\:` to search the word itself)"
        ),
        other => other.to_string(),
    }
}

fn index_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Index { path: path.to_path_buf(), message: e.to_string() }
}

/// tantivy's error, said as the OS says it when it is an I/O failure (a full disk, a read-only
/// folder): tantivy's own text for those is a debug dump of nested wrappers.
fn tantivy_error(path: &Path, e: tantivy::TantivyError) -> Error {
    use tantivy::{TantivyError, directory::error::OpenWriteError};
    let io = match &e {
        TantivyError::IoError(io) => io.as_ref(),
        TantivyError::OpenWriteError(OpenWriteError::IoError { io_error, .. }) => io_error.as_ref(),
        _ => return index_error(path, e),
    };
    // The text of an OS error; one wrapped by the `tempfile` crate (its text names a temp file that
    // is gone) by its kind.
    let message = match io.raw_os_error() {
        Some(_) => io.to_string(),
        None if io.kind() == std::io::ErrorKind::Other => io.to_string(),
        None => io.kind().to_string(),
    };
    Error::Index { path: path.to_path_buf(), message }
}

/// Gives the heap's free pages back to the OS, once a writer's buffers are freed. glibc keeps
/// what is freed in the arena it came from, and the writer's (tens of megabytes, allocated by
/// its threads) stayed resident after it was dropped: at 30 times the test corpus the server's
/// RSS after indexing was 165 MB, 86 MB after this call (measured by calling it from gdb).
/// Other allocators (musl, macOS, Windows) are left as they are.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // the crate's one unsafe call: into glibc, integers only
fn release_freed_memory() {
    // SAFETY: `malloc_trim` takes and returns integers and only walks glibc's own arenas, under
    // their locks; it is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}

/// Empties a directory the index owns (`<index dir>/tantivy`).
fn clear_dir(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let result = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        result.map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_is_sized_to_the_work() {
        // A note saved, the welcome document, a small folder: one thread, tantivy's minimum.
        for bytes in [0, 2_000, 5 << 20] {
            assert_eq!(
                WriterBudget::for_work(bytes, 8),
                WriterBudget { threads: 1, heap_per_thread: MIN_HEAP_PER_THREAD },
                "{bytes} bytes"
            );
        }
        // Just under the threshold: still one thread, given its share of the text.
        let one = WriterBudget::for_work(ONE_THREAD_BELOW - 1, 8);
        assert_eq!((one.threads, one.heap_per_thread as u64), (1, ONE_THREAD_BELOW - 1));
        // A large corpus: two threads at most, each given at most the cap.
        let big = WriterBudget::for_work(200 << 20, 8);
        assert_eq!(big, WriterBudget { threads: 2, heap_per_thread: MAX_HEAP_PER_THREAD });
        assert_eq!(big.total(), 2 * MAX_HEAP_PER_THREAD);
        let between = WriterBudget::for_work(40 << 20, 8);
        assert_eq!(between, WriterBudget { threads: 2, heap_per_thread: 20 << 20 });
        // One core: one thread, whatever the work.
        assert_eq!(WriterBudget::for_work(200 << 20, 1).threads, 1);
        // Never below what tantivy accepts.
        for bytes in [0, 1 << 20, 16 << 20, 17 << 20, 31 << 20, 1 << 40] {
            for cpus in [1, 2, 16] {
                let budget = WriterBudget::for_work(bytes, cpus);
                assert!(budget.heap_per_thread >= MIN_HEAP_PER_THREAD, "{budget:?}");
                assert!(budget.heap_per_thread <= MAX_HEAP_PER_THREAD, "{budget:?}");
            }
        }
    }
}
