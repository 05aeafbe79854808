//! What every host session's handler shares, and how a server's own list changes are passed on.

use super::*;
use switchboard_core::settings::HostView;

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
    /// The tools hosts were last listed, by endpoint (a server's name, or "" for the aggregate)
    /// and the name they see: what [`ServerHandler::get_tool`] answers from, for the HTTP
    /// layer's checks of `Mcp-Param-*` headers against a tool's schema.
    pub listed: Mutex<HashMap<(String, String), rmcp::model::Tool>>,
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
    /// What each host sees (by its token's name); a host with none sees everything.
    pub views: std::sync::RwLock<std::collections::BTreeMap<String, HostView>>,
}

impl Shared {
    /// What `host` sees.
    pub fn view(&self, host: &str) -> HostView {
        self.views.read().unwrap_or_else(|p| p.into_inner()).get(host).cloned().unwrap_or_default()
    }

    /// Keeps `tools` as what `endpoint` lists now (`first_page`: what it listed before goes).
    pub fn listed(&self, endpoint: &str, tools: &[rmcp::model::Tool], first_page: bool) {
        let mut listed = self.listed.lock().unwrap_or_else(|p| p.into_inner());
        if first_page {
            listed.retain(|(at, _), _| at != endpoint);
        }
        for tool in tools {
            listed.insert((endpoint.to_owned(), tool.name.to_string()), tool.clone());
        }
    }

    /// The tool hosts know as `name`, when every endpoint that lists a tool of that name has the
    /// same schema for it (the HTTP layer asks without saying which endpoint).
    pub fn tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        let listed = self.listed.lock().unwrap_or_else(|p| p.into_inner());
        let mut found = listed.iter().filter(|((_, n), _)| n == name).map(|(_, tool)| tool);
        let first = found.next()?;
        found.all(|t| t.input_schema == first.input_schema).then(|| first.clone())
    }

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
