//! Per-host bearer tokens: created on demand, listed, revoked; kept in an owner-only file
//! (`<config>/gateway/tokens.json`, mode 0600 in a 0700 folder) that the owner re-reads when it
//! changes, so a token the CLI revokes stops working at the next request.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Mutex,
    time::SystemTime,
};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use switchboard_core::{
    Paths,
    fsutil::{FileLock, write_atomic},
};

use crate::{Error, Result};

/// One host's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostToken {
    pub token: String,
    pub created_ms: u64,
}

/// A host as `gateway tokens` lists it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub host: String,
    pub created_ms: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    hosts: BTreeMap<String, HostToken>,
}

/// The token file and a cache of it, keyed by its modification time.
#[derive(Debug)]
pub struct Tokens {
    path: PathBuf,
    cache: Mutex<Option<Cached>>,
}

/// The hosts as the file said when it had this modification time.
type Cached = (Option<SystemTime>, BTreeMap<String, HostToken>);

/// A host name: what a person calls the host (`claude-desktop`, `cursor`, `ci`).
pub fn check_host(host: &str) -> Result<()> {
    let ok = !host.is_empty()
        && host.len() <= 64
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok { Ok(()) } else { Err(Error::InvalidHost(host.to_owned())) }
}

impl Tokens {
    pub fn new(paths: &Paths) -> Self {
        Tokens::at(paths.config_dir.join("gateway").join("tokens.json"))
    }

    pub fn at(path: PathBuf) -> Self {
        Tokens { path, cache: Mutex::new(None) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<File> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::TokenFile { path: self.path.clone(), problem: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File::default()),
            Err(e) => Err(Error::io("reading", &self.path)(e)),
        }
    }

    fn write(&self, file: &File) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
            owner_only(dir, 0o700)?;
        }
        let mut bytes = serde_json::to_vec_pretty(file)
            .map_err(|e| Error::TokenFile { path: self.path.clone(), problem: e.to_string() })?;
        bytes.push(b'\n');
        write_atomic(&self.path, &bytes).map_err(Error::io("writing", &self.path))?;
        owner_only(&self.path, 0o600)?;
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }

    /// Holds the file's lock: a change is read, made and written by one process at a time.
    fn lock(&self) -> Result<FileLock> {
        let lock = self.path.with_extension("lock");
        if let Some(dir) = lock.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
            owner_only(dir, 0o700)?;
        }
        FileLock::exclusive(&lock).map_err(Error::io("locking", &lock))
    }

    /// `host`'s token, created (256 random bits) if it has none.
    pub fn token_for(&self, host: &str, now_ms: u64) -> Result<String> {
        check_host(host)?;
        let _lock = self.lock()?;
        let mut file = self.read()?;
        if let Some(existing) = file.hosts.get(host) {
            return Ok(existing.token.clone());
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        file.hosts.insert(host.to_owned(), HostToken { token: token.clone(), created_ms: now_ms });
        self.write(&file)?;
        Ok(token)
    }

    /// `host`'s token, if it has one (none is created).
    pub fn existing(&self, host: &str) -> Result<Option<String>> {
        check_host(host)?;
        let _lock = self.lock()?;
        Ok(self.read()?.hosts.get(host).map(|t| t.token.clone()))
    }

    /// Revokes `host`'s token; `false` when it had none.
    pub fn revoke(&self, host: &str) -> Result<bool> {
        check_host(host)?;
        let _lock = self.lock()?;
        let mut file = self.read()?;
        let had = file.hosts.remove(host).is_some();
        if had {
            self.write(&file)?;
        }
        Ok(had)
    }

    /// Every host with a token, by name.
    pub fn list(&self) -> Result<Vec<TokenInfo>> {
        Ok(self
            .read()?
            .hosts
            .into_iter()
            .map(|(host, t)| TokenInfo { host, created_ms: t.created_ms })
            .collect())
    }

    /// The host `token` belongs to. Re-reads the file only when it changed; compares in
    /// constant time.
    pub fn host_of(&self, token: &str) -> Result<Option<String>> {
        let modified = std::fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = matches!(&*cache, Some((at, _)) if *at == modified && modified.is_some());
        if !fresh {
            *cache = Some((modified, self.read()?.hosts));
        }
        let hosts = cache.as_ref().map(|(_, hosts)| hosts);
        Ok(hosts.and_then(|hosts| {
            hosts
                .iter()
                .find(|(_, t)| same(t.token.as_bytes(), token.as_bytes()))
                .map(|(host, _)| host.clone())
        }))
    }
}

