//! Reading one document: which files count, in which format, and the sections a file splits
//! into; every format behind the one interface, [`load`], one module each:
//!
//! - `markdown`: Markdown and MDX (front matter, sections at headings); plain text is one section;
//! - `html`: a page's main content, sections at `h1`-`h6`, scripts, styles and navigation dropped;
//! - `pdf`: the text layer, one section per page (`Page N`, anchor `page=N`), bounded in time and
//!   never panicking; encrypted and scanned PDFs are skipped with that reason;
//! - `code`: source files, a section per top-level function, type or class, fixed windows of
//!   lines otherwise.
//!
//! A section's `start` is a byte offset in the document's text ([`Loaded::text`]): the file
//! itself for Markdown, text and code, the text read out of it for HTML and PDF.

mod code;
mod html;
mod markdown;
mod pdf;

use std::{panic::AssertUnwindSafe, path::Path, sync::mpsc, time::Duration};

use serde::Serialize;

/// The longest one PDF or HTML page may take to read.
const BUDGET: Duration = Duration::from_secs(20);

/// Files larger than this are skipped with a reason rather than indexed.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// A section's text is cut at this many bytes (the rest of the section is not searchable).
const MAX_SECTION_BYTES: usize = 256 * 1024;

/// The kinds of files the knowledge base reads, by extension.
pub fn is_document(path: &Path) -> bool {
    format_of(path).is_some()
}

/// A format the knowledge base reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Markdown,
    Text,
    Html,
    Pdf,
    Code,
}

impl Format {
    /// Its name in the index's status (`documents_by_format`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Text => "text",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Code => "code",
        }
    }

    /// The MIME type of the text `read_document` gives for it: the file's own for text and
    /// code, Markdown for the text read out of a page or a PDF (its sections as headings).
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Text | Format::Code => "text/plain",
            Format::Markdown | Format::Html | Format::Pdf => "text/markdown",
        }
    }
}

/// A file's format, by its extension.
pub fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "md" | "mdx" | "markdown" => Some(Format::Markdown),
        "txt" | "text" => Some(Format::Text),
        "html" | "htm" | "xhtml" => Some(Format::Html),
        "pdf" => Some(Format::Pdf),
        ext if code::language(ext).is_some() => Some(Format::Code),
        _ => None,
    }
}

/// A parsed document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// The heading's text; empty for the text before the first heading. A PDF's `Page N`; a
    /// code file's function, type or class (`fn parse`), or empty for a window of lines.
    pub heading: String,
    /// A GitHub-style slug of the heading, unique within the document; a PDF page's `page=N`;
    /// a code section's line range, `L12-L40`.
    pub anchor: String,
    /// Heading level 1-6; 0 for the text before the first heading.
    pub level: u8,
    /// 1-based line where the section starts (in the document's text).
    pub line: u32,
    /// Byte offset in the document's text where the section starts (its heading included).
    #[serde(skip)]
    pub start: usize,
    pub text: String,
}

impl Section {
    /// The text before the first heading (level 0, no heading).
    fn preamble(line: u32, start: usize, text: String) -> Self {
        Section { heading: String::new(), anchor: String::new(), level: 0, line, start, text }
    }
}

/// Why a file is not in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    TooLarge(u64),
    Binary,
    NotUtf8,
    Unreadable(String),
    /// A PDF that needs a password.
    Encrypted,
    /// A PDF with pages but no text on them: scanned images.
    NoTextLayer,
    /// A PDF that does not parse (or made the reader fail).
    BadPdf(String),
    /// Reading it took longer than this many seconds.
    TooSlow(u64),
    /// An HTML page nested deeper than any browser builds.
    TooDeep(usize),
    /// A folder of generated or vendored files (`node_modules`, a build's output).
    Generated,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::TooLarge(n) => write!(f, "too large ({n} bytes; the limit is {MAX_FILE_BYTES})"),
            Skip::Binary => f.write_str("binary content"),
            Skip::NotUtf8 => f.write_str("not valid UTF-8"),
            Skip::Unreadable(e) => write!(f, "unreadable: {e}"),
            Skip::Encrypted => f.write_str("encrypted (a PDF that needs a password)"),
            Skip::NoTextLayer => f.write_str("scanned (no text layer): a PDF of images"),
            Skip::BadPdf(e) => write!(f, "could not read this PDF: {e}"),
            Skip::TooSlow(s) => write!(f, "took longer than {s} s to read"),
            Skip::TooDeep(n) => write!(f, "elements nested too deeply (over {n} levels)"),
            Skip::Generated => f.write_str("a folder of generated or vendored files"),
        }
    }
}

/// Checks a file's bytes: bounded size, text, UTF-8.
pub fn decode(bytes: Vec<u8>) -> Result<String, Skip> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Skip::TooLarge(bytes.len() as u64));
    }
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return Err(Skip::Binary);
    }
    String::from_utf8(bytes).map_err(|_| Skip::NotUtf8)
}

