//! Block-style YAML by splicing lines: an entry is a run of lines under the container key, found
//! by indentation, and written with JSON-style scalars and flow collections (valid YAML). What
//! this cannot place exactly (flow-style containers, several documents, anchors or tags on the
//! container) is refused with a message rather than rewritten; `super::verify` checks the rest.

use serde_json::Value;

use crate::{Container, EditError, newline_of, ordered};

pub(super) fn document(text: &str) -> Result<Value, EditError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_norway::from_str::<Value>(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        EditError::Parse { line, column, message: e.to_string() }
    })
}

/// One physical line: where it starts, its text without the line break, and where the next
/// line starts.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    start: usize,
    text: &'a str,
    end: usize,
}

impl Line<'_> {
    fn indent(&self) -> usize {
        self.text.len() - self.text.trim_start_matches(' ').len()
    }
    /// Neither blank nor a comment.
    fn is_content(&self) -> bool {
        let t = self.text.trim();
        !t.is_empty() && !t.starts_with('#')
    }
    fn is_item(&self) -> bool {
        let t = self.text.trim_start_matches(' ');
        t == "-" || t.starts_with("- ")
    }
    fn has_newline(&self) -> bool {
        self.end > self.start + self.text.len()
    }
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let body = raw.strip_suffix('\n').unwrap_or(raw);
        let body = body.strip_suffix('\r').unwrap_or(body);
        out.push(Line { start, text: body, end: start + raw.len() });
        start += raw.len();
    }
    out
}

/// The container's block: the key's line and the lines that belong to it.
struct Block {
    key_line: usize,
    /// Text after `key:` when it is `{}` or `[]` (an empty flow collection to replace).
    empty_flow: Option<(usize, usize)>,
    /// The entries: (first line, last content line).
    children: Vec<(usize, usize)>,
    child_indent: Option<usize>,
}

fn unsupported(what: &str) -> EditError {
    EditError::NotLossless(format!(
        "{what}; Switchboard edits block-style YAML only. Add the entry by hand, or rewrite that \
         part in block style"
    ))
}

