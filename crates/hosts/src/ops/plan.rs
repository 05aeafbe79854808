//! Planning: what an apply, a remove or a sync would do to one host file, worked out on its text
//! and the ledger's record of it, as a diff. Nothing is written here.

mod inputs;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use switchboard_core::spec::{ServerName, ServerSpec};

use super::{HostEntry, Hosts, Written, file_error, now_ms, read_text};
use crate::{
    ConfigFile, Result, edit,
    receipt::Receipt,
    store::{FileRecord, Op, OwnedEntry, Store, value_sha256},
};

/// What to do to a host file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Add or update the entries of these servers.
    Apply(Vec<(ServerName, ServerSpec)>),
    /// Remove our entries; `None`: all of ours in the file.
    Remove(Option<Vec<String>>),
    /// Make ours exactly these: add or update them, remove our other entries.
    Sync(Vec<(ServerName, ServerSpec)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Add,
    Update,
    Remove,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub name: String,
    pub kind: ChangeKind,
}

/// An entry left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// What an apply or remove will do to one file. Nothing is written until [`Hosts::write`].
#[derive(Debug, Clone)]
pub struct Plan {
    pub file: ConfigFile,
    /// The text now (`None`: no file).
    pub before: Option<String>,
    /// The text to write (`None`: delete the file, which Switchboard created).
    pub after: Option<String>,
    pub changes: Vec<Change>,
    pub skipped: Vec<Skipped>,
    /// Notes on what was written and why (bridges, absolute paths).
    pub notes: Vec<String>,
    /// The ledger's record of the file once written (`None`: no entries of ours left).
    pub(super) record: Option<FileRecord>,
    pub(super) op: Op,
}

impl Plan {
    pub fn changes_anything(&self) -> bool {
        self.before != self.after
    }

    /// A unified diff of the file, `---` before and `+++` after.
    pub fn diff(&self) -> String {
        let before = self.before.as_deref().unwrap_or("");
        let after = self.after.as_deref().unwrap_or("");
        let path = self.file.path.display().to_string();
        similar::TextDiff::from_lines(before, after)
            .unified_diff()
            .context_radius(3)
            .header(
                &if self.before.is_some() { path.clone() } else { "/dev/null".into() },
                &if self.after.is_some() { path } else { "/dev/null".into() },
            )
            .to_string()
    }
}

/// A plan as the window shows it: the diff, what changes, what was skipped and why; after a
/// write, where the backup went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "HostPreview")]
pub struct Preview {
    pub host: String,
    pub path: String,
    pub diff: String,
    pub changes: Vec<Change>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
    pub written: bool,
    #[ts(optional)]
    pub backup: Option<String>,
}

impl Preview {
    pub fn of(plan: &Plan, written: Option<Written>) -> Self {
        Preview {
            host: plan.file.host.id().into(),
            path: plan.file.path.display().to_string(),
            diff: if plan.changes_anything() { plan.diff() } else { String::new() },
            changes: plan.changes.clone(),
            skipped: plan.skipped.clone(),
            notes: plan.notes.clone(),
            written: written.is_some(),
            backup: written.and_then(|w| w.backup).map(|b| b.display().to_string()),
        }
    }
}

impl Hosts {
    /// What `action` would do to `file`. Reads the file and the ledger; writes nothing.
    pub fn plan(&self, file: &ConfigFile, action: &Action, force: bool) -> Result<Plan> {
        let store = Store::open(&self.state_dir)?;
        self.plan_with(&store, file, action, force)
    }

