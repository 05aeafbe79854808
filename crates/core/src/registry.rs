//! The registry of installed servers: `servers.json` in the config folder.
//!
//! Schema-versioned JSON, written atomically under an exclusive lock held across the whole
//! read-modify-write, so the app, `serve` and the CLI never lose each other's writes. A file that
//! does not parse (or was written by a newer Switchboard) is never written: every operation reports
//! the file, line and column instead.

use std::{collections::BTreeMap, fmt, path::PathBuf};

use serde::{Deserialize, Deserializer, Serialize, de};

use crate::{
    Error, Result,
    fsutil::{FileLock, write_atomic},
    paths::Paths,
    spec::{ServerName, ServerSpec},
};

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

/// Every registered server, by name.
pub type Servers = BTreeMap<ServerName, ServerSpec>;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistryFile {
    schema_version: u64,
    #[serde(deserialize_with = "unique_valid_servers")]
    servers: Servers,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionProbe {
    schema_version: u64,
}

/// Handle on the registry file. Cheap to clone; holds no file open between calls.
#[derive(Debug, Clone)]
pub struct Registry {
    path: PathBuf,
    lock_path: PathBuf,
}

impl Registry {
    pub fn new(paths: &Paths) -> Self {
        let path = paths.registry_file();
        let lock_path = path.with_extension("json.lock");
        Registry { path, lock_path }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Reads every server. A missing file is an empty registry.
    pub fn load(&self) -> Result<Servers> {
        self.ensure_dir()?;
        let _lock = match FileLock::shared(&self.lock_path) {
            Ok(lock) => Some(lock),
            // A folder this process cannot write (read-only, or not ours) still reads: every write
            // is a rename, so an unlocked reader sees the old file or the new one, never half.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
                ) =>
            {
                None
            }
            Err(e) => return Err(Error::io("locking", &self.lock_path)(e)),
        };
        self.read()
    }

    /// Runs `change` on the current servers under the exclusive lock and writes the result
    /// atomically if it changed anything. Nothing is written when `change` fails or the file could
    /// not be read.
    /// The closure may fail with the caller's own error type; nothing is written then.
    pub fn update<T, E: From<Error>>(
        &self,
        change: impl FnOnce(&mut Servers) -> Result<T, E>,
    ) -> Result<T, E> {
        self.ensure_dir()?;
        let _lock =
            FileLock::exclusive(&self.lock_path).map_err(Error::io("locking", &self.lock_path))?;
        let before = self.read()?;
        let mut servers = before.clone();
        let out = change(&mut servers)?;
        if servers != before || !self.path.exists() {
            let file = RegistryFile { schema_version: SCHEMA_VERSION, servers };
            let mut bytes = serde_json::to_vec_pretty(&file)
                .map_err(|source| Error::Encode { what: "the registry", source })?;
            bytes.push(b'\n');
            write_atomic(&self.path, &bytes).map_err(Error::io("writing", &self.path))?;
        }
        Ok(out)
    }

    /// Adds a new server; refuses a name that exists.
    pub fn add(&self, name: ServerName, spec: ServerSpec) -> Result<()> {
        spec.validate()?;
        self.update(|servers| {
            if servers.contains_key(&name) {
                return Err(Error::DuplicateServer(name.to_string()));
            }
            servers.insert(name, spec);
            Ok(())
        })
    }

    /// Replaces an existing server's definition.
    pub fn replace(&self, name: &ServerName, spec: ServerSpec) -> Result<()> {
        spec.validate()?;
        self.update(|servers| match servers.get_mut(name) {
            Some(slot) => {
                *slot = spec;
                Ok(())
            }
            None => Err(Error::UnknownServer(name.to_string())),
        })
    }

    /// Removes a server and returns what it was.
    pub fn remove(&self, name: &ServerName) -> Result<ServerSpec> {
        self.update(|servers| {
            servers.remove(name).ok_or_else(|| Error::UnknownServer(name.to_string()))
        })
    }

    fn ensure_dir(&self) -> Result<()> {
        match self.path.parent() {
            Some(dir) => std::fs::create_dir_all(dir).map_err(Error::io("creating", dir)),
            None => Ok(()),
        }
    }

    fn read(&self) -> Result<Servers> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Servers::new()),
            Err(e) => return Err(Error::io("reading", &self.path)(e)),
        };
        let corrupt = |e: serde_json::Error| Error::CorruptRegistry {
            path: self.path.clone(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e),
        };
        let probe: VersionProbe = serde_json::from_slice(&bytes).map_err(corrupt)?;
        if probe.schema_version > SCHEMA_VERSION {
            return Err(Error::NewerRegistry {
                path: self.path.clone(),
                found: probe.schema_version,
                known: SCHEMA_VERSION,
            });
        }
        let file: RegistryFile = serde_json::from_slice(&bytes).map_err(corrupt)?;
        Ok(file.servers)
    }
}

/// serde_json appends " at line L column C" to its messages; we report those separately.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Deserializes the `servers` map, refusing duplicate names and invalid definitions with an error
/// that serde_json places at the offending line and column.
fn unique_valid_servers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Servers, D::Error> {
    struct Visitor;
    impl<'de> de::Visitor<'de> for Visitor {
        type Value = Servers;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of servers by name")
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Servers, A::Error> {
            let mut servers = Servers::new();
            while let Some(name) = map.next_key::<ServerName>()? {
                // Checked before the value is read, so the error points at the second name.
                if servers.contains_key(&name) {
                    return Err(de::Error::custom(format!("server {name} is defined twice")));
                }
                let spec: ServerSpec = map.next_value()?;
                spec.validate().map_err(|e| de::Error::custom(format!("server {name}: {e}")))?;
                servers.insert(name, spec);
            }
            Ok(servers)
        }
    }
    deserializer.deserialize_map(Visitor)
}
