//! stdio: newline-delimited JSON-RPC on stdin/stdout; logs go to stderr only. Requests are
//! served concurrently through the same limit stack as HTTP; replies are written whole, one
//! per line, by a single writer. On EOF, in-flight requests finish, then it returns.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};
use tower::ServiceExt;

use crate::mcp::jsonrpc::{self, Message};
use crate::mcp::{ErrorCode, ErrorData, McpRequest, Transport};
use crate::middleware::{McpStack, edge};

pub struct StdioOptions {
    pub tenant_id: String,
    pub timeout: Duration,
    pub max_line_bytes: usize,
}

pub async fn serve<R, W>(stack: McpStack, options: StdioOptions, input: R, output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(write_lines(rx, output));
    let mut lines = FramedRead::new(input, LinesCodec::new_with_max_length(options.max_line_bytes));
    let mut in_flight = JoinSet::new();
    while let Some(line) = lines.next().await {
        let line = match line {
            Ok(line) => line,
            Err(LinesCodecError::MaxLineLengthExceeded) => {
                let msg = format!("The message exceeds the limit of {} bytes", options.max_line_bytes);
                let _ = tx.send(jsonrpc::error(None, &ErrorData::new(ErrorCode::INVALID_REQUEST, msg)));
                continue;
            }
            Err(LinesCodecError::Io(e)) => return Err(e),
        };
        if line.trim().is_empty() {
            continue;
        }
        let message = match Message::decode(line.as_bytes()) {
            Ok(m) => m,
            Err((id, err)) => {
                let _ = tx.send(jsonrpc::error(id.as_ref(), &err));
                continue;
            }
        };
        let id = match &message {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        let request = McpRequest { message, transport: Transport::Stdio { tenant_id: options.tenant_id.clone() } };
        let (stack, tx, timeout) = (stack.clone(), tx.clone(), options.timeout);
        in_flight.spawn(async move {
            let reply = match stack.oneshot(request).await {
                Ok(reply) => reply.body,
                // Throttling and timeouts arrive as JSON-RPC errors, as over HTTP (which adds a status).
                Err(err) => id.as_ref().map(|id| jsonrpc::error(Some(id), &edge::classify(&err, timeout).error)),
            };
            if let Some(body) = reply {
                let _ = tx.send(body);
            }
        });
        // Reap finished calls as we go so the set stays small on long sessions.
        while in_flight.try_join_next().is_some() {}
    }
    while in_flight.join_next().await.is_some() {}
    drop(tx);
    writer.await.map_err(std::io::Error::other)?
}

async fn write_lines<W: AsyncWrite + Unpin>(mut rx: mpsc::UnboundedReceiver<Value>, mut out: W) -> std::io::Result<()> {
    while let Some(message) = rx.recv().await {
        // serde_json escapes newlines inside strings, so one message is one line.
        let mut line = message.to_string();
        line.push('\n');
        out.write_all(line.as_bytes()).await?;
        out.flush().await?;
    }
    Ok(())
}
