//! Property tests of the lossless editors: for 10,000 generated files per format (random
//! structure, indentation, newlines, comments, trailing commas, Unicode, existing entries), adding
//! two entries changes nothing else the file means, and removing them gives back the original
//! file byte for byte.

use proptest::{prelude::*, test_runner::Config};
use serde_json::{Value, json};
use switchboard_config_edit::{self as edit, Container, Format, apply_entry, remove_exact};

const CASES: u32 = 10_000;

/// Our two entries: a stdio one and a remote one.
fn ours() -> [(&'static str, Value); 2] {
    [
        (
            "sb-alpha",
            json!({"command": "/usr/bin/alpha", "args": ["-y", "pkg@1.0"], "env": {"K": "ü \"q\""}}),
        ),
        (
            "sb-beta",
            json!({"type": "http", "url": "https://example.com/mcp", "headers": {"X-A": "1"}}),
        ),
    ]
}

/// Adds both entries, checks the meaning, removes them newest first, checks the bytes.
fn round_trip(format: Format, container: Container, original: &str) -> Result<(), TestCaseError> {
    let before = edit::document(format, original)
        .map_err(|e| TestCaseError::fail(format!("fixture does not parse: {e}\n{original}")))?;
    let mut text = original.to_string();
    let mut receipts = Vec::new();
    let mut expected = before.clone();
    for (name, value) in ours() {
        let value = if container.named_list {
            let mut v = value.clone();
            v["name"] = json!(name);
            v
        } else {
            value
        };
        let (with, receipt) = apply_entry(format, container, &text, name, &value)
            .map_err(|e| TestCaseError::fail(format!("apply failed: {e}\n{text}")))?;
        edit::set_entry(&mut expected, container, name, Some(&value));
        text = with;
        receipts.push((name, receipt));
    }
    let after = edit::document(format, &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(
        edit::normalized(after, container),
        edit::normalized(expected, container),
        "{}",
        text
    );
    for (name, receipt) in receipts.iter().rev() {
        text = remove_exact(format, container, &text, name, Some(receipt))
            .map_err(|e| TestCaseError::fail(format!("remove failed: {e}\n{text}")))?;
    }
    prop_assert_eq!(&text, original);
    Ok(())
}

// ---- JSON and JSONC ----------------------------------------------------------------------

#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    Num(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-zA-Z0-9_.-]{0,8}",
        Just("名前".to_string()),
        Just("emoji 🚀".to_string()),
        Just("quote\"d".to_string()),
    ]
}

fn json_value() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        (-1000i64..1000).prop_map(J::Num),
        "[ -~äöü✓]{0,12}".prop_map(J::Str),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Arr),
            prop::collection::vec((key(), inner), 0..4).prop_map(J::Obj),
        ]
    })
}

#[derive(Debug, Clone)]
struct Style {
    indent: &'static str,
    nl: &'static str,
    compact: bool,
    comments: bool,
    trailing: bool,
    final_newline: bool,
}

fn style(jsonc: bool) -> impl Strategy<Value = Style> {
    (
        prop_oneof![Just("  "), Just("    "), Just("\t")],
        prop_oneof![Just("\n"), Just("\r\n")],
        prop::bool::weighted(0.15),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(indent, nl, compact, comments, trailing, final_newline)| Style {
            indent,
            nl,
            compact,
            comments: jsonc && comments,
            trailing: jsonc && trailing,
            final_newline,
        })
}

fn render(j: &J, s: &Style, depth: usize, out: &mut String) {
    match j {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(&b.to_string()),
        J::Num(n) => out.push_str(&n.to_string()),
        J::Str(v) => out.push_str(&serde_json::to_string(v).unwrap_or_default()),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, s, depth + 1, out);
            }
            out.push(']');
        }
        J::Obj(props) => render_object(props, s, depth, out),
    }
}

