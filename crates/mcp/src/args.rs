//! Tool arguments from the command line: `KEY=VALUE` pairs coerced by the tool's input schema
//! (`count=3` becomes a number when the schema says integer, and stays the string "3" when it says
//! string). Dotted keys (`a.b=1`) build nested objects.

use serde_json::{Map, Value};

use crate::export::resolve_local_ref;

/// Why arguments could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArgError(pub String);

/// Builds an argument object from `KEY=VALUE` pairs, on top of `base` (e.g. from `--args-json`).
pub fn build(
    pairs: &[String],
    schema: &Value,
    base: Map<String, Value>,
) -> Result<Map<String, Value>, ArgError> {
    let mut args = base;
    for pair in pairs {
        let Some((key, raw)) = pair.split_once('=') else {
            return Err(ArgError(format!("{pair:?} is not KEY=VALUE")));
        };
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(ArgError(format!("{pair:?} has an empty key")));
        }
        let path: Vec<&str> = key.split('.').collect();
        insert(&mut args, &path, raw, Some(schema), schema, key)?;
    }
    Ok(args)
}

fn insert(
    object: &mut Map<String, Value>,
    path: &[&str],
    raw: &str,
    schema: Option<&Value>,
    root: &Value,
    full_key: &str,
) -> Result<(), ArgError> {
    let schema = schema.map(|s| resolve(s, root));
    let property = schema.and_then(|s| s.get("properties")).and_then(|p| p.get(path[0]));
    let closed = schema
        .and_then(|s| s.get("additionalProperties"))
        .is_some_and(|a| a == &Value::Bool(false));
    if property.is_none() && closed {
        let known: Vec<&String> = schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        let known: Vec<&str> = known.iter().map(|k| k.as_str()).collect();
        return Err(ArgError(format!(
            "unknown argument {full_key:?}; this tool takes: {}",
            if known.is_empty() { "nothing".to_owned() } else { known.join(", ") }
        )));
    }
    if path.len() == 1 {
        object.insert(path[0].to_owned(), coerce(raw, property, root, full_key)?);
        return Ok(());
    }
    let child = object.entry(path[0].to_owned()).or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(child) = child else {
        return Err(ArgError(format!(
            "{full_key:?}: {:?} is already set to a non-object",
            path[0]
        )));
    };
    insert(child, &path[1..], raw, property, root, full_key)
}

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..32 {
        match current.get("$ref").and_then(Value::as_str).and_then(|r| resolve_local_ref(root, r)) {
            Some(target) => current = target,
            None => break,
        }
    }
    current
}

/// The JSON types a schema admits, in the order to try them; empty when it does not say.
fn types_of(schema: &Value, root: &Value) -> Vec<String> {
    let schema = resolve(schema, root);
    let mut types: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(variants)) = schema.get(key) {
            for variant in variants {
                types.extend(types_of(variant, root));
            }
        }
    }
    let literals = schema
        .get("enum")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| schema.get("const").map(|c| vec![c.clone()]));
    if types.is_empty()
        && let Some(values) = literals
    {
        for value in values {
            types.push(
                match value {
                    Value::Null => "null",
                    Value::Bool(_) => "boolean",
                    Value::Number(_) => "number",
                    Value::String(_) => "string",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                }
                .to_owned(),
            );
        }
    }
    // Try the strict types first; a string accepts anything, so it goes last.
    let rank = |t: &str| match t {
        "null" => 0,
        "boolean" => 1,
        "integer" => 2,
        "number" => 3,
        "array" | "object" => 4,
        _ => 5,
    };
    types.sort_by_key(|t| rank(t));
    types.dedup();
    types
}

/// Coerces one raw value to what `schema` expects.
pub fn coerce(
    raw: &str,
    schema: Option<&Value>,
    root: &Value,
    key: &str,
) -> Result<Value, ArgError> {
    let types = schema.map(|s| types_of(s, root)).unwrap_or_default();
    if types.is_empty() {
        // No schema to go by: JSON if it parses, else the text.
        return Ok(serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned())));
    }
    for t in &types {
        let value = match t.as_str() {
            "null" if raw == "null" => Some(Value::Null),
            "boolean" => match raw {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            "integer" => raw.parse::<i64>().ok().map(Value::from),
            "number" => raw.parse::<f64>().ok().filter(|n| n.is_finite()).and_then(|n| {
                raw.parse::<i64>()
                    .map(Value::from)
                    .ok()
                    .or_else(|| serde_json::Number::from_f64(n).map(Value::Number))
            }),
            "array" => serde_json::from_str::<Value>(raw).ok().filter(Value::is_array),
            "object" => serde_json::from_str::<Value>(raw).ok().filter(Value::is_object),
            "string" => Some(Value::String(raw.to_owned())),
            _ => None,
        };
        if let Some(value) = value {
            return Ok(value);
        }
    }
    Err(ArgError(format!("{key}={raw:?} is not a valid {}", types.join(" or "))))
}

