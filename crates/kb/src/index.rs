//! The tantivy index: one tantivy document per section, keyed by the document's key so a file's
//! sections are replaced together. Ranking is BM25 over title, heading and body (title and
//! heading boosted), English stemming and stop words; results are grouped to the best section
//! of each document.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Score, TantivyDocument, Term,
    collector::TopDocs,
    columnar::StrColumn,
    query::{BooleanQuery, Occur, Query, QueryParser, TermQuery},
    schema::{
        FAST, Facet, FacetOptions, Field, IndexRecordOption, STORED, STRING, Schema,
        TextFieldIndexing, TextOptions, Value,
    },
    snippet::SnippetGenerator,
    tokenizer::{
        Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter,
        TextAnalyzer,
    },
};

use crate::{
    error::{Error, Result},
    rank,
    roots::uri_of,
    source::{Document, normalize_tag},
};

const TOKENIZER: &str = "kb_en";
const WRITER_HEAP: usize = 64 * 1024 * 1024;

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
    };
    (b.build(), fields)
}

fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder.filter(stop).filter(Stemmer::new(Language::English)).build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
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
        index.tokenizers().register(TOKENIZER, analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| index_error(dir, e))?;
        Ok((SearchIndex { path: dir.to_path_buf(), index, reader, fields }, fresh))
    }

    /// The single writer. Fails with [`Error::IndexBusy`] when another process holds it.
    pub fn writer(&self) -> Result<IndexWriter> {
        self.index.writer(WRITER_HEAP).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => Error::IndexBusy(self.path.clone()),
            other => tantivy_error(&self.path, other),
        })
    }

    pub fn delete(&self, writer: &IndexWriter, key: &str) {
        writer.delete_term(Term::from_field_text(self.fields.key, key));
    }

    /// Replaces every section of `key` with `doc`'s.
    pub fn replace(&self, writer: &IndexWriter, key: &str, doc: &Document) -> Result<()> {
        self.delete(writer, key);
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
            for tag in &doc.tags {
                d.add_text(f.tags, tag);
            }
            writer.add_document(d).map_err(|e| tantivy_error(&self.path, e))?;
        }
        Ok(())
    }

    pub fn commit(&self, writer: &mut IndexWriter) -> Result<()> {
        writer.commit().map_err(|e| tantivy_error(&self.path, e))?;
        self.reader.reload().map_err(|e| index_error(&self.path, e))
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
                rank::Fields { title: f.title, heading: f.heading, body: f.body },
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
        let query = BooleanQuery::new(clauses);
        let limit = q.limit.clamp(1, 100);
        // Sections, best first, grouped to documents: each document's best section, the
        // headings of its others. Enough sections that folding versions still fills `limit`.
        let mut top = searcher
            .search(&query, &TopDocs::with_limit(limit * 20 + 50))
            .map_err(|e| index_error(&self.path, e))?;
        if let Some(question) = &question {
            let near = question.near_queries(
                rank::Fields { title: f.title, heading: f.heading, body: f.body },
                q.ranking,
            );
            rank::rescore(&searcher, &mut top, &near).map_err(|e| index_error(&self.path, e))?;
        }
        let mut best: Vec<(String, f32)> = Vec::new();
        let mut found: std::collections::HashMap<String, (DocAddress, Vec<DocAddress>)> =
            std::collections::HashMap::new();
        let mut columns: std::collections::HashMap<u32, Option<StrColumn>> =
            std::collections::HashMap::new();
        let mut keys: std::collections::HashMap<(u32, u64), String> =
            std::collections::HashMap::new();
        for (score, address) in top {
            let column = columns.entry(address.segment_ord).or_insert_with(|| {
                searcher.segment_reader(address.segment_ord).fast_fields().str("key").ok().flatten()
            });
            let Some(column) = column.as_ref() else { continue };
            let Some(ord) = column.ords().first(address.doc_id) else { continue };
            let key = match keys.get(&(address.segment_ord, ord)) {
                Some(key) => key.clone(),
                None => {
                    let mut key = String::new();
                    column.ord_to_str(ord, &mut key).map_err(|e| index_error(&self.path, e))?;
                    keys.insert((address.segment_ord, ord), key.clone());
                    key
                }
            };
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
        let wanted = question.as_ref().and_then(|question| question.version.as_deref());
        let ranked = if q.ranking.fold { rank::fold(best, wanted) } else { best };
        let mut snippets = SnippetGenerator::create(&searcher, &*text_query, f.body)
            .map_err(|e| index_error(&self.path, e))?;
        snippets.set_max_num_chars(240);
        let mut hits: Vec<Hit> = Vec::new();
        for (key, score) in ranked.into_iter().take(limit) {
            let Some((address, other_addresses)) = found.remove(&key) else { continue };
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

/// tantivy's snippet renders HTML-escaped text; ours is Markdown-ish, so undo the escaping.
trait Unescaped {
    fn to_html_unescaped(&self) -> String;
}

impl Unescaped for tantivy::snippet::Snippet {
    fn to_html_unescaped(&self) -> String {
        let fragment = self.fragment();
        let mut out = String::with_capacity(fragment.len() + 16);
        let mut at = 0;
        for range in self.highlighted() {
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