fn render_object(props: &[(String, J)], s: &Style, depth: usize, out: &mut String) {
    if props.is_empty() {
        out.push_str("{}");
        return;
    }
    if s.compact {
        out.push('{');
        for (i, (k, v)) in props.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(k).unwrap_or_default());
            out.push(':');
            render(v, s, depth + 1, out);
        }
        out.push('}');
        return;
    }
    let pad = s.indent.repeat(depth + 1);
    out.push('{');
    out.push_str(s.nl);
    for (i, (k, v)) in props.iter().enumerate() {
        if s.comments && i % 2 == 0 {
            out.push_str(&format!("{pad}// about {}{}", k.replace(['\r', '\n'], " "), s.nl));
        }
        out.push_str(&pad);
        out.push_str(&serde_json::to_string(k).unwrap_or_default());
        out.push_str(": ");
        render(v, s, depth + 1, out);
        if i + 1 < props.len() || s.trailing {
            out.push(',');
        }
        if s.comments && i % 3 == 1 {
            out.push_str(" /* note */");
        }
        out.push_str(s.nl);
    }
    out.push_str(&s.indent.repeat(depth));
    out.push('}');
}

/// A settings file: random keys, and maybe the container with other programs' entries.
fn json_file(jsonc: bool, key_name: &'static str) -> impl Strategy<Value = String> {
    (
        prop::collection::vec((key(), json_value()), 0..5),
        prop::option::of(prop::collection::vec(
            (key(), json_value().prop_map(|v| J::Obj(vec![("command".into(), v)]))),
            0..3,
        )),
        0usize..6,
        style(jsonc),
        prop::bool::weighted(0.05),
    )
        .prop_map(move |(mut props, servers, at, style, empty)| {
            if empty {
                return String::new();
            }
            props.retain(|(k, _)| k != key_name);
            if let Some(servers) = servers {
                let at = at.min(props.len());
                props.insert(at, (key_name.to_string(), J::Obj(servers)));
            }
            // Duplicate keys mean nothing reliable in JSON: keep the first of each.
            let mut seen = std::collections::HashSet::new();
            props.retain(|(k, _)| seen.insert(k.clone()));
            let mut out = String::new();
            if style.comments {
                out.push_str(&format!("// settings{}", style.nl));
            }
            render_object(&props, &style, 0, &mut out);
            if style.final_newline {
                out.push_str(style.nl);
            }
            out
        })
}

proptest! {
    #![proptest_config(Config { cases: CASES, failure_persistence: None, ..Config::default() })]

    #[test]
    fn json_apply_then_remove_is_byte_exact(text in json_file(false, "mcpServers")) {
        round_trip(Format::Json, Container::map("mcpServers"), &text)?;
    }

    #[test]
    fn jsonc_apply_then_remove_is_byte_exact(text in json_file(true, "servers")) {
        round_trip(Format::Jsonc, Container::map("servers"), &text)?;
    }

    #[test]
    fn toml_apply_then_remove_is_byte_exact(text in toml_file()) {
        round_trip(Format::Toml, Container::map("mcp_servers"), &text)?;
    }

    #[test]
    fn yaml_map_apply_then_remove_is_byte_exact(text in yaml_file(false)) {
        round_trip(Format::Yaml, Container::map("extensions"), &text)?;
    }

    #[test]
    fn yaml_list_apply_then_remove_is_byte_exact(text in yaml_file(true)) {
        round_trip(Format::Yaml, Container::named_list("mcpServers"), &text)?;
    }
}

// ---- TOML -------------------------------------------------------------------------------

fn toml_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1000i64..1000).prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        "[ -~äöü✓]{0,10}".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        prop::collection::vec("[a-z]{1,4}", 0..3).prop_map(|v| format!(
            "[{}]",
            v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ")
        )),
    ]
}

fn toml_pairs() -> impl Strategy<Value = Vec<(String, String, bool)>> {
    prop::collection::vec(("[a-z][a-z0-9_-]{0,6}", toml_scalar(), any::<bool>()), 0..4)
}

