//! Resource subscriptions through the gateway. Hosts share a server's one session, so the
//! upstream subscription to a URI is counted: made when the first host session subscribes,
//! dropped when the last one unsubscribes or ends. Each subscribed host session gets the server's
//! `notifications/resources/updated` for the URIs it subscribed to, and only those.
//!
//! Upstream, a server on a stateful revision gets `resources/subscribe`; a 2026-07-28 server
//! gets a `subscriptions/listen` stream naming the URI, kept open (and drained) until the last
//! host lets go. Either way its updates reach the gateway through the session's transport.
//!
//! A per-session server's processes are not shared: each one's subscriptions are counted on
//! their own (keyed by the process's session, not the server's name), so every host session
//! subscribes on its own process and hears only that process's updates.

#![allow(deprecated)] // resources/subscribe: legacy in rmcp, still the stateful revisions' way

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, Weak},
};

use rmcp::{
    Peer, RoleServer,
    model::{
        ResourceUpdatedNotificationParam, SubscribeRequestParams, SubscriptionFilter,
        UnsubscribeRequestParams,
    },
    service::SubscriptionSink,
};
use switchboard_mcp::{Notice, Session};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// (scope, URI): the scope is the server's name, or for a per-session server's process the
/// name and that process's session ([`scope`]).
type Key = (String, String);

/// Where subscriptions to `server` made on `session` are counted: the server's one session is
/// shared by every host; a per-session server's process (`own`) is counted on its own.
pub(crate) fn scope(server: &str, session: &Arc<Session>, own: bool) -> String {
    if own { format!("{server}\n{:p}", Arc::as_ptr(session)) } else { server.to_owned() }
}

/// One upstream subscription: how many host sessions hold it, the session it was made on, and
/// for a 2026-07-28 server the listen stream (cancelled when the last one lets go).
#[derive(Debug, Default)]
struct Held {
    count: usize,
    session: Weak<Session>,
    stream: Option<CancellationToken>,
}

/// The upstream subscriptions every host session shares.
#[derive(Debug, Default)]
pub(crate) struct Upstream {
    held: Mutex<HashMap<Key, Held>>,
}

impl Upstream {
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one more host on `key` made on `session`; `true` when it is the first (subscribe
    /// upstream).
    fn add(&self, key: &Key, session: &Arc<Session>) -> bool {
        let mut held = self.held();
        let entry = held.entry(key.clone()).or_default();
        entry.count += 1;
        if entry.count == 1 {
            entry.session = Arc::downgrade(session);
        }
        entry.count == 1
    }

    /// Counts one host less on `key`. When it was the last: `Some` with the session the
    /// subscription was made on, if it still lives (unsubscribe upstream there; a listen stream
    /// is cancelled here).
    fn remove(&self, key: &Key) -> Option<Option<Arc<Session>>> {
        let mut held = self.held();
        match held.get_mut(key) {
            Some(entry) if entry.count > 1 => {
                entry.count -= 1;
                None
            }
            Some(_) => {
                let last = held.remove(key)?;
                if let Some(stream) = last.stream {
                    stream.cancel();
                }
                Some(last.session.upgrade())
            }
            None => None,
        }
    }

    /// Makes the upstream subscription for `key` on `session`.
    async fn open(&self, key: &Key, session: &Session) -> Result<(), rmcp::ServiceError> {
        if !session.details().negotiated.stateless {
            return session.peer().subscribe(SubscribeRequestParams::new(key.1.clone())).await;
        }
        let filter = SubscriptionFilter::builder().resource_subscriptions([key.1.clone()]).build();
        let mut stream = session.peer().listen(filter).await?;
        let stop = CancellationToken::new();
        if let Some(entry) = self.held().get_mut(key) {
            entry.stream = Some(stop.clone());
        }
        // Drained so it never fills (rmcp ends a full one); the updates themselves reach the
        // gateway through the session's transport. Dropping it cancels it upstream.
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    next = stream.next() => if !matches!(next, Ok(Some(_))) { return },
                }
            }
        });
        Ok(())
    }

    /// Ends the upstream subscription for `key` (the listen stream was cancelled already).
    async fn close(key: Key, session: &Session) -> Result<(), rmcp::ServiceError> {
        if session.details().negotiated.stateless {
            return Ok(());
        }
        session.peer().unsubscribe(UnsubscribeRequestParams::new(key.1)).await
    }
}

