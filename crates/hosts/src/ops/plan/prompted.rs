//! The prompted inputs a host keeps next to the servers (VS Code's `inputs`): ours removed with
//! the servers that brought them, added or updated for the servers applied.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ops::file_error;
use crate::{
    ConfigFile, Container, Result, edit,
    receipt::Receipt,
    store::{FileRecord, OwnedEntry, value_sha256},
};

/// Removes our inputs for which `gone` holds (newest first, so each receipt meets the text it
/// was taken from; byte for byte where the receipt still fits).
pub(super) fn drop_inputs(
    file: &ConfigFile,
    list: Container,
    mut text: String,
    record: &mut FileRecord,
    gone: impl Fn(&OwnedEntry) -> bool,
) -> Result<String> {
    let doc = edit::document(file.format, &text).map_err(|e| file_error(file, e))?;
    let existing = edit::entries(&doc, list).map_err(|e| file_error(file, e))?;
    for i in (0..record.inputs.len()).rev() {
        if !gone(&record.inputs[i]) {
            continue;
        }
        let input = record.inputs.remove(i);
        if existing.iter().any(|(id, _)| id == &input.name) {
            text =
                edit::remove_exact(file.format, list, &text, &input.name, input.receipt.as_ref())
                    .map_err(|e| file_error(file, e))?;
        }
    }
    Ok(text)
}

/// Adds or updates the inputs the applied servers need (`wanted`, by server) and removes those
/// they no longer need. An input of the same id that Switchboard did not write is the user's
/// and is used as it is.
pub(super) fn apply_inputs(
    file: &ConfigFile,
    list: Container,
    text: String,
    record: &mut FileRecord,
    wanted: &[(String, Vec<(String, Value)>)],
    notes: &mut Vec<String>,
    now_ms: u64,
) -> Result<String> {
    let mut text = drop_inputs(file, list, text, record, |input| {
        wanted.iter().any(|(server, needed)| {
            server == &input.server && !needed.iter().any(|(id, _)| id == &input.name)
        })
    })?;
    let doc = edit::document(file.format, &text).map_err(|e| file_error(file, e))?;
    let existing: BTreeMap<String, Value> =
        edit::entries(&doc, list).map_err(|e| file_error(file, e))?.into_iter().collect();
    for (server, needed) in wanted {
        for (id, value) in needed {
            let ours = record.inputs.iter().position(|e| &e.name == id);
            let current = existing.get(id);
            if ours.is_none() && current.is_some() {
                notes.push(format!(
                    "{server}: the input {id} is already in the file and not Switchboard's; it \
                     is used as it is"
                ));
                continue;
            }
            if current == Some(value) {
                if let Some(i) = ours {
                    record.inputs[i].value = value.clone();
                    record.inputs[i].sha256 = value_sha256(value);
                }
                continue;
            }
            let without = match (ours, current) {
                (Some(i), Some(_)) => edit::remove_exact(
                    file.format,
                    list,
                    &text,
                    id,
                    record.inputs[i].receipt.as_ref(),
                ),
                _ => Ok(text.clone()),
            }
            .map_err(|e| file_error(file, e))?;
            let with = edit::upsert(file.format, list, &text, id, value)
                .map_err(|e| file_error(file, e))?;
            let owned = OwnedEntry {
                name: id.clone(),
                server: server.clone(),
                sha256: value_sha256(value),
                value: value.clone(),
                receipt: Some(Receipt::between(&without, &with)),
                written_at_ms: now_ms,
            };
            match ours {
                Some(i) => record.inputs[i] = owned,
                None => record.inputs.push(owned),
            }
            text = with;
        }
    }
    Ok(text)
}
