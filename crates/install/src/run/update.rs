//! Update: fetch and verify the newer version with the same answers, show its tool diff, and
//! only then replace the registered server (or drop the new package when declined).

use std::{collections::BTreeMap, path::PathBuf};

use super::{InstallRecord, Installer, Progress, Request, non_secret_answers, remove_package_dir};
use crate::{Error, Result, Way, rollback::Rollback};
use switchboard_catalog::ServerJson;
use switchboard_core::{
    Registry, ServerName, ServerSpec, fsutil::write_atomic, secrets::SecretStore,
};
use switchboard_runtime::pins::{Pins, ToolDiff, ToolPin};

/// An update that was fetched and verified, waiting for the user to accept it.
#[derive(Debug)]
pub struct PreparedUpdate {
    pub name: ServerName,
    pub from: String,
    pub to: String,
    /// The new version's tools against the approved ones.
    pub diff: ToolDiff,
    spec: ServerSpec,
    record: InstallRecord,
    pins: Vec<ToolPin>,
    secrets: BTreeMap<String, String>,
    old_package_dir: Option<PathBuf>,
}

impl Installer {
    /// Fetches and verifies `server` (a newer version of what `name` was installed from) with
    /// the same inputs, and compares its tools with the approved ones. Nothing registered
    /// changes until [`Installer::finish_update`].
    pub async fn prepare_update(
        &self,
        name: &str,
        server: ServerJson,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<PreparedUpdate> {
        let name: ServerName = name.parse()?;
        let record = self.record(&name)?.ok_or_else(|| Error::NotInstalled(name.to_string()))?;
        let mut answers = record.answers.clone();
        let store = SecretStore::open(&self.paths);
        for key in &record.secrets {
            if let Some(field) = key.strip_prefix("input:")
                && let Some(v) = store.get(&name, key)?
            {
                answers.push((field.to_owned(), v));
            }
        }
        let way = same_way(&server, &record.runtime);
        let request =
            Request { server: server.clone(), name: Some(name.to_string()), way, answers };
        let plan = self.plan(&request)?;
        let total = plan.steps.len() + 1;
        let (built, verified) = self
            .fetch_and_verify(
                &name,
                &request,
                &plan,
                (total, total),
                record.package_dir.as_deref(),
                progress,
            )
            .await?;
        let approved =
            Pins::new(&self.paths.data_dir).load(&name)?.map(|r| r.tools).unwrap_or_default();
        let diff = ToolDiff::between(&approved, &verified.pins);
        let new_record = InstallRecord {
            entry: server.name.clone(),
            version: server.version.clone(),
            runtime: record.runtime.clone(),
            package_dir: built.package_dir.clone(),
            secrets: built.secrets.keys().cloned().collect(),
            answers: non_secret_answers(&request, &built.secret_fields),
            installed_at_ms: self.clock.now_ms(),
        };
        Ok(PreparedUpdate {
            name,
            from: record.version.clone(),
            to: server.version,
            diff,
            spec: built.spec,
            record: new_record,
            pins: verified.pins,
            secrets: built.secrets,
            old_package_dir: record.package_dir,
        })
    }

    /// Registers a prepared update: the new secrets, pins, record and spec, all or nothing (a
    /// failure at any step puts the earlier ones back and drops the new package); then the old
    /// package goes.
    pub fn finish_update(&self, update: PreparedUpdate) -> Result<()> {
        let name = &update.name;
        let mut rollback = Rollback::new();
        if update.record.package_dir != update.old_package_dir {
            let (packages, dir) = (self.packages_dir(), update.record.package_dir.clone());
            rollback.on_failure("remove the new package", move || {
                remove_package_dir(&packages, dir.as_deref(), None);
            });
        }
        if !update.secrets.is_empty() {
            let store = SecretStore::open(&self.paths);
            let mut before = Vec::new();
            for key in update.secrets.keys() {
                before.push((key.clone(), store.get(name, key)?));
            }
            let (restore, owner) = (store.clone(), name.clone());
            rollback.on_failure("restore the secrets", move || {
                for (key, value) in before {
                    let restored = match value {
                        Some(value) => restore.set(&owner, &key, &value),
                        None => restore.delete(&owner, std::slice::from_ref(&key)),
                    };
                    if let Err(e) = restored {
                        tracing::warn!("could not restore {owner}'s secret {key}: {e}");
                    }
                }
            });
            for (key, value) in &update.secrets {
                store.set(name, key, value)?;
            }
        }
        let pins = Pins::new(&self.paths.data_dir);
        restore_on_failure(&mut rollback, "restore the pins", pins.path(name));
        pins.approve_tools(name, update.pins.clone(), self.clock.now_ms())?;
        restore_on_failure(&mut rollback, "restore the install record", self.record_path(name));
        self.save_record(name, &update.record)?;
        // Last: the registry entry is what the owner runs.
        Registry::new(&self.paths).update(|servers| -> Result<()> {
            let slot = servers
                .get_mut(name)
                .ok_or_else(|| switchboard_core::Error::UnknownServer(name.to_string()))?;
            let mut spec = update.spec.clone();
            spec.enabled = slot.enabled;
            spec.restart = slot.restart;
            spec.lazy = slot.lazy;
            *slot = spec;
            Ok(())
        })?;
        rollback.commit();
        if update.old_package_dir != update.record.package_dir {
            remove_package_dir(
                &self.packages_dir(),
                update.old_package_dir.as_deref(),
                Some((self, name)),
            );
        }
        Ok(())
    }

    /// Drops a prepared update that the user declined: its new package goes.
    pub fn discard_update(&self, update: PreparedUpdate) {
        if update.record.package_dir != update.old_package_dir {
            remove_package_dir(
                &self.packages_dir(),
                update.record.package_dir.as_deref(),
                Some((self, &update.name)),
            );
        }
    }
}

/// Registers putting `path` back as it is now (its bytes, or its absence) if the change fails.
fn restore_on_failure(rollback: &mut Rollback<'_>, what: &'static str, path: PathBuf) {
    let before = std::fs::read(&path).ok();
    rollback.on_failure(what, move || {
        let restored = match &before {
            Some(bytes) => write_atomic(&path, bytes),
            None => match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        };
        if let Err(e) = restored {
            tracing::warn!("could not restore {}: {e}", path.display());
        }
    });
}

/// The way of a newer entry that matches how the old one was installed.
fn same_way(server: &ServerJson, runtime: &str) -> Option<Way> {
    if runtime == "remote" {
        return (!server.remotes.is_empty()).then_some(Way::Remote(0));
    }
    server.packages.iter().position(|p| p.registry_type.as_str() == runtime).map(Way::Package)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::{Env, Paths};

    fn record(version: &str, package_dir: &std::path::Path) -> InstallRecord {
        InstallRecord {
            entry: "io.example/grow".into(),
            version: version.into(),
            runtime: "mcpb".into(),
            package_dir: Some(package_dir.to_path_buf()),
            secrets: Vec::new(),
            answers: Vec::new(),
            installed_at_ms: 1,
        }
    }

    #[test]
    fn a_switch_that_fails_at_the_registry_puts_pins_and_record_back_and_drops_the_new_package() {
        let home = tempfile::tempdir().expect("tempdir");
        let installer = Installer::new(&Paths::under(home.path()), &Env::default());
        let name: ServerName = "grow".parse().expect("name");
        let (old_dir, new_dir) =
            (installer.packages_dir().join("grow-1"), installer.packages_dir().join("grow-2"));
        for dir in [&old_dir, &new_dir] {
            std::fs::create_dir_all(dir).expect("package dir");
        }
        installer.save_record(&name, &record("1.0.0", &old_dir)).expect("old record");
        let old_pin = ToolPin::of(&serde_json::json!({"name": "one", "inputSchema": {}}));
        let pins = Pins::new(&installer.paths.data_dir);
        pins.approve_tools(&name, vec![old_pin], 1).expect("old pins");
        let (pins_before, record_before) = (
            std::fs::read(pins.path(&name)).expect("pins"),
            std::fs::read(installer.record_path(&name)).expect("record"),
        );
        // Nothing named grow is registered any more (removed meanwhile): the last step fails.
        let update = PreparedUpdate {
            name: name.clone(),
            from: "1.0.0".into(),
            to: "2.0.0".into(),
            diff: ToolDiff::default(),
            spec: ServerSpec::stdio("/bin/true", Vec::new()),
            record: record("2.0.0", &new_dir),
            pins: vec![ToolPin::of(&serde_json::json!({"name": "two", "inputSchema": {}}))],
            secrets: BTreeMap::new(),
            old_package_dir: Some(old_dir.clone()),
        };
        let error = installer.finish_update(update).expect_err("no registry entry");
        assert!(error.to_string().contains("grow"), "{error}");
        assert_eq!(std::fs::read(pins.path(&name)).expect("pins"), pins_before);
        assert_eq!(std::fs::read(installer.record_path(&name)).expect("record"), record_before);
        assert!(old_dir.is_dir(), "the installed version's package stays");
        assert!(!new_dir.exists(), "the new package is dropped");
    }
}
