//! stdio: newline-delimited JSON-RPC on stdin/stdout; logs go to stderr only. Requests are
//! served concurrently through the same limit stack as HTTP; replies are written whole, one
//! per line, by a single writer. On EOF, in-flight requests finish, then it returns.
//!
//! What a broken peer gets: a line over the limit is answered with -32600 and skipped up to
//! its newline; bytes that are not UTF-8 JSON are answered with -32700 (lines are read as
//! bytes, so garbage never ends the session); a closed stdout ends the session at once — the
//! client is gone — with one warning on stderr and a clean exit, after in-flight calls finish.

use std::time::Instant;

use bytes::{Bytes, BytesMut};

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::codec::{AnyDelimiterCodec, AnyDelimiterCodecError, Decoder, FramedRead};

use crate::mcp::jsonrpc;
use crate::mcp::{ErrorCode, ErrorData};
use crate::pipeline::{Caller, Inbound, Outbound, Pipeline, ProcessEra};

pub struct StdioOptions {
    /// `TALLY_TOKEN`, presented with every message.
    pub token: Option<String>,
    pub max_line_bytes: usize,
}

/// Queues an answer for stdout; a notification's (none) is dropped.
fn send(tx: &mpsc::UnboundedSender<Bytes>, out: Outbound) {
    if let Some(body) = out.body {
        let _ = tx.send(body);
    }
}

pub async fn serve<R, W>(pipeline: Pipeline, options: StdioOptions, input: R, output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    let mut writer = tokio::spawn(write_lines(rx, output));
    // Bytes, not `String`s: a line that is not UTF-8 is a parse error for that line only.
    let mut lines = FramedRead::new(input, LineCodec::new(options.max_line_bytes));
    let mut in_flight = JoinSet::new();
    let mut writer_result = None;
    // Names this process's changes in the audit trail, in the same form as an HTTP session id.
    let session_id = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let era = std::sync::Arc::new(ProcessEra::default());
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
                let _ = tx.send(Bytes::from(
                    jsonrpc::error(None, &ErrorData::new(ErrorCode::INVALID_REQUEST, msg)).to_string(),
                ));
                continue;
            }
        };
        let line = trim_line_end(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let caller = Caller::Stdio { session_id: session_id.clone(), token: options.token.clone(), era: era.clone() };
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        let inbound = Inbound { bytes: line, arrived: Instant::now(), request_id, caller };
        // Arrival stages here, in order (the recording keeps it); the call on its own task.
        match pipeline.arrive(inbound) {
            Err(answered) => send(&tx, answered),
            Ok(mut call) => {
                // Progress and log messages are lines like any other, written before the answer.
                call.set_notices(tx.clone());
                let tx = tx.clone();
                in_flight.spawn(async move { send(&tx, call.run().await) });
            }
        }
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

async fn write_lines<W: AsyncWrite + Unpin>(mut rx: mpsc::UnboundedReceiver<Bytes>, mut out: W) -> std::io::Result<()> {
    while let Some(line) = rx.recv().await {
        // serde_json escapes newlines inside strings, so one message is one line.
        out.write_all(&line).await?;
        out.write_all(b"\n").await?;
        out.flush().await?;
    }
    Ok(())
}
