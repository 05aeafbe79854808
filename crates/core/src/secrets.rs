//! Where servers' secrets live: the OS keychain (`keyring`: macOS Keychain, Windows Credential
//! Manager, the Secret Service on Linux), or, where no keychain service answers (a headless
//! Linux box, a CI runner), a clearly announced file readable by the user only. The registry
//! names a server's secret keys (`ServerSpec::secrets`); their values are filled in just before
//! a server is started, tested or written into a host's config, and never logged.
//!
//! `SWITCHBOARD_SECRET_STORE=keychain|file` forces one store (the tests use `file`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use crate::{
    Error, Launch, Paths, Result, ServerName, ServerSpec,
    fsutil::{FileLock, restrict_to_owner, write_atomic},
};

/// The keychain's service name for every Switchboard secret.
const SERVICE: &str = "dev.switchboard.secrets";
pub use crate::paths::{STORE_VAR, StoreChoice};

/// Which store holds the secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretStore {
    Keychain,
    /// The fallback: a JSON file, mode 0600 in a 0700 folder.
    File(PathBuf),
}

impl SecretStore {
    /// The keychain when one answers (or when forced), else the owner-only file under `paths`.
    pub fn open(paths: &Paths) -> SecretStore {
        let file = || SecretStore::File(paths.data_dir.join("secrets").join("secrets.json"));
        match paths.secrets {
            StoreChoice::File => return file(),
            StoreChoice::Keychain => return SecretStore::Keychain,
            StoreChoice::Auto => {}
        }
        if keychain_answers() { SecretStore::Keychain } else { file() }
    }

    /// One sentence for the user: where secrets go.
    pub fn describe(&self) -> String {
        match self {
            SecretStore::Keychain => "secrets are kept in the system keychain".into(),
            SecretStore::File(path) => format!(
                "no keychain service is running, so secrets are kept in {}, readable by you only",
                path.display()
            ),
        }
    }

    pub fn is_fallback(&self) -> bool {
        matches!(self, SecretStore::File(_))
    }

    /// Stores `value` as `server`'s secret `key`.
    pub fn set(&self, server: &ServerName, key: &str, value: &str) -> Result<()> {
        match self {
            SecretStore::Keychain => keychain_entry(server, key)?
                .set_password(value)
                .map_err(|e| keychain_error("storing", server, key, e)),
            SecretStore::File(path) => update_file(path, |all| {
                all.entry(server.to_string()).or_default().insert(key.to_owned(), value.to_owned());
            }),
        }
    }

    /// `server`'s secret `key`; `None` when it is not stored.
    pub fn get(&self, server: &ServerName, key: &str) -> Result<Option<String>> {
        match self {
            SecretStore::Keychain => match keychain_entry(server, key)?.get_password() {
                Ok(value) => Ok(Some(value)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(keychain_error("reading", server, key, e)),
            },
            SecretStore::File(path) => {
                Ok(read_file(path)?.get(server.as_str()).and_then(|m| m.get(key)).cloned())
            }
        }
    }

    /// Forgets `server`'s secrets `keys` (missing ones are fine).
    pub fn delete(&self, server: &ServerName, keys: &[String]) -> Result<()> {
        match self {
            SecretStore::Keychain => {
                for key in keys {
                    match keychain_entry(server, key)?.delete_credential() {
                        Ok(()) | Err(keyring::Error::NoEntry) => {}
                        Err(e) => return Err(keychain_error("deleting", server, key, e)),
                    }
                }
                Ok(())
            }
            SecretStore::File(path) => {
                if !path.exists() {
                    return Ok(());
                }
                update_file(path, |all| {
                    if let Some(mine) = all.get_mut(server.as_str()) {
                        for key in keys {
                            mine.remove(key);
                        }
                        if mine.is_empty() {
                            all.remove(server.as_str());
                        }
                    }
                })
            }
        }
    }

    /// `spec` with its secret env variables or headers filled in from the store. A secret that
    /// is missing is an error naming it: the server would start without its key otherwise.
    pub fn fill(&self, server: &ServerName, spec: &ServerSpec) -> Result<ServerSpec> {
        let mut filled = spec.clone();
        for key in &spec.secrets {
            let value = self.get(server, key)?.ok_or_else(|| Error::MissingSecret {
                server: server.to_string(),
                key: key.clone(),
                store: self.describe(),
            })?;
            match &mut filled.launch {
                Launch::Stdio { env, .. } => env.insert(key.clone(), value),
                Launch::Remote { headers, .. } => headers.insert(key.clone(), value),
            };
        }
        Ok(filled)
    }
}

/// `spec` with its secrets filled in from the store under `paths`, or as it is when it has none
/// (so servers without secrets never touch the keychain).
pub fn filled(paths: &Paths, server: &ServerName, spec: &ServerSpec) -> Result<ServerSpec> {
    if spec.secrets.is_empty() {
        return Ok(spec.clone());
    }
    SecretStore::open(paths).fill(server, spec)
}

fn keychain_entry(server: &ServerName, key: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, &format!("{server}/{key}"))
        .map_err(|e| keychain_error("opening", server, key, e))
}

fn keychain_error(action: &str, server: &ServerName, key: &str, e: keyring::Error) -> Error {
    Error::Secrets(format!("{action} {server}'s secret {key} in the keychain failed: {e}"))
}

/// Whether a keychain service answers, asked once per process (every start of a server with
/// secrets would otherwise ask again).
fn keychain_answers() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(probe_keychain)
}

