//! The recording stage: which recorded session a message belongs to, and when that session's
//! file opens. An HTTP session is keyed by its `Mcp-Session-Id` and opens with the initialize
//! that created it; a stdio process is one session that opens with its first message. Stateless
//! (2026-07-28) HTTP calls are grouped by the client's `Tally-Session` header, else by a key
//! derived from the caller's credential and client name and version; such a group opens with
//! its first call and ends after ten idle minutes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use super::{Inbound, Outbound};
use crate::mcp::era::{self, Era};
use crate::mcp::jsonrpc::Message;
use crate::mcp::{Transport, version};
use crate::pipeline::Caller;
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
    pub(super) fn received(
        &self,
        transport: &Transport,
        era: &Era,
        message: &Message,
        inbound: &Inbound,
    ) -> Option<Seq> {
        let session = match (transport, era) {
            (Transport::Http { .. }, Era::Modern(envelope)) => {
                let client_info =
                    envelope.client_info.as_ref().map(|c| serde_json::json!({"name": c.name, "version": c.version}));
                let key = match &inbound.caller {
                    Caller::Http { recording_key, authorization, .. } => {
                        stateless_key(recording_key.as_deref(), authorization.as_deref(), client_info.as_ref())
                    }
                    Caller::Stdio { .. } => unreachable!("an HTTP transport has an HTTP caller"),
                };
                let opening = Opening {
                    transport: "http",
                    client_info,
                    protocol_version: Some(envelope.protocol_version.to_owned()),
                    stateless: true,
                };
                // The writer opens a group once; this only says where a new one would begin.
                self.recorder.open(&key, inbound.arrived, opening);
                key
            }
            (Transport::Http { session_id }, Era::Legacy) => session_id.clone()?,
            (Transport::Stdio { .. }, _) => {
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
        let opening =
            Opening { transport: "http", client_info, protocol_version: version.map(str::to_owned), stateless: false };
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
    if let Some(params) = initialize_params(message) {
        return Some(params["clientInfo"].clone()).filter(|c| !c.is_null());
    }
    match message {
        Message::Request(r) => {
            r.params.as_ref().map(|p| p["_meta"][era::CLIENT_INFO_KEY].clone()).filter(|c| c.is_object())
        }
        _ => None,
    }
}

/// What a stdio recording's header says, from the session's first message (an initialize).
fn stdio_opening(first: &Message) -> Opening {
    let params = initialize_params(first);
    Opening {
        transport: "stdio",
        client_info: client_info(first),
        protocol_version: match first {
            Message::Request(r) if era::is_modern(first, None) => {
                r.params.as_ref().and_then(|p| p["_meta"][era::PROTOCOL_VERSION_KEY].as_str()).map(str::to_owned)
            }
            _ => params.and_then(|p| p["protocolVersion"].as_str()).map(|v| version::negotiate(v).to_owned()),
        },
        stateless: false,
    }
}

/// The longest `Tally-Session` key kept; longer or odd ones fall back to the derived key.
const KEY_MAX: usize = 64;

/// Where a stateless HTTP call is recorded: `Tally-Session` when it is a sane token, else a
/// hash of the credential presented and the client's name and version (never the credential).
fn stateless_key(recording_key: Option<&str>, authorization: Option<&str>, client_info: Option<&Value>) -> String {
    use sha2::{Digest, Sha256};
    if let Some(key) = recording_key
        .filter(|k| k.len() <= KEY_MAX && k.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)))
    {
        return format!("stateless:{key}");
    }
    let mut hash = Sha256::new();
    hash.update(authorization.unwrap_or("").as_bytes());
    hash.update(b"\n");
    hash.update(client_info.map(Value::to_string).unwrap_or_default().as_bytes());
    let digest: String = hash.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("stateless:derived:{digest}")
}
