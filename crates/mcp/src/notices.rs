//! What a server tells its client without being asked: progress of a request, log messages, and
//! that its lists or a resource changed. A [`Session`](crate::Session) publishes them on bounded
//! broadcasts, so an intermediary (the gateway) can pass them on to whoever they concern. They
//! are published by the transport as each message is read, so they keep the order the server
//! wrote them in and come before the answer that followed them (rmcp hands notifications to its
//! handler on tasks of their own, in no particular order). A reader that falls behind a flooding
//! server loses the oldest ones; it never blocks the session.

// Logging is deprecated by SEP-2577 (2026-07-28) but every earlier revision's servers use it.
#![allow(deprecated)]

use rmcp::{
    RoleClient,
    model::{
        LoggingMessageNotificationParam, ProgressNotificationParam, ServerJsonRpcMessage,
        ServerNotification,
    },
    service::RxJsonRpcMessage,
};
use tokio::sync::broadcast;

/// How many progress and log notices are kept for a reader that is behind.
pub const NOTICE_BACKLOG: usize = 1024;

/// One notification from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Progress(ProgressNotificationParam),
    Log(LoggingMessageNotificationParam),
    ToolsChanged,
    PromptsChanged,
    ResourcesChanged,
    ResourceUpdated(String),
}

/// Where a session's transport publishes the notices it reads.
#[derive(Debug, Clone)]
pub(crate) struct Publisher {
    /// Progress and log messages: many, and each about one moment.
    pub notices: broadcast::Sender<Notice>,
    /// List and resource changes: few, and not to be lost behind a flood of the others.
    pub changes: broadcast::Sender<Notice>,
}

impl Default for Publisher {
    fn default() -> Self {
        Publisher {
            notices: broadcast::channel(NOTICE_BACKLOG).0,
            changes: broadcast::channel(64).0,
        }
    }
}

impl Publisher {
    /// Publishes `message` if it is a notification someone may pass on.
    pub fn received(&self, message: &RxJsonRpcMessage<RoleClient>) {
        let ServerJsonRpcMessage::Notification(notification) = message else { return };
        let (channel, notice) = match &notification.notification {
            ServerNotification::ProgressNotification(n) => {
                (&self.notices, Notice::Progress(n.params.clone()))
            }
            ServerNotification::LoggingMessageNotification(n) => {
                (&self.notices, Notice::Log(n.params.clone()))
            }
            ServerNotification::ToolListChangedNotification(_) => {
                (&self.changes, Notice::ToolsChanged)
            }
            ServerNotification::PromptListChangedNotification(_) => {
                (&self.changes, Notice::PromptsChanged)
            }
            ServerNotification::ResourceListChangedNotification(_) => {
                (&self.changes, Notice::ResourcesChanged)
            }
            ServerNotification::ResourceUpdatedNotification(n) => {
                (&self.changes, Notice::ResourceUpdated(n.params.uri.clone()))
            }
            _ => return,
        };
        // Nobody listening: nothing to pass on.
        let _ = channel.send(notice);
    }
}
