//! The record of which hosts are connected to the gateway, and how: `<data>/hosts/
//! connections.json`, replaced atomically, read and written under the state folder's lock
//! (`store::Store`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use crate::{Error, HostId, Mode, Reach, Result};

/// A connected host, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub host: String,
    pub mode: Mode,
    pub reach: Reach,
    /// The file its entries are in.
    #[ts(type = "string")]
    pub path: PathBuf,
    pub connected_ms: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ConnectionsFile {
    version: u32,
    pub hosts: BTreeMap<String, Connection>,
}

const CONNECTIONS: &str = "connections.json";

/// What the record says (none yet: no host connected). The caller holds the state lock.
pub(crate) fn read(state_dir: &Path) -> Result<ConnectionsFile> {
    let path = state_dir.join(CONNECTIONS);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| Error::Store { path, problem: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConnectionsFile::default()),
        Err(source) => Err(Error::Io { action: "read", path, source }),
    }
}

/// The files of connected hosts. The caller holds the state lock.
pub(crate) fn paths(state_dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(read(state_dir)?.hosts.into_values().map(|c| c.path).collect())
}

/// Records `host` as connected (`Some`) or not, under the state lock.
pub(crate) fn record(state_dir: &Path, host: HostId, connection: Option<Connection>) -> Result<()> {
    let _store = crate::store::Store::open(state_dir)?;
    let mut file = read(state_dir)?;
    match connection {
        Some(c) => file.hosts.insert(host.id().into(), c),
        None => file.hosts.remove(host.id()),
    };
    file.version = 1;
    let path = state_dir.join(CONNECTIONS);
    let bytes = serde_json::to_vec_pretty(&file)
        .map_err(|e| Error::Store { path: path.clone(), problem: e.to_string() })?;
    switchboard_core::fsutil::write_atomic(&path, &bytes).map_err(|source| Error::Io {
        action: "write",
        path,
        source,
    })
}
