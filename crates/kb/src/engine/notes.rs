//! New documents: tickets and notes written as Markdown files with YAML front matter.

use serde::Serialize;

use super::Engine;
use crate::{
    error::{Error, Result},
    roots::uri_of,
    source,
};

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Created {
    pub uri: String,
    pub key: String,
    pub path: String,
}

impl Engine {
    /// Writes a new Markdown file with front matter under `<first folder>/<folder>/`, indexes it
    /// at once, and returns its names. Never overwrites: a taken name gets a numeric suffix.
    /// `front` holds more front-matter fields, each value already YAML (quote text with
    /// [`yaml_string`], lists with `yaml_list`).
    pub fn create_file(
        &self,
        folder: &str,
        title: &str,
        front: &[(&str, String)],
        body: &str,
    ) -> Result<Created> {
        let title = title.trim();
        if title.is_empty() {
            return Err(Error::Invalid("the title is empty".into()));
        }
        let dir = self.roots.first().dir.join(folder);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut slug: String = source::slug(title).chars().take(60).collect();
        if slug.is_empty() {
            slug = "untitled".into();
        }
        let date = today();
        let content = document_text(title, front, &date, body);
        for n in 1..1000 {
            let name =
                if n == 1 { format!("{date}-{slug}.md") } else { format!("{date}-{slug}-{n}.md") };
            let path = dir.join(&name);
            let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path);
            let mut file = match file {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, e)),
            };
            let written = std::io::Write::write_all(&mut file, content.as_bytes())
                .and_then(|()| file.sync_all());
            if let Err(e) = written {
                let _ = std::fs::remove_file(&path);
                return Err(Error::io(&path, e));
            }
            let key = self
                .roots
                .key_of(&path)
                .ok_or_else(|| Error::OutsideRoots(path.display().to_string()))?;
            self.sync_paths(std::slice::from_ref(&path))?;
            return Ok(Created { uri: uri_of(&key), key, path: path.display().to_string() });
        }
        Err(Error::Invalid(format!("too many files named {date}-{slug} in {}", dir.display())))
    }
}

/// Today's date (UTC) as YYYY-MM-DD.
fn today() -> String {
    ymd(time::OffsetDateTime::now_utc().date())
}