/// The names an object schema lists as `required`.
pub fn required_names(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|required| required.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Required arguments missing from `args`, at the top level.
pub fn missing_required(args: &Map<String, Value>, schema: &Value) -> Vec<String> {
    required_names(resolve(schema, schema))
        .into_iter()
        .filter(|name| !args.contains_key(*name))
        .map(str::to_owned)
        .collect()
}

/// Checks `args` against the tool's input schema; each problem as `path: message`.
pub fn validate(args: &Value, schema: &Value) -> Vec<String> {
    match jsonschema::validator_for(schema) {
        Ok(validator) => validator
            .iter_errors(args)
            .map(|e| {
                let path = e.instance_path.to_string();
                let at = if path.is_empty() { "(arguments)".to_owned() } else { path };
                format!("{at}: {e}")
            })
            .collect(),
        Err(error) => vec![format!("the tool's input schema is not valid JSON Schema: {error}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "count": {"type": "integer"},
                "ratio": {"type": "number"},
                "loud": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "maybe": {"type": ["integer", "null"]},
                "mode": {"enum": ["fast", "slow"]},
                "either": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                "point": {"$ref": "#/$defs/Point"}
            },
            "required": ["message", "count"],
            "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}}
        })
    }

    fn args(pairs: &[&str]) -> Result<Map<String, Value>, ArgError> {
        let pairs: Vec<String> = pairs.iter().map(|p| p.to_string()).collect();
        build(&pairs, &schema(), Map::new())
    }

    #[test]
    fn values_follow_the_schema() {
        let got = args(&[
            "message=42",
            "count=3",
            "ratio=0.5",
            "loud=true",
            "tags=[\"a\",\"b\"]",
            "maybe=null",
            "mode=fast",
            "either=7",
            "point.x=1.5",
        ])
        .expect("coerces");
        assert_eq!(
            Value::Object(got),
            json!({
                "message": "42", "count": 3, "ratio": 0.5, "loud": true, "tags": ["a", "b"],
                "maybe": null, "mode": "fast", "either": 7, "point": {"x": 1.5}
            })
        );
        let got = args(&["either=seven", "message=a=b"]).expect("coerces");
        assert_eq!(got["either"], "seven");
        assert_eq!(got["message"], "a=b", "only the first = splits");
    }

    #[test]
    fn wrong_values_say_what_was_expected() {
        let error = args(&["count=three"]).expect_err("refused");
        assert_eq!(error.0, "count=\"three\" is not a valid integer");
        let error = args(&["loud=yes"]).expect_err("refused");
        assert!(error.0.contains("boolean"), "{error}");
        assert!(args(&["novalue"]).expect_err("refused").0.contains("KEY=VALUE"));
        assert!(args(&[".x=1"]).is_err());
    }

    #[test]
    fn unknown_keys_are_kept_unless_the_schema_is_closed() {
        let got = args(&["extra={\"a\":1}", "word=hello"]).expect("open schema");
        assert_eq!(got["extra"], json!({"a": 1}));
        assert_eq!(got["word"], "hello");
        let closed = json!({"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false});
        let error = build(&["b=1".into()], &closed, Map::new()).expect_err("closed");
        assert!(error.0.contains("this tool takes: a"), "{error}");
    }

    #[test]
    fn validation_names_each_problem_with_its_path() {
        let problems =
            validate(&json!({"message": 1, "count": "x", "point": {"x": "far"}}), &schema());
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("/point/x: ")), "{problems:?}");
        assert!(validate(&json!({"message": "m", "count": 1}), &schema()).is_empty());
        let missing = validate(&json!({}), &schema());
        assert!(
            missing.iter().any(|p| p.contains("\"message\" is a required property")),
            "{missing:?}"
        );
    }

    #[test]
    fn missing_required_arguments_are_named() {
        let got = args(&["message=hi"]).expect("builds");
        assert_eq!(missing_required(&got, &schema()), ["count"]);
    }
}
