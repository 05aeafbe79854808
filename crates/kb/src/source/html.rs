//! HTML pages: the main content (`<main>`, else the first `<article>`, else `<body>`), with
//! `h1`-`h6` as sections; scripts, styles, navigation, asides and the page's header and footer
//! dropped; entities decoded (html5ever, through `dom_query`). The title is the `<title>`, else
//! the first `h1`. The text a reader gets is the content as Markdown-like plain text: each
//! section under its heading as `## Heading`.

use dom_query::NodeRef;

use super::{Anchors, Document, Lines, MAX_SECTION_BYTES, Section, Skip, bounded, slug};

/// Elements whose content is never prose.
const DROPPED: [&str; 14] = [
    "script", "style", "noscript", "template", "nav", "aside", "svg", "math", "iframe", "object",
    "canvas", "select", "button", "head",
];

/// Elements that end a line of text.
const BLOCKS: [&str; 30] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "br",
    "hr",
    "tr",
    "table",
    "thead",
    "tbody",
    "pre",
    "blockquote",
    "figure",
    "figcaption",
    "header",
    "footer",
    "form",
    "fieldset",
    "details",
    "summary",
    "address",
    "td",
    "th",
];

/// Deeper than this, a page is not read: html5ever's work grows with the square of the depth,
/// and browsers stop nesting at 512 too.
const MAX_DEPTH: usize = 512;

/// Elements that have no end tag, or whose end tag may be left out (the next one closes them).
const UNNESTED: [&str; 30] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody",
    "tfoot", "colgroup", "rt", "rp", "param", "keygen",
];

/// Parses a page: the document, and its text as read back (the sections' `start`s index it).
/// A page nested deeper than [`MAX_DEPTH`] is refused before it is parsed.
pub(super) fn parse(html: &str) -> Result<(Document, String), Skip> {
    if depth(html) > MAX_DEPTH {
        return Err(Skip::TooDeep(MAX_DEPTH));
    }
    Ok(parse_page(html))
}

/// How deep the page's elements nest, from its tags alone: each start tag one deeper, each end
/// tag one back; elements without (or with optional) end tags, comments and the raw text of
/// scripts and styles not counted.
fn depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut at, mut depth, mut deepest) = (0usize, 0usize, 0usize);
    while let Some(found) = html.get(at..).and_then(|rest| rest.find('<')) {
        let open = at + found;
        let rest = &html[open + 1..];
        let Some(close) = rest.find('>') else { break };
        let tag = &rest[..close];
        at = open + 1 + close + 1;
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            if !UNNESTED.contains(&name.as_str()) {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        if !tag.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let name_end = tag.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(tag.len());
        let name = tag[..name_end].to_ascii_lowercase();
        if ["script", "style", "textarea", "title"].contains(&name.as_str()) {
            // Raw text up to its end tag.
            let end = format!("</{name}");
            let lower = html.get(at..).map(str::to_ascii_lowercase).unwrap_or_default();
            at = lower.find(&end).map_or(bytes.len(), |i| at + i);
            continue;
        }
        if tag.ends_with('/') || UNNESTED.contains(&name.as_str()) {
            continue;
        }
        depth += 1;
        deepest = deepest.max(depth);
    }
    deepest
}

