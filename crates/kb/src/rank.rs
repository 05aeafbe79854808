//! How a question in plain words becomes a tantivy query, and how the hits are folded.
//!
//! A question people type ("how do I stop a request my client already sent") is not query
//! syntax. It is read as words:
//! - the words that only make it a question ("how", "do", "I", "my") are dropped;
//! - each remaining word is looked for in the title, the heading path and the body, weighted in
//!   that order (BM25 per field);
//! - adjacent words found near each other in the body score more (a sloppy phrase), so "tool
//!   result" beats a page that says "tool" and "result" far apart;
//! - an identifier (`tools/list`, `Mcp-Session-Id`, `snake_case`, `a.b.c`, `listChanged`) is
//!   looked for as each of its parts (as words) and whole, in a field of its own that holds
//!   identifiers as written ([`crate::ident`]); finding the parts in order as well can be turned
//!   on, and is off because it measured worse;
//! - a word the corpus does not have at all is taken as a misspelling and looked for within one
//!   edit (`elicitaton` finds `elicitation`);
//! - pseudo-relevance feedback: the words that weigh most in the first search's best sections
//!   are searched again beside the question's own, at a low weight (RM3-like).
//!
//! Queries with explicit syntax (quotes, `+word`, `-word`, `field:word`, AND/OR) go to tantivy's
//! own parser unchanged.
//!
//! Hits are documents (the best section of each), and documents that are one page in several
//! versions (a path segment that is a date such as `2025-06-18`, or `draft`) are folded into
//! one: the version the question names, else the newest, so five revisions of one page do not
//! crowd out the other answers.

use std::collections::BTreeMap;

use tantivy::{
    DocAddress, DocSet, Searcher, Term,
    query::{
        BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, PhraseQuery, Query, Scorer,
        TermQuery,
    },
    schema::{Field, IndexRecordOption},
    tokenizer::TextAnalyzer,
};

/// Words that make a sentence a question or a request but say nothing of what is asked.
const FILLER: &[&str] = &[
    "a",
    "about",
    "actually",
    "after",
    "again",
    "all",
    "already",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anything",
    "are",
    "as",
    "at",
    "be",
    "been",
    "being",
    "but",
    "by",
    "can",
    "cannot",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "done",
    "for",
    "from",
    "get",
    "gets",
    "getting",
    "go",
    "going",
    "got",
    "had",
    "has",
    "have",
    "how",
    "i",
    "i'm",
    "if",
    "in",
    "instead",
    "into",
    "is",
    "it",
    "its",
    "just",
    "let",
    "like",
    "me",
    "might",
    "mine",
    "more",
    "most",
    "much",
    "must",
    "my",
    "need",
    "needs",
    "no",
    "not",
    "of",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "really",
    "say",
    "says",
    "should",
    "so",
    "some",
    "someone",
    "something",
    "still",
    "such",
    "supposed",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "things",
    "this",
    "those",
    "to",
    "try",
    "tries",
    "trying",
    "up",
    "us",
    "use",
    "used",
    "using",
    "want",
    "wants",
    "was",
    "way",
    "we",
    "were",
    "what",
    "what's",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "without",
    "work",
    "works",
    "would",
    "you",
    "your",
];

/// Field weights: a word in the title says more than one in a heading, which says more than
/// one in the body.
pub const TITLE_BOOST: f32 = 2.0;
pub const HEADING_BOOST: f32 = 1.5;
/// Two words of the question next to each other (within `PROXIMITY_SLOP` positions).
const PROXIMITY_BOOST: f32 = 1.0;
const PROXIMITY_SLOP: u32 = 3;
/// An identifier's parts in order, when turned on.
pub const IDENTIFIER_BOOST: f32 = 2.0;
/// An identifier found whole (`tools/list` written as such), over its parts found as words.
pub const WHOLE_BOOST: f32 = 1.5;
/// A word within one edit of a misspelled one.
const FUZZY_BOOST: f32 = 0.7;
/// Pseudo-relevance feedback: how many of the first search's best sections are read, how many
/// of their words are added, and how much the most weighty of them adds.
pub const FEEDBACK_SECTIONS: usize = 5;
const FEEDBACK_TERMS: usize = 10;
/// How many of the sections' weightiest words are considered at all.
const FEEDBACK_CANDIDATES: usize = 60;
pub const EXPANSION_WEIGHT: f32 = 0.3;
/// A word in more than this share of the sections says too little to be added.
const FEEDBACK_MAX_SHARE: f32 = 0.05;

