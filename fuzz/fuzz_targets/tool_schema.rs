//! A tool's input schema, as a server declares it (any JSON: `$ref` cycles, deep nesting,
//! combinators), used two ways. `KEY=VALUE` arguments typed by it: a call's arguments are built
//! or refused with a message, the last pair's value is where its dotted key says, and a string
//! value is the text typed; missing required arguments are ones the schema requires. Export for
//! LLM function calling: one tool out per tool in, names valid for the providers and unique,
//! every local `$ref` inlined or dropped, the parameters an object schema.
//!
//! Input: the schema on the first line, then one `KEY=VALUE` per line (each key also names a
//! tool for the export).
#![no_main]

use std::{collections::HashSet, sync::Arc};

use serde_json::{Map, Value};
use switchboard_mcp::{args, export, rmcp::model::Tool};

fn has_string_ref(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            map.get("$ref").is_some_and(Value::is_string) || map.values().any(has_string_ref)
        }
        Value::Array(items) => items.iter().any(has_string_ref),
        _ => false,
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= export::MAX_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn check_args(pairs: &[String], schema: &Value) {
    let built = args::build(pairs, schema, Map::new());
    for pair in pairs {
        if let Some((key, raw)) = pair.split_once('=') {
            let _ = args::coerce(raw, Some(schema), schema, key);
        }
    }
    let Ok(built) = built else { return };
    if let Some((key, raw)) = pairs.last().and_then(|p| p.split_once('=')) {
        let mut at = built.get(key.split('.').next().unwrap_or_default());
        for part in key.split('.').skip(1) {
            at = at.and_then(|v| v.get(part));
        }
        let Some(value) = at else { panic!("{key}={raw} is not in the arguments: {built:?}") };
        if let Value::String(s) = value {
            let as_json = serde_json::from_str::<String>(raw).ok();
            assert!(
                s == raw || as_json.as_deref() == Some(s.as_str()),
                "{key}={raw:?} became the string {s:?}"
            );
        }
    }
    for name in args::missing_required(&built, schema) {
        assert!(!built.contains_key(&name), "{name} is given yet reported missing");
    }
    let _ = args::validate(&Value::Object(built), schema);
}

fn check_export(names: &[&str], schema: &Value) {
    let Value::Object(map) = schema else { return };
    let map = Arc::new(map.clone());
    let tools: Vec<Tool> =
        names.iter().map(|name| Tool::new(name.to_string(), "a tool", map.clone())).collect();
    for format in [export::Format::Openai, export::Format::Anthropic] {
        let out = export::export(&tools, format);
        assert_eq!(out.tools.len(), tools.len(), "tools lost or added");
        let mut seen = HashSet::new();
        for (tool, original) in out.tools.iter().zip(names) {
            let (name, parameters) = match format {
                export::Format::Openai => {
                    (&tool["function"]["name"], &tool["function"]["parameters"])
                }
                export::Format::Anthropic => (&tool["name"], &tool["input_schema"]),
            };
            let name = name.as_str().unwrap_or_default();
            assert!(valid_name(name), "exported name {name:?} (from {original:?})");
            assert!(seen.insert(name.to_owned()), "two tools exported as {name:?}");
            let renamed = out.renamed.iter().any(|r| r.from == *original && r.to == name);
            assert!(name == *original || renamed, "{original:?} became {name:?} unreported");
            assert_eq!(parameters["type"], "object", "parameters: {parameters}");
            assert!(!has_string_ref(parameters), "a $ref is left: {parameters}");
        }
    }
}

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let Some(first) = lines.next() else { return };
    let Ok(schema) = serde_json::from_str::<Value>(first) else { return };
    let pairs: Vec<String> = lines.take(16).map(str::to_owned).collect();
    check_args(&pairs, &schema);
    let names: Vec<&str> = pairs.iter().map(|p| p.split('=').next().unwrap_or_default()).collect();
    check_export(&names, &schema);
});
