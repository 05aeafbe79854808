//! The entry each host reads for one server, exactly as the host expects it (`shared/design/
//! hosts.md`): field names, transport tags, enable flags. JSON values; the TOML and YAML writers
//! convert them. (`serde_json` maps here are ordered by key; the writers will choose the order
//! fields are written in.)

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{HostId, Os};

/// What a host should run or reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    Stdio {
        /// Absolute for GUI hosts (the caller resolves it).
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<String>,
    },
    Remote {
        url: String,
        headers: BTreeMap<String, String>,
        /// The legacy HTTP+SSE transport instead of Streamable HTTP.
        sse: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostServer {
    pub name: String,
    pub launch: Launch,
}

/// Why a host cannot take a server as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error(
        "{0} does not read remote servers from its config file; reach it through a stdio bridge (a local command that forwards to the URL)"
    )]
    RemoteNeedsBridge(HostId),
    #[error("{0} does not support the legacy SSE transport; use a Streamable HTTP URL")]
    NoSse(HostId),
    #[error("{0} has no working-directory field; use absolute paths in the command and arguments")]
    NoCwd(HostId),
    #[error("{0} has no field for HTTP headers")]
    NoHeaders(HostId),
}

/// Windows `.cmd` shims that hosts spawning without a shell cannot start directly.
const CMD_SHIMS: &[&str] = &["npx", "uvx", "npm", "pnpm", "yarn", "bunx", "pnpx"];

/// The entry `host` reads for `server` on `os`.
pub fn shape(host: HostId, server: &HostServer, os: Os) -> Result<Value, Unsupported> {
    match &server.launch {
        Launch::Stdio { command, args, env, cwd } => {
            let (command, args) = windows_wrapped(command, args, os);
            if cwd.is_some() && !matches!(host, HostId::GeminiCli | HostId::Codex | HostId::Cline) {
                return Err(Unsupported::NoCwd(host));
            }
            Ok(stdio(host, &server.name, command, args, env, cwd.as_deref()))
        }
        Launch::Remote { url, headers, sse } => remote(host, &server.name, url, headers, *sse),
    }
}

fn windows_wrapped(command: &str, args: &[String], os: Os) -> (String, Vec<String>) {
    let bare = command.trim_end_matches(".cmd");
    if os == Os::Windows && CMD_SHIMS.contains(&bare) {
        let mut wrapped = vec!["/c".to_string(), command.to_string()];
        wrapped.extend(args.iter().cloned());
        ("cmd".to_string(), wrapped)
    } else {
        (command.to_string(), args.to_vec())
    }
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        map.insert(k.to_string(), v);
    }
    Value::Object(map)
}

fn env_value(env: &BTreeMap<String, String>) -> Value {
    Value::Object(env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

fn stdio(
    host: HostId,
    name: &str,
    command: String,
    args: Vec<String>,
    env: &BTreeMap<String, String>,
    cwd: Option<&str>,
) -> Value {
    let mut pairs: Vec<(&str, Value)> = Vec::new();
    match host {
        HostId::VsCode | HostId::ClaudeCode | HostId::Cline | HostId::RooCode => {
            pairs.push(("type", json!("stdio")));
        }
        HostId::Zed => pairs.push(("source", json!("custom"))),
        HostId::Continue => {
            pairs.push(("name", json!(name)));
            pairs.push(("type", json!("stdio")));
        }
        HostId::Goose => {
            pairs.push(("name", json!(name)));
            pairs.push(("type", json!("stdio")));
            pairs.push(("cmd", json!(command)));
            pairs.push(("args", json!(args)));
            pairs.push(("envs", env_value(env)));
            pairs.push(("enabled", json!(true)));
            return object(pairs);
        }
        _ => {}
    }
    pairs.push(("command", json!(command)));
    pairs.push(("args", json!(args)));
    if !env.is_empty() {
        pairs.push(("env", env_value(env)));
    }
    if let Some(cwd) = cwd {
        pairs.push(("cwd", json!(cwd)));
    }
    match host {
        HostId::Zed => pairs.push(("enabled", json!(true))),
        HostId::Cline => pairs.push(("disabled", json!(false))),
        _ => {}
    }
    object(pairs)
}

fn remote(
    host: HostId,
    name: &str,
    url: &str,
    headers: &BTreeMap<String, String>,
    sse: bool,
) -> Result<Value, Unsupported> {
    let headers_value = env_value(headers);
    let with_headers = |mut pairs: Vec<(&str, Value)>, key: &'static str| {
        if !headers.is_empty() {
            pairs.push((key, headers_value.clone()));
        }
        object(pairs)
    };
    let http_or_sse = if sse { "sse" } else { "http" };
    Ok(match host {
        HostId::ClaudeDesktop => return Err(Unsupported::RemoteNeedsBridge(host)),
        HostId::Cursor | HostId::LmStudio | HostId::VsCode | HostId::ClaudeCode => {
            with_headers(vec![("type", json!(http_or_sse)), ("url", json!(url))], "headers")
        }
        HostId::Windsurf => with_headers(vec![("serverUrl", json!(url))], "headers"),
        HostId::Zed => {
            if sse {
                return Err(Unsupported::NoSse(host));
            }
            with_headers(vec![("url", json!(url)), ("enabled", json!(true))], "headers")
        }
        HostId::Cline => with_headers(
            vec![
                ("type", json!(if sse { "sse" } else { "streamableHttp" })),
                ("url", json!(url)),
                ("disabled", json!(false)),
            ],
            "headers",
        ),
        HostId::RooCode => with_headers(
            vec![("type", json!(if sse { "sse" } else { "streamable-http" })), ("url", json!(url))],
            "headers",
        ),
        // `httpUrl` is Streamable HTTP in every Gemini CLI version; `url` alone is SSE.
        HostId::GeminiCli => {
            with_headers(vec![(if sse { "url" } else { "httpUrl" }, json!(url))], "headers")
        }
        HostId::Codex => {
            if sse {
                return Err(Unsupported::NoSse(host));
            }
            with_headers(vec![("url", json!(url))], "http_headers")
        }
        HostId::Continue => {
            if !headers.is_empty() {
                return Err(Unsupported::NoHeaders(host));
            }
            object(vec![
                ("name", json!(name)),
                ("type", json!(if sse { "sse" } else { "streamable-http" })),
                ("url", json!(url)),
            ])
        }
        HostId::Goose => with_headers(
            vec![
                ("name", json!(name)),
                ("type", json!(if sse { "sse" } else { "streamable_http" })),
                ("uri", json!(url)),
                ("enabled", json!(true)),
            ],
            "headers",
        ),
    })
}