/// Which of the ranking's methods a search uses: all of them, unless an evaluation turns one
/// off to measure what it does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranking {
    /// Read a question as words (below); `false`: hand it to tantivy's query parser as it is,
    /// as the knowledge base did before (with the other methods off: [`Ranking::before`]).
    pub words: bool,
    /// Drop the words that only make a sentence a question.
    pub filler: bool,
    /// How much neighbouring words close together in the body add (0: nothing).
    pub proximity: f32,
    /// How much an identifier's parts in order add (0: nothing). Off by default: on the tune half
    /// it lowered MRR at every weight tried (0.5 to 2), the parts as words doing better alone.
    pub identifiers: f32,
    /// How much an identifier of the question (`tools/list`, `listChanged`) found as the whole
    /// token adds to its parts found as words (the index holds both; [`crate::ident`]; 0: parts
    /// only). On the tune half, with feedback on, 1.5 raised MRR from 0.771 to 0.776 (without
    /// feedback it lowered it, 0.759 to 0.747), recall@5 unchanged.
    pub whole_identifiers: f32,
    /// Unknown words looked for within one edit.
    pub typos: bool,
    /// Versions of one page folded into one hit.
    pub fold: bool,
    /// Pseudo-relevance feedback: how much the words that weigh most in the first search's best
    /// sections add (0: none). On the tune half 0.3 raised MRR from 0.749 to 0.770 re-scoring
    /// the candidates (one question fewer in the top 5), to 0.776 searched again; 0.6 did less.
    pub expansion: f32,
    /// The feedback's words searched again, over the whole index (`true`), or only re-scoring
    /// the candidates the question found (`false`): at 30x the corpus searching again added
    /// ~64% to a search's p50, re-scoring ~5%.
    pub feedback_search: bool,
    /// How much the sections nearest to the question by their vectors count against the lexical
    /// ranking in reciprocal rank fusion (0: lexical only). Only with an embedder configured.
    pub semantic: f32,
}

impl Default for Ranking {
    fn default() -> Self {
        Ranking {
            words: true,
            filler: true,
            proximity: PROXIMITY_BOOST,
            identifiers: 0.0,
            whole_identifiers: WHOLE_BOOST,
            typos: true,
            fold: true,
            expansion: EXPANSION_WEIGHT,
            feedback_search: false,
            semantic: 0.0,
        }
    }
}

impl Ranking {
    /// The ranking before this module: the parser's query, versions not folded.
    pub fn before() -> Ranking {
        Ranking {
            words: false,
            filler: false,
            proximity: 0.0,
            identifiers: 0.0,
            whole_identifiers: 0.0,
            typos: false,
            fold: false,
            expansion: 0.0,
            feedback_search: false,
            semantic: 0.0,
        }
    }
}

/// The index's fields a query reads.
#[derive(Clone, Copy)]
pub struct Fields {
    pub title: Field,
    pub heading: Field,
    pub body: Field,
    /// Identifiers, whole.
    pub ident: Field,
}

/// Whether `text` uses query syntax a person types on purpose.
pub fn has_syntax(text: &str) -> bool {
    text.contains(['"', '(', ')'])
        || text.split_whitespace().any(|w| {
            w.starts_with('+')
                || (w.starts_with('-') && w.len() > 1)
                || matches!(w, "AND" | "OR" | "NOT")
                || w.split_once(':').is_some_and(|(field, rest)| {
                    !field.is_empty()
                        && field.chars().all(|c| c.is_alphanumeric() || c == '_')
                        && !rest.is_empty()
                })
        })
}

/// What a question asks, analyzed as the index analyzes text.
#[derive(Debug, Default)]
pub struct Question {
    /// Distinct analyzed words, in order of first appearance.
    pub terms: Vec<String>,
    /// Runs of analyzed words to find close together: neighbouring words, identifiers' parts.
    pub near: Vec<Vec<String>>,
    /// Identifiers, whole (`tools/list`), looked for in the identifier field.
    pub wholes: Vec<String>,
    pub identifiers: Vec<Vec<String>>,
    /// A version the question names (`2024-11-05`, `draft`).
    pub version: Option<String>,
}

/// The analyzed tokens of `text` with their positions: an identifier's whole token shares its
/// position with its first part (see [`crate::ident`]).
fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, String, bool)> {
    let mut stream = analyzer.token_stream(text);
    let mut out: Vec<(usize, String, bool)> = Vec::new();
    while let Some(token) = stream.next() {
        // A whole identifier spans its parts, or is followed by a part at its own position.
        if let Some(last) = out.last_mut().filter(|last| last.0 == token.position) {
            last.2 = true;
        }
        out.push((token.position, token.text.clone(), token.position_length > 1));
    }
    out
}