fn ymd(date: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A new document: front matter (`title`, the `front` fields, `created`), then the title as its
/// first heading and the body.
fn document_text(title: &str, front: &[(&str, String)], date: &str, body: &str) -> String {
    let mut content = String::from("---\n");
    content.push_str(&format!("title: {}\n", yaml_string(title)));
    for (k, v) in front {
        content.push_str(&format!("{k}: {v}\n"));
    }
    content.push_str(&format!("created: {date}\n---\n\n# {title}\n\n{}\n", body.trim_end()));
    content
}

/// A YAML double-quoted scalar that reads back as exactly `text`.
///
/// Written as JSON writes a string (YAML's double quotes take JSON's escapes), and besides what
/// JSON escapes, also what YAML does not take raw: DEL, the C1 controls, U+FFFE and U+FFFF make
/// the whole front matter unreadable; NEL is read as a line break and folded to a space; LS, PS
/// and the byte-order mark are line breaks or a stream marker to some YAML parsers. Escaped,
/// every one reads back as written.
pub fn yaml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            '\0'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}' => quoted.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A YAML flow sequence of strings, each quoted with [`yaml_string`].
pub(crate) fn yaml_list(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| yaml_string(i.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_year_month_day_in_utc() {
        let date =
            |unix: i64| time::OffsetDateTime::from_unix_timestamp(unix).map(|t| ymd(t.date())).ok();
        assert_eq!(date(0).as_deref(), Some("1970-01-01"));
        assert_eq!(date(946_598_400 + 86_399).as_deref(), Some("1999-12-31"));
        assert_eq!(date(951_782_400).as_deref(), Some("2000-02-29"));
        assert_eq!(date(1_709_164_800).as_deref(), Some("2024-02-29"));
        let today = today();
        let digits = today.chars().filter(char::is_ascii_digit).count();
        assert!(today.len() == 10 && digits == 8 && &today[4..5] == "-", "{today}");
    }

    /// Text that YAML reads as something other than a plain string, or that a naive quoting
    /// would break.
    const AWKWARD: &[&str] = &[
        "Invoice totals: off by one",
        "plain",
        "",
        " leading and trailing ",
        "# not a comment",
        "- not a list",
        "[not, a, list]",
        "{not: a map}",
        "'single' and \"double\" quotes",
        "back\\slash \\n not a newline",
        "true",
        "null",
        "~",
        "0x1F",
        "1e3",
        "2024-02-29",
        "&anchor *alias !tag %directive @at `tick` |pipe >fold",
        "---",
        "...",
        "line one\nline two\r\nline three",
        "tab\there",
        "nul\0bell\u{7}backspace\u{8}escape\u{1b}unit separator\u{1f}",
        "del\u{7f} c1\u{80}\u{9f}",
        "next line\u{85}after",
        "line separator\u{2028}paragraph separator\u{2029}after",
        "byte order mark\u{feff}inside",
        "noncharacters\u{fffe}\u{ffff}",
        "accents é ß, CJK 漢字, emoji 🦀, beyond the BMP \u{10ffff}",
        "a very long title that goes on and on past any line width a YAML emitter might fold at, and on",
    ];

    fn parse_yaml(yaml: &str) -> Option<serde_norway::Value> {
        serde_norway::from_str(yaml).ok()
    }

    #[test]
    fn quoted_text_reads_back_exactly() {
        for text in AWKWARD {
            let yaml = format!("title: {}\n", yaml_string(text));
            let value = parse_yaml(&yaml);
            let read = value.as_ref().and_then(|v| v.get("title")).and_then(|t| t.as_str());
            assert_eq!(read, Some(*text), "{yaml}");
        }
    }

    #[test]
    fn quoting_is_json_string_syntax_where_yaml_needs_no_more() {
        let plain = "Invoice \"totals\": off by one \\ tab\t line\n nul\0 é 🦀";
        assert_eq!(yaml_string(plain), serde_json::to_string(plain).unwrap_or_default());
        assert_eq!(
            yaml_string("a\u{85}b\u{2028}c\u{feff}d\u{7f}"),
            r#""a\u0085b\u2028c\ufeffd\u007f""#
        );
    }

    #[test]
    fn lists_read_back_exactly() {
        let yaml = format!("tags: {}\n", yaml_list(AWKWARD));
        let value = parse_yaml(&yaml);
        let read: Option<Vec<&str>> = value
            .as_ref()
            .and_then(|v| v.get("tags"))
            .and_then(|t| t.as_sequence())
            .and_then(|items| items.iter().map(serde_norway::Value::as_str).collect());
        assert_eq!(read.as_deref(), Some(AWKWARD), "{yaml}");
        assert_eq!(yaml_list(Vec::<String>::new()), "[]");
    }

    #[test]
    fn a_new_document_reads_back_with_its_title_and_tags() {
        for title in AWKWARD.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            let front = [("status", "open".to_string()), ("tags", yaml_list(["billing", title]))];
            let text = document_text(title, &front, "2024-02-29", "The body.\n\n");
            let value = text
                .strip_prefix("---\n")
                .and_then(|rest| rest.split_once("\n---\n"))
                .and_then(|(yaml, _)| parse_yaml(yaml));
            let field = |key: &str| value.as_ref().and_then(|v| v.get(key)).cloned();
            assert_eq!(field("title").as_ref().and_then(|t| t.as_str()), Some(title), "{text}");
            assert_eq!(field("status").as_ref().and_then(|t| t.as_str()), Some("open"));
            assert_eq!(field("created").as_ref().and_then(|t| t.as_str()), Some("2024-02-29"));
            let doc = source::parse(std::path::Path::new("note.md"), &text);
            assert_eq!(doc.title, title, "{text}");
            assert_eq!(doc.tags[0], "billing", "{text}");
        }
    }
}
