//! The entry a host reads for one server: Windows `.cmd` shims wrapped in `cmd /c`, then the
//! host's own shape (`host/`). JSON values; the TOML and YAML editors convert them, and
//! `edit::FIELD_ORDER` decides the order fields are written in.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{HostId, Os, Remote, Stdio};

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
    /// The server's secrets could not be read from the secret store.
    #[error("{0}")]
    MissingSecret(String),
}

/// Windows `.cmd` shims that hosts spawning without a shell cannot start directly.
const CMD_SHIMS: &[&str] = &["npx", "uvx", "npm", "pnpm", "yarn", "bunx", "pnpx"];

/// The entry `host` reads for `server` on `os`.
pub fn shape(host: HostId, server: &HostServer, os: Os) -> Result<Value, Unsupported> {
    let imp = super::host(host);
    match &server.launch {
        Launch::Stdio { command, args, env, cwd } => {
            let (command, args) = windows_wrapped(command, args, os);
            imp.stdio(&Stdio {
                name: &server.name,
                command: &command,
                args: &args,
                env,
                cwd: cwd.as_deref(),
            })
        }
        Launch::Remote { url, headers, sse } => {
            imp.remote(&Remote { name: &server.name, url, headers, sse: *sse })
        }
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
