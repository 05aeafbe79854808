//! The official MCP Registry `server.json` format (schema 2025-12-11), as the registry API serves
//! it: each entry is `{ "server": ServerJson, "_meta": … }`. Fields Switchboard does not use are
//! kept in `extra`, so an entry round-trips; unknown registry types and transports are carried
//! as they are and reported as unsupported at install time rather than failing the whole list.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `$schema` of entries Switchboard writes (the bundled catalog).
pub const SCHEMA_URL: &str =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

/// One server as the registry describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "CatalogServer")]
pub struct ServerJson {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub schema: Option<String>,
    /// Reverse-DNS, exactly one slash: `io.github.user/weather`.
    pub name: String,
    pub description: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub repository: Option<Repository>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub website_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remotes: Vec<RemoteEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    pub url: String,
    #[serde(default)]
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub subfolder: Option<String>,
}

/// How a package is fetched: `npm`, `pypi`, `oci`, `mcpb`, `nuget`, or another the schema
/// allows (`cargo`), kept as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum RegistryType {
    Npm,
    Pypi,
    Oci,
    Mcpb,
    Nuget,
    #[serde(untagged)]
    Other(String),
}

impl RegistryType {
    pub fn as_str(&self) -> &str {
        match self {
            RegistryType::Npm => "npm",
            RegistryType::Pypi => "pypi",
            RegistryType::Oci => "oci",
            RegistryType::Mcpb => "mcpb",
            RegistryType::Nuget => "nuget",
            RegistryType::Other(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    pub registry_type: RegistryType,
    /// A package name, an image reference, or (MCPB) a download URL.
    pub identifier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub registry_base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub runtime_hint: Option<String>,
    pub transport: Transport,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_arguments: Vec<Argument>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub package_arguments: Vec<Argument>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment_variables: Vec<KeyValueInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub file_sha256: Option<String>,
}

/// `stdio`, `streamable-http` or `sse`; a URL and headers for the HTTP ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Transport {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<KeyValueInput>,
}

/// A remote endpoint: a transport plus the variables its URL template uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RemoteEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<KeyValueInput>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Input>,
}

/// What the user may be asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_required: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_secret: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// `string` (default), `number`, `boolean`, `filepath`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub placeholder: Option<String>,
    /// A fixed value, with `{var}` templates filled from `variables`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Input>,
}

/// An environment variable or header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyValueInput {
    pub name: String,
    #[serde(flatten)]
    pub input: Input,
}

/// A command-line argument: `positional` (inserted verbatim) or `named` (`--flag value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Argument {
    #[serde(rename = "type")]
    pub kind: ArgumentKind,
    /// The flag, with its dashes (named arguments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    /// A label for a positional argument; not part of the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub value_hint: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_repeated: bool,
    #[serde(flatten)]
    pub input: Input,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ArgumentKind {
    Positional,
    Named,
}

/// One entry of a registry response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerResponse {
    pub server: ServerJson,
    #[serde(rename = "_meta", default, skip_serializing_if = "Value::is_null")]
    pub meta: Value,
}

/// `GET /v0.1/servers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerList {
    pub servers: Vec<ServerResponse>,
    #[serde(default)]
    pub metadata: ListMetadata,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl ServerJson {
    /// Why the entry cannot be used, if it cannot: the schema's rules for names and versions that
    /// an install depends on.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let parts: Vec<&str> = self.name.split('/').collect();
        let ok = |s: &str, extra: &str| {
            !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
        };
        if parts.len() != 2 || !ok(parts[0], ".-") || !ok(parts[1], "._-") {
            problems.push(format!(
                "the name {:?} is not reverse-DNS with one slash (like io.github.user/weather)",
                self.name
            ));
        }
        for p in &self.packages {
            if let Some(v) = &p.version
                && is_range(v)
            {
                problems
                    .push(format!("{} has the version {v:?}, not an exact version", p.identifier));
            }
            if let Some(sha) = &p.file_sha256
                && (sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()))
            {
                problems.push(format!("{} has a malformed fileSha256", p.identifier));
            }
        }
        if self.packages.is_empty() && self.remotes.is_empty() {
            problems.push("it declares neither packages nor remotes".into());
        }
        problems
    }

    /// The name shown to people: the title, else the part after the slash.
    pub fn display_name(&self) -> &str {
        self.title.as_deref().unwrap_or_else(|| self.name.rsplit('/').next().unwrap_or(&self.name))
    }
}

/// A version range or `latest` rather than one exact version.
pub fn is_range(v: &str) -> bool {
    v == "latest"
        || v.is_empty()
        || v.starts_with(['^', '~', '>', '<', '='])
        || v.contains(['*', ' '])
        || v.split('.').any(|p| p.eq_ignore_ascii_case("x"))
}
