//! Continue: YAML, `mcpServers:` is a list of entries that carry their own `name`.

use std::path::Path;

use serde_json::{Value, json};

use super::{Host, Remote, Stdio, command_entry, file, no_cwd, object};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Scope, Unsupported};

pub struct Continue;

impl Host for Continue {
    /// It does not shorten names; over the limit the model API refuses them.
    fn checked_name(&self, entry: &str, tool: &str) -> Option<(String, usize)> {
        Some((format!("{entry}_{tool}"), 64))
    }

    /// It does not list tools again on `list_changed` (no notification handlers).
    fn list_changed(&self) -> bool {
        false
    }

    /// Its writer here has no header field.
    fn reach(&self) -> crate::Reach {
        crate::Reach::Command
    }

    /// It registers no notification handlers; it reloads `config.yaml` within a second.
    fn default_mode(&self) -> crate::Mode {
        crate::Mode::PerServer
    }

    fn id(&self) -> HostId {
        HostId::Continue
    }

    fn locations(&self, env: &HostEnv, _project: Option<&Path>) -> Vec<ConfigFile> {
        let path = env.home.join(".continue/config.yaml");
        vec![file(self.id(), Scope::User, path, Format::Yaml, Container::named_list("mcpServers"))]
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        no_cwd(self.id(), s)?;
        Ok(command_entry(s, vec![("name", json!(s.name)), ("type", json!("stdio"))], vec![]))
    }

    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        if !r.headers.is_empty() {
            return Err(Unsupported::NoHeaders(self.id()));
        }
        let kind = if r.sse { "sse" } else { "streamable-http" };
        Ok(object(vec![("name", json!(r.name)), ("type", json!(kind)), ("url", json!(r.url))]))
    }
}
