//! A host's tool budget, as the CLI's `hosts budget` and the window show it: the tools it sees
//! through the gateway (its view applied), what their definitions cost in tokens
//! (`switchboard_hosts::budget`), the names it would refuse, and, when it is over, what to turn
//! off first: the least used (the audit log's calls from this host), then the largest.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use serde::Serialize;
use serde_json::Value;
use switchboard_core::{Paths, Registry, settings};
use switchboard_gateway::{audit, names};
use switchboard_hosts::{
    HostId, Hosts, Mode,
    budget::{Limits, LongName, TOKEN_WARNING, estimate_tokens},
};
use switchboard_runtime::{control::ControlClient, pins::Pins};

use crate::{Result, blocking};

/// One tool a host sees, and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolCost {
    pub server: String,
    pub tool: String,
    pub tokens: usize,
    /// Calls from this host in the audit log.
    pub calls: u64,
}

/// A host's tools against its limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    pub host: String,
    /// How it is connected (`None`: not connected; counted as the aggregate would show it).
    #[ts(optional)]
    pub mode: Option<Mode>,
    pub tools: usize,
    /// Estimated tokens of their definitions, per request.
    pub tokens: usize,
    pub limits: Limits,
    pub token_warning: usize,
    /// Servers whose tools could not be read (not running and never pinned).
    pub unknown: Vec<String>,
    /// Calls from this host through the gateway since midnight (UTC), from the audit log.
    pub calls_today: u64,
    /// Its sessions open on the gateway now (`None`: no owner runs).
    #[ts(optional)]
    pub sessions: Option<u32>,
    pub long_names: Vec<LongName>,
    /// Largest first.
    pub costs: Vec<ToolCost>,
    /// What to turn off to get under the limits, least used first (empty when within them).
    pub suggestions: Vec<ToolCost>,
    /// The tools its view hides (those of hidden servers too), to turn back on.
    pub hidden: Vec<ToolCost>,
}

impl Budget {
    pub fn over(&self) -> bool {
        self.limits.tools.is_some_and(|max| self.tools > max) || self.tokens > self.token_warning
    }

    /// "34 tools, ~5,120 tokens (limit 40 tools)".
    pub fn summary(&self) -> String {
        let limit = self.limits.tools.map_or(String::new(), |max| format!(" (it takes {max})"));
        format!("{} tools{limit}, ~{} tokens of definitions", self.tools, self.tokens)
    }
}

/// `host`'s budget now: tools read from the running owner, else from the servers' pins; its
/// connection (and so the names it sees) from `hosts`.
/// `now_ms`: the time "today" is counted to.
pub async fn budget(
    paths: &Paths,
    hosts: Option<Arc<Hosts>>,
    host: HostId,
    now_ms: u64,
) -> Result<Budget> {
    budget_with(paths, hosts, host, None, now_ms).await
}

/// [`budget`] as it would be with `view` instead of the host's saved one (`None`: the saved
/// one): what a change to the view would do, before it is made.
pub async fn budget_with(
    paths: &Paths,
    hosts: Option<Arc<Hosts>>,
    host: HostId,
    view: Option<settings::HostView>,
    now_ms: u64,
) -> Result<Budget> {
    let live = match ControlClient::connect(paths) {
        Ok(client) => client.tools().await.ok(),
        Err(_) => None,
    };
    let sessions = crate::gateway_status(paths).await.ok().map(|status| {
        status.sessions.iter().filter(|s| s.host == host.id()).map(|s| s.open.max(1)).sum()
    });
    let paths = paths.clone();
    blocking(move || {
        let mode = match hosts {
            Some(hosts) => hosts.connection(host)?.map(|c| c.mode),
            None => None,
        };
        let view = match view {
            Some(view) => view,
            None => settings::load(&paths)?.host_views.get(host.id()).cloned().unwrap_or_default(),
        };
        let mut budget = compute(&paths, host, mode, &view, live, now_ms)?;
        budget.sessions = sessions;
        Ok::<_, crate::Error>(budget)
    })
    .await
}

