//! Export of MCP tools for LLM function calling: OpenAI function tools and Anthropic tool
//! definitions. Local `$ref`s are inlined and `$defs` dropped, names are made valid for the
//! provider (`^[a-zA-Z0-9_-]{1,64}$`) and unique, descriptions are kept, and everything that
//! could not be carried over faithfully is reported.

use std::collections::HashSet;

use rmcp::model::Tool;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The provider format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `{"type":"function","function":{"name","description","parameters"}}`
    Openai,
    /// `{"name","description","input_schema"}`
    Anthropic,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "openai" => Ok(Format::Openai),
            "anthropic" => Ok(Format::Anthropic),
            other => Err(format!("unknown format {other:?} (openai, anthropic)")),
        }
    }
}

/// A note about one tool that did not carry over exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Problem {
    pub tool: String,
    pub problem: String,
}

/// A tool's name before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Renamed {
    pub from: String,
    pub to: String,
}

/// The exported tools and the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Export {
    pub format: Format,
    /// Ready to pass as the provider's `tools` array.
    #[ts(type = "unknown[]")]
    pub tools: Vec<Value>,
    pub renamed: Vec<Renamed>,
    pub problems: Vec<Problem>,
}

/// The longest tool name either provider accepts.
pub const MAX_NAME: usize = 64;

/// Exports `tools` in `format`.
pub fn export(tools: &[Tool], format: Format) -> Export {
    let mut taken = HashSet::new();
    let mut out = Export { format, tools: Vec::new(), renamed: Vec::new(), problems: Vec::new() };
    for tool in tools {
        let original = tool.name.to_string();
        let name = unique_name(&sanitize_name(&original), &mut taken);
        if name != original {
            out.renamed.push(Renamed { from: original.clone(), to: name.clone() });
        }
        let mut problems = Vec::new();
        let schema = Value::Object(tool.input_schema.as_ref().clone());
        let parameters = parameters_for(&schema, &mut problems);
        let description = tool
            .description
            .as_ref()
            .map(|d| d.to_string())
            .or_else(|| tool.title.clone())
            .unwrap_or_default();
        if description.is_empty() {
            problems.push("no description: the model has only the name to go by".to_owned());
        }
        if tool.output_schema.is_some() {
            problems.push(
                "outputSchema has no place in function definitions and was left out".to_owned(),
            );
        }
        let value = match format {
            Format::Openai => json!({
                "type": "function",
                "function": { "name": name, "description": description, "parameters": parameters }
            }),
            Format::Anthropic => json!({
                "name": name, "description": description, "input_schema": parameters
            }),
        };
        out.tools.push(value);
        out.problems.extend(
            problems.into_iter().map(|problem| Problem { tool: original.clone(), problem }),
        );
    }
    out
}

/// Replaces characters outside `[a-zA-Z0-9_-]` with `_` and cuts to 64 characters.
pub fn sanitize_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .take(MAX_NAME)
        .collect();
    if cleaned.is_empty() { "tool".to_owned() } else { cleaned }
}

fn unique_name(base: &str, taken: &mut HashSet<String>) -> String {
    if taken.insert(base.to_owned()) {
        return base.to_owned();
    }
    // At most `taken.len() + 1` candidates are needed for one of them to be free.
    let found = (2..=taken.len() + 2).find_map(|n| {
        let suffix = format!("_{n}");
        let keep = MAX_NAME - suffix.len();
        let candidate = format!("{}{suffix}", &base[..base.len().min(keep)]);
        taken.insert(candidate.clone()).then_some(candidate)
    });
    found.unwrap_or_else(|| base.to_owned())
}

/// How many schema nodes inlining may write for one tool. Real schemas stay far below it; a
/// schema whose `$ref`s fan out (each definition naming the next twice, forty deep) would
/// otherwise expand to billions of nodes.
pub const MAX_INLINED_NODES: usize = 100_000;

