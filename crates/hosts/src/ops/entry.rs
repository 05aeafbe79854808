//! The entry a host gets for one server: secrets filled in (or promoted to prompted inputs),
//! commands made absolute for GUI hosts, remote servers bridged for hosts that only run commands.

use std::{collections::BTreeMap, path::Path};

use serde_json::Value;
use switchboard_core::spec::{self, RemoteTransport, ServerName, ServerSpec};

use super::Hosts;
use crate::{HostId, HostServer, Launch, Unsupported, prompted_secrets, shape};

/// The entry a host gets for one server.
#[derive(Debug, Clone, PartialEq)]
pub struct HostEntry {
    pub value: Value,
    /// How it was made (bridges, absolute paths, secrets as inputs).
    pub notes: Vec<String>,
    /// The prompted inputs it refers to, by id (VS Code).
    pub inputs: Vec<(String, Value)>,
}

impl Hosts {
    /// The entry `host` should have for a server, with notes on how it was made and, for hosts
    /// that prompt for secrets, the inputs it refers to.
    pub fn entry_for(
        &self,
        host: HostId,
        name: &ServerName,
        server: &ServerSpec,
    ) -> std::result::Result<HostEntry, Unsupported> {
        let (mut value, mut notes) = self.plain_entry_for(host, name, server)?;
        let inputs = match crate::host(host).inputs() {
            Some(_) => prompted_secrets::promote(name.as_str(), &mut value),
            None => Vec::new(),
        };
        if !inputs.is_empty() {
            let ids: Vec<&str> = inputs.iter().map(|(id, _)| id.as_str()).collect();
            notes.push(format!(
                "{name}: its secrets are not written to the file; {host} asks for each once and \
                 keeps it in its secret storage (inputs {}). If a secret changes later, clear it \
                 there so it asks again",
                ids.join(", ")
            ));
        }
        Ok(HostEntry { value, notes, inputs })
    }

    fn plain_entry_for(
        &self,
        host: HostId,
        name: &ServerName,
        server: &ServerSpec,
    ) -> std::result::Result<(Value, Vec<String>), Unsupported> {
        let mut notes = Vec::new();
        // A host runs the server itself, so it needs the secret values (VS Code gets them as
        // prompted inputs instead, see `inputs`).
        let filled = switchboard_core::secrets::filled(&self.paths, name, server)
            .map_err(|e| Unsupported::MissingSecret(e.to_string()))?;
        let server = &filled;
        let launch = match &server.launch {
            spec::Launch::Stdio { command, args, env, cwd } => {
                let mut command = command.clone();
                if self.resolve_commands
                    && host.is_gui()
                    && !Path::new(&command).is_absolute()
                    && let Ok(found) =
                        switchboard_core::process::resolve(&command, None, self.env.search())
                {
                    notes.push(format!(
                        "{name}: {command} written as {} ({host} does not see your shell's PATH)",
                        found.program.display()
                    ));
                    command = found.program.to_string_lossy().into_owned();
                }
                Launch::Stdio {
                    command,
                    args: args.clone(),
                    env: env.clone(),
                    cwd: cwd.as_ref().map(|c| c.to_string_lossy().into_owned()),
                }
            }
            spec::Launch::Remote { url, transport, headers } => Launch::Remote {
                url: url.clone(),
                headers: headers.clone(),
                sse: *transport == RemoteTransport::Sse,
            },
        };
        let server_entry = HostServer { name: name.to_string(), launch };
        match shape(host, &server_entry, self.env.os) {
            Err(Unsupported::RemoteNeedsBridge(_)) if self.bridge.is_some() => {
                let (bridge, Launch::Remote { url, headers, sse }) = (
                    self.bridge.as_ref().ok_or(Unsupported::RemoteNeedsBridge(host))?,
                    &server_entry.launch,
                ) else {
                    return Err(Unsupported::RemoteNeedsBridge(host));
                };
                let mut args = bridge.prefix.clone();
                args.push(url.clone());
                for (k, v) in headers {
                    args.push("--header".into());
                    args.push(format!("{k}: {v}"));
                }
                if *sse {
                    args.push("--sse".into());
                }
                notes.push(format!(
                    "{name}: {host} runs only local commands from its config file, so it reaches \
                     {url} through Switchboard's stdio bridge"
                ));
                let bridged = HostServer {
                    name: name.to_string(),
                    launch: Launch::Stdio {
                        command: bridge.program.to_string_lossy().into_owned(),
                        args,
                        env: BTreeMap::new(),
                        cwd: None,
                    },
                };
                shape(host, &bridged, self.env.os).map(|v| (v, notes))
            }
            other => other.map(|v| (v, notes)),
        }
    }
}