impl Question {
    pub fn read(text: &str, analyzer: &mut TextAnalyzer, ranking: Ranking) -> Question {
        let mut question = Question {
            version: text.split(|c: char| c.is_whitespace() || c == ',').find_map(version_of),
            ..Question::default()
        };
        let mut sequence: Vec<String> = Vec::new();
        for word in text.split_whitespace() {
            let bare = word
                .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '_')
                .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '\'');
            if bare.is_empty() {
                continue;
            }
            let lower = bare.to_lowercase().replace('\u{2019}', "'");
            if (ranking.filler && FILLER.contains(&lower.as_str())) || version_of(bare).is_some() {
                // A filler breaks a run: its neighbours were not next to each other.
                sequence.push(String::new());
                continue;
            }
            let tokens = analyze(analyzer, &bare.replace(['\'', '\u{2019}'], ""));
            // An identifier's whole token is looked for as a word of its own; the others are
            // words (or an identifier's parts), in order.
            let mut split = Vec::new();
            for (_, token, whole) in tokens {
                if whole {
                    if ranking.whole_identifiers > 0.0 && !question.wholes.contains(&token) {
                        question.wholes.push(token);
                    }
                } else {
                    split.push(token);
                }
            }
            if ranking.identifiers > 0.0 && split.len() > 1 {
                question.identifiers.push(split.clone());
            }
            sequence.extend(split);
        }
        for term in sequence.iter().filter(|t| !t.is_empty()) {
            if !question.terms.contains(term) {
                question.terms.push(term.clone());
            }
        }
        for pair in sequence.windows(2) {
            if ranking.proximity > 0.0
                && !pair[0].is_empty()
                && !pair[1].is_empty()
                && pair[0] != pair[1]
            {
                question.near.push(pair.to_vec());
            }
        }
        question
    }

    /// The query: each word in each field, neighbouring words close together, identifiers'
    /// parts in order, and misspelled words within one edit. `None` when nothing is left to
    /// look for (the question was all filler).
    pub fn query(
        &self,
        fields: Fields,
        searcher: &Searcher,
        ranking: Ranking,
    ) -> Option<Box<dyn Query>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let term_in = |field: Field, word: &str| Term::from_field_text(field, word);
        for word in &self.terms {
            let known = searcher.doc_freq(&term_in(fields.body, word)).unwrap_or(0) > 0
                || searcher.doc_freq(&term_in(fields.title, word)).unwrap_or(0) > 0
                || searcher.doc_freq(&term_in(fields.heading, word)).unwrap_or(0) > 0;
            if !known {
                if ranking.typos && word.chars().count() >= 5 {
                    let fuzzy = FuzzyTermQuery::new(term_in(fields.body, word), 1, true);
                    clauses.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(fuzzy), FUZZY_BOOST)),
                    ));
                    let fuzzy = FuzzyTermQuery::new(term_in(fields.title, word), 1, true);
                    clauses.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(fuzzy), FUZZY_BOOST * TITLE_BOOST)),
                    ));
                }
                continue;
            }
            for (field, boost) in
                [(fields.title, TITLE_BOOST), (fields.heading, HEADING_BOOST), (fields.body, 1.0)]
            {
                let query = TermQuery::new(term_in(field, word), IndexRecordOption::WithFreqs);
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(query), boost))));
            }
        }
        for whole in &self.wholes {
            let query = TermQuery::new(term_in(fields.ident, whole), IndexRecordOption::WithFreqs);
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(query), ranking.whole_identifiers)),
            ));
        }
        let phrase = |words: &[String], field: Field, slop: u32| -> Box<dyn Query> {
            let terms: Vec<(usize, Term)> =
                words.iter().enumerate().map(|(i, w)| (i, term_in(field, w))).collect();
            let mut query = PhraseQuery::new_with_offset(terms);
            query.set_slop(slop);
            Box::new(query)
        };
        for identifier in &self.identifiers {
            for (field, boost) in
                [(fields.title, TITLE_BOOST), (fields.heading, HEADING_BOOST), (fields.body, 1.0)]
            {
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        phrase(identifier, field, 0),
                        ranking.identifiers * boost,
                    )),
                ));
            }
        }
        (!clauses.is_empty()).then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>)
    }
}

/// The analyzed words of `text`, in order (an identifier's whole token and its parts).
pub fn words_of(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    analyze(analyzer, text).into_iter().map(|(_, word, _)| word).collect()
}

