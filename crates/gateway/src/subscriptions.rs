//! Resource subscriptions through the gateway. Hosts share a server's one session, so the
//! upstream subscription to a URI is counted: made when the first host session subscribes,
//! dropped when the last one unsubscribes or ends. Each subscribed host session gets the server's
//! `notifications/resources/updated` for the URIs it subscribed to, and only those.
//!
//! Upstream, a server on a stateful revision gets `resources/subscribe`; a 2026-07-28 server
//! gets a `subscriptions/listen` stream naming the URI, kept open (and drained) until the last
//! host lets go. Either way its updates reach the gateway through the session's transport.

#![allow(deprecated)] // resources/subscribe: legacy in rmcp, still the stateful revisions' way

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
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

/// (server, URI).
type Key = (String, String);

/// One upstream subscription: how many host sessions hold it, and for a 2026-07-28 server the
/// listen stream (cancelled when the last one lets go).
#[derive(Debug, Default)]
struct Held {
    count: usize,
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

    /// Counts one more host on `key`; `true` when it is the first (subscribe upstream).
    fn add(&self, key: &Key) -> bool {
        let mut held = self.held();
        let entry = held.entry(key.clone()).or_default();
        entry.count += 1;
        entry.count == 1
    }

    /// Counts one host less on `key`; `true` when it was the last (unsubscribe upstream; a
    /// listen stream is cancelled here).
    fn remove(&self, key: &Key) -> bool {
        let mut held = self.held();
        match held.get_mut(key) {
            Some(entry) if entry.count > 1 => {
                entry.count -= 1;
                false
            }
            Some(_) => {
                if let Some(stream) = held.remove(key).and_then(|h| h.stream) {
                    stream.cancel();
                }
                true
            }
            None => false,
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

    /// Subscribes the host session of `host` to `uri` on `server`'s `session`.
    pub async fn subscribe(
        &self,
        upstream: &Upstream,
        server: &str,
        session: &Session,
        uri: String,
        host: &Target,
        ended: &CancellationToken,
    ) -> Result<(), rmcp::ServiceError> {
        let key = (server.to_owned(), uri.clone());
        if !self.uris().insert(key.clone()) {
            return Ok(()); // this session is subscribed already
        }
        if upstream.add(&key)
            && let Err(e) = upstream.open(&key, session).await
        {
            upstream.remove(&key);
            self.uris().remove(&key);
            return Err(e);
        }
        self.forward(server, session, host, ended);
        Ok(())
    }

    pub async fn unsubscribe(
        &self,
        upstream: &Upstream,
        server: &str,
        session: &Session,
        uri: String,
    ) -> Result<(), rmcp::ServiceError> {
        let key = (server.to_owned(), uri.clone());
        if !self.uris().remove(&key) {
            return Ok(());
        }
        if upstream.remove(&key) {
            Upstream::close(key, session).await?;
        }
        Ok(())
    }

    /// The session ended: its share of the upstream subscriptions goes (the last one out
    /// unsubscribes upstream, through `session_of`).
    pub fn release(
        &self,
        upstream: &Arc<Upstream>,
        session_of: impl Fn(&str) -> Option<Arc<Session>>,
    ) {
        let keys: Vec<Key> = self.uris().drain().collect();
        for key in keys {
            if upstream.remove(&key)
                && let Some(session) = session_of(&key.0)
                && let Ok(runtime) = tokio::runtime::Handle::try_current()
            {
                runtime.spawn(async move {
                    let _ = Upstream::close(key, &session).await;
                });
            }
        }
    }

    /// Passes `server`'s updates for this session's URIs on to `host`, until the session ends.
    fn forward(&self, server: &str, session: &Session, host: &Target, ended: &CancellationToken) {
        if !self.forwarding.lock().unwrap_or_else(|p| p.into_inner()).insert(server.to_owned()) {
            return;
        }
        let mut changes = session.changes();
        let (uris, host, ended, server) =
            (self.uris.clone(), host.clone(), ended.clone(), server.to_owned());
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
                            .contains(&(server.clone(), uri.clone()));
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
