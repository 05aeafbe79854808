//! The stdio transport: newline-delimited JSON-RPC over a byte stream, with a size limit per
//! message and a record of every line that is not JSON-RPC.
//!
//! rmcp ships an equivalent transport, but it drops unparsable lines silently and has no limit by
//! default. A tester must show the user exactly what a misbehaving server wrote, and must not
//! buffer an unbounded line, so this one records such lines in the traffic log and closes the
//! session when a message is over the limit.

use std::sync::{Arc, Mutex};

use rmcp::{
    RoleClient,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use crate::traffic::Traffic;

/// Why the stdio transport stopped or failed.
#[derive(Debug, thiserror::Error)]
pub enum LinesError {
    #[error("writing to the server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not encode a message: {0}")]
    Encode(#[from] serde_json::Error),
}

/// What ended a line transport's input, when it ended for a reason worth telling.
#[derive(Debug, Clone, Default)]
pub struct EndReason(Arc<Mutex<Option<String>>>);

impl EndReason {
    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|reason| reason.clone())
    }
    pub(crate) fn set(&self, reason: String) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(reason);
        }
    }
}

/// Newline-delimited JSON-RPC. Records nothing itself but invalid lines; wrap it in
/// [`super::Traced`] for the full log.
pub struct LineTransport<R, W> {
    reader: BufReader<R>,
    writer: Arc<tokio::sync::Mutex<W>>,
    line: Vec<u8>,
    /// Bytes of the current line beyond what was kept (the line is over the limit).
    overflow: usize,
    max_message_bytes: usize,
    traffic: Traffic,
    end: EndReason,
}

impl<R, W> LineTransport<R, W>
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    pub fn new(reader: R, writer: W, max_message_bytes: usize, traffic: Traffic) -> Self {
        LineTransport {
            reader: BufReader::with_capacity(64 * 1024, reader),
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            line: Vec::new(),
            overflow: 0,
            max_message_bytes,
            traffic,
            end: EndReason::default(),
        }
    }

    /// Where the reason is kept when the transport ends on a bad message.
    pub fn end_reason(&self) -> EndReason {
        self.end.clone()
    }

    /// Reads one whole line into `self.line`. Cancel-safe: `fill_buf` consumes nothing, and the
    /// bytes taken so far stay in `self.line` for the next call. Returns false at end of input.
    async fn read_line(&mut self) -> std::io::Result<bool> {
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                return Ok(false);
            }
            let (chunk, complete) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (&available[..at], true),
                None => (available, false),
            };
            let room = self.max_message_bytes.saturating_sub(self.line.len());
            let kept = chunk.len().min(room);
            self.line.extend_from_slice(&chunk[..kept]);
            self.overflow += chunk.len() - kept;
            let used = chunk.len() + usize::from(complete);
            self.reader.consume(used);
            if complete {
                return Ok(true);
            }
        }
    }
}

impl<R, W> Transport<RoleClient> for LineTransport<R, W>
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    type Error = LinesError;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let writer = self.writer.clone();
        async move {
            let mut bytes = serde_json::to_vec(&item)?;
            bytes.push(b'\n');
            let mut writer = writer.lock().await;
            writer.write_all(&bytes).await?;
            writer.flush().await?;
            Ok(())
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        loop {
            match self.read_line().await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(error) => {
                    self.end.set(format!("reading the server's output failed: {error}"));
                    return None;
                }
            }
            let line = std::mem::take(&mut self.line);
            let overflow = std::mem::take(&mut self.overflow);
            if overflow > 0 {
                let size = line.len() + overflow;
                let reason = format!(
                    "the server sent a message of {} bytes, over the limit of {} bytes; \
                     the session was closed",
                    size, self.max_message_bytes
                );
                let head = String::from_utf8_lossy(&line[..256.min(line.len())]).into_owned();
                self.traffic.record_invalid(&head, "over the size limit; the session was closed");
                self.end.set(reason);
                return None;
            }
            let text = line.strip_suffix(b"\r").unwrap_or(&line);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<RxJsonRpcMessage<RoleClient>>(text) {
                Ok(message) => return Some(message),
                Err(error) => {
                    let why = match serde_json::from_slice::<serde_json::Value>(text) {
                        Ok(_) => format!("valid JSON but not an MCP message: {error}"),
                        Err(_) => format!("not JSON: {error}"),
                    };
                    self.traffic.record_invalid(&String::from_utf8_lossy(text), &why);
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.writer.lock().await.shutdown().await?;
        Ok(())
    }
}
