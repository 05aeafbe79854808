//! Tool descriptions that look like they try to steer the model: hidden instructions,
//! invisible characters, extreme length. Shown wherever tools are listed (the pins review, an
//! install's result, the tester, `inspect`); a leaf, so every module that lists tools can use it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a tool description looks suspicious.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    pub tool: String,
    /// `hidden-instruction`, `invisible-characters`, `extreme-length`.
    pub kind: String,
    pub detail: String,
}

/// Descriptions longer than this are flagged: real ones are a few hundred characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// Phrases that tool-poisoning attacks use to steer the model, lower-case.
const HIDDEN_INSTRUCTION_PATTERNS: [&str; 16] = [
    "<important>",
    "<system>",
    "</instructions>",
    "ignore previous instructions",
    "ignore all previous",
    "ignore the above",
    "disregard previous",
    "do not tell the user",
    "don't tell the user",
    "do not mention this",
    "without telling the user",
    "the user must not know",
    "before using this tool, read",
    "~/.ssh",
    "id_rsa",
    "mcp.json",
];

/// The suspicious things about one tool's description and its parameters' descriptions.
pub fn flags(tool: &str, description: &str, input_schema: Option<&Value>) -> Vec<Flag> {
    let mut texts = vec![description.to_owned()];
    collect_descriptions(input_schema, &mut texts);
    let mut out = Vec::new();
    let flag =
        |kind: &str, detail: String| Flag { tool: tool.to_owned(), kind: kind.into(), detail };
    for text in &texts {
        let lower = text.to_lowercase();
        if let Some(p) = HIDDEN_INSTRUCTION_PATTERNS.iter().find(|p| lower.contains(**p)) {
            out.push(flag("hidden-instruction", format!("contains {p:?}")));
        }
        let invisible: Vec<String> = text
            .chars()
            .filter(|c| is_invisible(*c))
            .map(|c| format!("U+{:04X}", c as u32))
            .collect();
        if !invisible.is_empty() {
            let mut kinds = invisible.clone();
            kinds.dedup();
            kinds.truncate(5);
            out.push(flag(
                "invisible-characters",
                format!("{} invisible characters ({})", invisible.len(), kinds.join(", ")),
            ));
        }
        let chars = text.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            out.push(flag("extreme-length", format!("{chars} characters")));
        }
    }
    out.dedup();
    out
}

/// [`flags`] of a tool as a server lists it (JSON).
pub fn of_listed(tool: &Value) -> Vec<Flag> {
    let text = |key: &str| tool.get(key).and_then(Value::as_str).unwrap_or_default();
    flags(text("name"), text("description"), tool.get("inputSchema"))
}

/// Unicode tag characters (used to smuggle text models read and people do not see), zero-width
/// characters and bidirectional overrides.
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0xE0000..=0xE007F
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x2069
        | 0xFEFF)
}

fn collect_descriptions(schema: Option<&Value>, out: &mut Vec<String>) {
    match schema {
        Some(Value::Object(map)) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("description", Value::String(s)) => out.push(s.clone()),
                    _ => collect_descriptions(Some(value), out),
                }
            }
        }
        Some(Value::Array(items)) => items.iter().for_each(|v| collect_descriptions(Some(v), out)),
        _ => {}
    }
}
