//! How long a forwarded request may take: a default, a server's own (a server known to be slow
//! gets longer, a quick one less), and a host's cap (a host that gives up after a minute gets
//! its calls cancelled upstream after a minute, not left running). Past it, the request is
//! cancelled at the server and the host gets an error saying so.

use std::{collections::BTreeMap, time::Duration};

/// The call deadlines the gateway applies; the owner replaces them when the settings change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    pub default: Duration,
    /// Server name → its deadline, instead of the default.
    pub servers: BTreeMap<String, Duration>,
    /// Host name → the most any of its calls may take.
    pub hosts: BTreeMap<String, Duration>,
}

impl Timeouts {
    /// The same deadline for everything.
    pub fn flat(default: Duration) -> Self {
        Timeouts { default, servers: BTreeMap::new(), hosts: BTreeMap::new() }
    }

    /// The deadline of a call by `host` to `server`: the server's own (else the default),
    /// capped by the host's.
    pub fn for_call(&self, server: &str, host: &str) -> Duration {
        let base = self.servers.get(server).copied().unwrap_or(self.default);
        self.hosts.get(host).map_or(base, |cap| base.min(*cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_own_deadline_replaces_the_default_and_a_hosts_caps_both() {
        let s = Duration::from_secs;
        let timeouts = Timeouts {
            default: s(120),
            servers: BTreeMap::from([("slow".to_owned(), s(600)), ("quick".to_owned(), s(5))]),
            hosts: BTreeMap::from([("claude-desktop".to_owned(), s(60))]),
        };
        assert_eq!(timeouts.for_call("any", "cursor"), s(120));
        assert_eq!(timeouts.for_call("slow", "cursor"), s(600));
        assert_eq!(timeouts.for_call("quick", "cursor"), s(5));
        assert_eq!(timeouts.for_call("slow", "claude-desktop"), s(60));
        assert_eq!(timeouts.for_call("quick", "claude-desktop"), s(5));
        assert_eq!(timeouts.for_call("any", "claude-desktop"), s(60));
    }
}