/// A file read: its format, the parsed document, and the text `read_document` shows (the
/// sections' `start`s are offsets in it).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub format: Format,
    pub doc: Document,
    pub text: String,
}

/// Reads a file's bytes as the document its extension says, or says why not. Never panics, and
/// a PDF is read within a time budget.
pub fn load(path: &Path, bytes: Vec<u8>) -> Result<Loaded, Skip> {
    let format = format_of(path).unwrap_or(Format::Text);
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Skip::TooLarge(bytes.len() as u64));
    }
    match format {
        Format::Pdf => {
            let (mut doc, text) = pdf::read(bytes)?;
            if doc.title.trim().is_empty() {
                doc.title = stem(path);
            }
            Ok(Loaded { format, doc, text })
        }
        Format::Html => {
            let text = decode(bytes)?;
            let (mut doc, text) = within(BUDGET, move || html::parse(&text))?;
            if doc.title.trim().is_empty() {
                doc.title = stem(path);
            }
            Ok(Loaded { format, doc, text })
        }
        Format::Markdown | Format::Text | Format::Code => {
            let text = decode(bytes)?;
            let doc = parse(path, &text);
            Ok(Loaded { format, doc, text })
        }
    }
}

fn stem(path: &Path) -> String {
    path.file_stem().and_then(|s| s.to_str()).unwrap_or("untitled").to_string()
}

/// Parses a document's text; `path` decides the format and gives the fallback title. (A PDF is
/// not text: [`load`] reads one; given as text here, it is read as plain text.)
pub fn parse(path: &Path, original: &str) -> Document {
    match format_of(path) {
        Some(Format::Html) => {
            let mut doc = html::parse(original).map_or_else(
                |_| Document {
                    title: String::new(),
                    description: None,
                    tags: Vec::new(),
                    sections: vec![Section::preamble(1, 0, String::new())],
                },
                |(doc, _)| doc,
            );
            if doc.title.trim().is_empty() {
                doc.title = stem(path);
            }
            return doc;
        }
        Some(Format::Code) => {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
            let mut doc = code::parse(&ext.to_ascii_lowercase(), original);
            doc.title = path.file_name().and_then(|s| s.to_str()).unwrap_or("untitled").into();
            return doc;
        }
        _ => {}
    }
    let text = original.strip_prefix('\u{feff}').unwrap_or(original);
    let (front, body, body_line) = markdown::split_front_matter(text);
    let base = original.len() - body.len();
    let mut doc = match format_of(path) {
        Some(Format::Markdown) => markdown::parse(body, body_line, base),
        _ => Document {
            title: String::new(),
            description: None,
            tags: Vec::new(),
            sections: vec![Section::preamble(body_line, base, bounded(body.to_string()))],
        },
    };
    if let Some(front) = front {
        doc.title = front.title.unwrap_or(doc.title);
        doc.description = front.description;
        doc.tags = front.tags;
    }
    if doc.title.trim().is_empty() {
        doc.title = stem(path);
    }
    doc
}

/// Tags compare case-insensitively, without the leading `#`s and spaces (`## Setup`, `#setup`
/// and `setup` are one tag). Normalizing a normalized tag changes nothing.
pub fn normalize_tag(tag: &str) -> String {
    tag.trim_start_matches(|c: char| c == '#' || c.is_whitespace()).trim_end().to_lowercase()
}

fn bounded(mut text: String) -> String {
    if text.len() > MAX_SECTION_BYTES {
        let mut cut = MAX_SECTION_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Anchors unique within a document, GitHub's way: per slug, the next suffix to try; and every
/// anchor given, so that a heading whose slug looks like a numbered duplicate (`a-1` after two
/// `a`) still gets one of its own.
#[derive(Debug, Default)]
struct Anchors {
    suffixes: std::collections::HashMap<String, usize>,
    taken: std::collections::HashSet<String>,
}

impl Anchors {
    fn unique(&mut self, slug: String) -> String {
        let next = self.suffixes.entry(slug.clone()).or_insert(0);
        loop {
            let candidate = if *next == 0 { slug.clone() } else { format!("{slug}-{next}") };
            *next += 1;
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

/// 1-based line numbers of byte offsets in a text.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Self {
        Lines(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }

    fn line(&self, offset: usize) -> u32 {
        self.0.partition_point(|start| *start <= offset).max(1) as u32
    }
}

/// Runs `work` on a thread of its own: its result, or a skip when it panicked or did not finish
/// within `budget` (the thread is then left to end on its own; nothing waits for it).
fn within<T: Send + 'static>(
    budget: Duration,
    work: impl FnOnce() -> Result<T, Skip> + Send + 'static,
) -> Result<T, Skip> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new().name("kb-read".into()).spawn(move || {
        let result = std::panic::catch_unwind(AssertUnwindSafe(work));
        let _ = tx.send(result);
    });
    if let Err(e) = spawned {
        return Err(Skip::Unreadable(format!("no thread to read it on: {e}")));
    }
    match rx.recv_timeout(budget) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the reader failed".into());
            Err(Skip::BadPdf(format!("the reader failed ({message})")))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Skip::TooSlow(budget.as_secs().max(1))),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(Skip::BadPdf("the reader stopped without an answer".into()))
        }
    }
}

/// GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_title_tags_and_sections() {
        let text = "---\ntitle: Lifecycle\ntags: [Protocol, basics]\ndescription: How it starts\n---\n\nIntro words.\n\n# Heading One\n\nSome *text* with `code`.\n\n## Second: part\n\n<Tip>jsx</Tip>\n\nMore.\n\n## Second: part\n\nAgain.\n";
        let doc = parse(Path::new("a/lifecycle.mdx"), text);
        assert_eq!(doc.title, "Lifecycle");
        assert_eq!(doc.tags, vec!["protocol", "basics"]);
        assert_eq!(doc.description.as_deref(), Some("How it starts"));
        let heads: Vec<(&str, &str, u8, u32)> = doc
            .sections
            .iter()
            .map(|s| (s.heading.as_str(), s.anchor.as_str(), s.level, s.line))
            .collect();
        assert_eq!(
            heads,
            vec![
                ("", "", 0, 6),
                ("Heading One", "heading-one", 1, 9),
                ("Second: part", "second-part", 2, 13),
                ("Second: part", "second-part-1", 2, 19),
            ]
        );
        assert_eq!(doc.sections[1].text, "Some text with code.");
        assert!(!doc.sections[2].text.contains("<Tip>"), "{:?}", doc.sections[2].text);
        assert!(doc.sections[2].text.contains("More."));
    }

    #[test]
    fn title_falls_back_to_first_h1_then_file_name() {
        assert_eq!(parse(Path::new("x.md"), "# Hello\n\nworld").title, "Hello");
        assert_eq!(parse(Path::new("notes/plan.txt"), "# not a heading here").title, "plan");
        let bad_yaml = parse(Path::new("y.md"), "---\ntitle: [unclosed\n---\nbody text\n");
        assert_eq!(bad_yaml.title, "y");
        assert_eq!(bad_yaml.sections[0].text, "body text");
    }

    #[test]
    fn kb_heading_named_like_a_numbered_duplicate_gets_an_anchor_of_its_own() {
        // Found by fuzzing (kb_document): the third heading got `a-1` too, so reading the
        // section `a-1` could never reach it. GitHub numbers it `a-1-1`.
        let doc = parse(Path::new("x.md"), "# a\n\none\n\n# a\n\ntwo\n\n# a-1\n\nthree\n");
        let anchors: Vec<&str> = doc.sections.iter().map(|s| s.anchor.as_str()).collect();
        assert_eq!(anchors, ["a", "a-1", "a-1-1"]);
    }

    #[test]
    fn kb_tag_of_hashes_and_spaces_is_normalized_once_and_for_all() {
        // Found by fuzzing (kb_document): `###### #x` became the tag ` #x`, which no search
        // for `x` or `#x` (both normalized to `x`) could match.
        for tag in ["###### #x", "  # X ", "#x", "x"] {
            assert_eq!(normalize_tag(tag), "x", "{tag:?}");
        }
        let doc = parse(Path::new("t.md"), "---\ntags: ['###### #x', '## Set up']\n---\nbody\n");
        assert_eq!(doc.tags, ["x", "set up"]);
        for tag in &doc.tags {
            assert_eq!(&normalize_tag(tag), tag);
        }
    }

    #[test]
    fn a_panic_or_an_overrun_is_a_skip_not_a_crash() {
        let panicked = within(BUDGET, || -> Result<(), Skip> { panic!("boom at object 7") });
        assert_eq!(panicked, Err(Skip::BadPdf("the reader failed (boom at object 7)".into())));
        let slow = within(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_millis(500));
            Ok(())
        });
        assert_eq!(slow, Err(Skip::TooSlow(1)));
        assert_eq!(within(BUDGET, || Ok(7)), Ok(7));
    }

    #[test]
    fn binary_and_invalid_utf8_are_refused() {
        assert_eq!(decode(b"abc\0def".to_vec()), Err(Skip::Binary));
        assert_eq!(decode(vec![b'a', 0xff, 0xfe, b'b']), Err(Skip::NotUtf8));
        assert_eq!(decode(b"fine".to_vec()), Ok("fine".to_string()));
        let big = vec![b'a'; MAX_FILE_BYTES as usize + 1];
        assert!(matches!(decode(big), Err(Skip::TooLarge(_))));
    }
}