impl Question {
    /// Pseudo-relevance feedback (RM3-like): the words that weigh most in the first search's
    /// best sections (`feedback`: each one's score and words), as a query of low weight. A
    /// word weighs its share of each section's words, by the section's share of the scores,
    /// times its rarity (log N/df); words of the question, very common words, numbers and
    /// words of one or two letters are left out. `None`: nothing to add.
    pub fn expansion(
        &self,
        feedback: &[(f32, Vec<String>)],
        fields: Fields,
        searcher: &Searcher,
        ranking: Ranking,
    ) -> Option<Box<dyn Query>> {
        let total: f32 = feedback.iter().map(|(score, _)| score.max(0.0)).sum();
        if total <= 0.0 || ranking.expansion <= 0.0 {
            return None;
        }
        let mut weights: std::collections::HashMap<&str, f32> = std::collections::HashMap::new();
        for (score, words) in feedback {
            if words.is_empty() {
                continue;
            }
            let share = score.max(0.0) / total / words.len() as f32;
            for word in words {
                *weights.entry(word.as_str()).or_insert(0.0) += share;
            }
        }
        let sections = searcher.num_docs().max(1) as f32;
        let mut weighty: Vec<(&str, f32)> = weights
            .into_iter()
            .filter(|(word, _)| {
                word.chars().count() >= 3
                    && !word.chars().all(|c| c.is_ascii_digit())
                    && !self.terms.iter().any(|t| t == word)
            })
            .collect();
        // Only the weightiest are looked up in the index (a look-up per segment each).
        weighty.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        weighty.truncate(FEEDBACK_CANDIDATES);
        let mut candidates: Vec<(f32, &str)> = weighty
            .into_iter()
            .filter_map(|(word, weight)| {
                let df = searcher.doc_freq(&Term::from_field_text(fields.body, word)).ok()?;
                let share = df as f32 / sections;
                (df > 1 && share <= FEEDBACK_MAX_SHARE)
                    .then(|| (weight * (sections / df as f32).ln(), word))
            })
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        candidates.truncate(FEEDBACK_TERMS);
        let top = candidates.first()?.0;
        if top <= 0.0 {
            return None;
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = candidates
            .into_iter()
            .map(|(weight, word)| {
                let query = TermQuery::new(
                    Term::from_field_text(fields.body, word),
                    IndexRecordOption::WithFreqs,
                );
                let boost = ranking.expansion * weight / top;
                (Occur::Should, Box::new(BoostQuery::new(Box::new(query), boost)) as Box<dyn Query>)
            })
            .collect();
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// Neighbouring words close together in the body, as boosted phrase queries. They are
    /// scored over the candidates the words found ([`rescore`]), not searched: as part of the
    /// query they took most of a search's time on a large corpus.
    pub fn near_queries(&self, fields: Fields, ranking: Ranking) -> Vec<Box<dyn Query>> {
        if ranking.proximity <= 0.0 {
            return Vec::new();
        }
        self.near
            .iter()
            .map(|pair| {
                let terms: Vec<(usize, Term)> = pair
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (i, Term::from_field_text(fields.body, w)))
                    .collect();
                let mut query = PhraseQuery::new_with_offset(terms);
                query.set_slop(PROXIMITY_SLOP);
                Box::new(BoostQuery::new(Box::new(query), ranking.proximity)) as Box<dyn Query>
            })
            .collect()
    }
}

/// Adds to each candidate (score, address) what `queries` score it, then sorts best first:
/// each query's scorer is only moved to the candidates' documents, segment by segment.
pub fn rescore(
    searcher: &Searcher,
    candidates: &mut [(f32, DocAddress)],
    queries: &[Box<dyn Query>],
) -> tantivy::Result<()> {
    if queries.is_empty() {
        return Ok(());
    }
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&i| (candidates[i].1.segment_ord, candidates[i].1.doc_id));
    for query in queries {
        let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
        let mut current: Option<(u32, Box<dyn Scorer>)> = None;
        for &i in &order {
            let address = candidates[i].1;
            if current.as_ref().map(|(segment, _)| *segment) != Some(address.segment_ord) {
                let reader = searcher.segment_reader(address.segment_ord);
                current = Some((address.segment_ord, weight.scorer(reader, 1.0)?));
            }
            let Some((_, scorer)) = current.as_mut() else { continue };
            if scorer.doc() < address.doc_id {
                scorer.seek(address.doc_id);
            }
            if scorer.doc() == address.doc_id {
                candidates[i].0 += scorer.score();
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(())
}

/// A version named by a word: a date `YYYY-MM-DD`, or `draft`.
fn version_of(word: &str) -> Option<String> {
    let word = word.trim_matches(|c: char| !c.is_alphanumeric());
    let b = word.as_bytes();
    let date = b.len() == 10
        && b.iter()
            .enumerate()
            .all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    (date || word == "draft").then(|| word.to_owned())
}

/// A document's family (its key with the version segment replaced by `*`) and its version,
/// when its path has one.
pub fn family(key: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = key.split('/').collect();
    let (at, version) =
        segments.iter().enumerate().find_map(|(i, s)| version_of(s).map(|v| (i, v)))?;
    if at + 1 == segments.len() {
        return None;
    }
    let mut family = segments.clone();
    family[at] = "*";
    Some((family.join("/"), version))
}

/// Newer first: `draft` after every date.
fn newer(a: &str, b: &str) -> bool {
    match (a == "draft", b == "draft") {
        (true, false) => true,
        (false, true) => false,
        _ => a > b,
    }
}

/// Folds `ranked` (document keys, best first, with their scores) so each family appears once,
/// at its best member's place: as the member of the version the question names if it is among
/// them, else as the newest member.
pub fn fold(ranked: Vec<(String, f32)>, wanted: Option<&str>) -> Vec<(String, f32)> {
    let mut chosen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out: Vec<(String, f32, Option<String>)> = Vec::new();
    for (key, score) in ranked {
        let Some((family, version)) = family(&key) else {
            out.push((key, score, None));
            continue;
        };
        match chosen.get(&family) {
            None => {
                chosen.insert(family, out.len());
                out.push((key, score, Some(version)));
            }
            Some(&at) => {
                let current = out[at].2.clone().unwrap_or_default();
                let better = match wanted {
                    Some(w) => version == w && current != w,
                    None => newer(&version, &current),
                };
                if better {
                    out[at].0 = key;
                    out[at].2 = Some(version);
                }
            }
        }
    }
    out.into_iter().map(|(key, score, _)| (key, score)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_read_whole_and_as_parts() {
        let mut analyzer = crate::index::analyzer();
        let whole = Ranking { whole_identifiers: WHOLE_BOOST, ..Ranking::default() };
        let question = Question::read("what is listChanged in tools/list", &mut analyzer, whole);
        assert_eq!(question.terms, ["list", "chang", "tool"]);
        assert_eq!(question.wholes, ["listchang", "tools/list"]);
        assert_eq!(question.near, [["list", "chang"], ["tool", "list"]]);
        let parts_only = Ranking { whole_identifiers: 0.0, ..Ranking::default() };
        let question = Question::read("_meta keys", &mut analyzer, parts_only);
        assert_eq!(question.terms, ["meta", "key"]);
        assert!(question.wholes.is_empty());
        let question = Question::read("_meta keys", &mut analyzer, whole);
        assert_eq!(question.wholes, ["_meta"]);
    }

    #[test]
    fn explicit_syntax_is_left_to_the_parser() {
        assert!(
            has_syntax("\"tool result\"") && has_syntax("+sampling") && has_syntax("title:roots")
        );
        assert!(has_syntax("tools -deprecated") && has_syntax("roots AND sampling"));
        assert!(has_syntax("colour:red") && has_syntax("(zebrafish"));
        assert!(!has_syntax("what is Mcp-Session-Id") && !has_syntax("tools/list in 2024-11-05"));
        assert!(!has_syntax("note: why") && !has_syntax("a - b"));
    }

    #[test]
    fn versions_fold_to_the_named_one_or_the_newest() {
        assert_eq!(
            family("docs/specification/2025-06-18/server/tools.mdx"),
            Some(("docs/specification/*/server/tools.mdx".into(), "2025-06-18".into()))
        );
        assert_eq!(family("docs/seps/1036-x.mdx"), None);
        let ranked = vec![
            ("d/spec/2025-03-26/tools.mdx".to_owned(), 9.0),
            ("d/seps/1-a.mdx".to_owned(), 8.0),
            ("d/spec/2025-11-25/tools.mdx".to_owned(), 7.0),
            ("d/spec/2024-11-05/tools.mdx".to_owned(), 6.0),
        ];
        let keys = |v: Vec<(String, f32)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(
            keys(fold(ranked.clone(), None)),
            ["d/spec/2025-11-25/tools.mdx", "d/seps/1-a.mdx"]
        );
        assert_eq!(
            keys(fold(ranked, Some("2024-11-05"))),
            ["d/spec/2024-11-05/tools.mdx", "d/seps/1-a.mdx"]
        );
    }
}
