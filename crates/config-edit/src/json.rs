//! JSON and JSONC through `jsonc-parser`'s concrete syntax tree: comments, trailing commas,
//! indentation and newlines outside the entry stay as they are.

use jsonc_parser::{
    ParseOptions,
    cst::{CstArray, CstInputValue, CstObject, CstRootNode},
    errors::ParseError,
};
use serde_json::Value;

use crate::{Container, EditError, Format, ordered};

fn options(format: Format) -> ParseOptions {
    let loose = format == Format::Jsonc;
    ParseOptions {
        allow_comments: loose,
        allow_trailing_commas: loose,
        allow_loose_object_property_names: false,
    }
}

fn parse_error(e: &ParseError) -> EditError {
    EditError::Parse {
        line: e.line_display(),
        column: e.column_display(),
        message: e.kind().to_string(),
    }
}

/// How deep arrays and objects may nest. The parser recurses once per level, so a file of
/// thousands of `[` overflowed the stack (found by the `config_edit_json` fuzz target); host
/// files nest a handful of levels. serde_json's own limit is the same.
const MAX_DEPTH: usize = 128;

/// Refuses text that nests deeper than [`MAX_DEPTH`], before the parser sees it. Brackets in
/// strings and comments do not count.
fn check_depth(text: &str) -> Result<(), EditError> {
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        column += 1;
        match c {
            '\n' => (line, column) = (line + 1, 0),
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        '\n' => (line, column) = (line + 1, 0),
                        _ => {}
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        (line, column) = (line + 1, 0);
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut star = false;
                for c in chars.by_ref() {
                    if c == '\n' {
                        (line, column) = (line + 1, 0);
                    }
                    if star && c == '/' {
                        break;
                    }
                    star = c == '*';
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(EditError::Parse {
                        line,
                        column,
                        message: format!(
                            "arrays and objects nested deeper than {MAX_DEPTH} levels"
                        ),
                    });
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn document(text: &str, format: Format) -> Result<Value, EditError> {
    check_depth(text)?;
    Ok(jsonc_parser::parse_to_serde_value(text, &options(format))
        .map_err(|e| parse_error(&e))?
        .unwrap_or(Value::Null))
}

fn input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(input).collect()),
        Value::Object(map) => CstInputValue::Object(
            ordered(map).into_iter().map(|(k, v)| (k.clone(), input(v))).collect(),
        ),
    }
}

/// The container object, which `document` has already checked is an object when present.
fn container_object(root: &CstRootNode, container: Container, create: bool) -> Option<CstObject> {
    let top = if create { Some(root.object_value_or_set()) } else { root.object_value() }?;
    if create {
        Some(top.object_value_or_set(container.key))
    } else {
        top.object_value(container.key)
    }
}

pub(super) fn upsert(
    text: &str,
    format: Format,
    container: Container,
    name: &str,
    value: &Value,
) -> Result<String, EditError> {
    check_depth(text)?;
    let root = CstRootNode::parse(text, &options(format)).map_err(|e| parse_error(&e))?;
    if container.named_list {
        let list = root.object_value_or_set().array_value_or_set(container.key);
        match list_item(&list, container, name) {
            Some(existing) => {
                existing.replace_with(input(value));
            }
            None => {
                list.append(input(value));
            }
        }
        return Ok(root.to_string());
    }
    let servers = container_object(&root, container, true)
        .ok_or_else(|| EditError::Shape(format!("`{}` is not a map", container.key)))?;
    match servers.get(name) {
        Some(existing) => existing.set_value(input(value)),
        None => {
            servers.append(name, input(value));
        }
    }
    Ok(root.to_string())
}

pub(super) fn remove(
    text: &str,
    format: Format,
    container: Container,
    name: &str,
) -> Result<String, EditError> {
    check_depth(text)?;
    let root = CstRootNode::parse(text, &options(format)).map_err(|e| parse_error(&e))?;
    if container.named_list {
        if let Some(item) = root
            .object_value()
            .and_then(|top| top.array_value(container.key))
            .and_then(|list| list_item(&list, container, name))
        {
            item.remove();
        }
    } else if let Some(entry) = container_object(&root, container, false).and_then(|s| s.get(name))
    {
        entry.remove();
    }
    Ok(root.to_string())
}

/// The object in `list` whose `id_field` is `name`.
fn list_item(list: &CstArray, container: Container, name: &str) -> Option<CstObject> {
    list.elements().into_iter().filter_map(|e| e.as_object()).find(|item| {
        item.to_serde_value()
            .and_then(|v| v.get(container.id_field)?.as_str().map(|s| s == name))
            .unwrap_or(false)
    })
}
