//! What one session keeps (its log level, its resource subscriptions) and what every session of
//! the process shares (the requestState seal, the list changes the trigger tools announce).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
};

use rmcp::{
    RoleServer,
    model::{LoggingLevel, LoggingMessageNotificationParam},
    service::RequestContext,
};
use tokio::sync::broadcast;

use crate::rounds::{self, StateSeal};

/// What the trigger tools announce.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    Tools,
    Prompts,
}

/// What every session of one process shares.
pub struct Shared {
    seal: StateSeal,
    changes: broadcast::Sender<Change>,
}

impl Shared {
    pub fn new() -> Self {
        Shared { seal: StateSeal::new(), changes: broadcast::channel(64).0 }
    }
}

/// One session's state (over HTTP: one per session, or per request for 2026-07-28 clients).
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
    /// The level `logging/setLevel` asked for (`None`: everything).
    log_level: Arc<Mutex<Option<LoggingLevel>>>,
    /// The URIs `resources/subscribe` named.
    subscribed: Arc<Mutex<HashSet<String>>>,
}

impl Session {
    pub fn new(shared: Arc<Shared>) -> Self {
        Session { shared, log_level: Arc::default(), subscribed: Arc::default() }
    }

    pub fn seal(&self) -> &StateSeal {
        &self.shared.seal
    }

    /// Tells every listener (2026-07-28 listen streams, earlier revisions' sessions).
    pub fn announce(&self, change: Change) {
        let _ = self.shared.changes.send(change);
    }

    /// The changes announced from now on.
    pub fn changes(&self) -> broadcast::Receiver<Change> {
        self.shared.changes.subscribe()
    }

    pub fn set_log_level(&self, level: LoggingLevel) {
        *self.log_level.lock().unwrap_or_else(PoisonError::into_inner) = Some(level);
    }

    pub fn subscribe(&self, uri: String) {
        self.subscribed.lock().unwrap_or_else(PoisonError::into_inner).insert(uri);
    }

    pub fn unsubscribe(&self, uri: &str) {
        self.subscribed.lock().unwrap_or_else(PoisonError::into_inner).remove(uri);
    }

    /// Logs `message` to the client if the request wants logs at `level`: as its own `_meta`
    /// log level says (2026-07-28: no level, no logs), else as `logging/setLevel` said (no
    /// level set: everything).
    pub async fn log(
        &self,
        context: &RequestContext<RoleServer>,
        level: LoggingLevel,
        message: &str,
    ) {
        let floor = match context.meta.log_level() {
            Some(floor) => Some(floor),
            None if rounds::modern(context) => return,
            None => *self.log_level.lock().unwrap_or_else(PoisonError::into_inner),
        };
        if floor.is_some_and(|floor| severity(level) < severity(floor)) {
            return;
        }
        let message = LoggingMessageNotificationParam::new(level, message.into())
            .with_logger("sb-conformance");
        let _ = context.peer.notify_logging_message(message).await;
    }
}

fn severity(level: LoggingLevel) -> u8 {
    use LoggingLevel as L;
    match level {
        L::Debug => 0,
        L::Info => 1,
        L::Notice => 2,
        L::Warning => 3,
        L::Error => 4,
        L::Critical => 5,
        L::Alert => 6,
        L::Emergency => 7,
    }
}