    pub(super) fn plan_with(
        &self,
        store: &Store,
        file: &ConfigFile,
        action: &Action,
        force: bool,
    ) -> Result<Plan> {
        let before = read_text(&file.path)?;
        let mut text = before.clone().unwrap_or_default();
        let doc = edit::document(file.format, &text).map_err(|e| file_error(file, e))?;
        let existing: BTreeMap<String, Value> = edit::entries(&doc, file.container)
            .map_err(|e| file_error(file, e))?
            .into_iter()
            .collect();
        let mut record = store.record(&file.path).cloned().unwrap_or_else(|| FileRecord {
            host: file.host.to_string(),
            created: before.is_none(),
            entries: Vec::new(),
            inputs: Vec::new(),
            written_sha256: String::new(),
        });
        let inputs_list = crate::host(file.host).inputs();
        // The inputs each applied server needs now, by server.
        let mut wanted_inputs: Vec<(String, Vec<(String, Value)>)> = Vec::new();
        let mut changes = Vec::new();
        let mut skipped = Vec::new();
        let mut notes = Vec::new();
        let (to_apply, to_remove): (&[(ServerName, ServerSpec)], Option<Vec<String>>) = match action
        {
            Action::Apply(servers) => (servers, Some(Vec::new())),
            Action::Remove(names) => (&[], names.clone()),
            Action::Sync(servers) => {
                let keep: Vec<String> = servers.iter().map(|(n, _)| n.to_string()).collect();
                let drop =
                    record.entries.iter().map(|e| e.name.clone()).filter(|n| !keep.contains(n));
                (servers, Some(drop.collect()))
            }
        };
        let op = if to_apply.is_empty() { Op::Remove } else { Op::Apply };
        for (name, spec) in to_apply {
            let name_str = name.to_string();
            let HostEntry { value, notes: why, inputs } =
                match self.entry_for(file.host, name, spec) {
                    Ok(v) => v,
                    Err(e) => {
                        skipped.push(Skipped { name: name_str, reason: e.to_string() });
                        continue;
                    }
                };
            let ours = record.entries.iter().position(|e| e.name == name_str);
            let current = existing.get(&name_str);
            if ours.is_none() && current.is_some() && !force {
                skipped.push(Skipped {
                    name: name_str,
                    reason: "an entry of that name is already there, and Switchboard did \
                                     not write it; it was left alone (--force replaces it)"
                        .into(),
                });
                continue;
            }
            notes.extend(why);
            wanted_inputs.push((name_str.clone(), inputs));
            if current == Some(&value) {
                if let Some(i) = ours {
                    record.entries[i].value = value.clone();
                    record.entries[i].sha256 = value_sha256(&value);
                }
                changes.push(Change { name: name_str, kind: ChangeKind::Unchanged });
                continue;
            }
            // The file without this entry, exactly as it was before we first wrote it
            // where that can still be found.
            let without = match ours {
                Some(i) if current.is_some() => {
                    remove_exact(file, &text, &name_str, record.entries[i].receipt.as_ref())?
                }
                _ => match current {
                    Some(_) => edit::remove(file.format, file.container, &text, &name_str)
                        .map_err(|e| file_error(file, e))?,
                    None => text.clone(),
                },
            };
            let with = edit::upsert(file.format, file.container, &text, &name_str, &value)
                .map_err(|e| file_error(file, e))?;
            let entry = OwnedEntry {
                name: name_str.clone(),
                server: name_str.clone(),
                sha256: value_sha256(&value),
                value,
                receipt: (current.is_none() || ours.is_some())
                    .then(|| Receipt::between(&without, &with)),
                written_at_ms: now_ms(),
            };
            changes.push(Change {
                name: name_str,
                kind: if current.is_some() { ChangeKind::Update } else { ChangeKind::Add },
            });
            match ours {
                Some(i) => record.entries[i] = entry,
                None => record.entries.push(entry),
            }
            text = with;
        }
        let wanted: Vec<String> = match to_remove {
            Some(names) => names,
            None => record.entries.iter().map(|e| e.name.clone()).collect(),
        };
        // The inputs of servers about to go first: they were written after their entries.
        if let Some(list) = inputs_list {
            text = inputs::drop_inputs(file, list, text, &mut record, |input| {
                wanted.contains(&input.server)
            })?;
        }
        // Newest first, so each receipt meets the text it was taken from.
        let mut order: Vec<&String> = wanted.iter().collect();
        order.sort_by_key(|n| std::cmp::Reverse(record.entries.iter().position(|e| &&e.name == n)));
        for name in order {
            let ours = record.entries.iter().position(|e| &e.name == name);
            let present = existing.contains_key(name.as_str());
            match (ours, present) {
                (None, false) => skipped.push(Skipped {
                    name: name.clone(),
                    reason: "there is no entry of that name".into(),
                }),
                (None, true) if !force => skipped.push(Skipped {
                    name: name.clone(),
                    reason: "Switchboard did not write this entry; it was left alone \
                                     (--force removes it)"
                        .into(),
                }),
                (ours, present) => {
                    if present {
                        let receipt = ours.and_then(|i| record.entries[i].receipt.as_ref());
                        text = remove_exact(file, &text, name, receipt)?;
                    }
                    if let Some(i) = ours {
                        record.entries.remove(i);
                    }
                    changes.push(Change { name: name.clone(), kind: ChangeKind::Remove });
                }
            }
        }
        if let Some(list) = inputs_list {
            text = inputs::apply_inputs(file, list, text, &mut record, &wanted_inputs, &mut notes)?;
        }
        let after = if record.created && record.entries.is_empty() && text.trim().is_empty() {
            None
        } else {
            Some(text)
        };
        let record = (!record.entries.is_empty()).then_some(record);
        Ok(Plan { file: file.clone(), before, after, changes, skipped, notes, record, op })
    }
}

fn remove_exact(
    file: &ConfigFile,
    text: &str,
    name: &str,
    receipt: Option<&Receipt>,
) -> Result<String> {
    edit::remove_exact(file.format, file.container, text, name, receipt)
        .map_err(|e| file_error(file, e))
}
