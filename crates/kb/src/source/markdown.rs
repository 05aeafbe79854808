//! Markdown and MDX: `---` YAML front matter, then sections split at headings (`pulldown-cmark`).
//!
//! The text of each section is the plain text of its events (markup, HTML and MDX/JSX tags
//! dropped), so snippets read as prose.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{Anchors, Document, MAX_SECTION_BYTES, Section, bounded, normalize_tag, slug};

#[derive(Debug, Default)]
pub(super) struct FrontMatter {
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) tags: Vec<String>,
}

/// Splits `---` YAML front matter off. Front matter that is not valid YAML is dropped from the
/// text all the same (it is metadata, not prose), and contributes nothing.
pub(super) fn split_front_matter(text: &str) -> (Option<FrontMatter>, &str, u32) {
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

pub(super) fn parse(body: &str, first_line: u32, base: usize) -> Document {
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
    let mut anchors = Anchors::default();
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
                current.anchor = anchors.unique(slug(&heading));
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
