//! Taking a server the user wrote into a host's file themselves into Switchboard: its entry read
//! back as a server definition (whatever the host calls the fields: `command`/`cmd`,
//! `env`/`envs`, `url`/`serverUrl`/`httpUrl`/`uri`, `headers`/`http_headers`), and which of its
//! values are secrets, to go to the secret store instead of the registry.

use std::collections::BTreeMap;

use serde_json::Value;
use switchboard_core::{
    ServerSpec,
    spec::{Launch, RemoteTransport},
};

use crate::{Error, HostId, Hosts, Result, edit, ops};

/// Names that mark an environment variable or header as holding a secret.
const SECRET_MARKS: [&str; 7] =
    ["TOKEN", "KEY", "SECRET", "PASSWORD", "PASS", "AUTH", "CREDENTIAL"];

/// Whether a variable or header of this name holds a secret (`GITHUB_TOKEN`, `x-api-key`,
/// `Authorization`).
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_MARKS.iter().any(|mark| upper.contains(mark))
}

/// `entry` (as a host's file has it) as a server definition, with the names of the values that
/// look secret in `secrets` (their values stay in the spec: the caller moves them to the secret
/// store). `None` when it names neither a command nor a URL.
pub fn spec_of(entry: &Value) -> Option<ServerSpec> {
    let text = |keys: &[&str]| keys.iter().find_map(|k| entry.get(*k)?.as_str().map(str::to_owned));
    let map = |keys: &[&str]| -> BTreeMap<String, String> {
        keys.iter()
            .find_map(|k| entry.get(*k)?.as_object())
            .map(|o| {
                o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect()
            })
            .unwrap_or_default()
    };
    let mut spec = if let Some(command) = text(&["command", "cmd"]) {
        let args = entry
            .get("args")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let mut spec = ServerSpec::stdio(command, args);
        if let Launch::Stdio { env, cwd, .. } = &mut spec.launch {
            *env = map(&["env", "envs"]);
            *cwd = text(&["cwd"]).map(Into::into);
        }
        spec
    } else {
        let url = text(&["url", "serverUrl", "httpUrl", "uri"])?;
        let sse = text(&["type", "transport"]).is_some_and(|t| t == "sse");
        let transport = if sse { RemoteTransport::Sse } else { RemoteTransport::StreamableHttp };
        let mut spec = ServerSpec::remote(url, transport);
        if let Launch::Remote { headers, .. } = &mut spec.launch {
            *headers = map(&["headers", "http_headers"]);
        }
        spec
    };
    spec.secrets = match &spec.launch {
        Launch::Stdio { env, .. } => env.keys().filter(|k| looks_secret(k)).cloned().collect(),
        Launch::Remote { headers, .. } => {
            headers.keys().filter(|k| looks_secret(k)).cloned().collect()
        }
    };
    Some(spec)
}

impl Hosts {
    /// The entry named `name` in `host`'s user file, if there is one.
    pub fn user_entry(&self, host: HostId, name: &str) -> Result<Option<Value>> {
        let file = self.target(host, None)?;
        let Some(text) = ops::read_text_of(&file.path)? else { return Ok(None) };
        let doc = edit::document(file.format, &text)
            .map_err(|e| Error::HostFile { path: file.path.clone(), problem: e.to_string() })?;
        let entries = edit::entries(&doc, file.container)
            .map_err(|e| Error::HostFile { path: file.path.clone(), problem: e.to_string() })?;
        Ok(entries.into_iter().find(|(n, _)| n == name).map(|(_, v)| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_as_servers_whatever_the_host_calls_the_fields() {
        let claude = serde_json::json!({"command": "npx", "args": ["-y", "@x/gh"],
                                        "env": {"GITHUB_TOKEN": "ghp_1", "GITHUB_TOOLSETS": "repos"}});
        let spec = spec_of(&claude).expect("a command");
        assert!(matches!(&spec.launch, Launch::Stdio { command, args, env, .. }
            if command == "npx" && args == &["-y", "@x/gh"] && env["GITHUB_TOKEN"] == "ghp_1"));
        assert_eq!(spec.secrets, ["GITHUB_TOKEN"]);
        let goose =
            serde_json::json!({"cmd": "uvx", "args": ["mcp-server-time"], "envs": {"TZ": "UTC"}});
        assert!(spec_of(&goose).is_some_and(|s| s.secrets.is_empty()));
        let windsurf = serde_json::json!({"serverUrl": "https://x.test/mcp", "headers": {"Authorization": "Bearer s"}});
        let spec = spec_of(&windsurf).expect("a URL");
        assert!(
            matches!(&spec.launch, Launch::Remote { url, transport: RemoteTransport::StreamableHttp, .. } if url == "https://x.test/mcp")
        );
        assert_eq!(spec.secrets, ["Authorization"]);
        assert!(spec_of(&serde_json::json!({"disabled": true})).is_none());
        assert!(looks_secret("x-api-key") && !looks_secret("GITHUB_TOOLSETS"));
    }
}