/// Where a host session's resource updates go: its peer (a stateful session that sent
/// `resources/subscribe`), or the `subscriptions/listen` stream that named the URIs (2026-07-28).
#[derive(Clone)]
pub(crate) enum Target {
    Peer(Peer<RoleServer>),
    Stream(SubscriptionSink),
}

impl Target {
    async fn updated(&self, uri: String) -> bool {
        match self {
            Target::Peer(peer) => peer
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                .await
                .is_ok(),
            Target::Stream(sink) => sink.notify_resource_updated(uri).await.is_ok(),
        }
    }
}

/// One host session's (or listen stream's) subscriptions.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    uris: Arc<Mutex<HashSet<Key>>>,
    /// Servers whose updates are being passed to this session.
    forwarding: Mutex<HashSet<String>>,
}

impl Subscriptions {
    fn uris(&self) -> std::sync::MutexGuard<'_, HashSet<Key>> {
        self.uris.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribes the host session of `host` to `uri` on `session`, counted under `scope`
    /// (see [`scope`]).
    pub async fn subscribe(
        &self,
        upstream: &Upstream,
        scope: &str,
        session: &Arc<Session>,
        uri: String,
        host: &Target,
        ended: &CancellationToken,
    ) -> Result<(), rmcp::ServiceError> {
        let key = (scope.to_owned(), uri.clone());
        if !self.uris().insert(key.clone()) {
            return Ok(()); // this session is subscribed already
        }
        if upstream.add(&key, session)
            && let Err(e) = upstream.open(&key, session).await
        {
            upstream.remove(&key);
            self.uris().remove(&key);
            return Err(e);
        }
        self.forward(scope, session, host, ended);
        Ok(())
    }

    pub async fn unsubscribe(
        &self,
        upstream: &Upstream,
        scope: &str,
        session: &Session,
        uri: String,
    ) -> Result<(), rmcp::ServiceError> {
        let key = (scope.to_owned(), uri.clone());
        if !self.uris().remove(&key) {
            return Ok(());
        }
        if upstream.remove(&key).is_some() {
            Upstream::close(key, session).await?;
        }
        Ok(())
    }

    /// The session ended: its share of the upstream subscriptions goes (the last one out
    /// unsubscribes upstream, on the session the subscription was made on, if it still lives).
    pub fn release(&self, upstream: &Arc<Upstream>) {
        let keys: Vec<Key> = self.uris().drain().collect();
        for key in keys {
            if let Some(Some(session)) = upstream.remove(&key)
                && let Ok(runtime) = tokio::runtime::Handle::try_current()
            {
                runtime.spawn(async move {
                    let _ = Upstream::close(key, &session).await;
                });
            }
        }
    }

    /// Passes the updates `session` (counted under `scope`) sends for this session's URIs on to
    /// `host`, until the session ends.
    fn forward(&self, scope: &str, session: &Session, host: &Target, ended: &CancellationToken) {
        if !self.forwarding.lock().unwrap_or_else(|p| p.into_inner()).insert(scope.to_owned()) {
            return;
        }
        let mut changes = session.changes();
        let (uris, host, ended, scope) =
            (self.uris.clone(), host.clone(), ended.clone(), scope.to_owned());
        tokio::spawn(async move {
            loop {
                let notice = tokio::select! {
                    () = ended.cancelled() => return,
                    notice = changes.recv() => notice,
                };
                match notice {
                    Ok(Notice::ResourceUpdated(uri)) => {
                        let wanted = uris
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .contains(&(scope.clone(), uri.clone()));
                        if wanted && !host.updated(uri).await {
                            return;
                        }
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
}
