//! Per-session servers: the process a host session has of its own. A stateful host session
//! keeps its processes for as long as it lives (they stop with it). A 2026-07-28 host has no
//! session, so its processes are kept per host, in what all sessions share, until the server
//! is stopped or held in Switchboard or its process ends.

use super::*;

/// Processes of per-session servers, by server (and, for 2026-07-28 hosts, by host).
#[derive(Default)]
pub(crate) struct Processes {
    by_key: tokio::sync::Mutex<HashMap<String, Dedicated>>,
}

impl Processes {
    /// The session of `server`'s process under `key`, started first when there is none (or
    /// the one there ended).
    async fn session(
        &self,
        upstreams: &Arc<dyn Upstreams>,
        server: &str,
        key: String,
    ) -> Result<Arc<Session>, Unavailable> {
        let mut by_key = self.by_key.lock().await;
        if let Some(dedicated) = by_key.get(&key)
            && !dedicated.session.is_closed()
        {
            return Ok(dedicated.session.clone());
        }
        by_key.remove(&key);
        let dedicated = upstreams.instance(server).await?;
        let session = dedicated.session.clone();
        by_key.insert(key, dedicated);
        Ok(session)
    }

    /// Lets go of every process of `server` (stopped or held in Switchboard).
    pub async fn release(&self, server: &str) {
        let prefix = format!("{server}\n");
        self.by_key.lock().await.retain(|key, _| key != server && !key.starts_with(&prefix));
    }
}

impl GatewayHandler {
    /// The session a request of this host session to `server` goes through: the server's one
    /// shared session, or for a per-session server this host session's own process.
    pub(super) async fn session_for(
        &self,
        caller: &Caller,
        server: &str,
        stateless: bool,
    ) -> Result<Arc<Session>, Unavailable> {
        let upstreams = &self.shared.upstreams;
        if !upstreams.per_session(server) {
            return self.shared.session(server).await;
        }
        if !upstreams.servers().iter().any(|s| s == server) {
            // Stopped or held in Switchboard: its processes go too, and the host hears why.
            self.dedicated.release(server).await;
            self.shared.dedicated.release(server).await;
            return self.shared.session(server).await;
        }
        if stateless {
            let key = format!("{server}\n{}", caller.host);
            self.shared.dedicated.session(upstreams, server, key).await
        } else {
            self.dedicated.session(upstreams, server, server.to_owned()).await
        }
    }
}
