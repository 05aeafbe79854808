//! Planning: what an apply, a remove or a sync would do to one host file, worked out on its text
//! and the ledger's record of it, as a diff. Nothing is written here.

mod prompted;

use std::{cmp::Reverse, collections::BTreeMap};

use serde::Serialize;
use serde_json::Value;
use switchboard_core::spec::{ServerName, ServerSpec};

use super::{HostEntry, Hosts, Written, file_error, read_text};
use crate::{
    ConfigFile, Container, Result, edit,
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

    /// [`Hosts::plan`] with the ledger open: the servers to apply go in first, then the entries
    /// to remove go, then the prompted inputs are brought in line with what is left.
    pub(super) fn plan_with(
        &self,
        store: &Store,
        file: &ConfigFile,
        action: &Action,
        force: bool,
    ) -> Result<Plan> {
        let before = read_text(&file.path)?;
        let mut draft = Draft::read(store, file, before.as_deref(), self.clock.now_ms())?;
        let (to_apply, to_remove) = split_action(action, &draft.record);
        let op = if to_apply.is_empty() { Op::Remove } else { Op::Apply };
        for (name, spec) in to_apply {
            draft.apply(self, name, spec, force)?;
        }
        // `None`: every entry of ours, as the record stands after the applies.
        let to_remove = to_remove.unwrap_or_else(|| draft.our_names());
        draft.remove(&to_remove, force)?;
        draft.update_inputs()?;
        Ok(draft.finish(before, op))
    }
}

/// The servers `action` applies, and the entries it removes (`None`: all of ours).
fn split_action<'a>(
    action: &'a Action,
    record: &FileRecord,
) -> (&'a [(ServerName, ServerSpec)], Option<Vec<String>>) {
    match action {
        Action::Apply(servers) => (servers, Some(Vec::new())),
        Action::Remove(names) => (&[], names.clone()),
        Action::Sync(servers) => {
            let keep: Vec<String> = servers.iter().map(|(n, _)| n.to_string()).collect();
            let drop = record.entries.iter().map(|e| e.name.clone()).filter(|n| !keep.contains(n));
            (servers, Some(drop.collect()))
        }
    }
}

/// A plan being worked out: the file's text as it would be so far, the ledger's record to go
/// with it, and what the plan will report.
struct Draft<'a> {
    file: &'a ConfigFile,
    /// Where the host keeps prompted inputs in the file, if it has them (VS Code).
    inputs_list: Option<Container>,
    /// The entries in the file as it was read.
    existing: BTreeMap<String, Value>,
    text: String,
    record: FileRecord,
    /// The inputs each applied server needs now, by server.
    wanted_inputs: Vec<(String, Vec<(String, Value)>)>,
    changes: Vec<Change>,
    skipped: Vec<Skipped>,
    notes: Vec<String>,
    /// When this plan was made: what the ledger records as written-at.
    now_ms: u64,
}

impl<'a> Draft<'a> {
    /// Starts from the file's text (`None`: no file) and the ledger's record of it (a fresh
    /// record when there is none).
    fn read(
        store: &Store,
        file: &'a ConfigFile,
        before: Option<&str>,
        now_ms: u64,
    ) -> Result<Self> {
        let text = before.unwrap_or_default().to_string();
        let doc = edit::document(file.format, &text).map_err(|e| file_error(file, e))?;
        let existing: BTreeMap<String, Value> = edit::entries(&doc, file.container)
            .map_err(|e| file_error(file, e))?
            .into_iter()
            .collect();
        let record = store.record(&file.path).cloned().unwrap_or_else(|| FileRecord {
            host: file.host.to_string(),
            created: before.is_none(),
            entries: Vec::new(),
            inputs: Vec::new(),
            written_sha256: String::new(),
        });
        Ok(Draft {
            file,
            inputs_list: crate::host(file.host).inputs(),
            existing,
            text,
            record,
            wanted_inputs: Vec::new(),
            changes: Vec::new(),
            skipped: Vec::new(),
            notes: Vec::new(),
            now_ms,
        })
    }

    /// The names of our entries in the ledger's record.
    fn our_names(&self) -> Vec<String> {
        self.record.entries.iter().map(|e| e.name.clone()).collect()
    }

    /// Adds or updates one server's entry. Skipped when the host cannot take the server, or
    /// when an entry of that name is there and not ours (unless `force`).
    fn apply(
        &mut self,
        hosts: &Hosts,
        name: &ServerName,
        spec: &ServerSpec,
        force: bool,
    ) -> Result<()> {
        let name_str = name.to_string();
        let HostEntry { value, notes: why, inputs } =
            match hosts.entry_for(self.file.host, name, spec) {
                Ok(v) => v,
                Err(e) => {
                    self.skipped.push(Skipped { name: name_str, reason: e.to_string() });
                    return Ok(());
                }
            };
        let ours = self.record.entries.iter().position(|e| e.name == name_str);
        let current = self.existing.get(&name_str);
        if ours.is_none() && current.is_some() && !force {
            self.skipped.push(Skipped {
                name: name_str,
                reason: "an entry of that name is already there, and Switchboard did \
                         not write it; it was left alone (--force replaces it)"
                    .into(),
            });
            return Ok(());
        }
        self.notes.extend(why);
        self.wanted_inputs.push((name_str.clone(), inputs));
        if current == Some(&value) {
            if let Some(i) = ours {
                self.record.entries[i].value = value.clone();
                self.record.entries[i].sha256 = value_sha256(&value);
            }
            self.changes.push(Change { name: name_str, kind: ChangeKind::Unchanged });
            return Ok(());
        }
        let present = current.is_some();
        self.upsert(name_str, value, ours, present)
    }

