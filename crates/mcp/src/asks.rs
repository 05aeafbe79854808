//! A server's requests to its client — sampling (`sampling/createMessage`), elicitation
//! (`elicitation/create`) and roots (`roots/list`), the stateful revisions' server-to-client
//! requests — answered on someone's behalf. A session opened with
//! [`SessionOptions::relay_client_requests`](crate::SessionOptions) declares sampling and
//! elicitation (see [`relayed_capabilities`] for roots) and hands each request to the
//! [`ClientRequests`] set with [`Session::answer_requests_with`](crate::Session::answer_requests_with)
//! (the gateway: the host whose call is in flight); with none set, the server gets a clear
//! JSON-RPC error, never a hang.

#![allow(deprecated)] // sampling and roots: deprecated by SEP-2577, the stateful revisions' way

use std::sync::{Arc, RwLock};

use futures::future::BoxFuture;
use rmcp::{
    ClientHandler, ErrorData as McpError, RoleClient,
    model::{
        ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult,
        ElicitRequestParams, ElicitResult, ListRootsResult,
    },
    service::RequestContext,
};

/// Answers a server's requests to its client.
pub trait ClientRequests: Send + Sync + 'static {
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
    ) -> BoxFuture<'_, Result<CreateMessageResult, McpError>>;
    fn create_elicitation(
        &self,
        params: ElicitRequestParams,
    ) -> BoxFuture<'_, Result<ElicitResult, McpError>>;
    fn list_roots(&self) -> BoxFuture<'_, Result<ListRootsResult, McpError>>;
}

/// What a session that relays these requests declares: sampling and elicitation, asked during
/// a call. Not roots: they are one host's folders, and a process every host shares cannot have
/// one host's roots (servers such as the filesystem server ask for them once, at the start, and
/// would otherwise get whichever host came first); such a server keeps its own configuration. A
/// server that asks anyway, mid-call, is answered by the host whose call is in flight.
pub(crate) fn relayed_capabilities() -> ClientCapabilities {
    ClientCapabilities::builder().enable_sampling().enable_elicitation().build()
}

/// Where a session's answerer is set (after the handshake, by whoever shares the session).
pub(crate) type Slot = Arc<RwLock<Option<Arc<dyn ClientRequests>>>>;

/// The session's client side.
#[derive(Clone)]
pub(crate) struct Client {
    pub config: ClientConfig,
    pub slot: Slot,
}

impl Client {
    fn answerer(&self, what: &str) -> Result<Arc<dyn ClientRequests>, McpError> {
        self.slot.read().unwrap_or_else(|p| p.into_inner()).clone().ok_or_else(|| {
            McpError::internal_error(format!("nobody here can answer {what} for this server"), None)
        })
    }
}

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        self.config.clone()
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, McpError> {
        self.answerer("sampling/createMessage")?.create_message(params).await
    }

    async fn create_elicitation(
        &self,
        params: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        self.answerer("elicitation/create")?.create_elicitation(params).await
    }

    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, McpError> {
        self.answerer("roots/list")?.list_roots().await
    }
}
