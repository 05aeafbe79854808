//! Update: fetch and verify the newer version with the same answers, show its tool diff, and
//! only then replace the registered server (or drop the new package when declined).

use std::{collections::BTreeMap, path::PathBuf};

use super::{InstallRecord, Installer, Progress, Request, non_secret_answers, remove_package_dir};
use crate::{Error, Result, Way};
use switchboard_catalog::ServerJson;
use switchboard_core::{Registry, ServerName, ServerSpec, secrets::SecretStore};
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

    /// Registers a prepared update: the new spec, pins and record; the old package goes.
    pub fn finish_update(&self, update: PreparedUpdate) -> Result<()> {
        let name = &update.name;
        if !update.secrets.is_empty() {
            let store = SecretStore::open(&self.paths);
            for (key, value) in &update.secrets {
                store.set(name, key, value)?;
            }
        }
        Pins::new(&self.paths.data_dir).approve_tools(
            name,
            update.pins.clone(),
            self.clock.now_ms(),
        )?;
        self.save_record(name, &update.record)?;
        Registry::new(&self.paths).update(|servers| -> Result<()> {
            let slot = servers
                .get_mut(name)
                .ok_or_else(|| switchboard_core::Error::UnknownServer(name.to_string()))?;
            let mut spec = update.spec.clone();
            spec.enabled = slot.enabled;
            spec.restart = slot.restart;
            *slot = spec;
            Ok(())
        })?;
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

/// The way of a newer entry that matches how the old one was installed.
fn same_way(server: &ServerJson, runtime: &str) -> Option<Way> {
    if runtime == "remote" {
        return (!server.remotes.is_empty()).then_some(Way::Remote(0));
    }
    server.packages.iter().position(|p| p.registry_type.as_str() == runtime).map(Way::Package)
}
