//! What the editors refuse, and why. (Round trips are covered by the snapshot and property
//! tests in `tests/it/hosts*.rs`.)

use serde_json::json;

use super::*;

fn entry() -> Value {
    json!({"name": "sb", "cmd": "/bin/sb", "args": []})
}

#[test]
fn yaml_that_cannot_be_edited_in_place_is_refused_with_the_reason() {
    let extensions = Container::map("extensions");
    for (text, reason) in [
        ("extensions: {dev: {cmd: x}}\n", "flow style"),
        ("extensions: &shared\n  dev:\n    cmd: x\n", "anchor or a tag"),
        ("extensions: !!map\n  dev:\n    cmd: x\n", "anchor or a tag"),
    ] {
        let error = upsert(Format::Yaml, extensions, text, "sb", &entry()).expect_err(text);
        assert!(matches!(error, EditError::NotLossless(_)), "{text}: {error:?}");
        assert!(error.to_string().contains(reason), "{text}: {error}");
        assert!(error.to_string().contains("block-style"), "{error}");
    }
    // Several documents in one file: the parser already refuses them.
    let error = upsert(
        Format::Yaml,
        extensions,
        "a: 1\n---\nextensions:\n  dev:\n    cmd: x\n",
        "sb",
        &entry(),
    )
    .expect_err("two documents");
    assert!(error.to_string().contains("more than one document"), "{error}");
    let list = Container::named_list("mcpServers");
    let error =
        upsert(Format::Yaml, list, "mcpServers:\n  a: 1\n", "sb", &entry()).expect_err("map");
    assert!(error.to_string().contains("is not a list"), "{error}");
}

#[test]
fn an_editor_result_that_would_change_anything_else_is_refused() {
    // A tab-indented YAML block cannot be placed by indentation: it does not parse, so it is
    // reported as a parse error and nothing is produced.
    let error = upsert(
        Format::Yaml,
        Container::map("extensions"),
        "extensions:\n\tdev: 1\n",
        "sb",
        &entry(),
    )
    .expect_err("tabs");
    assert!(matches!(error, EditError::Parse { .. }), "{error:?}");
    // Wrong container types are named.
    let error =
        upsert(Format::Toml, Container::map("mcp_servers"), "mcp_servers = 3\n", "sb", &entry())
            .expect_err("int");
    assert_eq!(error.to_string(), "`mcp_servers` is not a map");
}

#[test]
fn entries_are_written_in_the_order_hosts_document() {
    let value =
        json!({"env": {"K": "v"}, "args": ["a"], "command": "c", "type": "stdio", "zzz": 1});
    let text =
        upsert(Format::Json, Container::map("mcpServers"), "{}", "x", &value).expect("upsert");
    let positions: Vec<usize> = ["\"type\"", "\"command\"", "\"args\"", "\"env\"", "\"zzz\""]
        .iter()
        .map(|k| text.find(k).expect(k))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}
