//! The property every config editor must keep, for an arbitrary file and an arbitrary entry:
//! an edit is either refused, or the edited file parses to exactly the old parse plus that one
//! entry; and removing the entry again with the apply's receipt gives back the original bytes
//! (when the entry was not there before; when it was, the removal means the old parse minus it).
//!
//! Input layout (one target per format; the format's containers are chosen by the first byte):
//!
//! ```text
//! <selector byte(s)>\n
//! <entry name>\n
//! <entry value as JSON on one line (anything else: a default stdio entry)>\n
//! <the config file, to the end>
//! ```

use serde_json::{Value, json};
use switchboard_config_edit::{
    Container, Format, apply_entry, document, entries, normalized, remove_exact, set_entry,
};

use crate::head_lines;

/// The containers real hosts use, per format (and, for TOML, a list that must be refused).
fn containers(format: Format) -> &'static [Container] {
    const JSON: &[Container] = &[
        Container::map("mcpServers"),
        Container::map("servers"),
        Container::map("context_servers"),
        Container::list_by("inputs", "id"),
        Container::named_list("mcpServers"),
    ];
    const TOML: &[Container] = &[Container::map("mcp_servers"), Container::named_list("servers")];
    const YAML: &[Container] = &[Container::map("extensions"), Container::named_list("mcpServers")];
    match format {
        Format::Json | Format::Jsonc => JSON,
        Format::Toml => TOML,
        Format::Yaml => YAML,
    }
}

fn default_entry() -> Value {
    json!({"command": "/usr/bin/sb", "args": ["-y", "pkg@1.0"], "env": {"K": "v"}})
}

/// Checks the editor property for `format` on one fuzz input.
pub fn check(format: Format, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (head, file) = head_lines(&text, 3);
    let options = containers(format);
    let selector = head[0].bytes().fold(0usize, |a, b| a.wrapping_add(b as usize));
    let container = options[selector % options.len()];
    let name = head[1];
    let mut value = serde_json::from_str::<Value>(head[2]).unwrap_or_else(|_| default_entry());
    if container.named_list {
        // A list entry carries its own name.
        if !value.is_object() {
            value = default_entry();
        }
        if let Value::Object(map) = &mut value {
            map.insert(container.id_field.to_owned(), Value::String(name.to_owned()));
        }
    }
    edit_property(format, container, file, name, &value);
}

/// The property itself, on a parsed-out file, entry name and value.
pub fn edit_property(format: Format, container: Container, file: &str, name: &str, value: &Value) {
    let before = document(format, file);
    let applied = apply_entry(format, container, file, name, value);
    let (before, (with, receipt)) = match (before, applied) {
        (_, Err(_)) => return, // refused: nothing is written
        (Err(e), Ok(_)) => panic!("an edit was made to a file that does not parse ({e})"),
        (Ok(before), Ok(applied)) => (before, applied),
    };
    let after = match document(format, &with) {
        Ok(after) => after,
        Err(e) => panic!("the edited file does not parse ({e}):\n{with}"),
    };
    let mut expected = before.clone();
    set_entry(&mut expected, container, name, Some(value));
    assert_eq!(
        normalized(after, container),
        normalized(expected, container),
        "the edit changed more than the entry {name:?}:\n--- before\n{file}\n--- after\n{with}"
    );
    let was_there = entries(&before, container).is_ok_and(|e| e.iter().any(|(n, _)| n == name));
    let removed = match remove_exact(format, container, &with, name, Some(&receipt)) {
        Ok(removed) => removed,
        Err(e) => panic!("removing the entry just added failed ({e}):\n{with}"),
    };
    if was_there {
        let mut expected = before;
        set_entry(&mut expected, container, name, None);
        let after = match document(format, &removed) {
            Ok(after) => after,
            Err(e) => panic!("the file after removal does not parse ({e}):\n{removed}"),
        };
        assert_eq!(
            normalized(after, container),
            normalized(expected, container),
            "removing {name:?} changed more than the entry:\n{removed}"
        );
    } else {
        assert_eq!(
            removed, file,
            "apply then remove did not restore the original bytes (entry {name:?})\n--- with\n{with}"
        );
    }
}
