//! What a server is: a validated name plus how to reach it (a stdio command or a remote URL),
//! whether it is enabled and how it restarts.

use std::{collections::BTreeMap, fmt, path::PathBuf, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A server's name: 1 to 64 of lowercase letters, digits, `-`, `_`, `.`, starting with a letter or
/// digit. It names log files and host-config entries, so it must be safe in both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
#[ts(type = "string")]
pub struct ServerName(String);

impl ServerName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ServerName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl FromStr for ServerName {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        let why = if name.is_empty() {
            Some("it is empty")
        } else if name.len() > 64 {
            Some("it is longer than 64 characters")
        } else if !name.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.'))
        {
            Some("use only lowercase letters, digits, '-', '_' and '.'")
        } else if !name.as_bytes()[0].is_ascii_alphanumeric() {
            Some("it must start with a letter or a digit")
        } else {
            None
        };
        match why {
            Some(why) => Err(Error::InvalidName { name: name.to_owned(), why }),
            None => Ok(ServerName(name.to_owned())),
        }
    }
}

impl TryFrom<String> for ServerName {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        value.parse()
    }
}

impl From<ServerName> for String {
    fn from(name: ServerName) -> String {
        name.0
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to reach a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Launch {
    /// A local program speaking MCP on its stdin/stdout.
    Stdio {
        command: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        env: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "string")]
        cwd: Option<PathBuf>,
    },
    /// A server somebody else runs, reached over HTTP.
    Remote {
        url: String,
        #[serde(default)]
        transport: RemoteTransport,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum RemoteTransport {
    #[default]
    StreamableHttp,
    /// The legacy HTTP+SSE transport of 2024-11-05.
    Sse,
}

impl FromStr for RemoteTransport {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "streamable-http" => Ok(Self::StreamableHttp),
            "sse" => Ok(Self::Sse),
            other => Err(Error::InvalidSpec(format!(
                "unknown transport {other:?}; use streamable-http or sse"
            ))),
        }
    }
}

/// What to do when a server's process exits on its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    Never,
    /// Restart after a non-zero exit or a signal (the default).
    #[default]
    OnFailure,
    Always,
}

impl FromStr for RestartPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "never" => Ok(Self::Never),
            "on-failure" => Ok(Self::OnFailure),
            "always" => Ok(Self::Always),
            other => Err(Error::InvalidSpec(format!(
                "unknown restart policy {other:?}; use never, on-failure or always"
            ))),
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Never => "never",
            Self::OnFailure => "on-failure",
            Self::Always => "always",
        })
    }
}

/// One registered server, as stored in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ServerSpec {
    #[serde(flatten)]
    pub launch: Launch,
    /// Enabled servers start when their owner starts (lazy ones when a host first calls them).
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub restart: RestartPolicy,
    /// Started by the first call through the gateway rather than with the owner, and stopped
    /// again after a while without calls (the `idleStopSeconds` setting). Hosts list its tools
    /// from its pinned list meanwhile.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(optional = nullable)]
    pub lazy: bool,
    /// Cannot be shared by several hosts (it keeps per-session state: a browser, a login, a
    /// working folder): each host session through the gateway gets a process of its own.
    #[serde(rename = "perSession", default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(optional = nullable)]
    pub per_session: bool,
    /// Env variables (stdio) or headers (remote) whose values live in the secret store
    /// (`crate::secrets`), never in the registry file. They are filled in just before use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
}

fn yes() -> bool {
    true
}

impl ServerSpec {
    pub fn stdio(command: impl Into<String>, args: Vec<String>) -> Self {
        ServerSpec {
            launch: Launch::Stdio {
                command: command.into(),
                args,
                env: BTreeMap::new(),
                cwd: None,
            },
            enabled: true,
            restart: RestartPolicy::default(),
            lazy: false,
            per_session: false,
            secrets: Vec::new(),
        }
    }

    pub fn remote(url: impl Into<String>, transport: RemoteTransport) -> Self {
        ServerSpec {
            launch: Launch::Remote { url: url.into(), transport, headers: BTreeMap::new() },
            enabled: true,
            restart: RestartPolicy::default(),
            lazy: false,
            per_session: false,
            secrets: Vec::new(),
        }
    }