/// Asks on a thread of its own with a deadline (a Secret Service that is being activated can
/// take a while; a missing one fails at once).
fn probe_keychain() -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    let probe = std::thread::Builder::new().name("keychain-probe".into()).spawn(move || {
        let answer = keyring::Entry::new(SERVICE, "probe")
            .and_then(|entry| entry.get_password().map(|_| ()))
            .or_else(|e| if matches!(e, keyring::Error::NoEntry) { Ok(()) } else { Err(e) });
        if let Err(e) = &answer {
            tracing::debug!("no keychain: {e}");
        }
        let _ = tx.send(answer.is_ok());
    });
    probe.is_ok() && rx.recv_timeout(Duration::from_secs(3)).unwrap_or(false)
}

type FileSecrets = BTreeMap<String, BTreeMap<String, String>>;

fn read_file(path: &Path) -> Result<FileSecrets> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::Secrets(format!(
                "the secret store {} cannot be read ({e}); fix or move it aside",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileSecrets::new()),
        Err(e) => Err(Error::io("reading", path)(e)),
    }
}

/// Read-modify-write of the fallback file under a lock, owner-only, atomic.
fn update_file(path: &Path, change: impl FnOnce(&mut FileSecrets)) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
    restrict_to_owner(dir).map_err(Error::io("securing", dir))?;
    let lock_path = path.with_extension("json.lock");
    let _lock = FileLock::exclusive(&lock_path).map_err(Error::io("locking", &lock_path))?;
    let mut all = read_file(path)?;
    change(&mut all);
    if all.is_empty() {
        // The last secret went: no file is left to say a server had one.
        return match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("removing", path)(e)),
        };
    }
    let bytes = serde_json::to_vec_pretty(&all).map_err(|e| Error::Secrets(e.to_string()))?;
    if !path.exists() {
        write_atomic(path, b"{}").map_err(Error::io("writing", path))?;
    }
    // Owner-only before any secret is written into it (a rewrite keeps the file's mode, so a
    // file loosened by hand is tightened first).
    restrict_to_owner(path).map_err(Error::io("securing", path))?;
    write_atomic(path, &bytes).map_err(Error::io("writing", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> SecretStore {
        SecretStore::File(dir.join("secrets").join("secrets.json"))
    }

    #[test]
    fn the_fallback_file_is_owner_only_and_keeps_servers_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store(dir.path());
        let a: ServerName = "a".parse().expect("name");
        let b: ServerName = "b".parse().expect("name");
        s.set(&a, "TOKEN", "one").expect("set");
        s.set(&b, "TOKEN", "two").expect("set");
        assert_eq!(s.get(&a, "TOKEN").expect("get").as_deref(), Some("one"));
        assert_eq!(s.get(&b, "TOKEN").expect("get").as_deref(), Some("two"));
        assert_eq!(s.get(&a, "OTHER").expect("get"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let SecretStore::File(path) = &s else { unreachable!() };
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(path), 0o600);
            assert_eq!(mode(path.parent().expect("dir")), 0o700);
        }
        s.delete(&a, &["TOKEN".into()]).expect("delete");
        assert_eq!(s.get(&a, "TOKEN").expect("get"), None);
        assert_eq!(s.get(&b, "TOKEN").expect("get").as_deref(), Some("two"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let SecretStore::File(path) = &s else { unreachable!() };
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(path), 0o600, "after a rewrite");
            // Loosened by hand: the next write makes both owner-only again.
            let folder = path.parent().expect("dir");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            s.set(&a, "TOKEN", "three").expect("set");
            assert_eq!(mode(path), 0o600, "after a rewrite of a loosened file");
            assert_eq!(mode(folder), 0o700);
        }
    }

    #[test]
    fn fill_puts_values_into_env_or_headers_and_names_a_missing_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store(dir.path());
        let name: ServerName = "gh".parse().expect("name");
        let mut spec = ServerSpec::stdio("node", vec![]);
        spec.secrets = vec!["GITHUB_TOKEN".into()];
        let error = s.fill(&name, &spec).expect_err("missing");
        assert!(error.to_string().contains("GITHUB_TOKEN"), "{error}");
        s.set(&name, "GITHUB_TOKEN", "ghp_x").expect("set");
        let filled = s.fill(&name, &spec).expect("fill");
        let Launch::Stdio { env, .. } = &filled.launch else { panic!("stdio") };
        assert_eq!(env.get("GITHUB_TOKEN").map(String::as_str), Some("ghp_x"));

        let mut remote =
            ServerSpec::remote("https://x.test/mcp", crate::RemoteTransport::StreamableHttp);
        remote.secrets = vec!["Authorization".into()];
        s.set(&name, "Authorization", "Bearer t").expect("set");
        let filled = s.fill(&name, &remote).expect("fill");
        let Launch::Remote { headers, .. } = &filled.launch else { panic!("remote") };
        assert_eq!(headers.get("Authorization").map(String::as_str), Some("Bearer t"));
    }

    #[test]
    fn a_corrupt_store_is_reported_and_not_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = store(dir.path());
        let SecretStore::File(path) = &s else { unreachable!() };
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(path, b"{ not json").expect("write");
        let name: ServerName = "a".parse().expect("name");
        let error = s.set(&name, "K", "v").expect_err("refused");
        assert!(error.to_string().contains("cannot be read"), "{error}");
        assert_eq!(std::fs::read(path).expect("read"), b"{ not json");
    }
}
