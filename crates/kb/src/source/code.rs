//! Source code: a section per top-level function, type or class, found by a light line-based
//! recognizer per language (a declaration at column 0, with the comments, attributes and
//! decorators right above it); a long section, or a file where nothing is recognized, is cut
//! into fixed windows of lines that overlap a little. The code is indexed as written, so
//! identifiers stay searchable; a section's anchor is its line range (`L12-L40`).

use super::{Document, Section, bounded};

/// The languages the recognizer knows, by the shape of their declarations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    Rust,
    Python,
    Script,
    Go,
    C,
    Jvm,
    Ruby,
    Shell,
    Lua,
}

/// The language of a source file's (lower-case) extension; `None`: not a source file we read.
pub(super) fn language(ext: &str) -> Option<Lang> {
    Some(match ext {
        "rs" => Lang::Rust,
        "py" | "pyi" => Lang::Python,
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => Lang::Script,
        "go" => Lang::Go,
        "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => Lang::C,
        "java" | "kt" | "kts" | "scala" | "cs" | "swift" | "php" => Lang::Jvm,
        "rb" => Lang::Ruby,
        "sh" | "bash" | "zsh" => Lang::Shell,
        "lua" => Lang::Lua,
        _ => return None,
    })
}

/// Lines in a window where no declaration is recognized.
const WINDOW: usize = 60;
/// Lines a window shares with the one before it.
const OVERLAP: usize = 10;
/// A declaration longer than this is cut into windows (each keeps its name).
const LONGEST: usize = 150;

/// Sections of a source file with this extension. The title is left for the caller (the file's
/// name).
pub(super) fn parse(ext: &str, text: &str) -> Document {
    let lang = language(ext);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let starts: Vec<usize> = lines
        .iter()
        .scan(0usize, |at, line| {
            let start = *at;
            *at += line.len();
            Some(start)
        })
        .collect();
    // (first line, heading) of each declaration, the comments above it included.
    let mut decls: Vec<(usize, String)> = Vec::new();
    if let Some(lang) = lang {
        for (i, line) in lines.iter().enumerate() {
            let Some(heading) = declaration(lang, line.trim_end()) else { continue };
            let floor = decls.last().map_or(0, |(first, _)| first + 1);
            let mut first = i;
            while first > floor && is_lead_in(lang, lines[first - 1]) {
                first -= 1;
            }
            decls.push((first, heading));
        }
    }
    let mut sections = Vec::new();
    let window = |from: usize, to: usize, heading: &str, level: u8, out: &mut Vec<Section>| {
        // Lines `from..to` as windows of WINDOW lines, overlapping by OVERLAP.
        let mut at = from;
        while at < to {
            let end = (at + WINDOW).min(to);
            let body: String = lines[at..end].concat();
            if !body.trim().is_empty() {
                out.push(Section {
                    heading: heading.to_string(),
                    anchor: format!("L{}-L{}", at + 1, end),
                    level,
                    line: at as u32 + 1,
                    start: starts[at],
                    text: bounded(body),
                });
            }
            if end == to {
                break;
            }
            at = end - OVERLAP;
        }
    };
    let first_decl = decls.first().map_or(lines.len(), |(first, _)| *first);
    if first_decl > 0 {
        // What comes before the first declaration (or the whole file, when there is none).
        let level = if decls.is_empty() { 1 } else { 0 };
        window(0, first_decl, "", level, &mut sections);
    }
    for (n, (first, heading)) in decls.iter().enumerate() {
        let end = decls.get(n + 1).map_or(lines.len(), |(next, _)| *next);
        if end - first > LONGEST {
            window(*first, end, heading, 1, &mut sections);
        } else {
            let body: String = lines[*first..end].concat();
            sections.push(Section {
                heading: heading.clone(),
                anchor: format!("L{}-L{}", first + 1, end),
                level: 1,
                line: *first as u32 + 1,
                start: starts[*first],
                text: bounded(body),
            });
        }
    }
    if sections.is_empty() {
        sections.push(Section::preamble(1, 0, String::new()));
    }
    Document { title: String::new(), description: None, tags: Vec::new(), sections }
}

/// A comment, attribute or decorator line directly above a declaration belongs to it.
fn is_lead_in(lang: Lang, line: &str) -> bool {
    let line = line.trim_end();
    if line.is_empty() {
        return false;
    }
    let prefixes: &[&str] = match lang {
        Lang::Rust => &["//", "#[", "#!["],
        Lang::Python => &["#", "@"],
        Lang::Script | Lang::Jvm => &["//", "/*", "*", " *", "@"],
        Lang::Go => &["//"],
        Lang::C => &["//", "/*", "*", " *"],
        Lang::Ruby | Lang::Shell => &["#"],
        Lang::Lua => &["--"],
    };
    prefixes.iter().any(|p| line.starts_with(p))
}

