//! A transport wrapper that records every message in a [`Traffic`] log.

use std::borrow::Cow;

use rmcp::{
    RoleClient,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};

use crate::{notices::Publisher, traffic::Traffic};

/// Wraps any client transport: every message sent or received lands in the traffic log (when the
/// session keeps messages), and each received one is published to the session's notices.
pub struct Traced<T> {
    inner: T,
    /// Where each message is recorded; `None`: not recorded.
    traffic: Option<Traffic>,
    publisher: Publisher,
}

impl<T> Traced<T> {
    pub(crate) fn new(inner: T, traffic: Option<Traffic>, publisher: Publisher) -> Self {
        Traced { inner, traffic, publisher }
    }
}

fn record<M: serde::Serialize>(traffic: &Traffic, sent: bool, message: &M) {
    match serde_json::to_vec(message) {
        Ok(bytes) => {
            let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            traffic.record(sent, value, bytes.len());
        }
        Err(error) => {
            traffic.record_invalid("", &format!("could not serialise a message: {error}"));
        }
    }
}

impl<T> Transport<RoleClient> for Traced<T>
where
    T: Transport<RoleClient>,
{
    type Error = T::Error;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        if let Some(traffic) = &self.traffic {
            record(traffic, true, &item);
        }
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        let message = self.inner.receive().await?;
        if let Some(traffic) = &self.traffic {
            record(traffic, false, &message);
        }
        self.publisher.received(&message);
        Some(message)
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}
