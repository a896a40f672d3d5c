//! stdio: newline-delimited JSON-RPC on stdin/stdout; logs go to stderr only. Requests are
//! served concurrently through the same limit stack as HTTP; replies are written whole, one
//! per line, by a single writer. On EOF, in-flight requests finish, then it returns.

use std::time::{Duration, Instant};

use bytes::Bytes;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};
use tower::ServiceExt;

use crate::mcp::jsonrpc::{self, Message};
use crate::mcp::{ErrorCode, ErrorData, McpRequest, Transport};
use crate::middleware::{McpStack, edge};
use crate::recording::{Opening, Recorder};
use crate::transport::calls::CallLog;
use tracing::Instrument;

pub struct StdioOptions {
    pub tenant_id: String,
    pub timeout: Duration,
    pub max_line_bytes: usize,
    /// Records the session when `--record-dir` is set.
    pub recorder: Option<Recorder>,
}

/// The recording key of this process's one session.
const SESSION: &str = "stdio";

pub async fn serve<R, W>(stack: McpStack, options: StdioOptions, input: R, output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(write_lines(rx, output));
    let mut lines = FramedRead::new(input, LinesCodec::new_with_max_length(options.max_line_bytes));
    let mut in_flight = JoinSet::new();
    let mut opened = false;
    // Names this process's changes in the audit trail, in the same form as an HTTP session id.
    let session_id = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    while let Some(line) = lines.next().await {
        let line = match line {
            Ok(line) => line,
            Err(LinesCodecError::MaxLineLengthExceeded) => {
                let msg = format!("The message exceeds the limit of {} bytes", options.max_line_bytes);
                let _ = tx.send(jsonrpc::error(None, &ErrorData::new(ErrorCode::INVALID_REQUEST, msg)).to_string());
                continue;
            }
            Err(LinesCodecError::Io(e)) => return Err(e),
        };
        if line.trim().is_empty() {
            continue;
        }
        let arrived = Instant::now();
        let line = Bytes::from(line);
        let message = match Message::decode(&line) {
            Ok(m) => m,
            Err(e) => {
                let (id, err) = (e.id, e.error);
                let _ = tx.send(jsonrpc::error(id.as_ref(), &err).to_string());
                continue;
            }
        };
        // Recorded on arrival, in order: requests are served concurrently.
        let recorded = options.recorder.as_ref().map(|recorder| {
            if !opened {
                recorder.open(SESSION, arrived, opening(&message));
                opened = true;
            }
            (recorder.clone(), recorder.received(SESSION, arrived, line.clone()))
        });
        let id = match &message {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        let log = CallLog::start(&uuid::Uuid::new_v4().simple().to_string(), Some(&session_id), &message);
        let transport = Transport::Stdio { tenant_id: options.tenant_id.clone(), session_id: session_id.clone() };
        let request = McpRequest { message, transport };
        let (stack, tx, timeout) = (stack.clone(), tx.clone(), options.timeout);
        in_flight.spawn(async move {
            let reply = match stack.oneshot(request).instrument(log.span()).await {
                Ok(reply) => reply.body,
                // Throttling and timeouts arrive as JSON-RPC errors, as over HTTP (which adds a status).
                Err(err) => id.as_ref().map(|id| jsonrpc::error(Some(id), &edge::classify(&err, timeout).error)),
            };
            log.finish(None, reply.as_ref(), None);
            let reply = reply.map(|body| body.to_string());
            if let (Some((recorder, seq)), Some(reply)) = (recorded, &reply) {
                recorder.answered(SESSION, seq, None, Some(Bytes::from(reply.clone())));
            }
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

/// What the recording's header says, from the session's first message (an initialize, usually).
fn opening(first: &Message) -> Opening {
    let params = match first {
        Message::Request(r) if r.method == "initialize" => r.params.as_ref(),
        _ => None,
    };
    Opening {
        transport: "stdio",
        client_info: params.map(|p| p["clientInfo"].clone()).filter(|c| !c.is_null()),
        protocol_version: params
            .and_then(|p| p["protocolVersion"].as_str())
            .map(|v| crate::mcp::version::negotiate(v).to_owned()),
    }
}

async fn write_lines<W: AsyncWrite + Unpin>(
    mut rx: mpsc::UnboundedReceiver<String>,
    mut out: W,
) -> std::io::Result<()> {
    while let Some(mut line) = rx.recv().await {
        // serde_json escapes newlines inside strings, so one message is one line.
        line.push('\n');
        out.write_all(line.as_bytes()).await?;
        out.flush().await?;
    }
    Ok(())
}
