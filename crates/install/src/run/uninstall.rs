//! Uninstall: everything an install created goes (registry entry, package unless shared,
//! secrets, pins, logs, history, the record).

use super::{Installer, remove_package_dir};
use crate::{Error, Result};
use switchboard_core::{Registry, ServerName, secrets::SecretStore};
use switchboard_runtime::pins::Pins;

impl Installer {
    /// Removes everything install created for `name`: the registry entry, the package (unless
    /// another install uses the same one), secrets, pins, logs, history and the record. The
    /// caller stops the server (the owner stops what leaves the registry when it reloads).
    pub fn uninstall(&self, name: &str) -> Result<Vec<String>> {
        let name: ServerName = name.parse()?;
        let record = self.record(&name)?;
        let registry = Registry::new(&self.paths);
        let spec = registry.load()?.get(&name).cloned();
        if spec.is_none() && record.is_none() {
            return Err(Error::UnknownServer(name.to_string()));
        }
        let mut removed = Vec::new();
        if spec.is_some() {
            registry.remove(&name)?;
            removed.push(format!("registry entry {name}"));
        }
        let mut keys: Vec<String> = spec.iter().flat_map(|s| s.secrets.iter().cloned()).collect();
        if let Some(record) = &record {
            keys.extend(record.secrets.iter().cloned());
            if let Some(dir) = &record.package_dir
                && remove_package_dir(&self.packages_dir(), Some(dir), Some((self, &name)))
            {
                removed.push(format!("package {}", dir.display()));
            }
        }
        keys.sort();
        keys.dedup();
        if !keys.is_empty() {
            SecretStore::open(&self.paths).delete(&name, &keys)?;
            removed.push(format!("{} secret(s)", keys.len()));
        }
        let pins = Pins::new(&self.paths.data_dir);
        if pins.path(&name).exists() {
            pins.remove(&name)?;
            removed.push("tool pins".into());
        }
        let history = self.paths.data_dir.join("history").join(format!("{name}.jsonl"));
        let mut files = vec![history, self.record_path(&name)];
        let log = self.paths.server_log(&name);
        if let (Some(dir), Some(file)) = (log.parent(), log.file_name()) {
            let prefix = file.to_string_lossy().into_owned();
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    let n = entry.file_name().to_string_lossy().into_owned();
                    if n == prefix || n.strip_prefix(&prefix).is_some_and(|r| r.starts_with('.')) {
                        files.push(entry.path());
                    }
                }
            }
        }
        for file in files {
            match std::fs::remove_file(&file) {
                Ok(()) => removed.push(file.display().to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("removing", &file)(e)),
            }
        }
        Ok(removed)
    }
}
