//! The catalog of servers one can install: entries in the official MCP Registry `server.json`
//! format (`format`). A bundled list of real servers with exact versions ships inside the binary
//! (`bundled.json`), so the catalog works offline; `registry_api` refreshes it from a registry
//! (the official one by default, `SWITCHBOARD_REGISTRY_URL` or a setting otherwise), and the
//! result is cached under `data/catalog/`. Search and filters work on whatever is loaded.

pub mod format;
pub mod registry_api;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use format::{
    Argument, ArgumentKind, Input, KeyValueInput, Package, RegistryType, RemoteEntry, ServerJson,
    ServerList, ServerResponse, Transport,
};
pub use registry_api::{DEFAULT_REGISTRY, RegistryClient, registry_url};

use switchboard_core::{Env, Paths, clock::Clock, fsutil};

mod error;
pub use error::{Error, Result};

/// The catalog shipped with Switchboard.
const BUNDLED: &str = include_str!("bundled.json");

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Bundled,
    Registry,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub server: ServerJson,
    pub source: Source,
}

/// How a catalog entry runs, for badges and filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "CatalogCard")]
pub struct Card {
    pub name: String,
    pub title: String,
    pub description: String,
    pub version: String,
    /// `npm`, `pypi`, `oci`, `mcpb`, `nuget`, `remote`.
    pub runtimes: Vec<String>,
    /// `stdio`, `streamable-http`, `sse`.
    pub transports: Vec<String>,
    /// Some required input is a secret (an API key, a token).
    pub needs_secrets: bool,
    pub source: Source,
    #[ts(optional)]
    pub website: Option<String>,
}

impl Card {
    pub fn of(entry: &Entry) -> Card {
        let s = &entry.server;
        let mut runtimes: Vec<String> =
            s.packages.iter().map(|p| p.registry_type.as_str().to_string()).collect();
        if !s.remotes.is_empty() {
            runtimes.push("remote".into());
        }
        let mut transports: Vec<String> = s
            .packages
            .iter()
            .map(|p| p.transport.kind.clone())
            .chain(s.remotes.iter().map(|r| r.kind.clone()))
            .collect();
        runtimes.dedup();
        transports.sort();
        transports.dedup();
        Card {
            name: s.name.clone(),
            title: s.display_name().to_string(),
            description: s.description.clone(),
            version: s.version.clone(),
            runtimes,
            transports,
            needs_secrets: needs_secrets(s),
            source: entry.source,
            website: s.website_url.clone().or_else(|| s.repository.as_ref().map(|r| r.url.clone())),
        }
    }
}

/// Whether every way to run `server` asks for a required secret.
fn needs_secrets(server: &ServerJson) -> bool {
    let required_secret = |i: &Input| {
        (i.is_required && i.is_secret && i.value.is_none())
            || i.variables.values().any(|v| v.is_required && v.is_secret)
    };
    let package = |p: &Package| {
        p.environment_variables.iter().any(|e| required_secret(&e.input))
            || p.runtime_arguments
                .iter()
                .chain(&p.package_arguments)
                .any(|a| required_secret(&a.input))
            || p.transport.headers.iter().any(|h| required_secret(&h.input))
    };
    let remote = |r: &RemoteEntry| {
        r.headers.iter().any(|h| required_secret(&h.input))
            || r.variables.values().any(|v| v.is_required && v.is_secret)
    };
    let ways = server.packages.len() + server.remotes.len();
    ways > 0 && server.packages.iter().all(package) && server.remotes.iter().all(remote)
}

/// What to look for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "CatalogQuery")]
pub struct Query {
    /// Words that must all appear in the name, title, description or a package identifier.
    #[serde(default)]
    pub text: String,
    /// Only entries that run this way (`npm`, `pypi`, `oci`, `mcpb`, `remote`).
    #[serde(default)]
    #[ts(optional)]
    pub runtime: Option<String>,
    /// Only entries offering this transport.
    #[serde(default)]
    #[ts(optional)]
    pub transport: Option<String>,
    /// `Some(false)`: only entries that need no secret; `Some(true)`: only those that do.
    #[serde(default)]
    #[ts(optional)]
    pub needs_secrets: Option<bool>,
}