    /// Writes `value` as the entry `name` in the text, and records it as ours with the receipt
    /// of the splice. `ours`: its place in the record; `present`: the file has an entry of that
    /// name now.
    fn upsert(
        &mut self,
        name: String,
        value: Value,
        ours: Option<usize>,
        present: bool,
    ) -> Result<()> {
        let file = self.file;
        // The file without this entry, exactly as it was before we first wrote it
        // where that can still be found.
        let without = match ours {
            Some(i) if present => {
                remove_exact(file, &self.text, &name, self.record.entries[i].receipt.as_ref())?
            }
            _ if present => edit::remove(file.format, file.container, &self.text, &name)
                .map_err(|e| file_error(file, e))?,
            _ => self.text.clone(),
        };
        let with = edit::upsert(file.format, file.container, &self.text, &name, &value)
            .map_err(|e| file_error(file, e))?;
        let entry = OwnedEntry {
            name: name.clone(),
            server: name.clone(),
            sha256: value_sha256(&value),
            value,
            receipt: (!present || ours.is_some()).then(|| Receipt::between(&without, &with)),
            written_at_ms: self.now_ms,
        };
        self.changes.push(Change {
            name,
            kind: if present { ChangeKind::Update } else { ChangeKind::Add },
        });
        match ours {
            Some(i) => self.record.entries[i] = entry,
            None => self.record.entries.push(entry),
        }
        self.text = with;
        Ok(())
    }

    /// Removes the entries of these names: ours, or with `force` anyone's; with ours, the inputs
    /// they brought.
    fn remove(&mut self, names: &[String], force: bool) -> Result<()> {
        // The inputs of servers about to go first: they were written after their entries.
        if let Some(list) = self.inputs_list {
            let text = std::mem::take(&mut self.text);
            self.text = prompted::drop_inputs(self.file, list, text, &mut self.record, |input| {
                names.contains(&input.server)
            })?;
        }
        // Newest first, so each receipt meets the text it was taken from.
        let mut order: Vec<&String> = names.iter().collect();
        order.sort_by_key(|n| Reverse(self.record.entries.iter().position(|e| &&e.name == n)));
        for name in order {
            self.remove_one(name, force)?;
        }
        Ok(())
    }

    fn remove_one(&mut self, name: &str, force: bool) -> Result<()> {
        let ours = self.record.entries.iter().position(|e| e.name == name);
        let present = self.existing.contains_key(name);
        match (ours, present) {
            (None, false) => self.skipped.push(Skipped {
                name: name.to_string(),
                reason: "there is no entry of that name".into(),
            }),
            (None, true) if !force => self.skipped.push(Skipped {
                name: name.to_string(),
                reason: "Switchboard did not write this entry; it was left alone \
                         (--force removes it)"
                    .into(),
            }),
            (ours, present) => {
                if present {
                    let receipt = ours.and_then(|i| self.record.entries[i].receipt.as_ref());
                    self.text = remove_exact(self.file, &self.text, name, receipt)?;
                }
                if let Some(i) = ours {
                    self.record.entries.remove(i);
                }
                self.changes.push(Change { name: name.to_string(), kind: ChangeKind::Remove });
            }
        }
        Ok(())
    }

    /// Adds or updates the inputs the applied servers need, and removes those they no longer
    /// need.
    fn update_inputs(&mut self) -> Result<()> {
        if let Some(list) = self.inputs_list {
            let text = std::mem::take(&mut self.text);
            self.text = prompted::apply_inputs(
                self.file,
                list,
                text,
                &mut self.record,
                &self.wanted_inputs,
                &mut self.notes,
                self.now_ms,
            )?;
        }
        Ok(())
    }

    /// The plan: `after` is `None` (delete the file) when Switchboard created the file and
    /// nothing is left in it; no record when no entry of ours is left.
    fn finish(self, before: Option<String>, op: Op) -> Plan {
        let after =
            if self.record.created && self.record.entries.is_empty() && self.text.trim().is_empty()
            {
                None
            } else {
                Some(self.text)
            };
        let record = (!self.record.entries.is_empty()).then_some(self.record);
        Plan {
            file: self.file.clone(),
            before,
            after,
            changes: self.changes,
            skipped: self.skipped,
            notes: self.notes,
            record,
            op,
        }
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