fn find_block(lines: &[Line<'_>], container: Container) -> Result<Option<Block>, EditError> {
    if lines.iter().skip(1).any(|l| l.text.starts_with("---") || l.text == "...") {
        return Err(unsupported("the file holds several YAML documents"));
    }
    let key = container.key;
    let Some(key_line) = lines.iter().position(|l| {
        let t = l.text;
        l.indent() == 0
            && (t.strip_prefix(key).or_else(|| t.strip_prefix(&format!("\"{key}\""))))
                .is_some_and(|rest| rest.starts_with(':'))
    }) else {
        return Ok(None);
    };
    let line = lines[key_line];
    let colon = line.text.find(':').unwrap_or(0);
    let rest = &line.text[colon + 1..];
    let value = rest.split(" #").next().unwrap_or("").trim();
    let empty_flow = match value {
        "" => None,
        "{}" | "[]" => {
            let from = line.start + colon + 1;
            let to = from + rest.find(value).unwrap_or(0) + value.len();
            Some((from, to))
        }
        v if v.starts_with('&') || v.starts_with('!') => {
            return Err(unsupported(&format!("`{key}` has an anchor or a tag")));
        }
        _ => return Err(unsupported(&format!("`{key}` is written in flow style or inline"))),
    };
    let list = container.named_list;
    let mut end = lines.len();
    for (i, l) in lines.iter().enumerate().skip(key_line + 1) {
        if l.is_content() && l.indent() == 0 && !(list && l.is_item()) {
            end = i;
            break;
        }
    }
    let mut children = Vec::new();
    let mut child_indent = None;
    if empty_flow.is_none() {
        let content: Vec<usize> = (key_line + 1..end).filter(|&i| lines[i].is_content()).collect();
        if let Some(&first) = content.first() {
            let indent = lines[first].indent();
            if list && !lines[first].is_item() {
                return Err(unsupported(&format!("`{key}` is not a list")));
            }
            child_indent = Some(indent);
            for &i in &content {
                let l = lines[i];
                if l.indent() < indent {
                    return Err(unsupported(&format!("`{key}` is indented unevenly")));
                }
                let starts = l.indent() == indent && (!list || l.is_item());
                if starts {
                    if list != l.is_item() {
                        return Err(unsupported(&format!("`{key}` mixes list items and keys")));
                    }
                    children.push((i, i));
                } else if let Some(last) = children.last_mut() {
                    last.1 = i;
                }
            }
        }
    }
    Ok(Some(Block { key_line, empty_flow, children, child_indent }))
}

/// The name of the entry at `lines[first..=last]`.
fn child_name(
    lines: &[Line<'_>],
    (first, last): (usize, usize),
    list: bool,
    indent: usize,
) -> Option<String> {
    let text: String = lines[first..=last]
        .iter()
        .map(|l| format!("{}\n", l.text.get(indent..).unwrap_or("").trim_end()))
        .collect();
    let value: Value = serde_norway::from_str(&text).ok()?;
    if list {
        value.as_array()?.first()?.get("name")?.as_str().map(str::to_string)
    } else {
        value.as_object()?.keys().next().cloned()
    }
}

fn scalar(value: &Value) -> String {
    // JSON is YAML: quoted strings, and flow collections for lists and maps.
    serde_json::to_string(value).unwrap_or_default()
}

fn key_text(key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if plain { key.to_string() } else { scalar(&Value::String(key.to_string())) }
}

/// The lines of one entry, each ending with `nl`.
fn render(
    name: &str,
    value: &Value,
    list: bool,
    indent: usize,
    step: usize,
    nl: &str,
) -> Result<String, EditError> {
    let Value::Object(map) = value else {
        return Err(EditError::Shape("an entry must be a map".into()));
    };
    let pad = " ".repeat(indent);
    let inner = " ".repeat(indent + step);
    let mut out = String::new();
    let fields = ordered(map);
    if list {
        for (i, (k, v)) in fields.iter().enumerate() {
            let lead = if i == 0 { format!("{pad}- ") } else { format!("{pad}  ") };
            out.push_str(&format!("{lead}{}: {}{nl}", key_text(k), scalar(v)));
        }
    } else {
        out.push_str(&format!("{pad}{}:{nl}", key_text(name)));
        for (k, v) in fields {
            out.push_str(&format!("{inner}{}: {}{nl}", key_text(k), scalar(v)));
        }
    }
    Ok(out)
}

pub(super) fn upsert(
    text: &str,
    container: Container,
    name: &str,
    value: &Value,
) -> Result<String, EditError> {
    let lines = lines(text);
    let nl = newline_of(text);
    let list = container.named_list;
    let Some(block) = find_block(&lines, container)? else {
        // No container yet: a new block at the end of the file.
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(nl);
        }
        out.push_str(&format!("{}:{nl}", container.key));
        out.push_str(&render(name, value, list, 2, 2, nl)?);
        return Ok(out);
    };
    let indent = block.child_indent.unwrap_or(2);
    let step = block
        .children
        .first()
        .and_then(|&(first, last)| {
            (first + 1..=last)
                .find(|&i| lines[i].is_content())
                .map(|i| lines[i].indent().saturating_sub(indent))
        })
        .filter(|&s| s > 0)
        .unwrap_or(2);
    let step = if list { 2 } else { step };
    let entry = render(name, value, list, indent, step, nl)?;
    let existing = block
        .children
        .iter()
        .copied()
        .find(|&c| child_name(&lines, c, list, indent).as_deref() == Some(name));
    let (from, to, mut insert) = match (existing, block.empty_flow) {
        (Some((first, last)), _) => (lines[first].start, lines[last].end, entry),
        (None, Some((from, to))) => {
            (from, to, format!("{nl}{}", entry.trim_end_matches(['\r', '\n'])))
        }
        (None, None) => {
            let after = block.children.last().map_or(block.key_line, |&(_, last)| last);
            let line = lines[after];
            if line.has_newline() {
                (line.end, line.end, entry)
            } else {
                (line.end, line.end, format!("{nl}{}", entry.trim_end_matches(['\r', '\n'])))
            }
        }
    };
    if existing.is_some() && !lines[existing.map_or(0, |e| e.1)].has_newline() {
        insert = insert.trim_end_matches(['\r', '\n']).to_string();
    }
    Ok(format!("{}{}{}", &text[..from], insert, &text[to..]))
}

pub(super) fn remove(text: &str, container: Container, name: &str) -> Result<String, EditError> {
    let lines = lines(text);
    let list = container.named_list;
    let Some(block) = find_block(&lines, container)? else { return Ok(text.to_string()) };
    let indent = block.child_indent.unwrap_or(0);
    let Some((first, last)) = block
        .children
        .iter()
        .copied()
        .find(|&c| child_name(&lines, c, list, indent).as_deref() == Some(name))
    else {
        return Ok(text.to_string());
    };
    let (from, to) = if lines[last].has_newline() || first == 0 {
        (lines[first].start, lines[last].end)
    } else {
        // The last line of the file has no line break: take the one before the entry instead.
        let prev = lines[first - 1];
        (prev.start + prev.text.len(), lines[last].end)
    };
    Ok(format!("{}{}", &text[..from], &text[to..]))
}