fn toml_file() -> impl Strategy<Value = String> {
    (
        toml_pairs(),
        prop::collection::vec(("[a-z][a-z0-9_]{0,6}", toml_pairs()), 0..3),
        prop::collection::vec(("[a-z][a-z0-9_]{0,6}", toml_pairs()), 0..3),
        0usize..4,
        prop_oneof![Just("\n"), Just("\r\n")],
        any::<bool>(),
    )
        .prop_map(|(top, tables, servers, at, nl, comments)| {
            let mut out = String::new();
            let mut seen = std::collections::HashSet::new();
            let pairs = |pairs: &[(String, String, bool)], out: &mut String| {
                let mut keys = std::collections::HashSet::new();
                for (k, v, c) in pairs {
                    if keys.insert(k.clone()) {
                        let comment = if comments && *c { " # ✓ keep" } else { "" };
                        out.push_str(&format!("{k} = {v}{comment}{nl}"));
                    }
                }
            };
            if comments {
                out.push_str(&format!("# config{nl}"));
            }
            pairs(&top, &mut out);
            seen.extend(top.iter().map(|(k, _, _)| k.clone()));
            let mut blocks: Vec<String> = Vec::new();
            for (name, body) in &tables {
                if name == "mcp_servers" || !seen.insert(name.clone()) {
                    continue;
                }
                let mut block = format!("{nl}[{name}]{nl}");
                pairs(body, &mut block);
                blocks.push(block);
            }
            let mut server_names = std::collections::HashSet::new();
            let mut server_blocks = String::new();
            for (name, body) in &servers {
                if !server_names.insert(name.clone()) {
                    continue;
                }
                server_blocks.push_str(&format!("{nl}[mcp_servers.{name}]{nl}command = \"x\"{nl}"));
                pairs(
                    &body.iter().filter(|(k, _, _)| k != "command").cloned().collect::<Vec<_>>(),
                    &mut server_blocks,
                );
            }
            if !server_blocks.is_empty() && !seen.contains("mcp_servers") {
                blocks.insert(at.min(blocks.len()), server_blocks);
            }
            for b in blocks {
                out.push_str(&b);
            }
            out
        })
}

// ---- YAML -------------------------------------------------------------------------------

fn yaml_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9]{0,8}",
        (-1000i64..1000).prop_map(|n| n.to_string()),
        "[ -~äöü✓]{0,10}".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
    ]
}

fn yaml_file(list: bool) -> impl Strategy<Value = String> {
    let key_name = if list { "mcpServers" } else { "extensions" };
    (
        prop::collection::vec(("[A-Za-z][A-Za-z0-9_]{0,8}", yaml_scalar(), any::<bool>()), 0..4),
        prop::option::of(prop::collection::vec(("[a-z][a-z0-9_-]{0,6}", yaml_scalar()), 0..3)),
        0usize..4,
        prop_oneof![Just(2usize), Just(4usize)],
        prop_oneof![Just("\n"), Just("\r\n")],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(top, servers, at, step, nl, comments, flush)| {
            let mut lines: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for (k, v, c) in &top {
                if k == key_name || !seen.insert(k.clone()) {
                    continue;
                }
                let comment = if comments && *c { " # note ✓" } else { "" };
                lines.push(format!("{k}: {v}{comment}"));
            }
            if let Some(servers) = servers {
                let mut block = vec![format!("{key_name}:")];
                if comments {
                    block.push(format!("{}# servers", " ".repeat(step)));
                }
                let mut names = std::collections::HashSet::new();
                for (name, value) in servers {
                    if !names.insert(name.clone()) {
                        continue;
                    }
                    let pad = if list && flush { String::new() } else { " ".repeat(step) };
                    if list {
                        block.push(format!("{pad}- name: {name}"));
                        block.push(format!("{pad}  command: {value}"));
                    } else {
                        block.push(format!("{pad}{name}:"));
                        block.push(format!("{pad}{}cmd: {value}", " ".repeat(step)));
                    }
                }
                if names.is_empty() {
                    block = vec![format!("{key_name}: {}", if list { "[]" } else { "{}" })];
                }
                let at = at.min(lines.len());
                for (i, l) in block.into_iter().enumerate() {
                    lines.insert(at + i, l);
                }
            }
            let mut out = lines.join(nl);
            if !out.is_empty() {
                out.push_str(nl);
            }
            out
        })
}
