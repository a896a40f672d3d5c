//! The one call pipeline both transports feed. A transport hands over the bytes of one
//! message and what it knows of the caller; the pipeline runs every stage and hands back the
//! bytes to send, serialized once:
//!
//! 1. decode ([`jsonrpc::Message::decode`]): parse error / invalid request answered at once;
//! 2. protocol era ([`era`]): a request with the modern `_meta` envelope is served on its own
//!    (its envelope and, over HTTP, its routing headers checked); any other is legacy, and over
//!    HTTP names a handshake-era revision in `MCP-Protocol-Version` (absent: 2025-03-26). Over
//!    stdio the first `initialize` or modern request settles the process's era;
//! 3. session: the `Mcp-Session-Id` header (HTTP, legacy) or the process's one session (stdio);
//! 4. record ([`record`]): on arrival, in order, when recording is on;
//! 5. log ([`log`]): one span and one line per call;
//! 6. principal ([`auth`]): who is calling, from the bearer token (HTTP) or `TALLY_TOKEN`
//!    (stdio), checked on every message before any limit; a refusal is a 401 with its challenge;
//! 7. limits and dispatch: the tower stack of [`middleware`](crate::middleware) around the MCP
//!    service; a refusal from the limits becomes the same JSON-RPC error shape;
//! 8. reply: the JSON serialized once into the bytes the transport writes and the recorder keeps.
//!
//! The outcome travels as a typed [`ReplyStatus`]; the HTTP edge maps it to a status code.

pub mod auth;
pub mod log;
pub mod oauth;
mod record;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tracing::Instrument;

use crate::domain::Principal;
use crate::mcp::era::{self, Era, RoutingHeaders};
use crate::mcp::jsonrpc::{self, Message};
use crate::mcp::{ErrorCode, ErrorData, McpRequest, NoticeSink, ReplyStatus, Transport, version};
use crate::middleware::{McpStack, edge};
use crate::recording::Recorder;
use auth::{Authenticator, Presented, Refusal};
use log::CallLog;
use record::Recording;

/// What a transport knows of the caller of one message.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Streamable HTTP: the `Mcp-Session-Id`, `Authorization` and routing headers
    /// (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`), when sent.
    /// `recording_key` is `Tally-Session`: which recorded session a stateless call joins.
    Http {
        session_id: Option<String>,
        routing: RoutingHeaders,
        authorization: Option<String>,
        recording_key: Option<String>,
    },
    /// stdio: one process is one session; `token` is `TALLY_TOKEN`, when set.
    Stdio { session_id: String, token: Option<String>, era: Arc<ProcessEra> },
}

/// The era a stdio process settled on with its first `initialize` (legacy) or first modern
/// request; until then either may come. Once settled the other era's opening is refused.
#[derive(Debug, Default)]
pub struct ProcessEra(OnceLock<bool>);

impl ProcessEra {
    fn modern(&self) -> Option<bool> {
        self.0.get().copied()
    }

    fn settle(&self, modern: bool) {
        self.0.get_or_init(|| modern);
    }
}

/// One message as it arrived.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub bytes: Bytes,
    pub arrived: Instant,
    /// Names the call in logs (HTTP: the caller's `X-Request-Id` when sane).
    pub request_id: String,
    pub caller: Caller,
}

/// What to send back.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub status: ReplyStatus,
    /// The serialized JSON-RPC message, or none (a notification was taken).
    pub body: Option<Bytes>,
    pub retry_after: Option<Duration>,
    /// Set when `initialize` started an HTTP session.
    pub new_session: Option<String>,
    /// The `WWW-Authenticate` challenge of a 401 or 403.
    pub challenge: Option<String>,
}

impl Outbound {
    fn error(status: ReplyStatus, id: Option<&jsonrpc::RequestId>, error: &ErrorData) -> Self {
        let body = Bytes::from(jsonrpc::error(id, error).to_string());
        Self { status, body: Some(body), retry_after: None, new_session: None, challenge: None }
    }
}

/// The stages between a transport and the limit stack. Cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    stack: McpStack,
    /// The calls' deadline, quoted by a timeout's error.
    timeout: Duration,
    recording: Option<Recording>,
    auth: Authenticator,
}

impl Pipeline {
    pub fn new(stack: McpStack, timeout: Duration, recorder: Option<Recorder>, auth: Authenticator) -> Self {
        Self { stack, timeout, recording: recorder.map(Recording::new), auth }
    }

    /// The principal stage on its own, for what is not a message (an HTTP DELETE).
    pub async fn principal(&self, presented: Presented<'_>) -> Result<Principal, Refusal> {
        self.auth.resolve(presented).await
    }