    /// Checks what serde cannot: a non-empty command, an http(s) URL, sane env and header names.
    pub fn validate(&self) -> Result<()> {
        match &self.launch {
            Launch::Stdio { command, env, .. } => {
                if command.trim().is_empty() {
                    return Err(Error::InvalidSpec("the command is empty".into()));
                }
                if let Some(key) = env.keys().find(|k| k.is_empty() || k.contains(['=', '\0'])) {
                    return Err(Error::InvalidSpec(format!(
                        "environment variable name {key:?} is not valid"
                    )));
                }
            }
            Launch::Remote { url, headers, .. } => {
                let parsed = reqwest::Url::parse(url)
                    .map_err(|e| Error::InvalidSpec(format!("URL {url:?} is not valid: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(Error::InvalidSpec(format!(
                        "URL {url:?} must start with http:// or https://"
                    )));
                }
                if let Some(key) = headers
                    .keys()
                    .find(|k| reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err())
                {
                    return Err(Error::InvalidSpec(format!("header name {key:?} is not valid")));
                }
            }
        }
        Ok(())
    }

    /// `"stdio"`, `"streamable-http"` or `"sse"`.
    pub fn transport(&self) -> ServerTransport {
        match &self.launch {
            Launch::Stdio { .. } => ServerTransport::Stdio,
            Launch::Remote { transport: RemoteTransport::StreamableHttp, .. } => {
                ServerTransport::StreamableHttp
            }
            Launch::Remote { transport: RemoteTransport::Sse, .. } => ServerTransport::Sse,
        }
    }
}

/// How a server is reached: its own process over stdio, or a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum ServerTransport {
    Stdio,
    StreamableHttp,
    Sse,
}

impl ServerTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerTransport::Stdio => "stdio",
            ServerTransport::StreamableHttp => "streamable-http",
            ServerTransport::Sse => "sse",
        }
    }
}

impl fmt::Display for ServerTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `K=V` (used by `--env` and `--header`).
pub fn parse_key_value(pair: &str) -> Result<(String, String)> {
    match pair.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(Error::InvalidSpec(format!("expected KEY=VALUE, got {pair:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        for good in ["a", "kb", "server-everything", "my_server.v2", "0day"] {
            assert!(good.parse::<ServerName>().is_ok(), "{good}");
        }
        for bad in ["", "Upper", "has space", "-lead", ".hidden", "a/b", &"x".repeat(65)] {
            assert!(bad.parse::<ServerName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn stdio_spec_serializes_compactly_and_round_trips() {
        let spec = ServerSpec::stdio("npx", vec!["-y".into(), "pkg".into()]);
        let json = serde_json::to_value(&spec).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"type": "stdio", "command": "npx", "args": ["-y", "pkg"],
                               "enabled": true, "restart": "on-failure"})
        );
        let back: ServerSpec = serde_json::from_value(json).expect("parse");
        assert_eq!(back, spec);
    }

    #[test]
    fn remote_spec_validates_its_url_and_headers() {
        assert!(
            ServerSpec::remote("http://127.0.0.1:9/mcp", RemoteTransport::Sse).validate().is_ok()
        );
        assert!(ServerSpec::remote("ftp://x", RemoteTransport::Sse).validate().is_err());
        assert!(ServerSpec::remote("not a url", RemoteTransport::Sse).validate().is_err());
        let mut spec = ServerSpec::remote("https://x.test/mcp", RemoteTransport::StreamableHttp);
        if let Launch::Remote { headers, .. } = &mut spec.launch {
            headers.insert("Bad Header".into(), "v".into());
        }
        assert!(spec.validate().is_err());
    }

    #[test]
    fn key_values_split_on_the_first_equals() {
        assert_eq!(parse_key_value("A=b=c").expect("kv"), ("A".into(), "b=c".into()));
        assert!(parse_key_value("=x").is_err());
        assert!(parse_key_value("novalue").is_err());
    }
}