/// The tool's input schema as a provider's parameter object.
fn parameters_for(schema: &Value, problems: &mut Vec<String>) -> Value {
    // The definitions are dropped below; inlining them first would spend the budget on them.
    let mut body = schema.clone();
    if let Value::Object(map) = &mut body {
        map.remove("$defs");
        map.remove("definitions");
    }
    let mut budget = MAX_INLINED_NODES;
    let mut inlined = inline_refs(&body, schema, &mut Vec::new(), &mut budget, problems);
    let Value::Object(root) = &mut inlined else {
        problems.push("the input schema is not an object; replaced by an empty object".to_owned());
        return json!({"type": "object", "properties": {}});
    };
    for key in ["$schema", "$id", "$defs", "definitions"] {
        root.remove(key);
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(variants)) = root.remove(combinator) {
            flatten(root, &variants, combinator == "allOf");
            problems.push(format!(
                "top-level {combinator} is not accepted by providers; its variants' properties \
                 were merged{}",
                if combinator == "allOf" {
                    ""
                } else {
                    " and only arguments every variant requires stay required"
                }
            ));
        }
    }
    match root.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        None => {
            root.insert("type".to_owned(), json!("object"));
        }
        Some(other) => {
            problems.push(format!("input schema type {other} is not \"object\"; set to object"));
            root.insert("type".to_owned(), json!("object"));
        }
    }
    root.entry("properties").or_insert_with(|| json!({}));
    inlined
}

