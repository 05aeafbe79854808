//! One request from a host to a server, with what rides along while it runs: the server's
//! progress for it goes back under the host's own progress token (the upstream token is the
//! gateway's, unique on the server's one session however many hosts share it), and the server's
//! log messages go to the host whose call is in flight. A request dropped before its answer (the
//! call timed out, the host cancelled or went away) is cancelled upstream.

#![allow(deprecated)] // logging (SEP-2577) is what servers of every earlier revision use

use rmcp::{
    Peer, RoleClient, RoleServer,
    model::{ClientRequest, ProgressToken, RequestId, ServerResult},
    service::{PeerRequestOptions, ServiceError},
};
use switchboard_mcp::{Notice, Session};
use tokio::sync::broadcast::error::RecvError;

/// Cancels the upstream request when dropped before [`CancelUpstream::disarm`].
struct CancelUpstream {
    peer: Peer<RoleClient>,
    id: Option<RequestId>,
}

impl CancelUpstream {
    fn disarm(&mut self) {
        self.id = None;
    }
}

impl Drop for CancelUpstream {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let peer = self.peer.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let cancelled = rmcp::model::CancelledNotificationParam::new(
                    Some(id),
                    Some(
                        "the host's call ended before the answer (timed out, cancelled or left)"
                            .to_owned(),
                    ),
                );
                if let Err(e) = peer.notify_cancelled(cancelled).await {
                    tracing::debug!("cancelling upstream: {e}");
                }
            });
        }
    }
}

/// Sends `request` to `session`'s server and waits for the answer, passing the server's
/// notifications for it on to `host` meanwhile (progress only when the host asked for it with
/// `host_token`).
pub(crate) async fn relay(
    session: &Session,
    request: ClientRequest,
    host: &Peer<RoleServer>,
    host_token: Option<ProgressToken>,
) -> Result<ServerResult, ServiceError> {
    // Listening before sending: the first progress can come before the send returns.
    let mut notices = Some(session.notices());
    let handle =
        session.peer().send_request_with_option(request, PeerRequestOptions::no_options()).await?;
    let mut guard = CancelUpstream { peer: session.peer().clone(), id: Some(handle.id.clone()) };
    let ours = handle.progress_token.clone();
    let answer = handle.await_response();
    tokio::pin!(answer);
    loop {
        let notice = tokio::select! {
            biased;
            result = &mut answer => {
                guard.disarm();
                // What the server wrote before its answer was published before the answer
                // arrived: pass on what is still waiting.
                if let Some(receiver) = notices.as_mut() {
                    while let Ok(notice) = receiver.try_recv() {
                        pass_on(notice, &ours, host, host_token.as_ref()).await;
                    }
                }
                return result;
            }
            notice = recv(&mut notices) => notice,
        };
        match notice {
            Ok(notice) => pass_on(notice, &ours, host, host_token.as_ref()).await,
            // A flood the host could not keep up with: the oldest were dropped.
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!("a host fell {missed} notifications behind a server");
            }
            Err(RecvError::Closed) => notices = None,
        }
    }
}

/// Passes one notice on to the host whose request is in flight: its progress (under the host's
/// token, if it asked for progress), and the server's log messages.
async fn pass_on(
    notice: Notice,
    ours: &ProgressToken,
    host: &Peer<RoleServer>,
    host_token: Option<&ProgressToken>,
) {
    // A host that cannot take it (gone, or its stream closed) misses it.
    match notice {
        Notice::Progress(mut progress) if &progress.progress_token == ours => {
            if let Some(token) = host_token {
                progress.progress_token = token.clone();
                let _ = host.notify_progress(progress).await;
            }
        }
        Notice::Log(message) => {
            let _ = host.notify_logging_message(message).await;
        }
        _ => {}
    }
}

/// The next notice, or never once the session's notices ended.
async fn recv(
    notices: &mut Option<tokio::sync::broadcast::Receiver<Notice>>,
) -> Result<Notice, RecvError> {
    match notices {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}