fn parse_page(html: &str) -> (Document, String) {
    let page = dom_query::Document::from(html);
    let title = collapse(&page.select("title").first().text());
    let description = page
        .select("meta[name=description]")
        .first()
        .attr("content")
        .map(|c| collapse(&c))
        .filter(|c| !c.is_empty());
    let root = ["main", "[role=main]", "article"]
        .iter()
        .find_map(|sel| page.select(sel).nodes().first().cloned());
    let whole_body = root.is_none();
    let root = root.or_else(|| page.body()).unwrap_or_else(|| page.root());

    let mut sections = vec![Section::preamble(1, 0, String::new())];
    let mut anchors = Anchors::default();
    let mut first_h1: Option<String> = None;
    // Depth-first, without recursion (a page can nest deeper than the stack): a node, and
    // whether its children were already pushed.
    let mut stack: Vec<(NodeRef<'_>, bool)> = vec![(root, false)];
    let mut pre = 0usize;
    while let Some((node, done)) = stack.pop() {
        let name = node.node_name().map(|n| n.to_ascii_lowercase()).unwrap_or_default();
        if done {
            if name == "pre" {
                pre = pre.saturating_sub(1);
            }
            if BLOCKS.contains(&name.as_str())
                && let Some(current) = sections.last_mut()
            {
                newline(&mut current.text);
            }
            continue;
        }
        if node.is_text() {
            if let Some(current) = sections.last_mut()
                && current.text.len() < MAX_SECTION_BYTES
            {
                let text = node.text();
                if pre > 0 {
                    current.text.push_str(&text);
                } else {
                    let words = collapse(&text);
                    if !words.is_empty() {
                        if !current.text.is_empty() && !current.text.ends_with(['\n', ' ']) {
                            current.text.push(' ');
                        }
                        current.text.push_str(&words);
                    } else if text.contains(char::is_whitespace)
                        && !current.text.is_empty()
                        && !current.text.ends_with(['\n', ' '])
                    {
                        current.text.push(' ');
                    }
                }
            }
            continue;
        }
        if !node.is_element() && !node.is_document() {
            continue;
        }
        if DROPPED.contains(&name.as_str())
            || (whole_body && (name == "header" || name == "footer"))
            || node.has_attr("hidden")
        {
            continue;
        }
        if let Some(level) = heading_level(&name) {
            let heading = collapse(&node.text());
            if heading.is_empty() {
                continue;
            }
            if level == 1 && first_h1.is_none() {
                first_h1 = Some(heading.clone());
            }
            sections.push(Section {
                anchor: anchors
                    .unique(node.id_attr().map_or_else(|| slug(&heading), |id| id.to_string())),
                heading,
                level,
                line: 0,
                start: 0,
                text: String::new(),
            });
            continue;
        }
        if name == "pre" {
            pre += 1;
        }
        stack.push((node, true));
        let children: Vec<NodeRef<'_>> = node.children_it(false).collect();
        for child in children.into_iter().rev() {
            stack.push((child, false));
        }
    }

    // The text read back: the preamble, then each section under its heading.
    let mut text = String::new();
    let mut kept = Vec::new();
    for mut section in sections {
        section.text = bounded(tidy(&section.text));
        if section.level == 0 {
            if section.text.is_empty() {
                continue;
            }
        } else {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            section.start = text.len();
            text.push_str(&"#".repeat(usize::from(section.level)));
            text.push(' ');
            text.push_str(&section.heading);
            if !section.text.is_empty() {
                text.push_str("\n\n");
            }
        }
        text.push_str(&section.text);
        kept.push(section);
    }
    text.push('\n');
    let lines = Lines::of(&text);
    for section in &mut kept {
        section.line = lines.line(section.start);
    }
    if kept.is_empty() {
        kept.push(Section::preamble(1, 0, String::new()));
    }
    let title = if title.is_empty() { first_h1.unwrap_or_default() } else { title };
    (Document { title, description, tags: Vec::new(), sections: kept }, text)
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// Runs of whitespace as one space, trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn newline(text: &mut String) {
    while text.ends_with(' ') {
        text.pop();
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
}

/// Lines trimmed at the end, no more than one blank line in a row, no blank start or end.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><head><title>Billing &amp; Invoices</title>
<meta name="description" content="How we bill"><style>.x { color: red }</style>
<script>var secretScript = 1;</script></head>
<body><header><a href="/">Home</a> menuitem</header><nav><a>navlink</a></nav>
<main><p>Intro &lt;words&gt; before any heading.</p>
<h1>Invoices</h1><p>An invoice is issued&nbsp;monthly.</p><aside>sidebar ad</aside>
<h2 id="late-fees">Late fees &mdash; rules</h2><ul><li>one</li><li>two</li></ul>
<pre>code  block
  indented</pre><h2>Late fees — rules</h2><p>again</p></main>
<footer>copyright footer</footer></body></html>"#;

    #[test]
    fn main_content_headings_as_sections_and_clutter_dropped() {
        let (doc, text) = parse(PAGE).unwrap();
        assert_eq!(doc.title, "Billing & Invoices");
        assert_eq!(doc.description.as_deref(), Some("How we bill"));
        let outline: Vec<(&str, &str, u8)> =
            doc.sections.iter().map(|s| (s.heading.as_str(), s.anchor.as_str(), s.level)).collect();
        assert_eq!(
            outline,
            [
                ("", "", 0),
                ("Invoices", "invoices", 1),
                ("Late fees — rules", "late-fees", 2),
                ("Late fees — rules", "late-fees--rules", 2),
            ]
        );
        assert_eq!(doc.sections[0].text, "Intro <words> before any heading.");
        assert_eq!(doc.sections[1].text, "An invoice is issued monthly.");
        assert!(doc.sections[2].text.contains("one\ntwo"), "{:?}", doc.sections[2].text);
        assert!(doc.sections[2].text.contains("code  block\n  indented"));
        for gone in ["secretScript", "color", "navlink", "menuitem", "sidebar", "copyright"] {
            assert!(!text.contains(gone), "{gone} kept: {text}");
        }
        for s in &doc.sections {
            if s.level > 0 {
                assert!(text[s.start..].starts_with(&format!(
                    "{} {}",
                    "#".repeat(s.level.into()),
                    s.heading
                )));
                assert_eq!(s.line as usize, 1 + text[..s.start].matches('\n').count());
            }
        }
    }

    #[test]
    fn without_main_the_body_less_its_header_and_footer_and_title_from_h1() {
        let (doc, text) = parse("<body><header>site</header><h1>Only  Heading</h1><p>body text</p><footer>foot</footer></body>").unwrap();
        assert_eq!(doc.title, "Only Heading");
        assert_eq!(text, "# Only Heading\n\nbody text\n");
        let (doc, _) = parse("").unwrap();
        assert_eq!(doc.sections.len(), 1);
    }

    #[test]
    fn nesting_is_bounded_before_parsing() {
        let nested = |n: usize| "<div>".repeat(n) + "deep words" + &"</div>".repeat(n);
        let (doc, _) = parse(&nested(400)).unwrap();
        assert!(doc.sections[0].text.contains("deep words"));
        assert_eq!(parse(&nested(100_000)).map(|_| ()), Err(Skip::TooDeep(MAX_DEPTH)));
        // Unclosed paragraphs and list items, void elements, comments and scripts do not nest.
        let flat = "<p>x<li>y<br><img src=a><!-- <div> --><script>'<div>'</script>".repeat(5000);
        assert!(depth(&flat) <= 1, "{}", depth(&flat));
        assert_eq!(depth("<div><span>a</span><b/></div><div>"), 2);
    }
}
