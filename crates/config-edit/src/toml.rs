//! TOML through `toml_edit`: comments, blank lines and the order of everything else stay. An
//! entry is a `[key.name]` table placed after the container's last table.

use serde_json::{Map, Value};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, TableLike};

use crate::{Container, EditError, ordered};

fn parse(text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>().map_err(|e| {
        let (line, column) = e.span().map(|span| line_column(text, span.start)).unwrap_or((0, 0));
        EditError::Parse { line, column, message: e.message().to_string() }
    })
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

pub(super) fn document(text: &str) -> Result<Value, EditError> {
    let doc = parse(text)?;
    if doc.as_table().is_empty() {
        return Ok(Value::Null);
    }
    Ok(table_value(doc.as_table()))
}

fn table_value(table: &dyn TableLike) -> Value {
    Value::Object(
        table.iter().filter_map(|(k, item)| Some((k.to_string(), item_value(item)?))).collect(),
    )
}

fn item_value(item: &Item) -> Option<Value> {
    match item {
        Item::None => None,
        Item::Value(v) => Some(value_value(v)),
        Item::Table(t) => Some(table_value(t)),
        Item::ArrayOfTables(a) => Some(Value::Array(a.iter().map(|t| table_value(t)).collect())),
    }
}

fn value_value(value: &toml_edit::Value) -> Value {
    match value {
        toml_edit::Value::String(s) => Value::String(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::from(*i.value()),
        toml_edit::Value::Float(f) => serde_json::Number::from_f64(*f.value())
            .map_or_else(|| Value::String(f.value().to_string()), Value::Number),
        toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
        toml_edit::Value::Datetime(d) => Value::String(d.value().to_string()),
        toml_edit::Value::Array(a) => Value::Array(a.iter().map(value_value).collect()),
        toml_edit::Value::InlineTable(t) => table_value(t),
    }
}

fn to_toml(value: &Value) -> Result<toml_edit::Value, EditError> {
    Ok(match value {
        Value::Null => return Err(EditError::Shape("TOML has no null".into())),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or_default().into(),
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => {
            let mut array = Array::new();
            for item in items {
                array.push(to_toml(item)?);
            }
            toml_edit::Value::Array(array)
        }
        Value::Object(map) => toml_edit::Value::InlineTable(inline(map)?),
    })
}

fn inline(map: &Map<String, Value>) -> Result<InlineTable, EditError> {
    let mut table = InlineTable::new();
    for (k, v) in ordered(map) {
        table.insert(k, to_toml(v)?);
    }
    Ok(table)
}

fn entry_table(value: &Value) -> Result<Table, EditError> {
    let Value::Object(map) = value else {
        return Err(EditError::Shape("an entry must be a table".into()));
    };
    let mut table = Table::new();
    for (k, v) in ordered(map) {
        table.insert(k, Item::Value(to_toml(v)?));
    }
    Ok(table)
}

pub(super) fn upsert(
    text: &str,
    container: Container,
    name: &str,
    value: &Value,
) -> Result<String, EditError> {
    let mut doc = parse(text)?;
    let servers = doc.entry(container.key).or_insert_with(|| {
        let mut table = Table::new();
        table.set_implicit(true);
        Item::Table(table)
    });
    let servers = servers
        .as_table_like_mut()
        .ok_or_else(|| EditError::Shape(format!("`{}` is not a table", container.key)))?;
    let table = entry_table(value)?;
    match servers.get_mut(name) {
        // Keep an existing entry's place (and its inline or dotted form, if it had one).
        Some(Item::Table(existing)) => {
            let position = existing.position();
            *existing = table;
            existing.set_position(position);
        }
        Some(other) => {
            *other = Item::Value(toml_edit::Value::InlineTable(table.into_inline_table()))
        }
        None => {
            servers.insert(name, Item::Table(table));
        }
    }
    Ok(doc.to_string())
}

pub(super) fn remove(text: &str, container: Container, name: &str) -> Result<String, EditError> {
    let mut doc = parse(text)?;
    if let Some(servers) = doc.get_mut(container.key).and_then(Item::as_table_like_mut) {
        servers.remove(name);
    }
    Ok(doc.to_string())
}