/// Merges the properties of top-level variants into `root`.
fn flatten(root: &mut Map<String, Value>, variants: &[Value], all: bool) {
    let mut required: Option<Vec<Value>> = None;
    let properties = root.entry("properties").or_insert_with(|| json!({}));
    for variant in variants {
        if let (Some(Value::Object(props)), Value::Object(target)) =
            (variant.get("properties"), &mut *properties)
        {
            for (k, v) in props {
                target.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        let variant_required: Vec<Value> =
            variant.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
        required = Some(match required {
            None => variant_required,
            Some(current) if all => {
                let mut merged = current;
                for r in variant_required {
                    if !merged.contains(&r) {
                        merged.push(r);
                    }
                }
                merged
            }
            Some(current) => current.into_iter().filter(|r| variant_required.contains(r)).collect(),
        });
    }
    let mut merged: Vec<Value> =
        root.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
    for r in required.unwrap_or_default() {
        if !merged.contains(&r) {
            merged.push(r);
        }
    }
    if !merged.is_empty() {
        root.insert("required".to_owned(), Value::Array(merged));
    }
}

/// Looks up a local JSON pointer reference (`#/$defs/X`, `#/definitions/X`, `#/properties/a`).
pub fn resolve_local_ref<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

/// Inlines every local `$ref`. A recursive reference is cut (replaced by a permissive schema) the
/// second time it is met on one path; a remote or broken one is reported and dropped. Once
/// `budget` nodes are written, the remaining references are cut the same way, and reported.
fn inline_refs(
    node: &Value,
    root: &Value,
    stack: &mut Vec<String>,
    budget: &mut usize,
    problems: &mut Vec<String>,
) -> Value {
    *budget = budget.saturating_sub(1);
    match node {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let mut siblings: Map<String, Value> = map
                    .iter()
                    .filter(|(k, _)| k.as_str() != "$ref")
                    .map(|(k, v)| (k.clone(), inline_refs(v, root, stack, budget, problems)))
                    .collect();
                if *budget == 0 {
                    let note = format!(
                        "the schema grows past {MAX_INLINED_NODES} nodes when its $refs are \
                         inlined; the $refs left were cut: deeper levels accept any value"
                    );
                    if !problems.contains(&note) {
                        problems.push(note);
                    }
                    return Value::Object(siblings);
                }
                if stack.contains(reference) {
                    let note =
                        format!("recursive $ref {reference} cut: deeper levels accept any value");
                    if !problems.contains(&note) {
                        problems.push(note);
                    }
                    return Value::Object(siblings);
                }
                let Some(target) = resolve_local_ref(root, reference) else {
                    problems
                        .push(format!("$ref {reference} could not be resolved and was dropped"));
                    return Value::Object(siblings);
                };
                stack.push(reference.clone());
                let resolved = inline_refs(target, root, stack, budget, problems);
                stack.pop();
                // Keywords beside a $ref (e.g. a description) win over the referenced ones.
                if let Value::Object(resolved) = resolved {
                    for (k, v) in resolved {
                        if k != "$defs" && k != "definitions" {
                            siblings.entry(k).or_insert(v);
                        }
                    }
                }
                return Value::Object(siblings);
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), inline_refs(v, root, stack, budget, problems)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items.iter().map(|v| inline_refs(v, root, stack, budget, problems)).collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn tool(name: &str, schema: Value) -> Tool {
        let Value::Object(schema) = schema else { panic!("object") };
        Tool::new(name.to_owned(), "does things", Arc::new(schema))
    }

    fn has_ref(value: &Value) -> bool {
        match value {
            Value::Object(map) => {
                map.contains_key("$ref") || map.contains_key("$defs") || map.values().any(has_ref)
            }
            Value::Array(items) => items.iter().any(has_ref),
            _ => false,
        }
    }

    #[test]
    fn names_are_made_valid_unique_and_short() {
        let long = "x".repeat(80);
        let tools = [
            tool("get weather", json!({"type":"object"})),
            tool("get/weather", json!({"type":"object"})),
            tool(&long, json!({"type":"object"})),
            tool(&format!("{long}!"), json!({"type":"object"})),
            tool("ok_name-1", json!({"type":"object"})),
        ];
        let export = export(&tools, Format::Openai);
        let names: Vec<&str> =
            export.tools.iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
        assert_eq!(names[0], "get_weather");
        assert_eq!(names[1], "get_weather_2");
        assert_eq!(names[2].len(), 64);
        assert_eq!(names[3].len(), 64);
        assert_ne!(names[2], names[3]);
        assert_eq!(names[4], "ok_name-1");
        assert_eq!(export.renamed.len(), 4);
        let unique: HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn refs_are_inlined_and_recursion_is_cut_and_reported() {
        let schema = json!({
            "type": "object",
            "properties": {
                "where": {"$ref": "#/$defs/Place", "description": "the place"},
                "tree": {"$ref": "#/$defs/Node"}
            },
            "$defs": {
                "Place": {"type": "object", "properties": {"city": {"type": "string"}}, "description": "a place"},
                "Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}
            }
        });
        let export = export(&[tool("t", schema)], Format::Anthropic);
        let input = &export.tools[0]["input_schema"];
        assert!(!has_ref(input), "{input:#}");
        assert_eq!(input["properties"]["where"]["properties"]["city"]["type"], "string");
        assert_eq!(input["properties"]["where"]["description"], "the place");
        assert_eq!(input["properties"]["tree"]["properties"]["children"]["type"], "array");
        assert!(
            export.problems.iter().any(|p| p.problem.contains("recursive $ref #/$defs/Node")),
            "{:?}",
            export.problems
        );
    }

    #[test]
    fn top_level_any_of_is_flattened_and_reported() {
        let schema = json!({
            "anyOf": [
                {"type":"object","properties":{"a":{"type":"string"},"c":{"type":"string"}},"required":["a","c"]},
                {"type":"object","properties":{"b":{"type":"string"},"c":{"type":"string"}},"required":["b","c"]}
            ]
        });
        let export = export(&[tool("t", schema)], Format::Openai);
        let parameters = &export.tools[0]["function"]["parameters"];
        assert_eq!(parameters["type"], "object");
        assert!(parameters.get("anyOf").is_none());
        assert_eq!(parameters["required"], json!(["c"]));
        assert_eq!(parameters["properties"].as_object().unwrap().len(), 3);
        assert!(export.problems.iter().any(|p| p.problem.contains("anyOf")));
    }

    #[test]
    fn refs_that_fan_out_are_inlined_within_a_bound_not_exponentially() {
        // Found by fuzzing (tool_schema): forty definitions each naming the next twice made a
        // 3 KB schema inline to 2^40 nodes, and exporting the tool ran out of memory.
        let mut defs = Map::new();
        for i in 0..40 {
            let next = format!("#/$defs/d{}", i + 1);
            defs.insert(
                format!("d{i}"),
                json!({"type": "object", "properties": {"a": {"$ref": next}, "b": {"$ref": next}}}),
            );
        }
        defs.insert("d40".into(), json!({"type": "string"}));
        let schema =
            json!({"type": "object", "properties": {"x": {"$ref": "#/$defs/d0"}}, "$defs": defs});
        let export = export(&[tool("t", schema)], Format::Openai);
        let parameters = &export.tools[0]["function"]["parameters"];
        fn nodes(v: &Value) -> usize {
            1 + match v {
                Value::Object(m) => m.values().map(nodes).sum(),
                Value::Array(a) => a.iter().map(nodes).sum(),
                _ => 0,
            }
        }
        assert!(nodes(parameters) <= 2 * MAX_INLINED_NODES, "{} nodes", nodes(parameters));
        assert!(!has_ref(parameters));
        assert!(
            export.problems.iter().any(|p| p.problem.contains("$refs left were cut")),
            "{:?}",
            export.problems
        );
        // The levels within the bound are inlined as before.
        assert_eq!(parameters["properties"]["x"]["properties"]["a"]["type"], "object");
    }

    #[test]
    fn broken_refs_are_reported() {
        let schema =
            json!({"type":"object","properties":{"x":{"$ref":"https://example.com/x.json"}}});
        let export = export(&[tool("t", schema)], Format::Openai);
        assert!(export.problems.iter().any(|p| p.problem.contains("could not be resolved")));
    }
}