/// The loaded catalog: the bundled entries, overlaid by the cached registry entries (a registry
/// entry of the same name replaces the bundled one).
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<Entry>,
    /// When the registry entries were fetched, and from where.
    pub refreshed: Option<CacheInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CacheInfo {
    pub registry: String,
    pub fetched_at_ms: u64,
    pub count: usize,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CacheFile {
    version: u32,
    info: CacheInfo,
    servers: Vec<ServerJson>,
}

/// A catalog entry by name (full, short or title): the loaded catalog's, or with `version`
/// (other than the one loaded) that exact version from the configured registry.
pub async fn lookup(
    paths: &Paths,
    env: &Env,
    name: &str,
    version: Option<&str>,
) -> Result<ServerJson> {
    let catalog = Catalog::load(&paths.data_dir)?;
    let found = catalog.find(name).map(|e| e.server.clone());
    match (version, found) {
        (None, found) => found,
        (Some(v), Ok(server)) if server.version == v => Ok(server),
        (Some(v), found) => {
            let settings = switchboard_core::settings::load(paths)?;
            let url = registry_url(env, settings.registry_url.as_deref());
            let full = found.map(|s| s.name).unwrap_or_else(|_| name.to_string());
            RegistryClient::new(&url)?.version(&full, v).await
        }
    }
}

/// Fetches every server from `registry` (default: `SWITCHBOARD_REGISTRY_URL`, the
/// `registryUrl` setting, the official registry) and caches them. A registry that fails leaves
/// the cache as it was.
pub async fn refresh(
    paths: &Paths,
    env: &Env,
    clock: &dyn Clock,
    registry: Option<String>,
) -> Result<CacheInfo> {
    let settings = switchboard_core::settings::load(paths)?;
    let url = registry.unwrap_or_else(|| registry_url(env, settings.registry_url.as_deref()));
    let client = RegistryClient::new(&url)?;
    let servers = client.list(None).await?;
    let mut catalog = Catalog::load(&paths.data_dir)?;
    catalog.store_refresh(&paths.data_dir, client.base(), servers, clock.now_ms())
}

/// The bundled entries.
pub fn bundled() -> Result<Vec<ServerJson>> {
    let list: ServerList = serde_json::from_str(BUNDLED).map_err(Error::Bundled)?;
    Ok(list.servers.into_iter().map(|r| r.server).collect())
}

/// `<data>/catalog/registry.json`.
pub fn cache_path(data_dir: &Path) -> PathBuf {
    data_dir.join("catalog").join("registry.json")
}

impl Catalog {
    /// The bundled catalog plus what the last refresh cached under `data_dir`. A cache that does
    /// not parse is ignored (and reported in the log): the bundled catalog still works.
    pub fn load(data_dir: &Path) -> Result<Catalog> {
        let mut catalog = Catalog::from_entries(
            bundled()?
                .into_iter()
                .map(|server| Entry { server, source: Source::Bundled })
                .collect(),
        );
        let path = cache_path(data_dir);
        match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<CacheFile>(&bytes) {
                Ok(cache) => {
                    catalog.overlay(cache.servers);
                    catalog.refreshed = Some(cache.info);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "catalog cache ignored");
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Io { action: "read", path, source: e }),
        }
        Ok(catalog)
    }

    /// The bundled entries alone.
    pub fn bundled() -> Result<Catalog> {
        Ok(Catalog::from_entries(
            bundled()?
                .into_iter()
                .map(|server| Entry { server, source: Source::Bundled })
                .collect(),
        ))
    }

    pub fn from_entries(entries: Vec<Entry>) -> Catalog {
        Catalog { entries, refreshed: None }
    }

    /// Registry entries replace bundled ones of the same name; new names are added.
    fn overlay(&mut self, servers: Vec<ServerJson>) {
        for server in servers {
            let entry = Entry { server, source: Source::Registry };
            match self.entries.iter().position(|e| e.server.name == entry.server.name) {
                Some(i) => self.entries[i] = entry,
                None => self.entries.push(entry),
            }
        }
    }

    /// Saves a refresh's entries as the cache and overlays them.
    pub fn store_refresh(
        &mut self,
        data_dir: &Path,
        registry: &str,
        servers: Vec<ServerJson>,
        fetched_at_ms: u64,
    ) -> Result<CacheInfo> {
        let info =
            CacheInfo { registry: registry.to_string(), fetched_at_ms, count: servers.len() };
        let path = cache_path(data_dir);
        let cache = CacheFile { version: 1, info: info.clone(), servers };
        let bytes = serde_json::to_vec(&cache).map_err(Error::Encode)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
        }
        fsutil::write_atomic(&path, &bytes).map_err(Error::io("write", &path))?;
        self.overlay(cache.servers);
        self.refreshed = Some(info.clone());
        Ok(info)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry named exactly `name`, or else the only one whose short name (after the slash)
    /// or title is `name`.
    pub fn find(&self, name: &str) -> Result<&Entry> {
        if let Some(e) = self.entries.iter().find(|e| e.server.name == name) {
            return Ok(e);
        }
        let lower = name.to_lowercase();
        let matches: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| {
                e.server.name.rsplit('/').next().is_some_and(|short| short.to_lowercase() == lower)
                    || e.server.title.as_deref().is_some_and(|t| t.to_lowercase() == lower)
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::UnknownEntry { name: name.to_string(), hint: self.suggest(name) }),
            many => Err(Error::Ambiguous {
                name: name.to_string(),
                matches: many.iter().map(|e| e.server.name.clone()).collect(),
            }),
        }
    }

    fn suggest(&self, name: &str) -> String {
        let found = self.search(&Query { text: name.to_string(), ..Query::default() });
        match found.first() {
            Some(card) => format!("; did you mean {}?", card.name),
            None => "; `switchboard catalog search` lists what there is".into(),
        }
    }

    /// The entries matching `query`, best first: a match in the name or title before one in the
    /// description, then by name.
    pub fn search(&self, query: &Query) -> Vec<Card> {
        let words: Vec<String> = query.text.split_whitespace().map(str::to_lowercase).collect();
        let mut found: Vec<(usize, Card)> = self
            .entries
            .iter()
            .filter_map(|entry| {
                let card = Card::of(entry);
                if let Some(r) = &query.runtime
                    && !card.runtimes.iter().any(|x| x.eq_ignore_ascii_case(r))
                {
                    return None;
                }
                if let Some(t) = &query.transport
                    && !card.transports.iter().any(|x| x.eq_ignore_ascii_case(t))
                {
                    return None;
                }
                if query.needs_secrets.is_some_and(|s| s != card.needs_secrets) {
                    return None;
                }
                let head = format!("{} {}", card.name, card.title).to_lowercase();
                let body = std::iter::once(card.description.to_lowercase())
                    .chain(entry.server.packages.iter().map(|p| p.identifier.to_lowercase()))
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut rank = 0;
                for w in &words {
                    if head.contains(w.as_str()) {
                    } else if body.contains(w.as_str()) {
                        rank += 1;
                    } else {
                        return None;
                    }
                }
                Some((rank, card))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
        found.into_iter().map(|(_, c)| c).collect()
    }
}

#[cfg(test)]
mod tests;