/// The first identifier of `text` (letters, digits, `_`, `$`).
fn ident(text: &str) -> Option<&str> {
    let end = text
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$'))
        .map_or(text.len(), |(i, _)| i);
    let name = &text[..end];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}

/// Strips any of these words (each followed by whitespace) from the front, repeatedly.
fn strip_words<'a>(mut text: &'a str, words: &[&str]) -> &'a str {
    loop {
        let before = text;
        for word in words {
            if let Some(rest) = text.strip_prefix(word)
                && rest.starts_with(char::is_whitespace)
            {
                text = rest.trim_start();
            }
        }
        if text.len() == before.len() {
            return text;
        }
    }
}

/// `keyword NAME` at the front of `text`, for any of these keywords: `"keyword NAME"`.
fn keyword(text: &str, keywords: &[&str]) -> Option<String> {
    for kw in keywords {
        if let Some(rest) = text.strip_prefix(kw)
            && rest.starts_with(char::is_whitespace)
        {
            let name = ident(rest.trim_start().trim_start_matches('*').trim_start())?;
            return Some(format!("{kw} {name}"));
        }
    }
    None
}

/// The heading of a top-level declaration on this line, if it is one.
fn declaration(lang: Lang, line: &str) -> Option<String> {
    if line.is_empty() || line.starts_with(char::is_whitespace) {
        return None;
    }
    match lang {
        Lang::Rust => {
            let mut rest = line;
            if rest.starts_with("pub(") {
                rest = rest.split_once(')')?.1.trim_start();
            }
            let rest = strip_words(rest, &["pub", "async", "unsafe", "const", "default"]);
            let rest = rest.strip_prefix("extern \"C\" ").unwrap_or(rest);
            if let Some(imp) = rest.strip_prefix("impl") {
                if imp.starts_with([' ', '<']) {
                    let head = imp.split('{').next().unwrap_or_default();
                    let head = head.split(" where").next().unwrap_or_default().trim_end();
                    return Some(format!("impl{head}"));
                }
                return None;
            }
            if let Some(mac) = rest.strip_prefix("macro_rules!") {
                return Some(format!("macro {}", ident(mac.trim_start())?));
            }
            if rest.starts_with("mod ") && rest.ends_with(';') {
                return None;
            }
            keyword(rest, &["fn", "struct", "enum", "trait", "union", "mod", "type"])
        }
        Lang::Python => keyword(strip_words(line, &["async"]), &["def", "class"]),
        Lang::Script => {
            let rest = strip_words(line, &["export", "default", "declare", "async", "abstract"]);
            if let Some(found) = keyword(
                rest,
                &["function", "class", "interface", "enum", "namespace", "module", "type"],
            ) {
                return Some(found);
            }
            let rest = rest.strip_prefix("function*").map_or(rest, str::trim_start);
            if rest.len() < line.len() && line.contains("function*") {
                return Some(format!("function {}", ident(rest)?));
            }
            let found = keyword(rest, &["const", "let", "var"])?;
            (line.contains("=>") || line.contains("function")).then_some(found)
        }
        Lang::Go => {
            if let Some(rest) = line.strip_prefix("func ") {
                let rest = rest.trim_start();
                let rest = if rest.starts_with('(') { rest.split_once(')')?.1 } else { rest };
                return Some(format!("func {}", ident(rest.trim_start())?));
            }
            keyword(line, &["type"])
        }
        Lang::C => {
            if line.ends_with(';') || line.starts_with(['#', '/', '*', '}', '{']) {
                return None;
            }
            let rest = strip_words(line, &["template<>", "typedef", "static", "inline", "extern"]);
            if let Some(found) = keyword(rest, &["struct", "class", "enum", "union", "namespace"]) {
                return Some(found);
            }
            let (before, _) = rest.split_once('(')?;
            let name = before
                .trim_end()
                .rsplit(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '~'))
                .next()?;
            let first = ident(rest)?;
            if name.is_empty()
                || ["if", "for", "while", "switch", "return", "else", "do", "sizeof"]
                    .contains(&first)
            {
                return None;
            }
            Some(format!("{name}()"))
        }
        Lang::Jvm => {
            let rest = strip_words(
                line,
                &[
                    "public",
                    "private",
                    "protected",
                    "internal",
                    "static",
                    "final",
                    "abstract",
                    "sealed",
                    "open",
                    "data",
                    "inline",
                    "partial",
                    "override",
                    "suspend",
                    "case",
                    "readonly",
                    "fileprivate",
                    "export",
                ],
            );
            keyword(
                rest,
                &[
                    "class",
                    "interface",
                    "enum",
                    "record",
                    "object",
                    "struct",
                    "fun",
                    "func",
                    "function",
                    "trait",
                    "def",
                    "protocol",
                    "extension",
                    "namespace",
                ],
            )
        }
        Lang::Ruby => keyword(line, &["def", "class", "module"]),
        Lang::Shell => {
            if let Some(found) = keyword(line, &["function"]) {
                return Some(found);
            }
            let name = ident(line)?;
            let after = line[name.len()..].trim_start();
            after.starts_with("()").then(|| format!("function {name}"))
        }
        Lang::Lua => keyword(strip_words(line, &["local"]), &["function"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(ext: &str, text: &str) -> Vec<(String, String, u8, u32)> {
        parse(ext, text)
            .sections
            .into_iter()
            .map(|s| (s.heading, s.anchor, s.level, s.line))
            .collect()
    }

    #[test]
    fn rust_items_with_their_doc_comments_and_attributes() {
        let text = "//! Module docs.\n\nuse std::io;\n\n/// Parses.\n#[inline]\npub(crate) fn parse_query(x: &str) -> u8 {\n    let inner = 1;\n    inner\n}\n\nimpl<T> Display for Wrapper<T> where T: Debug {\n    fn fmt(&self) {}\n}\n\nmod tests;\n\npub struct Config;\n";
        let got = outline("rs", text);
        let want = [
            ("", "L1-L4", 0, 1),
            ("fn parse_query", "L5-L11", 1, 5),
            ("impl Display for Wrapper<T>", "L12-L17", 1, 12),
            ("struct Config", "L18-L18", 1, 18),
        ];
        let want: Vec<(String, String, u8, u32)> =
            want.iter().map(|(h, a, l, n)| (h.to_string(), a.to_string(), *l, *n)).collect();
        assert_eq!(got[..2], want[..2]);
        assert_eq!(got[2].0, "impl<T> Display for Wrapper<T>");
        assert_eq!(got[3], want[3]);
        let doc = parse("rs", text);
        assert!(doc.sections[1].text.contains("parse_query"), "identifiers are kept as written");
        for s in &doc.sections {
            assert_eq!(
                &text[s.start..s.start + 1],
                text.lines().nth(s.line as usize - 1).unwrap().get(..1).unwrap_or("\n")
            );
        }
    }

    #[test]
    fn declarations_in_other_languages() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "py",
                "import os\n\n@cache\ndef load(path):\n    pass\n\nclass Store:\n    def get(self):\n        pass\n",
                &["", "def load", "class Store"],
            ),
            (
                "ts",
                "export default async function handle(req) {}\nexport class Server {}\nexport const route = (x) => x;\nconst limit = 5;\ninterface Opts {}\n",
                &["function handle", "class Server", "const route", "interface Opts"],
            ),
            (
                "go",
                "package main\n\nfunc (s *Server) Serve() {}\n\ntype Config struct {}\n",
                &["", "func Serve", "type Config"],
            ),
            (
                "c",
                "#include <stdio.h>\n\nstatic int parse_args(int argc, char **argv)\n{\n  return 0;\n}\nint x;\n",
                &["", "parse_args()"],
            ),
            (
                "java",
                "package x;\n\npublic final class Invoice {\n  void total() {}\n}\n",
                &["", "class Invoice"],
            ),
            ("rb", "module Billing\nend\ndef charge\nend\n", &["module Billing", "def charge"]),
            ("sh", "#!/bin/sh\nset -e\nbuild() {\n  make\n}\n", &["", "function build"]),
        ];
        for (ext, text, headings) in cases {
            let got: Vec<String> =
                parse(ext, text).sections.into_iter().map(|s| s.heading).collect();
            assert_eq!(&got, headings, "{ext}");
        }
    }

    #[test]
    fn long_or_unrecognized_code_is_cut_into_overlapping_windows() {
        let text: String = (1..=130).map(|i| format!("x{i} = {i}\n")).collect();
        let doc = parse("lua", &text);
        let anchors: Vec<&str> = doc.sections.iter().map(|s| s.anchor.as_str()).collect();
        assert_eq!(anchors, ["L1-L60", "L51-L110", "L101-L130"]);
        assert!(doc.sections[1].text.starts_with("x51 = 51\n"));
        let long: String = std::iter::once("fn big() {\n".to_string())
            .chain((0..200).map(|i| format!("    step_{i}();\n")))
            .collect();
        let doc = parse("rs", &long);
        assert!(doc.sections.len() > 2);
        assert!(doc.sections.iter().all(|s| s.heading == "fn big"));
        assert_eq!(parse("rs", "").sections.len(), 1);
    }
}
