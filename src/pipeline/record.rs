//! The recording stage: which recorded session a message belongs to, and when that session's
//! file opens. An HTTP session is keyed by its `Mcp-Session-Id` and opens with the initialize
//! that created it; a stdio process is one session that opens with its first message.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use super::{Inbound, Outbound};
use crate::mcp::jsonrpc::Message;
use crate::mcp::{Transport, version};
use crate::recording::{Opening, Recorder};

/// The recording key of a stdio process's one session.
const STDIO_SESSION: &str = "stdio";

#[derive(Clone)]
pub(super) struct Recording {
    recorder: Recorder,
    /// stdio: whether the process's session has opened.
    stdio_opened: Arc<AtomicBool>,
}

/// A received message's place in its recording.
pub(super) struct Seq {
    session: String,
    seq: u64,
}

impl Recording {
    pub(super) fn new(recorder: Recorder) -> Self {
        Self { recorder, stdio_opened: Arc::new(AtomicBool::new(false)) }
    }

    /// Records a message on arrival, in order. An HTTP initialize waits for its session.
    pub(super) fn received(&self, transport: &Transport, message: &Message, inbound: &Inbound) -> Option<Seq> {
        let session = match transport {
            Transport::Http { session_id } => session_id.clone()?,
            Transport::Stdio { .. } => {
                if !self.stdio_opened.swap(true, Ordering::AcqRel) {
                    self.recorder.open(STDIO_SESSION, inbound.arrived, stdio_opening(message));
                }
                STDIO_SESSION.to_owned()
            }
        };
        let seq = self.recorder.received(&session, inbound.arrived, inbound.bytes.clone());
        Some(Seq { session, seq })
    }

    /// An initialize created HTTP session `id`: open its recording with this first exchange.
    /// `client_info` comes from the already decoded initialize ([`client_info`]).
    pub(super) fn opened(
        &self,
        id: &str,
        version: Option<&str>,
        client_info: Option<Value>,
        inbound: &Inbound,
        out: Outbound,
    ) -> Outbound {
        let opening = Opening { transport: "http", client_info, protocol_version: version.map(str::to_owned) };
        self.recorder.open(id, inbound.arrived, opening);
        let seq = self.recorder.received(id, inbound.arrived, inbound.bytes.clone());
        self.answered(Seq { session: id.to_owned(), seq }, out)
    }

    /// Records the answer to a received message (the same bytes the transport sends).
    pub(super) fn answered(&self, at: Seq, out: Outbound) -> Outbound {
        if at.session == STDIO_SESSION {
            // stdio has no status, and a notification no answer line at all.
            if out.body.is_some() {
                self.recorder.answered(&at.session, at.seq, None, out.body.clone());
            }
        } else {
            self.recorder.answered(&at.session, at.seq, Some(out.status.http_status()), out.body.clone());
        }
        out
    }
}

/// The params of an initialize request, if `message` is one.
fn initialize_params(message: &Message) -> Option<&Value> {
    match message {
        Message::Request(r) if r.method == "initialize" => r.params.as_ref(),
        _ => None,
    }
}

/// The `clientInfo` an initialize request carries, for a recording's header.
pub(super) fn client_info(message: &Message) -> Option<Value> {
    initialize_params(message).map(|p| p["clientInfo"].clone()).filter(|c| !c.is_null())
}

/// What a stdio recording's header says, from the session's first message (an initialize).
fn stdio_opening(first: &Message) -> Opening {
    let params = initialize_params(first);
    Opening {
        transport: "stdio",
        client_info: client_info(first),
        protocol_version: params.and_then(|p| p["protocolVersion"].as_str()).map(|v| version::negotiate(v).to_owned()),
    }
}