    /// Runs one message through every stage.
    pub async fn call(&self, inbound: Inbound) -> Outbound {
        match self.arrive(inbound) {
            Ok(call) => call.run().await,
            Err(answered) => answered,
        }
    }

    /// The stages that run on arrival, without waiting: decode, era, session, record, log. A
    /// transport that serves messages concurrently (stdio) calls this in arrival order and
    /// [`Call::run`]s each on its own task, so the recording keeps the order of arrival.
    pub fn arrive(&self, inbound: Inbound) -> Result<Call, Outbound> {
        let message = match Message::decode(&inbound.bytes) {
            Ok(m) => m,
            Err(e) => return Err(Outbound::error(ReplyStatus::BadRequest, e.id.as_ref(), &e.error)),
        };
        let era = classify(&message, &inbound.caller)?;
        let (transport, session) = session(&message, &era, inbound.caller.clone());
        let recorded = self.recording.as_ref().and_then(|r| r.received(&transport, &era, &message, &inbound));
        let log = CallLog::start(&inbound.request_id, session.as_deref(), &message);
        let cancel = CancellationToken::new();
        Ok(Call { pipeline: self.clone(), inbound, message, era, transport, recorded, log, notices: None, cancel })
    }
}

/// A message that has arrived: what is left is the limits, dispatch and the reply.
pub struct Call {
    pipeline: Pipeline,
    inbound: Inbound,
    message: Message,
    era: Era,
    transport: Transport,
    recorded: Option<record::Seq>,
    log: CallLog,
    notices: Option<NoticeSink>,
    cancel: CancellationToken,
}

impl Call {
    /// Lets the call send notifications (progress, log messages) before its answer.
    pub fn set_notices(&mut self, sink: NoticeSink) {
        self.notices = Some(sink);
    }

    /// Whether the call asked for notifications: a progress token, or (modern) a log level; a
    /// legacy session's level lives in Postgres, so a legacy `tools/call` may want them too.
    pub fn may_notify(&self) -> bool {
        let Message::Request(r) = &self.message else { return false };
        let meta = r.params.as_ref().and_then(|p| p.get("_meta"));
        let asked = meta.is_some_and(|m| m.get("progressToken").is_some() || m.get(era::LOG_LEVEL_KEY).is_some());
        asked || (!self.era.is_modern() && r.method == "tools/call")
    }

