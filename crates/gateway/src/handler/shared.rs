//! What every host session's handler shares, and how a server's own list changes are passed on.

use super::*;

/// What every session shares.
pub(crate) struct Shared {
    pub upstreams: Arc<dyn Upstreams>,
    pub audit: AuditLog,
    pub stats: Arc<Stats>,
    /// Each forwarded request's deadline (replaced when the owner's settings change).
    pub timeouts: std::sync::RwLock<Timeouts>,
    pub clock: Arc<dyn Clock>,
    /// The aggregate's names from its latest listings: exposed name → (server, name).
    pub tools: Mutex<HashMap<String, (String, String)>>,
    pub prompts: Mutex<HashMap<String, (String, String)>>,
    /// Resource URI → the server that listed it.
    pub resources: Mutex<HashMap<String, String>>,
    /// A server whose lists changed for hosts (it started, stopped, was held): each session
    /// that can see it is told `list_changed`.
    pub changes: broadcast::Sender<String>,
    /// The session of each server whose own `list_changed` notifications are being passed on.
    pub watched: Mutex<HashMap<String, Weak<Session>>>,
    /// Resource subscriptions made upstream on behalf of host sessions, counted.
    pub subscribed: Arc<subscriptions::Upstream>,
    /// The host sessions with a call in flight on each server: whom a server's sampling,
    /// elicitation or roots request is put to.
    pub callers: Arc<Callers>,
    /// Server calls waiting for a 2026-07-28 host to retry with the input they asked for.
    pub parking: eras::Parking,
    /// 2026-07-28 hosts' own processes of per-session servers, by server and host.
    pub dedicated: Processes,
}

impl Shared {
    /// `server`'s session, from the owner; its own list changes are passed on to hosts from now
    /// on (a restarted server's new session is watched the first time it is used).
    pub async fn session(&self, server: &str) -> Result<Arc<Session>, Unavailable> {
        let session = self.upstreams.session(server).await?;
        self.watch(server, &session);
        Ok(session)
    }

    fn watch(&self, server: &str, session: &Arc<Session>) {
        {
            let mut watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
            if watched.get(server).is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(session))) {
                return;
            }
            watched.insert(server.to_owned(), Arc::downgrade(session));
        }
        session.answer_requests_with(Arc::new(Asker {
            server: server.to_owned(),
            callers: self.callers.clone(),
        }));
        let mut notices = session.changes();
        let (changes, server) = (self.changes.clone(), server.to_owned());
        tokio::spawn(async move {
            loop {
                match notices.recv().await {
                    Ok(
                        Notice::ToolsChanged | Notice::PromptsChanged | Notice::ResourcesChanged,
                    )
                    | Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = changes.send(server.clone());
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }
}