fn compute(
    paths: &Paths,
    host: HostId,
    mode: Option<Mode>,
    view: &settings::HostView,
    live: Option<BTreeMap<String, Vec<Value>>>,
    now_ms: u64,
) -> Result<Budget> {
    let imp = switchboard_hosts::host(host);
    let pins = Pins::new(&paths.data_dir);
    let (calls, calls_today) = calls_from(paths, host.id(), now_ms);
    let mut unknown = Vec::new();
    let mut costs = Vec::new();
    let mut long_names = Vec::new();
    let mut hidden = Vec::new();
    for (name, spec) in Registry::new(paths).load()? {
        let server = name.to_string();
        if !spec.enabled {
            continue;
        }
        let tools: Vec<Value> = match live.as_ref().and_then(|l| l.get(&server)) {
            Some(tools) => tools.clone(),
            None => match pins.load(&name)? {
                Some(record) => {
                    record.tools.into_iter().map(|pin| Value::Object(pin.definition)).collect()
                }
                None => {
                    unknown.push(server);
                    continue;
                }
            },
        };
        for tool in tools {
            let Some(tool_name) = tool.get("name").and_then(Value::as_str) else { continue };
            if !view.sees_tool(&server, tool_name) {
                hidden.push(ToolCost {
                    server: server.clone(),
                    tool: tool_name.to_owned(),
                    tokens: estimate_tokens(&tool),
                    calls: 0,
                });
                continue;
            }
            let (entry, seen) = match mode {
                Some(Mode::PerServer) => (server.clone(), tool_name.to_owned()),
                _ => (
                    switchboard_hosts::AGGREGATE_ENTRY.to_owned(),
                    names::exposed(&server, tool_name),
                ),
            };
            if let Some((checked, limit)) = imp.checked_name(&entry, &seen)
                && checked.len() > limit
            {
                long_names.push(LongName { name: checked, limit });
            }
            costs.push(ToolCost {
                calls: calls.get(&(server.clone(), tool_name.to_owned())).copied().unwrap_or(0),
                server: server.clone(),
                tool: tool_name.to_owned(),
                tokens: estimate_tokens(&tool),
            });
        }
    }
    costs.sort_by(|a, b| b.tokens.cmp(&a.tokens).then_with(|| a.tool.cmp(&b.tool)));
    let mut budget = Budget {
        host: host.id().into(),
        mode,
        tools: costs.len(),
        tokens: costs.iter().map(|c| c.tokens).sum(),
        limits: imp.limits(),
        token_warning: TOKEN_WARNING,
        unknown,
        calls_today,
        sessions: None,
        long_names,
        costs,
        suggestions: Vec::new(),
        hidden,
    };
    budget.suggestions = suggestions(&budget);
    Ok(budget)
}

/// The tools to turn off, least used first and then largest, until the rest is within the
/// host's tool cap and the token warning.
fn suggestions(budget: &Budget) -> Vec<ToolCost> {
    let mut order = budget.costs.clone();
    order.sort_by(|a, b| a.calls.cmp(&b.calls).then_with(|| b.tokens.cmp(&a.tokens)));
    let (mut tools, mut tokens) = (budget.tools, budget.tokens);
    let mut off = Vec::new();
    for cost in order {
        let over_count = budget.limits.tools.is_some_and(|max| tools > max);
        if !over_count && tokens <= budget.token_warning {
            break;
        }
        tools -= 1;
        tokens -= cost.tokens;
        off.push(cost);
    }
    off
}