/// Equal bytes, in time that does not depend on where they differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(unix)]
fn owner_only(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(Error::io("restricting", path))
}

#[cfg(not(unix))]
fn owner_only(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_made_once_per_host_found_by_value_and_gone_when_revoked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tokens = Tokens::at(dir.path().join("gateway/tokens.json"));
        let cursor = tokens.token_for("cursor", 5).expect("token");
        assert_eq!(cursor.len(), 64);
        assert_eq!(tokens.token_for("cursor", 9).expect("again"), cursor);
        let zed = tokens.token_for("zed", 6).expect("zed");
        assert_ne!(zed, cursor);
        assert_eq!(tokens.host_of(&cursor).expect("lookup").as_deref(), Some("cursor"));
        assert_eq!(tokens.host_of("nope").expect("lookup"), None);
        let listed = tokens.list().expect("list");
        assert_eq!(
            listed,
            [
                TokenInfo { host: "cursor".into(), created_ms: 5 },
                TokenInfo { host: "zed".into(), created_ms: 6 }
            ]
        );
        // Another process (the CLI) revokes: the cached owner sees it.
        assert!(Tokens::at(tokens.path().to_owned()).revoke("cursor").expect("revoke"));
        assert_eq!(tokens.host_of(&cursor).expect("lookup"), None);
        assert!(!tokens.revoke("cursor").expect("twice"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            let folder = tokens.path().parent().expect("folder").to_owned();
            assert_eq!(mode(tokens.path()), 0o600);
            assert_eq!(mode(&folder), 0o700);
            // Loosened by hand (or by an old version): the next rewrite makes both owner-only.
            std::fs::set_permissions(tokens.path(), std::fs::Permissions::from_mode(0o644))
                .expect("chmod");
            std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            tokens.token_for("claude", 7).expect("token");
            assert_eq!(mode(tokens.path()), 0o600, "after a rewrite");
            assert_eq!(mode(&folder), 0o700, "after a rewrite");
            assert!(tokens.revoke("claude").expect("revoke"));
            assert_eq!(mode(tokens.path()), 0o600, "after a revoke");
        }
    }

    #[test]
    fn hosts_asking_at_once_each_keep_the_token_they_were_given() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokens.json");
        let given: Vec<(String, String)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16)
                .map(|i| {
                    let path = path.clone();
                    scope.spawn(move || {
                        let host = format!("host-{i}");
                        let token = Tokens::at(path).token_for(&host, 1).expect("token");
                        (host, token)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        let tokens = Tokens::at(path);
        for (host, token) in given {
            assert_eq!(tokens.host_of(&token).expect("lookup").as_deref(), Some(host.as_str()));
        }
    }

    #[test]
    fn host_names_are_checked_and_a_broken_file_is_an_error_not_an_empty_list() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tokens = Tokens::at(dir.path().join("tokens.json"));
        assert!(matches!(tokens.token_for("a b", 1), Err(Error::InvalidHost(_))));
        assert!(matches!(tokens.token_for("", 1), Err(Error::InvalidHost(_))));
        std::fs::write(tokens.path(), "{not json").expect("write");
        assert!(matches!(tokens.list(), Err(Error::TokenFile { .. })));
        assert!(tokens.host_of("x").is_err());
    }
}
