//! A client of the MCP Registry API (`/v0.1`): the list of servers (paginated by cursor), a
//! server's latest version, and one exact version. Every answer is checked: an unreachable
//! registry, an HTTP error or a body that is not a registry response is an [`Error::RegistryApi`]
//! naming the URL, and entries that break the format's rules are skipped (and logged) rather
//! than failing the whole list.

use std::time::Duration;

use futures::StreamExt;
use reqwest::Url;

use super::format::{ServerJson, ServerList, ServerResponse};
use crate::{Error, Result};

/// The official registry.
pub const DEFAULT_REGISTRY: &str = "https://registry.modelcontextprotocol.io";
/// Entries asked for per page.
const PAGE_SIZE: usize = 100;
/// The most pages one refresh reads (the official registry has a few thousand servers).
const MAX_PAGES: usize = 100;
/// The largest answer read; more is not a registry page.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The registry to use: `SWITCHBOARD_REGISTRY_URL`, else `configured` (a setting), else the
/// official one.
pub fn registry_url(env: &switchboard_core::Env, configured: Option<&str>) -> String {
    env.registry_url
        .clone()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| configured.map(str::to_string).filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_REGISTRY.to_string())
}

#[derive(Debug, Clone)]
pub struct RegistryClient {
    base: Url,
    http: reqwest::Client,
}

impl RegistryClient {
    pub fn new(base: &str) -> Result<Self> {
        Self::with_timeout(base, Duration::from_secs(30))
    }

    /// Like [`RegistryClient::new`], giving up on any one request after `timeout`.
    pub fn with_timeout(base: &str, timeout: Duration) -> Result<Self> {
        let mut base = Url::parse(base).map_err(|e| Error::RegistryApi {
            url: base.to_string(),
            problem: format!("is not a URL: {e}"),
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::RegistryApi {
                url: base.to_string(),
                problem: "is not an http(s) URL".into(),
            });
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::RegistryApi { url: base.to_string(), problem: e.to_string() })?;
        Ok(RegistryClient { base, http })
    }

    pub fn base(&self) -> &str {
        self.base.as_str()
    }

    /// Every server's latest version (or those matching `search`), following the cursor.
    pub async fn list(&self, search: Option<&str>) -> Result<Vec<ServerJson>> {
        let mut cursor: Option<String> = None;
        let mut servers: Vec<ServerResponse> = Vec::new();
        for _ in 0..MAX_PAGES {
            let mut url = self.url(&["v0.1", "servers"]);
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("limit", &PAGE_SIZE.to_string());
                q.append_pair("version", "latest");
                if let Some(s) = search {
                    q.append_pair("search", s);
                }
                if let Some(c) = &cursor {
                    q.append_pair("cursor", c);
                }
            }
            let page: ServerList = self.get(url).await?;
            let empty = page.servers.is_empty();
            servers.extend(page.servers);
            match page.metadata.next_cursor {
                Some(next) if !empty && Some(&next) != cursor.as_ref() => cursor = Some(next),
                _ => break,
            }
        }
        Ok(latest_valid(servers))
    }

    /// The latest version of `name`.
    pub async fn latest(&self, name: &str) -> Result<ServerJson> {
        self.version(name, "latest").await
    }

    /// Version `version` of `name` (`latest` for the newest).
    pub async fn version(&self, name: &str, version: &str) -> Result<ServerJson> {
        let url = self.url(&["v0.1", "servers", name, "versions", version]);
        let response: ServerResponse = match self.fetch(url).await? {
            Some(response) => response,
            None => {
                return Err(if version == "latest" {
                    Error::UnknownEntry {
                        name: name.to_string(),
                        hint: format!(" (the registry {} does not know it)", self.base),
                    }
                } else {
                    Error::UnknownVersion {
                        registry: self.base.to_string(),
                        name: name.to_string(),
                        version: version.to_string(),
                    }
                });
            }
        };
        let problems = response.server.problems();
        if !problems.is_empty() {
            return Err(Error::RegistryApi {
                url: self.base.to_string(),
                problem: format!(
                    "describes {name} in a way Switchboard cannot use: {}",
                    problems.join("; ")
                ),
            });
        }
        Ok(response.server)
    }

    /// `base` plus `segments`, each percent-encoded as one segment (a name's `/` becomes `%2F`).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: Url) -> Result<T> {
        let shown = url.to_string();
        self.fetch(url).await?.ok_or_else(|| Error::RegistryApi {
            url: shown,
            problem: format!("answered HTTP {}", reqwest::StatusCode::NOT_FOUND.as_u16()),
        })
    }

    /// The answer at `url`, or `None` when the registry says there is nothing there (HTTP 404).
    async fn fetch<T: serde::de::DeserializeOwned>(&self, url: Url) -> Result<Option<T>> {
        let shown = url.to_string();
        let fail = |problem: String| Error::RegistryApi { url: shown.clone(), problem };
        let response = self
            .http
            .get(url.clone())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| fail(format!("could not be reached: {}", describe(&e))))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(fail(format!("answered HTTP {}", status.as_u16())));
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| fail(format!("broke off its answer: {}", describe(&e))))?;
            if body.len() + chunk.len() > MAX_BODY {
                return Err(fail(format!("answered with more than {} MiB", MAX_BODY >> 20)));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map(Some).map_err(|e| {
            fail(format!("answered with something that is not a registry response ({e})"))
        })
    }
}

/// The error's causes in one line: reqwest's own message repeats the URL the caller already
/// names, so only the causes below it are kept when there are any.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    if causes.is_empty() { e.to_string() } else { causes.join(": ") }
}

/// One entry per name: the one the registry marks latest, else the first seen; entries that
/// break the format's rules are dropped with a log line.
fn latest_valid(servers: Vec<ServerResponse>) -> Vec<ServerJson> {
    let mut out: Vec<(ServerJson, bool)> = Vec::new();
    for r in servers {
        let problems = r.server.problems();
        if !problems.is_empty() {
            tracing::warn!(name = %r.server.name, problems = ?problems, "registry entry skipped");
            continue;
        }
        let latest = r
            .meta
            .get("io.modelcontextprotocol.registry/official")
            .and_then(|m| m.get("isLatest"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        match out.iter().position(|(s, _)| s.name == r.server.name) {
            Some(i) if latest && !out[i].1 => out[i] = (r.server, true),
            Some(_) => {}
            None => out.push((r.server, latest)),
        }
    }
    out.into_iter().map(|(s, _)| s).collect()
}
