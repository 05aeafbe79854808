//! Lossless editing of one entry in a config file that other programs own (an AI host's MCP
//! settings). Each format has a structural editor that changes only the entry's own text
//! (`json`: the concrete syntax tree of `jsonc-parser`; `toml`: `toml_edit`; `yaml`: line
//! splicing of block-style YAML). Every edit is then checked against the parsed documents: the
//! file after the edit must mean exactly the file before it with that one entry set or removed,
//! or the edit is refused and nothing is written. A [`receipt::Receipt`] records the splice, so
//! that removing the entry later restores the bytes.
//!
//! A leaf: it knows files and entries, not hosts, servers or Switchboard.

mod json;
pub mod receipt;
mod toml;
mod yaml;

use serde_json::{Map, Value};

use crate::receipt::Receipt;

/// A config file's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Strict JSON: comments and trailing commas are errors for the host.
    Json,
    /// JSON with comments and trailing commas.
    Jsonc,
    Toml,
    Yaml,
}

/// Where a host keeps its servers in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Container {
    /// The top-level key.
    pub key: &'static str,
    /// A list of entries named by a field (`id_field`), instead of a map by name.
    pub named_list: bool,
    /// The field that names an entry of a list: `name` (Continue's servers), `id` (VS Code's
    /// `inputs`).
    pub id_field: &'static str,
}

impl Container {
    pub const fn map(key: &'static str) -> Self {
        Container { key, named_list: false, id_field: "name" }
    }
    pub const fn named_list(key: &'static str) -> Self {
        Container { key, named_list: true, id_field: "name" }
    }
    /// A list whose entries are named by `id_field`.
    pub const fn list_by(key: &'static str, id_field: &'static str) -> Self {
        Container { key, named_list: true, id_field }
    }
}

/// Why an edit was refused. The caller adds the file's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("it does not parse: {message} (line {line}, column {column})")]
    Parse { line: usize, column: usize, message: String },
    #[error("{0}")]
    Shape(String),
    #[error("it cannot be edited without changing more than the entry: {0}")]
    NotLossless(String),
}

/// The parsed meaning of a config file (`null` for an empty one).
pub fn document(format: Format, text: &str) -> Result<Value, EditError> {
    match format {
        Format::Json | Format::Jsonc => json::document(text, format),
        Format::Toml => toml::document(text),
        Format::Yaml => yaml::document(text),
    }
}

