//! What the editors refuse, and why. (Round trips are covered by the property tests in
//! `tests/props.rs` and the host snapshot tests of switchboard-core.)

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

#[test]
fn jsonc_lists_named_by_a_field_are_edited_in_place_and_removed_byte_for_byte() {
    let inputs = Container::list_by("inputs", "id");
    let text = "{\n  // theirs first\n  \"inputs\": [\n    { \"type\": \"promptString\", \"id\": \"theirs\" }, // keep\n  ],\n  \"servers\": {}\n}\n";
    let item =
        json!({"type": "promptString", "id": "sb.key", "description": "Key", "password": true});
    let (with, receipt) = apply_entry(Format::Jsonc, inputs, text, "sb.key", &item).expect("add");
    let doc = document(Format::Jsonc, &with).expect("parses");
    assert_eq!(doc["inputs"][0]["id"], "theirs");
    assert_eq!(doc["inputs"][1], item);
    assert!(with.contains("// theirs first") && with.contains("// keep"), "{with}");
    // Replaced where it is, found by its id.
    let changed = json!({"type": "promptString", "id": "sb.key", "description": "New"});
    let updated = upsert(Format::Jsonc, inputs, &with, "sb.key", &changed).expect("update");
    let doc = document(Format::Jsonc, &updated).expect("parses");
    assert_eq!(doc["inputs"].as_array().map(Vec::len), Some(2));
    assert_eq!(doc["inputs"][1]["description"], "New");
    // Removal with the receipt gives the exact bytes back.
    let back = remove_exact(Format::Jsonc, inputs, &with, "sb.key", Some(&receipt)).expect("rm");
    assert_eq!(back, text);
    // A list created for the item goes again with it.
    let (created, receipt) =
        apply_entry(Format::Json, inputs, "{}\n", "sb.key", &item).expect("new");
    assert!(created.contains("\"inputs\": ["), "{created}");
    let back = remove_exact(Format::Json, inputs, &created, "sb.key", Some(&receipt)).expect("rm");
    assert_eq!(back, "{}\n");
    // TOML has no such lists.
    let error = upsert(Format::Toml, inputs, "", "sb.key", &item).expect_err("toml");
    assert!(error.to_string().contains("cannot be edited"), "{error}");
}

#[test]
fn yaml_entry_added_after_a_lone_cr_is_removed_byte_for_byte_not_refused() {
    // Found by fuzzing (config_edit_yaml): YAML ends a line at a lone `\r`, the line splicer
    // does not, so the entry it had added could not be taken out again structurally, and the
    // removal was refused although the receipt gives back the exact bytes.
    let list = Container::named_list("mcpServers");
    let text = "mcpServers:\r";
    let (with, receipt) = apply_entry(Format::Yaml, list, text, "sb", &entry()).expect("added");
    assert!(remove(Format::Yaml, list, &with, "sb").is_err(), "{with:?}");
    let back = remove_exact(Format::Yaml, list, &with, "sb", Some(&receipt)).expect("removed");
    assert_eq!(back, text);
}

/// `config_edit_json` found it: a file of thousands of `[` overflowed the stack in the parser
/// (a crash, not an error). Now it is refused as unparsable, for every JSON edit, and the same
/// depth inside a string or a comment is only text.
#[test]
fn a_file_nested_thousands_deep_is_refused_not_a_stack_overflow() {
    for format in [Format::Json, Format::Jsonc] {
        let deep = format!("{{\"a\": {}", "[".repeat(20_000));
        let err = document(format, &deep).unwrap_err();
        assert!(err.to_string().contains("nested deeper than 128 levels"), "{err}");
        let ok = format!("{{\"a\": \"{}\"}}", "[".repeat(20_000));
        assert!(document(format, &ok).is_ok());
        let nested_ok = format!("{}1{}", "[".repeat(128), "]".repeat(128));
        assert!(document(format, &nested_ok).is_ok());
        let too_deep = format!("{}1{}", "[".repeat(129), "]".repeat(129));
        assert!(document(format, &too_deep).is_err());
    }
    let commented = format!("// {}\n{{}}", "[".repeat(20_000));
    assert!(document(Format::Jsonc, &commented).is_ok());
}
