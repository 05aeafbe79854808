//! What a host's tools cost it: how many it sees against the cap it enforces, an estimate of
//! the tokens their definitions take in every request, and the names it would refuse as too
//! long. Figures and sources per host: `docs/hosts.md` ("Tool limits hosts enforce").
//!
//! **The estimator.** A tool definition is sent to the model as its name, description and input
//! schema; `tokens ≈ ⌈characters of that JSON, minified / 4⌉`. Four characters per token is the
//! rule of thumb OpenAI documents for English text and the one Gemini CLI uses
//! (`DEFAULT_CHARS_PER_TOKEN = 4`); JSON tokenises somewhat worse, so the figure is a floor
//! rather than a ceiling. Hosts add a fixed tool-use prompt on top (a few hundred tokens).

use serde::Serialize;
use serde_json::Value;

/// Characters per token in the estimate.
pub const CHARS_PER_TOKEN: usize = 4;

/// Above this many tokens of tool definitions, hosts start hiding tools behind search (Claude
/// Code defers MCP tools past 10 % of a 200k context) and models choose worse (Anthropic: past
/// 30–50 tools): the budget warns.
pub const TOKEN_WARNING: usize = 20_000;

/// The tokens a tool's definition takes, estimated (module docs).
pub fn estimate_tokens(tool: &Value) -> usize {
    let sent = serde_json::json!({
        "name": tool.get("name"),
        "description": tool.get("description"),
        "inputSchema": tool.get("inputSchema"),
    });
    serde_json::to_string(&sent).map_or(0, |s| s.len().div_ceil(CHARS_PER_TOKEN))
}

/// The caps a host enforces on tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// The most tools it takes (or sends before hiding the rest).
    pub tools: Option<usize>,
    /// Where the figures come from (a key of `docs/hosts.md`).
    pub source: &'static str,
}

/// A name the host would refuse: the name it builds, and its limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LongName {
    pub name: String,
    pub limit: usize,
}