/// Calls from `host` per (server, tool), and how many of its calls came since midnight UTC
/// before `now_ms`, from the gateway's audit log.
fn calls_from(paths: &Paths, host: &str, now_ms: u64) -> (HashMap<(String, String), u64>, u64) {
    const DAY_MS: u64 = 86_400_000;
    let midnight = now_ms - now_ms % DAY_MS;
    let mut counts = HashMap::new();
    let mut today = 0;
    for record in audit::read(&audit::path(paths)) {
        if record.host != host {
            continue;
        }
        if record.at_ms >= midnight && record.method == "tools/call" {
            today += 1;
        }
        if record.method != "tools/call" {
            continue;
        }
        if let (Some(server), Some(name)) = (record.server, record.name) {
            *counts.entry((server, name)).or_default() += 1;
        }
    }
    (counts, today)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly

    use super::*;
    use switchboard_core::ServerSpec;

    /// VS Code's budget over `live` at `now_ms`, with its saved view.
    fn vscode(paths: &Paths, live: &BTreeMap<String, Vec<Value>>, now_ms: u64) -> Budget {
        let view = saved_view(paths, HostId::VsCode);
        compute(paths, HostId::VsCode, None, &view, Some(live.clone()), now_ms).expect("budget")
    }

    fn saved_view(paths: &Paths, host: HostId) -> settings::HostView {
        settings::load(paths)
            .expect("settings")
            .host_views
            .get(host.id())
            .cloned()
            .unwrap_or_default()
    }

    /// `n` tools, the i-th with a description of `i` × 4 characters.
    fn tools(n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| {
                serde_json::json!({"name": format!("t{i}"), "description": "x".repeat(4 * i),
                                   "inputSchema": {"type": "object"}})
            })
            .collect()
    }

    #[test]
    fn over_a_hosts_cap_the_least_used_then_largest_tools_are_suggested_off() {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = Paths::under(dir.path());
        let registry = Registry::new(&paths);
        registry
            .add("big".parse().expect("name"), ServerSpec::stdio("/bin/true", vec![]))
            .expect("add");
        registry
            .add("small".parse().expect("name"), ServerSpec::stdio("/bin/true", vec![]))
            .expect("add");
        let live = BTreeMap::from([("big".to_owned(), tools(127)), ("small".to_owned(), tools(3))]);
        // VS Code takes 128 tools: 130 is two over.
        let budget = vscode(&paths, &live, 1);
        assert_eq!((budget.tools, budget.limits.tools), (130, Some(128)));
        assert!(budget.over());
        assert_eq!(budget.tokens, budget.costs.iter().map(|c| c.tokens).sum::<usize>());
        let off: Vec<&str> = budget.suggestions.iter().map(|s| s.tool.as_str()).collect();
        assert_eq!(off, ["t126", "t125"], "nothing used yet: the largest go first");

        // The largest one is used by this host (not by another): it is kept.
        let log = audit::AuditLog::new(&paths);
        for host in ["vscode", "cursor", "cursor"] {
            log.append(&audit::Record {
                at_ms: 1,
                host: host.into(),
                server: Some("big".into()),
                method: "tools/call".into(),
                name: Some(if host == "vscode" { "t126" } else { "t125" }.into()),
                duration_ms: 1.0,
                outcome: "ok".into(),
                error: None,
            });
        }
        let budget = vscode(&paths, &live, 1);
        let off: Vec<&str> = budget.suggestions.iter().map(|s| s.tool.as_str()).collect();
        assert_eq!(off, ["t125", "t124"]);
        // Its one call was today (midnight UTC to now); the next day it was not.
        assert_eq!(budget.calls_today, 1);
        let next_day = vscode(&paths, &live, 86_400_001);
        assert_eq!(next_day.calls_today, 0);

        // A view that hides a server takes its tools out of the count: within the cap.
        let mut saved = settings::load(&paths).expect("settings");
        saved.host_views.insert(
            "vscode".into(),
            settings::HostView {
                hidden_servers: ["small".to_owned()].into(),
                ..Default::default()
            },
        );
        settings::save(&paths, &saved).expect("save");
        let budget = vscode(&paths, &live, 1);
        assert_eq!(budget.tools, 127);
        assert!(!budget.over() && budget.suggestions.is_empty());
        // What it hides is listed, to turn back on.
        assert_eq!(budget.hidden.iter().filter(|t| t.server == "small").count(), 3);
    }

    #[test]
    fn names_a_host_would_refuse_are_reported_as_it_builds_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = Paths::under(dir.path());
        let server = "a-rather-long-server-name";
        Registry::new(&paths)
            .add(server.parse().expect("name"), ServerSpec::stdio("/bin/true", vec![]))
            .expect("add");
        let tool = serde_json::json!({"name": "create_or_update_file_contents", "inputSchema": {}});
        let live = BTreeMap::from([(server.to_owned(), vec![tool])]);
        // Claude Code: mcp__switchboard__<server>__<tool> in aggregate mode, over 64.
        let budget = compute(
            &paths,
            HostId::ClaudeCode,
            Some(Mode::Aggregate),
            &saved_view(&paths, HostId::ClaudeCode),
            Some(live.clone()),
            1,
        )
        .expect("budget");
        assert_eq!(budget.long_names.len(), 1, "{:?}", budget.long_names);
        assert!(budget.long_names[0].name.starts_with("mcp__switchboard__a-rather-long"));
        // Per server the name is mcp__<server>__<tool>: 59 characters, within the limit.
        let budget = compute(
            &paths,
            HostId::ClaudeCode,
            Some(Mode::PerServer),
            &saved_view(&paths, HostId::ClaudeCode),
            Some(live),
            1,
        )
        .expect("budget");
        assert!(budget.long_names.is_empty(), "{:?}", budget.long_names);
    }
}
