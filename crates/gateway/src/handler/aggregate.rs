//! The aggregate endpoint `/mcp`: every visible server listed at once (a slow one left out),
//! and an aggregate name or resource URI taken back to the server and name it stands for.

use super::*;

/// How long listing one server may take on the aggregate endpoint before it is left out.
const LIST_ONE_SERVER: Duration = Duration::from_secs(10);

impl GatewayHandler {
    /// Lists `what` of every visible server at once, leaving out (and logging) those that fail
    /// or take longer than [`LIST_ONE_SERVER`], so one slow server does not gate the rest.
    pub(super) async fn gather<T, F>(
        &self,
        (caller, stateless): (&Caller, bool),
        what: &'static str,
        resting: impl Fn(&Resting) -> Option<Vec<T>>,
        list: impl Fn(Arc<Session>) -> F,
    ) -> Vec<(String, Vec<T>)>
    where
        F: Future<Output = Result<Vec<T>, switchboard_mcp::Error>>,
    {
        let view = self.shared.view(&caller.host);
        let servers: Vec<String> =
            self.shared.upstreams.servers().into_iter().filter(|s| view.sees_server(s)).collect();
        let lists = servers.iter().map(|server| {
            let (list, resting) = (&list, &resting);
            async move {
                let listed = async {
                    // A lazy server at rest is listed without being started, when it can be.
                    if let Some(listed) =
                        self.shared.upstreams.resting(server).await.and_then(|r| resting(&r))
                    {
                        return Some(listed);
                    }
                    // A per-session server is listed by the caller's own process of it.
                    let session = self.session_for(caller, server, stateless).await.ok()?;
                    if !offers(&session, what) {
                        return Some(Vec::new());
                    }
                    match tokio::time::timeout(LIST_ONE_SERVER, list(session)).await {
                        Ok(Ok(items)) => Some(items),
                        Ok(Err(e)) => {
                            tracing::warn!("{server}: listing {what} failed: {e}");
                            None
                        }
                        Err(_) => {
                            tracing::warn!(
                                "{server}: listing {what} took over {LIST_ONE_SERVER:?}"
                            );
                            None
                        }
                    }
                }
                .await;
                (server.clone(), listed.unwrap_or_default())
            }
        });
        futures::future::join_all(lists).await
    }

    pub(super) fn route(
        &self,
        table: &Mutex<HashMap<String, (String, String)>>,
        exposed: &str,
    ) -> Option<(String, String)> {
        if let Some(found) = table.lock().unwrap_or_else(|p| p.into_inner()).get(exposed) {
            return Some(found.clone());
        }
        let (server, item) = names::split(exposed)?;
        (names::exposed(&server, item) == exposed).then(|| (server, item.to_owned()))
    }
    /// The server a resource URI belongs to: the endpoint's own, or on the aggregate the server
    /// that listed it; an unknown one is refused (and recorded).
    pub(super) fn resource_server(
        &self,
        caller: &Caller,
        uri: &str,
        method: &str,
    ) -> Result<String, McpError> {
        if let Some(server) = &caller.server {
            return Ok(server.clone());
        }
        let view = self.shared.view(&caller.host);
        let owner = self
            .shared
            .resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(uri)
            .filter(|server| view.sees_server(server))
            .cloned();
        owner.ok_or_else(|| {
            let error =
                McpError::resource_not_found(format!("no server listed the resource {uri}"), None);
            let refused: Result<(), McpError> = Err(error.clone());
            self.record(caller, None, method, Some(uri), Instant::now(), &refused);
            error
        })
    }

    /// The server and name an aggregate name stands for; an unknown one is refused (and
    /// recorded) as `no <kind> named …`.
    pub(super) fn route_or_refuse(
        &self,
        caller: &Caller,
        table: &Mutex<HashMap<String, (String, String)>>,
        kind: &str,
        method: &str,
        exposed: &str,
    ) -> Result<(String, String), McpError> {
        let view = self.shared.view(&caller.host);
        let visible = |(server, _): &(String, String)| view.sees_server(server);
        self.route(table, exposed).filter(visible).ok_or_else(|| {
            let error = no_such(kind, exposed);
            let refused: Result<(), McpError> = Err(error.clone());
            self.record(caller, None, method, Some(exposed), Instant::now(), &refused);
            error
        })
    }
}

/// What a lazy server at rest offers besides its pinned tools: nothing until it runs (its
/// first call starts it, and hosts are then told its lists changed).
pub(super) fn nothing_yet<T>(_: &Resting) -> Option<Vec<T>> {
    Some(Vec::new())
}

/// Whether a server's handshake declared `what` (`tools`, `resources`, `prompts`).
fn offers(session: &Session, what: &str) -> bool {
    session.details().capabilities.get(what).is_some()
}

fn no_such(kind: &str, name: &str) -> McpError {
    McpError::invalid_params(format!("no {kind} named {name}"), None)
}
