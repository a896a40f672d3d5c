//! stdio: newline-delimited JSON-RPC on stdin/stdout; logs go to stderr only. Requests are
//! served concurrently through the same limit stack as HTTP; replies are written whole, one
//! per line, by a single writer. On EOF, in-flight requests finish, then it returns.
//!
//! What a broken peer gets: a line over the limit is answered with -32600 and skipped up to
//! its newline; bytes that are not UTF-8 JSON are answered with -32700 (lines are read as
//! bytes, so garbage never ends the session); a closed stdout ends the session at once — the
//! client is gone — with one warning on stderr and a clean exit, after in-flight calls finish.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::codec::{AnyDelimiterCodec, AnyDelimiterCodecError, Decoder, FramedRead};
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
    let mut writer = tokio::spawn(write_lines(rx, output));
    // Bytes, not `String`s: a line that is not UTF-8 is a parse error for that line only.
    let mut lines = FramedRead::new(input, LineCodec::new(options.max_line_bytes));
    let mut in_flight = JoinSet::new();
    let mut opened = false;
    let mut writer_result = None;
    // Names this process's changes in the audit trail, in the same form as an HTTP session id.
    let session_id = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    loop {
        let line = tokio::select! {
            line = lines.next() => match line {
                Some(line) => line,
                None => break,
            },
            // The writer only ends early when stdout is closed: nobody reads our replies.
            ended = &mut writer => {
                writer_result = Some(ended);
                break;
            }
        };
        let line = match line? {
            Line::Text(line) => line,
            Line::TooLong => {
                let msg = format!("The message exceeds the limit of {} bytes", options.max_line_bytes);
                let _ = tx.send(jsonrpc::error(None, &ErrorData::new(ErrorCode::INVALID_REQUEST, msg)).to_string());
                continue;
            }
        };
        let line = trim_line_end(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let arrived = Instant::now();
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
    let ended = match writer_result {
        Some(ended) => ended,
        None => writer.await,
    };
    match ended.map_err(std::io::Error::other)? {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            tracing::warn!("stdout was closed by the client; the stdio session ends");
            Ok(())
        }
        other => other,
    }
}

/// One line read from stdin.
enum Line {
    Text(Bytes),
    /// A line over the limit; the codec skips the rest of it, up to its newline.
    TooLong,
}

/// Newline-delimited bytes with a length cap. A line over the cap is an item, not an error:
/// `FramedRead` ends the stream after any decoder error, which would end the session.
struct LineCodec(AnyDelimiterCodec);

impl LineCodec {
    fn new(max_line_bytes: usize) -> Self {
        Self(AnyDelimiterCodec::new_with_max_length(b"\n".to_vec(), Vec::new(), max_line_bytes))
    }

    fn map(decoded: Result<Option<Bytes>, AnyDelimiterCodecError>) -> std::io::Result<Option<Line>> {
        match decoded {
            Ok(line) => Ok(line.map(Line::Text)),
            Err(AnyDelimiterCodecError::MaxChunkLengthExceeded) => Ok(Some(Line::TooLong)),
            Err(AnyDelimiterCodecError::Io(e)) => Err(e),
        }
    }
}

impl Decoder for LineCodec {
    type Item = Line;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> std::io::Result<Option<Line>> {
        Self::map(self.0.decode(buf))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> std::io::Result<Option<Line>> {
        Self::map(self.0.decode_eof(buf))
    }
}

/// The line without its trailing `\r` (a client on Windows ends lines with CR LF).
fn trim_line_end(mut line: Bytes) -> Bytes {
    if line.last() == Some(&b'\r') {
        line.truncate(line.len() - 1);
    }
    line
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
