//! Goose: YAML `extensions:` keyed by id, `cmd`/`envs` for commands and `uri` for remote ones.

use std::path::Path;

use serde_json::{Value, json};

use super::{Host, Remote, Stdio, file, no_cwd, object, strings, with_headers};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Os, Scope, Unsupported};

pub struct Goose;

impl Host for Goose {
    /// It does not shorten names; over the limit the model API refuses them.
    fn checked_name(&self, entry: &str, tool: &str) -> Option<(String, usize)> {
        Some((format!("{entry}__{tool}"), 64))
    }

    /// Its configuration is read when a session starts.
    fn pickup(&self) -> crate::Pickup {
        crate::Pickup::Restart
    }

    fn id(&self) -> HostId {
        HostId::Goose
    }

    fn locations(&self, env: &HostEnv, _project: Option<&Path>) -> Vec<ConfigFile> {
        let path = match env.os {
            Os::Windows => env.appdata.join("Block/goose/config/config.yaml"),
            Os::MacOs | Os::Linux => env.home.join(".config/goose/config.yaml"),
        };
        vec![file(self.id(), Scope::User, path, Format::Yaml, Container::map("extensions"))]
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        no_cwd(self.id(), s)?;
        Ok(object(vec![
            ("name", json!(s.name)),
            ("type", json!("stdio")),
            ("cmd", json!(s.command)),
            ("args", json!(s.args)),
            ("envs", strings(s.env)),
            ("enabled", json!(true)),
        ]))
    }

    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        let kind = if r.sse { "sse" } else { "streamable_http" };
        let pairs = vec![
            ("name", json!(r.name)),
            ("type", json!(kind)),
            ("uri", json!(r.url)),
            ("enabled", json!(true)),
        ];
        Ok(with_headers(r, pairs, "headers"))
    }

    fn programs(&self) -> &'static [&'static str] {
        &["goose"]
    }
}