/// The servers in `doc`'s container, in file order, by name. A missing container is empty.
pub fn entries(doc: &Value, container: Container) -> Result<Vec<(String, Value)>, EditError> {
    let servers = match doc {
        Value::Null => return Ok(Vec::new()),
        Value::Object(root) => match root.get(container.key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(servers) => servers,
        },
        _ => return Err(EditError::Shape("the top level is not a map of settings".into())),
    };
    match (servers, container.named_list) {
        (Value::Object(map), false) => {
            Ok(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        (Value::Array(items), true) => Ok(items
            .iter()
            .filter_map(|item| {
                let name = item.get(container.id_field)?.as_str()?;
                Some((name.to_string(), item.clone()))
            })
            .collect()),
        _ => Err(EditError::Shape(format!(
            "`{}` is not a {}",
            container.key,
            if container.named_list { "list" } else { "map" }
        ))),
    }
}

/// `text` with the entry `name` set to `value` (added at the end of the container, or replaced
/// where it is), creating the container (and the document) when missing.
pub fn upsert(
    format: Format,
    container: Container,
    text: &str,
    name: &str,
    value: &Value,
) -> Result<String, EditError> {
    let before = document(format, text)?;
    entries(&before, container)?;
    supported(format, container)?;
    let edited = match format {
        Format::Json | Format::Jsonc => json::upsert(text, format, container, name, value)?,
        Format::Toml => toml::upsert(text, container, name, value)?,
        Format::Yaml => yaml::upsert(text, container, name, value)?,
    };
    let mut expected = before;
    set_entry(&mut expected, container, name, Some(value));
    verify(format, container, &edited, &expected)?;
    Ok(edited)
}

/// `text` without the entry `name`. The container stays, even when it becomes empty.
pub fn remove(
    format: Format,
    container: Container,
    text: &str,
    name: &str,
) -> Result<String, EditError> {
    let before = document(format, text)?;
    if !entries(&before, container)?.iter().any(|(n, _)| n == name) {
        return Ok(text.to_string());
    }
    supported(format, container)?;
    let edited = match format {
        Format::Json | Format::Jsonc => json::remove(text, format, container, name)?,
        Format::Toml => toml::remove(text, container, name)?,
        Format::Yaml => yaml::remove(text, container, name)?,
    };
    let mut expected = before;
    set_entry(&mut expected, container, name, None);
    verify(format, container, &edited, &expected)?;
    Ok(edited)
}

/// `text` with `name` set to `value`, and the receipt that removes it again exactly.
pub fn apply_entry(
    format: Format,
    container: Container,
    text: &str,
    name: &str,
    value: &Value,
) -> Result<(String, Receipt), EditError> {
    let before = document(format, text)?;
    let present = entries(&before, container)?.iter().any(|(n, _)| n == name);
    let without = if present { remove(format, container, text, name)? } else { text.to_string() };
    let with = upsert(format, container, text, name, value)?;
    let receipt = Receipt::between(&without, &with);
    Ok((with, receipt))
}

/// `text` without the entry `name`: exactly the bytes from before it was added when `receipt`
/// still fits and means the file without the entry, else the structural removal. The receipt
/// is tried even when the structural removal is refused: a layout this crate could add to but
/// not take from (a lone `\r` ends a line for YAML, not for the line splicer) still gets its
/// own bytes back.
pub fn remove_exact(
    format: Format,
    container: Container,
    text: &str,
    name: &str,
    receipt: Option<&Receipt>,
) -> Result<String, EditError> {
    let structural = remove(format, container, text, name);
    if let Some(candidate) = receipt.and_then(|r| r.undo(text))
        && let Ok(mut expected) = document(format, text)
        && let Ok(undone) = document(format, &candidate)
    {
        set_entry(&mut expected, container, name, None);
        if normalized(undone, container) == normalized(expected, container) {
            return Ok(candidate);
        }
    }
    structural
}

/// Lists are named by `name` in YAML (Continue) and by any field in JSON; TOML has none.
fn supported(format: Format, container: Container) -> Result<(), EditError> {
    let ok = !container.named_list
        || matches!(format, Format::Json | Format::Jsonc)
        || (format == Format::Yaml && container.id_field == "name");
    if ok {
        Ok(())
    } else {
        Err(EditError::Shape(format!("`{}` lists cannot be edited in this format", container.key)))
    }
}

fn verify(
    format: Format,
    container: Container,
    edited: &str,
    expected: &Value,
) -> Result<(), EditError> {
    let after = document(format, edited)
        .map_err(|e| EditError::NotLossless(format!("the edited text would not parse ({e})")))?;
    if normalized(after, container) == normalized(expected.clone(), container) {
        Ok(())
    } else {
        Err(EditError::NotLossless(
            "the edit would change other settings; the file's layout is not one Switchboard can \
             edit safely"
                .into(),
        ))
    }
}

/// An empty container means the same as none, and an empty document the same as an empty map
/// (a TOML table with no keys left is not written at all).
pub fn normalized(mut doc: Value, container: Container) -> Value {
    if let Value::Object(root) = &mut doc {
        let empty = match root.get(container.key) {
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Null) => true,
            _ => false,
        };
        if empty {
            root.remove(container.key);
        }
        if root.is_empty() {
            return Value::Null;
        }
    }
    doc
}

/// Sets (or with `None` removes) one entry in a parsed document.
pub fn set_entry(doc: &mut Value, container: Container, name: &str, value: Option<&Value>) {
    if doc.is_null() {
        if value.is_none() {
            return;
        }
        *doc = Value::Object(Map::new());
    }
    let Value::Object(root) = doc else { return };
    let servers = root.entry(container.key.to_string()).or_insert(Value::Null);
    if servers.is_null() {
        if value.is_none() {
            return;
        }
        *servers =
            if container.named_list { Value::Array(Vec::new()) } else { Value::Object(Map::new()) };
    }
    match servers {
        Value::Object(map) => match value {
            Some(v) => {
                map.insert(name.to_string(), v.clone());
            }
            None => {
                map.remove(name);
            }
        },
        Value::Array(items) => {
            let at = items
                .iter()
                .position(|i| i.get(container.id_field).and_then(Value::as_str) == Some(name));
            match (at, value) {
                (Some(i), Some(v)) => items[i] = v.clone(),
                (None, Some(v)) => items.push(v.clone()),
                (Some(i), None) => {
                    items.remove(i);
                }
                (None, None) => {}
            }
        }
        _ => {}
    }
}

/// The order fields are written in: how hosts' own docs show an entry.
const FIELD_ORDER: &[&str] = &[
    "name",
    "type",
    "id",
    "source",
    "command",
    "cmd",
    "args",
    "env",
    "envs",
    "cwd",
    "url",
    "serverUrl",
    "httpUrl",
    "uri",
    "headers",
    "http_headers",
    "enabled",
    "disabled",
];

/// An entry's fields in writing order.
fn ordered(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut fields: Vec<(&String, &Value)> = map.iter().collect();
    fields.sort_by_key(|(k, _)| {
        (FIELD_ORDER.iter().position(|f| f == k).unwrap_or(FIELD_ORDER.len()), k.to_string())
    });
    fields
}

/// The newline a file uses (its first one), `\n` when it has none.
fn newline_of(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests;
