//! Per-session servers: the process a host session has of its own. A stateful host session
//! keeps its processes for as long as it lives (they stop with it). A 2026-07-28 host has no
//! session, so its processes are kept per host, in what all sessions share, until the server
//! is stopped or held in Switchboard, its process ends, or it has had no call for the idle time
//! (`idleStopSeconds`, as for lazy servers) with none in flight and no resource stream open on
//! it ([`Processes::release_idle`]).

use super::*;

/// Processes of per-session servers, by server (and, for 2026-07-28 hosts, by host), each with
/// when a request last asked for it.
#[derive(Default)]
pub(crate) struct Processes {
    by_key: tokio::sync::Mutex<HashMap<String, (Dedicated, Instant)>>,
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
        if let Some((dedicated, used)) = by_key.get_mut(&key)
            && !dedicated.session.is_closed()
        {
            *used = Instant::now();
            return Ok(dedicated.session.clone());
        }
        by_key.remove(&key);
        let dedicated = upstreams.instance(server).await?;
        let session = dedicated.session.clone();
        by_key.insert(key, (dedicated, Instant::now()));
        Ok(session)
    }

    /// Lets go of the processes no request has asked for in `idle` and none uses now (a call in
    /// flight or an open resource stream holds its session); they stop. Returns how many.
    pub async fn release_idle(&self, idle: Duration) -> usize {
        let mut by_key = self.by_key.lock().await;
        let before = by_key.len();
        by_key.retain(|_, (dedicated, used)| {
            Arc::strong_count(&dedicated.session) > 1 || used.elapsed() < idle
        });
        before - by_key.len()
    }

    /// Lets go of every process of `server` (stopped or held in Switchboard).
    pub async fn release(&self, server: &str) {
        let prefix = format!("{server}\n");
        self.by_key.lock().await.retain(|key, _| key != server && !key.starts_with(&prefix));
    }
}

impl GatewayHandler {
    /// Where resource subscriptions to `server` on `session` are counted: a per-session
    /// server's process is counted on its own.
    pub(super) fn scope(&self, server: &str, session: &Arc<Session>) -> String {
        crate::subscriptions::scope(server, session, self.shared.upstreams.per_session(server))
    }

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
