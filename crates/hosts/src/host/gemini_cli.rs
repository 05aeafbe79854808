//! Gemini CLI: JSONC `mcpServers` in `~/.gemini/settings.json` and a trusted project's
//! `.gemini/settings.json`. `httpUrl` is Streamable HTTP in every version; `url` alone is SSE.

use std::path::Path;

use serde_json::{Value, json};

use super::{Host, Remote, Stdio, command_entry, user_and_project, with_headers};
use crate::{ConfigFile, Container, Format, HostEnv, HostId, Unsupported};

pub struct GeminiCli;

impl Host for GeminiCli {
    fn limits(&self) -> crate::budget::Limits {
        crate::budget::Limits { tools: Some(512), source: "H8" }
    }

    /// `/mcp reload` reconnects only the servers it started with.
    fn pickup(&self) -> crate::Pickup {
        crate::Pickup::Restart
    }

    fn id(&self) -> HostId {
        HostId::GeminiCli
    }

    fn locations(&self, env: &HostEnv, project: Option<&Path>) -> Vec<ConfigFile> {
        let user = env.home.join(".gemini/settings.json");
        user_and_project(
            self.id(),
            user,
            project,
            ".gemini/settings.json",
            Format::Jsonc,
            Container::map("mcpServers"),
        )
    }

    fn stdio(&self, s: &Stdio<'_>) -> Result<Value, Unsupported> {
        Ok(command_entry(s, vec![], vec![]))
    }

    fn remote(&self, r: &Remote<'_>) -> Result<Value, Unsupported> {
        Ok(with_headers(r, vec![(if r.sse { "url" } else { "httpUrl" }, json!(r.url))], "headers"))
    }

    fn programs(&self) -> &'static [&'static str] {
        &["gemini"]
    }
}
