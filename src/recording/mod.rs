//! Recording MCP sessions to JSON Lines, for replay in CI (`tally replay`).
//!
//! One file per session: an HTTP session by its `Mcp-Session-Id`, a stdio process as one
//! session. The format (documented in the README) is a header line, then a line for every
//! message received, in arrival order, and a line for every answer, linked by sequence number.
//! The request path only hands cheap `Bytes` to a channel; a writer thread parses, redacts and
//! writes, and on shutdown writes out everything queued, so the tail of a session is never lost.

mod format;
mod redact;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use format::{Direction, FORMAT, FORMAT_VERSION, Header, Line, ServerLimits};
pub use redact::redact;

/// A short, stable, non-reversible tag for a session id: recordings are named with it and the
/// logs show it, so a log line leads to its recording without exposing the id (a bearer
/// credential).
pub fn session_tag(session_id: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(session_id.as_bytes())[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// How many events may wait for the writer before new ones are dropped (and counted), so a
/// slow disk can never slow down or stall calls.
const BACKLOG: usize = 65_536;

/// What a recording's header says about the session, known when it opens.
#[derive(Debug, Clone)]
pub struct Opening {
    pub transport: &'static str,
    pub client_info: Option<Value>,
    pub protocol_version: Option<String>,
    /// A stateless (2026-07-28) group of calls: nothing ends it, so it ends after
    /// [`STATELESS_IDLE`] without a call, and a later call with its key opens a new file.
    pub stateless: bool,
}

/// How long a stateless recorded session stays open without a call.
pub const STATELESS_IDLE: std::time::Duration = std::time::Duration::from_secs(10 * 60);

#[derive(Debug)]
pub(crate) enum Event {
    Open {
        session: String,
        at: Instant,
        opening: Opening,
        limits: ServerLimits,
    },
    Received {
        session: String,
        seq: u64,
        at: Instant,
        message: Bytes,
    },
    Answered {
        session: String,
        re: u64,
        at: Instant,
        status: Option<u16>,
        message: Option<Bytes>,
    },
    Close {
        session: String,
    },
    /// Everything before this has been written: flush, close, stop.
    Finish,
}

/// Cheap to clone; every transport task holds one.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Event>,
    limits: ServerLimits,
    seq: Arc<AtomicU64>,
}

/// Owned by whoever runs the server: `finish` writes out everything recorded.
pub struct RecorderTask {
    tx: mpsc::Sender<Event>,
    task: JoinHandle<()>,
}

impl Recorder {
    /// Starts the writer for `dir` (created if missing).
    pub fn start(dir: PathBuf, limits: ServerLimits) -> std::io::Result<(Self, RecorderTask)> {
        std::fs::create_dir_all(&dir)?;
        let (tx, rx) = mpsc::channel(BACKLOG);
        let task = tokio::task::spawn_blocking(move || writer::run(dir, rx));
        Ok((Self { tx: tx.clone(), limits, seq: Arc::new(AtomicU64::new(1)) }, RecorderTask { tx, task }))
    }

    /// A session began at `at`; its file is named after the transport and client.
    pub fn open(&self, session: &str, at: Instant, opening: Opening) {
        self.send(Event::Open { session: session.to_owned(), at, opening, limits: self.limits });
    }

    /// A message arrived; returns its sequence number, for `answered`.
    pub fn received(&self, session: &str, at: Instant, message: Bytes) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        self.send(Event::Received { session: session.to_owned(), seq, at, message });
        seq
    }

    /// The answer to message `re` (none for a notification over stdio).
    pub fn answered(&self, session: &str, re: u64, status: Option<u16>, message: Option<Bytes>) {
        self.send(Event::Answered { session: session.to_owned(), re, at: Instant::now(), status, message });
    }

    pub fn close(&self, session: &str) {
        self.send(Event::Close { session: session.to_owned() });
    }

    fn send(&self, event: Event) {
        if self.tx.try_send(event).is_err() {
            metrics::counter!("tally_recording_dropped_total").increment(1);
        }
    }
}

impl RecorderTask {
    /// Writes out everything sent so far, closes every file, and returns.
    pub async fn finish(self) {
        // Queued behind everything already recorded, so nothing before it is lost.
        let _ = self.tx.send(Event::Finish).await;
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the session recorder failed");
        }
    }
}