    pub async fn run(self) -> Outbound {
        let Call { pipeline, inbound, message, era, transport, recorded, log, notices, cancel } = self;
        let rpc_id = match &message {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        let presented = match &inbound.caller {
            Caller::Http { authorization, .. } => Presented::from_header(authorization.as_deref()),
            Caller::Stdio { token: Some(token), .. } => Presented::Bearer(token),
            Caller::Stdio { token: None, .. } => Presented::Nothing,
        };
        let principal = match pipeline.auth.resolve(presented).await {
            Ok(principal) => principal,
            Err(refusal) => {
                log.finish(refusal.status, &refusal.error.outcome(), None);
                let mut out = Outbound::error(refusal.status, rpc_id.as_ref(), &refusal.error);
                out.challenge = refusal.challenge;
                if refusal.status == ReplyStatus::Unavailable {
                    out.retry_after = Some(crate::mcp::UNAVAILABLE_RETRY);
                }
                if let (Some(recording), Some(seq)) = (&pipeline.recording, recorded) {
                    out = recording.answered(seq, out);
                }
                return out;
            }
        };
        let request = McpRequest { message, era, transport, principal, cancel, notices };
        // Read before the request moves into the stack; only an initialize that opens a
        // recorded session needs it.
        let client_info = pipeline.recording.as_ref().and_then(|_| record::client_info(&request.message));
        // Dropping this future (the client closed the connection) cancels the call's token.
        let _cancel_on_drop = request.cancel.clone().drop_guard();
        let mut out = match pipeline.stack.clone().oneshot(request).instrument(log.span()).await {
            Ok(reply) => {
                log.finish(reply.status, &reply.outcome, reply.session_id.as_deref());
                let body = reply.body;
                let opened = reply.session_id.clone().map(|id| (id, reply.protocol_version));
                let out = Outbound {
                    status: reply.status,
                    body,
                    retry_after: reply.retry_after,
                    new_session: reply.session_id,
                    challenge: reply.challenge,
                };
                if let (Some(recording), Some((id, version))) = (&pipeline.recording, opened) {
                    return recording.opened(&id, version, client_info, &inbound, out);
                }
                out
            }
            Err(err) => {
                // Refused by the limits: the same JSON-RPC error shape, answering the request's id.
                let refusal = edge::classify(&err, pipeline.timeout);
                let body = jsonrpc::error(rpc_id.as_ref(), &refusal.error);
                log.finish(refusal.status, &refusal.error.outcome(), None);
                let body = Some(Bytes::from(body.to_string()));
                Outbound {
                    status: refusal.status,
                    body,
                    retry_after: refusal.retry_after,
                    new_session: None,
                    challenge: None,
                }
            }
        };
        if let (Some(recording), Some(seq)) = (&pipeline.recording, recorded) {
            out = recording.answered(seq, out);
        }
        out
    }
}

/// The era of `message`, or the answer that refuses it (a modern request whose envelope or
/// headers fail the ladder; a legacy request naming a revision Tally does not speak).
fn classify(message: &Message, caller: &Caller) -> Result<Era, Outbound> {
    let refuse = |status, error: &ErrorData| {
        let id = match message {
            Message::Request(r) => Some(&r.id),
            _ => None,
        };
        Outbound::error(status, id, error)
    };
    let (header_version, headers, settled) = match caller {
        Caller::Http { routing, .. } => (routing.protocol_version.as_deref(), Some(routing), None),
        Caller::Stdio { era, .. } => (None, None, Some(era)),
    };
    let initialize = matches!(message, Message::Request(r) if r.method == "initialize");
    // A stdio process that began with initialize keeps legacy semantics to its end.
    if settled.is_some_and(|e| e.modern() == Some(false)) {
        return Ok(Era::Legacy);
    }
    let modern_process = settled.is_some_and(|e| e.modern() == Some(true));
    if initialize && modern_process {
        let requested = match message {
            Message::Request(r) => r.params.as_ref().and_then(|p| p["protocolVersion"].as_str()).unwrap_or(""),
            _ => "",
        };
        return Err(refuse(ReplyStatus::BadRequest, &era::unsupported_version(requested, &era::MODERN_VERSIONS)));
    }
    if modern_process || era::is_modern(message, header_version) {
        let Message::Request(request) = message else {
            // Over stdio a notification (notifications/cancelled) is the process's own business.
            if settled.is_some() {
                return Ok(Era::Legacy);
            }
            // The modern era defines no client notifications over HTTP (closing the stream is
            // the cancellation); they are taken and dropped, as the SDKs do.
            return Err(Outbound {
                status: ReplyStatus::Accepted,
                body: None,
                retry_after: None,
                new_session: None,
                challenge: None,
            });
        };
        if let Caller::Http { session_id: Some(_), .. } = caller {
            let err = ErrorData::new(
                ErrorCode::INVALID_REQUEST,
                format!(
                    "A {} request is served on its own and carries no Mcp-Session-Id; drop the header (or drop params._meta to stay in the session)",
                    era::MODERN
                ),
            );
            return Err(refuse(ReplyStatus::BadRequest, &err));
        }
        let envelope = era::envelope(&request.method, request.params.as_ref(), headers)
            .map_err(|e| refuse(ReplyStatus::BadRequest, &e))?;
        if let Some(process) = settled {
            process.settle(true);
        }
        return Ok(Era::Modern(Box::new(envelope)));
    }
    if initialize && let Some(process) = settled {
        process.settle(false);
    }
    if let Some(refusal) = version_refusal(message, caller) {
        return Err(refusal);
    }
    Ok(Era::Legacy)
}

/// Over HTTP every legacy request after initialize names a revision Tally speaks (absent: 2025-03-26).
fn version_refusal(message: &Message, caller: &Caller) -> Option<Outbound> {
    let Caller::Http { routing, .. } = caller else { return None };
    let handshake = matches!(message, Message::Request(r) if r.method == "initialize");
    let version = routing.protocol_version.as_deref().unwrap_or(version::ASSUMED_WITHOUT_HEADER);
    if handshake || version::is_supported(version) {
        return None;
    }
    let msg = format!(
        "Unsupported MCP-Protocol-Version {version:?}; supported: {} (and {} with params._meta)",
        version::SUPPORTED.join(", "),
        era::MODERN
    );
    Some(Outbound::error(ReplyStatus::BadRequest, None, &ErrorData::new(ErrorCode::INVALID_REQUEST, msg)))
}

/// The MCP service's view of the transport, and the session id that names the call in logs.
/// An initialize starts a new session whatever id it carries.
fn session(message: &Message, era: &Era, caller: Caller) -> (Transport, Option<String>) {
    match caller {
        Caller::Http { .. } if era.is_modern() => (Transport::Http { session_id: None }, None),
        Caller::Http { session_id, .. } => {
            let session_id = session_id.filter(|_| !matches!(message, Message::Request(r) if r.method == "initialize"));
            (Transport::Http { session_id: session_id.clone() }, session_id)
        }
        Caller::Stdio { session_id, .. } => (Transport::Stdio { session_id: session_id.clone() }, Some(session_id)),
    }
}
