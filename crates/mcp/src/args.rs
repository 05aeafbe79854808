//! Tool arguments from the command line: `KEY=VALUE` pairs coerced by the tool's input schema
//! (`count=3` becomes a number when the schema says integer, and stays the string "3" when it says
//! string). Dotted keys (`a.b=1`) build nested objects.

use std::collections::HashSet;

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
    let mut types = types_within(schema, root, &mut HashSet::new());
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

/// The types `schema` and its `anyOf`/`oneOf` variants name. Each schema is looked at once
/// (`seen`): a variant that refers back to a schema being read (`{"anyOf": [{"$ref": "#"}]}`)
/// adds nothing, and variants shared many times over are not read again and again.
fn types_within<'a>(
    schema: &'a Value,
    root: &'a Value,
    seen: &mut HashSet<*const Value>,
) -> Vec<String> {
    let schema = resolve(schema, root);
    if !seen.insert(std::ptr::from_ref(schema)) {
        return Vec::new();
    }
    let mut types: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(variants)) = schema.get(key) {
            for variant in variants {
                types.extend(types_within(variant, root, seen));
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
    if loops_in_place(schema) {
        // The validator would apply such a schema to the same value again and again, until
        // memory runs out (`{"anyOf": [{"$ref": "#"}]}`).
        return vec![
            "the tool's input schema refers to itself without end ($ref cycle through anyOf, \
             allOf, oneOf, not or if); the arguments were not checked against it"
                .to_owned(),
        ];
    }
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

/// Whether some subschema leads back to itself through `$ref`s and the keywords that apply a
/// schema to the same value (`allOf`, `anyOf`, `oneOf`, `not`, `if`, `then`, `else`,
/// `dependentSchemas`) without going down into the value.
fn loops_in_place(schema: &Value) -> bool {
    fn in_place<'a>(node: &'a Map<String, Value>, root: &'a Value) -> Vec<&'a Value> {
        let mut next = Vec::new();
        if let Some(target) =
            node.get("$ref").and_then(Value::as_str).and_then(|r| resolve_local_ref(root, r))
        {
            next.push(target);
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(items)) = node.get(key) {
                next.extend(items);
            }
        }
        for key in ["not", "if", "then", "else"] {
            next.extend(node.get(key));
        }
        if let Some(Value::Object(schemas)) = node.get("dependentSchemas") {
            next.extend(schemas.values());
        }
        next
    }
    /// Depth-first: `path` holds the schemas on the way here, `done` those fully explored.
    fn cycle_from(
        node: &Value,
        root: &Value,
        path: &mut Vec<*const Value>,
        done: &mut HashSet<*const Value>,
    ) -> bool {
        let Value::Object(map) = node else { return false };
        let id = std::ptr::from_ref(node);
        if path.contains(&id) {
            return true;
        }
        if !done.insert(id) {
            return false;
        }
        path.push(id);
        let found = in_place(map, root).into_iter().any(|next| cycle_from(next, root, path, done));
        path.pop();
        found
    }
    /// Every subschema can start a cycle, not only the root (`properties.a` naming itself).
    fn any_node(node: &Value, root: &Value, done: &mut HashSet<*const Value>) -> bool {
        if cycle_from(node, root, &mut Vec::new(), done) {
            return true;
        }
        match node {
            Value::Object(map) => map.values().any(|v| any_node(v, root, done)),
            Value::Array(items) => items.iter().any(|v| any_node(v, root, done)),
            _ => false,
        }
    }
    any_node(schema, schema, &mut HashSet::new())
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
    fn a_variant_referring_back_to_its_schema_is_typed_not_a_stack_overflow() {
        // Found by fuzzing (tool_schema): `types_of` followed `{"$ref": "#"}` back to the root
        // and its `anyOf` forever, and a server's tool schema crashed `call` with a stack
        // overflow.
        let schema = json!({"anyOf": [{"$ref": "#"}, {"type": "integer"}]});
        assert_eq!(coerce("3", Some(&schema), &schema, "n"), Ok(json!(3)));
        let error = coerce("x", Some(&schema), &schema, "n").expect_err("not an integer");
        assert_eq!(error.0, "n=\"x\" is not a valid integer");
        let only_itself = json!({"oneOf": [{"$ref": "#"}]});
        assert_eq!(coerce("x", Some(&only_itself), &only_itself, "k"), Ok(json!("x")));
        // Shared variants, many levels deep: read once each, not 2^40 times.
        let mut defs = serde_json::Map::new();
        for i in 0..40 {
            let next = format!("#/$defs/d{}", i + 1);
            defs.insert(format!("d{i}"), json!({"anyOf": [{"$ref": next}, {"$ref": next}]}));
        }
        defs.insert("d40".into(), json!({"type": "boolean"}));
        let deep = json!({"$ref": "#/$defs/d0", "$defs": defs});
        assert_eq!(coerce("true", Some(&deep), &deep, "b"), Ok(json!(true)));
    }

    #[test]
    fn a_schema_that_applies_itself_in_place_is_not_handed_to_the_validator() {
        // Found by fuzzing (tool_schema): the validator applied `{"anyOf": [{"$ref": "#"}]}`
        // to the same arguments forever and ran out of memory.
        for looping in [
            json!({"anyOf": [{"$ref": "#"}]}),
            json!({"properties": {"a": {"allOf": [{"$ref": "#/properties/a"}]}}}),
            json!({"$defs": {"x": {"not": {"$ref": "#/$defs/y"}}, "y": {"$ref": "#/$defs/x"}}}),
        ] {
            let problems = validate(&json!({"a": 1}), &looping);
            assert_eq!(problems.len(), 1, "{looping}: {problems:?}");
            assert!(problems[0].contains("refers to itself without end"), "{problems:?}");
        }
        // Recursion through a property or an array's items goes down into the value: fine.
        let tree = json!({"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#"}}}});
        assert!(validate(&json!({"children": [{"children": []}]}), &tree).is_empty());
        assert_eq!(validate(&json!({"children": 3}), &tree).len(), 1);
    }

    #[test]
    fn missing_required_arguments_are_named() {
        let got = args(&["message=hi"]).expect("builds");
        assert_eq!(missing_required(&got, &schema()), ["count"]);
    }
}
