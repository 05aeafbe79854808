//! Reading one document: which files count, front matter, and sections split at headings.
//!
//! Markdown and MDX are parsed with `pulldown-cmark`; the text of each section is the plain text
//! of its events (markup, HTML and MDX/JSX tags dropped), so snippets read as prose. Plain text
//! is one section.

use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;

/// Files larger than this are skipped with a reason rather than indexed.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// A section's text is cut at this many bytes (the rest of the section is not searchable).
const MAX_SECTION_BYTES: usize = 256 * 1024;

/// The kinds of files the knowledge base reads, by extension.
pub fn is_document(path: &Path) -> bool {
    kind(path).is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Markdown,
    Text,
}

fn kind(path: &Path) -> Option<Kind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "md" | "mdx" | "markdown" => Some(Kind::Markdown),
        "txt" | "text" => Some(Kind::Text),
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
    /// The heading's text; empty for the text before the first heading.
    pub heading: String,
    /// A GitHub-style slug of the heading, unique within the document.
    pub anchor: String,
    /// Heading level 1-6; 0 for the text before the first heading.
    pub level: u8,
    /// 1-based line where the section starts.
    pub line: u32,
    /// Byte offset in the file where the section starts (its heading included).
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
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::TooLarge(n) => write!(f, "too large ({n} bytes; the limit is {MAX_FILE_BYTES})"),
            Skip::Binary => f.write_str("binary content"),
            Skip::NotUtf8 => f.write_str("not valid UTF-8"),
            Skip::Unreadable(e) => write!(f, "unreadable: {e}"),
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

/// Parses a document's text; `path` decides the format and gives the fallback title.
pub fn parse(path: &Path, original: &str) -> Document {
    let text = original.strip_prefix('\u{feff}').unwrap_or(original);
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("untitled").to_string();
    let (front, body, body_line) = split_front_matter(text);
    let base = original.len() - body.len();
    let mut doc = match kind(path) {
        Some(Kind::Text) | None => Document {
            title: String::new(),
            description: None,
            tags: Vec::new(),
            sections: vec![Section::preamble(body_line, base, bounded(body.to_string()))],
        },
        Some(Kind::Markdown) => markdown(body, body_line, base),
    };
    if let Some(front) = front {
        doc.title = front.title.unwrap_or(doc.title);
        doc.description = front.description;
        doc.tags = front.tags;
    }
    if doc.title.trim().is_empty() {
        doc.title = stem;
    }
    doc
}

#[derive(Debug, Default)]
struct FrontMatter {
    title: Option<String>,
    description: Option<String>,
    tags: Vec<String>,
}

/// Splits `---` YAML front matter off. Front matter that is not valid YAML is dropped from the
/// text all the same (it is metadata, not prose), and contributes nothing.
fn split_front_matter(text: &str) -> (Option<FrontMatter>, &str, u32) {
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else {
        return (None, text, 1);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            let lines = 2 + yaml.matches('\n').count() as u32;
            return (Some(front_matter(yaml)), body, lines + 1);
        }
        offset += line.len();
    }
    (None, text, 1)
}

fn front_matter(yaml: &str) -> FrontMatter {
    let Ok(value) = serde_norway::from_str::<serde_norway::Value>(yaml) else {
        return FrontMatter::default();
    };
    let text = |key: &str| -> Option<String> {
        match value.get(key)? {
            serde_norway::Value::String(s) => Some(s.trim().to_string()),
            serde_norway::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let tags = match value.get("tags").or_else(|| value.get("keywords")) {
        Some(serde_norway::Value::Sequence(items)) => {
            items.iter().filter_map(|v| v.as_str().map(normalize_tag)).collect()
        }
        Some(serde_norway::Value::String(s)) => {
            s.split([',', ' ']).filter(|t| !t.is_empty()).map(normalize_tag).collect()
        }
        _ => Vec::new(),
    };
    let mut tags: Vec<String> = tags;
    tags.retain(|t| !t.is_empty());
    tags.dedup();
    FrontMatter { title: text("title"), description: text("description"), tags }
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

fn markdown(body: &str, first_line: u32, base: usize) -> Document {
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(body.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let line_of = |offset: usize| -> u32 {
        let index = line_starts.partition_point(|start| *start <= offset);
        first_line + index.saturating_sub(1) as u32
    };
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS;
    let mut sections = vec![Section::preamble(first_line, base, String::new())];
    let mut title: Option<String> = None;
    let mut in_heading = false;
    // Per slug, the next suffix to try; and every anchor given, so that a heading whose slug
    // looks like a numbered duplicate (`a-1` after two `a`) still gets one of its own.
    let mut suffixes = std::collections::HashMap::<String, usize>::new();
    let mut taken = std::collections::HashSet::<String>::new();
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        let Some(current) = sections.last_mut() else { break };
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                in_heading = true;
                sections.push(Section {
                    heading: String::new(),
                    anchor: String::new(),
                    level: heading_level(level),
                    line: line_of(range.start),
                    start: base + range.start,
                    text: String::new(),
                });
            }
            Event::End(TagEnd::Heading(level)) => {
                in_heading = false;
                let heading = current.heading.trim().to_string();
                let slug = slug(&heading);
                let next = suffixes.entry(slug.clone()).or_insert(0);
                current.anchor = loop {
                    let candidate =
                        if *next == 0 { slug.clone() } else { format!("{slug}-{next}") };
                    *next += 1;
                    if taken.insert(candidate.clone()) {
                        break candidate;
                    }
                };
                if level == HeadingLevel::H1 && title.is_none() {
                    title = Some(heading.clone());
                }
                current.heading = heading;
            }
            Event::Text(t) | Event::Code(t) => {
                if in_heading {
                    current.heading.push_str(&t);
                } else if current.text.len() < MAX_SECTION_BYTES {
                    current.text.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if in_heading {
                    current.heading.push(' ');
                } else {
                    current.text.push(' ');
                }
            }
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableCell
                | TagEnd::TableRow
                | TagEnd::BlockQuote(_),
            ) if !current.text.ends_with('\n') && !current.text.is_empty() => {
                current.text.push('\n');
            }
            _ => {}
        }
    }
    let mut sections: Vec<Section> = sections
        .into_iter()
        .map(|mut s| {
            s.text = bounded(s.text.trim().to_string());
            s
        })
        .filter(|s| !(s.level == 0 && s.text.is_empty()))
        .collect();
    if sections.is_empty() {
        sections.push(Section::preamble(first_line, base, String::new()));
    }
    Document { title: title.unwrap_or_default(), description: None, tags: Vec::new(), sections }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
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
    fn binary_and_invalid_utf8_are_refused() {
        assert_eq!(decode(b"abc\0def".to_vec()), Err(Skip::Binary));
        assert_eq!(decode(vec![b'a', 0xff, 0xfe, b'b']), Err(Skip::NotUtf8));
        assert_eq!(decode(b"fine".to_vec()), Ok("fine".to_string()));
        let big = vec![b'a'; MAX_FILE_BYTES as usize + 1];
        assert!(matches!(decode(big), Err(Skip::TooLarge(_))));
    }
}
