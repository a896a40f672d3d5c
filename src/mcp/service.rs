//! The MCP request handler: one `apply` per typed request. It is a tower `Service`, so the same
//! limits wrap it whether a message came over HTTP or stdio.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use tower::BoxError;

use super::era::{self, Cache, CacheScope, Envelope, Era};
use super::error::{ErrorCode, ErrorData, UNAVAILABLE_RETRY};
use super::instructions::INSTRUCTIONS;
use super::jsonrpc::{self, Message, Request, RequestId};
use super::methods::{CallParams, ClientRequest, InitializeParams, LOG_LEVELS, ListParams};
use super::session::{Session, SessionStore};
use super::version;
use crate::domain::Principal;
use crate::domain::access::Role;
use crate::tools::resources::{self, Contents, ResourceFailure};
use crate::tools::{CallFailure, Notice, Notifier, Registry, ToolContext};
use tokio_util::sync::CancellationToken;

/// How many tools one `tools/list` page holds.
const TOOLS_PAGE: usize = 50;

/// How long a modern client may keep `server/discover` and `tools/list` results: they change
/// only when a new version is deployed.
const LIST_TTL_MS: u64 = 5 * 60 * 1000;

/// Which transport a message came over, with what that transport knows of the caller.
#[derive(Debug, Clone)]
pub enum Transport {
    /// Streamable HTTP: the `Mcp-Session-Id` header, when sent.
    Http { session_id: Option<String> },
    /// stdio: one process is one session; `session_id` names it in the audit trail.
    Stdio { session_id: String },
}

#[derive(Debug, Clone)]
pub struct McpRequest {
    pub message: Message,
    /// Settled by the pipeline: a modern request comes with its checked envelope.
    pub era: Era,
    pub transport: Transport,
    /// Who is calling, resolved by the pipeline before the limits.
    pub principal: Principal,
    /// Fires when the caller has gone; handed to the tool.
    pub cancel: CancellationToken,
    /// Where notifications for this call go while it runs, when the transport can carry them
    /// (stdio always; HTTP when the answer may become an SSE stream).
    pub notices: Option<NoticeSink>,
}

/// Serialized JSON-RPC notifications on their way to the caller, in order, before the result.
pub type NoticeSink = tokio::sync::mpsc::UnboundedSender<Bytes>;

/// How a call may talk to its caller before answering.
#[derive(Default)]
struct Listening {
    sink: Option<NoticeSink>,
    /// The request's `_meta.progressToken`.
    progress: Option<Value>,
    /// The least severe log level the caller asked for (none: no log messages).
    log_level: Option<String>,
}

impl Listening {
    /// The tool's notifier: progress when a token was sent, logs at or above the level asked.
    fn notifier(self) -> Notifier {
        let Some(sink) = self.sink else { return Notifier::silent() };
        if self.progress.is_none() && self.log_level.is_none() {
            return Notifier::silent();
        }
        let threshold = self.log_level.as_deref().and_then(level_rank);
        let token = self.progress;
        Notifier::to(move |notice| {
            let message = match notice {
                Notice::Progress { progress, total, message } => {
                    let Some(token) = &token else { return };
                    let mut params = json!({ "progressToken": token, "progress": progress });
                    if let Some(total) = total {
                        params["total"] = json!(total);
                    }
                    if let Some(message) = message {
                        params["message"] = json!(message);
                    }
                    json!({ "jsonrpc": "2.0", "method": "notifications/progress", "params": params })
                }
                Notice::Log { level, data } => {
                    match (threshold, level_rank(level)) {
                        (Some(min), Some(rank)) if rank >= min => {}
                        _ => return,
                    }
                    json!({ "jsonrpc": "2.0", "method": "notifications/message",
                            "params": { "level": level, "logger": "tally", "data": data } })
                }
            };
            let _ = sink.send(Bytes::from(message.to_string()));
        })
    }
}

fn level_rank(level: &str) -> Option<usize> {
    LOG_LEVELS.iter().position(|l| *l == level)
}

/// How the reply should travel; the HTTP edge turns this into a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyStatus {
    Ok,
    /// A notification or response was taken: no body.
    Accepted,
    BadRequest,
    /// No valid access token.
    Unauthorized,
    /// A valid token whose role does not cover the call.
    Forbidden,
    /// Unknown session, or a method this era does not serve.
    NotFound,
    /// Retryable: over the rate limit.
    TooManyRequests,
    /// Retryable: a dependency is down, the queue is full or the call ran out of time.
    Unavailable,
    /// A bug: logged, never explained to the client.
    Internal,
}

impl ReplyStatus {
    /// The status a Streamable HTTP answer carries (recordings keep it too).
    pub fn http_status(self) -> u16 {
        match self {
            Self::Ok => 200,
            Self::Accepted => 202,
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::TooManyRequests => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }
}

#[derive(Debug, Clone)]
pub struct McpReply {
    pub status: ReplyStatus,
    /// The JSON-RPC message, serialized once where it was made.
    pub body: Option<Bytes>,
    /// What the call ended in, for logs: `ok`, `accepted`, a tool error code, a refusal's
    /// reason or `error <code>`.
    pub outcome: Cow<'static, str>,
    /// Set when `initialize` started an HTTP session.
    pub session_id: Option<String>,
    /// Set when `initialize` negotiated a revision.
    pub protocol_version: Option<&'static str>,
    pub retry_after: Option<Duration>,
    /// The `WWW-Authenticate` challenge of a refusal for the caller's role.
    pub challenge: Option<String>,
}

impl McpReply {
    fn ok(body: Value) -> Self {
        Self::answer(Bytes::from(body.to_string()), "ok".into())
    }

    /// A 200 answer already serialized.
    fn answer(body: Bytes, outcome: Cow<'static, str>) -> Self {
        Self {
            status: ReplyStatus::Ok,
            body: Some(body),
            outcome,
            session_id: None,
            protocol_version: None,
            retry_after: None,
            challenge: None,
        }
    }

    fn accepted() -> Self {
        Self {
            status: ReplyStatus::Accepted,
            body: None,
            outcome: "accepted".into(),
            session_id: None,
            protocol_version: None,
            retry_after: None,
            challenge: None,
        }
    }

    fn error(status: ReplyStatus, id: Option<&RequestId>, error: &ErrorData) -> Self {
        Self {
            status,
            body: Some(Bytes::from(jsonrpc::error(id, error).to_string())),
            outcome: error.outcome(),
            session_id: None,
            protocol_version: None,
            retry_after: None,
            challenge: None,
        }
    }

    fn unavailable(id: Option<&RequestId>) -> Self {
        Self {
            retry_after: Some(UNAVAILABLE_RETRY),
            ..Self::error(ReplyStatus::Unavailable, id, &ErrorData::unavailable())
        }
    }
}

#[derive(Clone)]
pub struct McpService {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    sessions: SessionStore,
    /// Calls running on this replica that a legacy `notifications/cancelled` may stop, by the
    /// session (HTTP session id or stdio process) and request id.
    running: Mutex<HashMap<(String, RequestId), CancellationToken>>,
    /// A stdio process's `logging/setLevel` (an HTTP session keeps its level in Postgres).
    stdio_levels: Mutex<HashMap<String, String>>,
}

/// Unregisters a running call when it ends.
struct Running<'a> {
    inner: &'a Inner,
    key: (String, RequestId),
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.inner.running.lock().expect("running calls lock").remove(&self.key);
    }
}

impl McpService {
    /// Reads a resource for `principal` outside any session: a signed download link's document.
    pub async fn read_resource(
        &self,
        uri: &str,
        principal: crate::domain::Principal,
    ) -> Result<Contents, ResourceFailure> {
        self.inner.registry.read_resource(uri, ToolContext::new(principal, None)).await
    }

    pub fn new(registry: Registry, sessions: SessionStore) -> Self {
        Self {
            inner: Arc::new(Inner {
                registry,
                sessions,
                running: Mutex::new(HashMap::new()),
                stdio_levels: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Registers a running tool call so that `notifications/cancelled` naming it can stop it;
    /// it is unregistered when the guard drops. Other methods answer at once and are not
    /// tracked; a stateless HTTP call has no session to name it by.
    fn track(&self, transport: &Transport, request: &Request, cancel: &CancellationToken) -> Option<Running<'_>> {
        if request.method != "tools/call" {
            return None;
        }
        let key = (run_key(&session_key(transport)?), request.id.clone());
        self.inner.running.lock().expect("running calls lock").insert(key.clone(), cancel.clone());
        Some(Running { inner: &self.inner, key })
    }

    /// `notifications/cancelled {requestId}` for a call of this session: stop it here, or, over
    /// HTTP, tell every replica (the call may run on another): Postgres NOTIFY on
    /// [`CANCEL_CHANNEL`], which [`listen_for_cancels`](Self::listen_for_cancels) hears.
    async fn cancel_running(&self, transport: &Transport, params: Option<&Value>) {
        let Some(session) = session_key(transport) else { return };
        let Some(id) = params.and_then(|p| p.get("requestId")).and_then(|v| serde_json::from_value(v.clone()).ok())
        else {
            return;
        };
        let key = run_key(&session);
        if self.cancel_local(&key, &id) || matches!(transport, Transport::Stdio { .. }) {
            return;
        }
        let payload = json!({ "run": key, "request_id": id }).to_string();
        if let Err(e) = self.inner.sessions.notify(CANCEL_CHANNEL, &payload).await {
            tracing::warn!(error = %e, "could not pass a cancellation on to the other replicas");
        }
    }

    /// Cancels the call `(run, id)` if it runs on this replica.
    fn cancel_local(&self, run: &str, id: &RequestId) -> bool {
        match self.inner.running.lock().expect("running calls lock").get(&(run.to_owned(), id.clone())) {
            Some(token) => {
                tracing::info!("the client cancelled a running call");
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Hears the cancellations other replicas pass on, until the task is dropped. A lost
    /// connection is retried every second; meanwhile a cancel sent to another replica is missed
    /// (the call runs to its end, and a retry with its key still finds what it wrote).
    pub async fn listen_for_cancels(self, pool: sqlx::PgPool) {
        let own = crate::db::own_connection(&pool);
        loop {
            let listened = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(&own).await?;
                listener.listen(CANCEL_CHANNEL).await?;
                loop {
                    let n = listener.recv().await?;
                    let Ok(msg) = serde_json::from_str::<Value>(n.payload()) else { continue };
                    if let (Some(run), Ok(id)) =
                        (msg["run"].as_str(), serde_json::from_value::<RequestId>(msg["request_id"].clone()))
                    {
                        self.cancel_local(run, &id);
                    }
                }
                #[allow(unreachable_code)]
                Ok::<(), sqlx::Error>(())
            };
            if let Err(e) = listened.await {
                tracing::warn!(error = %e, "listening for cancellations failed; retrying in 1 s");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    pub async fn handle(&self, req: McpRequest) -> McpReply {
        if let (Era::Modern(envelope), Message::Request(request)) = (&req.era, &req.message) {
            let listening = Listening {
                sink: req.notices.clone(),
                progress: progress_token(request),
                log_level: envelope.log_level.clone(),
            };
            // Over stdio a modern client cancels with notifications/cancelled too.
            let _running = self.track(&req.transport, request, &req.cancel);
            return self.modern(request, envelope, listening, req.principal.clone(), req.cancel.clone()).await;
        }
        let request = match req.message {
            Message::Response => return McpReply::accepted(),
            // Notifications (initialized, cancelled) need no answer, but an unknown session still
            // gets its 404 so that the client learns to re-initialize.
            Message::Notification(n) => {
                return match self.session(&req.transport, &req.principal, None).await {
                    Ok(_) => {
                        if n.method == "notifications/cancelled" {
                            self.cancel_running(&req.transport, n.params.as_ref()).await;
                        }
                        McpReply::accepted()
                    }
                    Err(reply) => *reply,
                };
            }
            Message::Request(r) => r,
        };
        let parsed = match ClientRequest::parse(&request.method, request.params.clone()) {
            Ok(p) => p,
            Err(e) => return McpReply::error(ReplyStatus::Ok, Some(&request.id), &e),
        };
        match parsed {
            ClientRequest::Discover => McpReply::error(ReplyStatus::NotFound, Some(&request.id), &discover_refusal()),
            ClientRequest::Initialize(params) => {
                self.initialize(&request, params, &req.transport, &req.principal).await
            }
            other => {
                let session = match self.session(&req.transport, &req.principal, Some(&request.id)).await {
                    Ok(session) => session,
                    Err(reply) => return *reply,
                };
                let session_id = session_key(&req.transport);
                if let ClientRequest::SetLevel(p) = &other {
                    return self.set_level(&request.id, &req.transport, &req.principal, &p.level).await;
                }
                let log_level = match (&session, &session_id) {
                    (Some(s), _) => s.log_level.clone(),
                    (None, Some(id)) => self.inner.stdio_levels.lock().expect("levels lock").get(id).cloned(),
                    (None, None) => None,
                };
                let listening = Listening { sink: req.notices.clone(), progress: progress_token(&request), log_level };
                // A legacy client cancels with notifications/cancelled naming this request.
                let _running = self.track(&req.transport, &request, &req.cancel);
                let ctx = ToolContext {
                    cancel: req.cancel.clone(),
                    notify: listening.notifier(),
                    ..ToolContext::new(req.principal, session_id)
                };
                self.apply(&request, other, ctx, None).await
            }
        }
    }

    /// Applies a request in either era. `modern` (a modern request's client capabilities) stamps
    /// results and gives errors the modern era's HTTP statuses.
    async fn apply(
        &self,
        request: &Request,
        parsed: ClientRequest,
        ctx: ToolContext,
        modern: Option<&Value>,
    ) -> McpReply {
        let out = Answer { id: &request.id, modern: modern.is_some() };
        let role = ctx.principal.role;
        match parsed {
            ClientRequest::Ping => out.result(json!({}).to_string(), None),
            ClientRequest::Discover => {
                let result = json!({
                    "supportedVersions": era::all_supported(),
                    "capabilities": capabilities(),
                    "instructions": INSTRUCTIONS,
                });
                out.result(result.to_string(), Some(Cache { ttl_ms: LIST_TTL_MS, scope: CacheScope::Public }))
            }
            ClientRequest::ToolsList(params) => match self.tools_page(&params, role) {
                Ok(result) => out.result(result.to_string(), Some(private(LIST_TTL_MS))),
                Err(e) => out.refuse(ReplyStatus::Ok, &e),
            },
            ClientRequest::ToolsCall(params) => self.call_tool(&request.id, params, ctx, modern).await,
            ClientRequest::ResourceTemplatesList(_) => {
                #[allow(unused_mut)]
                let mut templates = self.inner.registry.resource_templates(role);
                #[cfg(feature = "conformance")]
                templates.extend(super::fixtures::templates());
                out.result(json!({ "resourceTemplates": templates }).to_string(), Some(private(LIST_TTL_MS)))
            }
            ClientRequest::ResourcesList(params) => {
                match self.inner.registry.list_resources(params.cursor.as_deref(), ctx).await {
                    #[allow(unused_mut)]
                    Ok(mut page) => {
                        #[cfg(feature = "conformance")]
                        if params.cursor.is_none() {
                            page.resources.splice(0..0, super::fixtures::resources());
                        }
                        let mut result = json!({ "resources": page.resources });
                        if let Some(next) = page.next_cursor {
                            result["nextCursor"] = Value::String(next);
                        }
                        // The books change with every write: fresh each time.
                        out.result(result.to_string(), Some(private(0)))
                    }
                    Err(failure) => self.resource_failure(&out, failure, None, role),
                }
            }
            #[cfg(feature = "conformance")]
            ClientRequest::ResourcesRead(params) if params.uri.starts_with("test://") => {
                match super::fixtures::read(&params.uri) {
                    Some(result) => out.result(result.to_string(), Some(private(0))),
                    None => self.resource_failure(
                        &out,
                        ResourceFailure::NotFound(format!("No resource {}", params.uri)),
                        Some(&params.uri),
                        role,
                    ),
                }
            }
            ClientRequest::ResourcesRead(params) => match self.inner.registry.read_resource(&params.uri, ctx).await {
                Ok(Contents::Text(text)) => {
                    let contents = json!([{ "uri": params.uri, "mimeType": resources::JSON, "text": text }]);
                    out.result(json!({ "contents": contents }).to_string(), Some(private(0)))
                }
                Ok(Contents::Blob { mime_type, bytes, .. }) => {
                    use base64::Engine;
                    let blob = base64::engine::general_purpose::STANDARD.encode(&bytes);
                    let contents = json!([{ "uri": params.uri, "mimeType": mime_type, "blob": blob }]);
                    out.result(json!({ "contents": contents }).to_string(), Some(private(0)))
                }
                Err(failure) => self.resource_failure(&out, failure, Some(&params.uri), role),
            },
            #[cfg(feature = "conformance")]
            ClientRequest::Fixture(method, params) => match super::fixtures::method(&method, &params) {
                Ok(result) => {
                    let cache = method.ends_with("/list").then(|| private(0));
                    out.result(result.to_string(), cache)
                }
                Err(e) => out.refuse(ReplyStatus::Ok, &e),
            },
            ClientRequest::Initialize(_) | ClientRequest::SetLevel(_) => {
                unreachable!("handled before a session is needed, or refused in the modern era")
            }
        }
    }

    /// A resource that cannot be given: not found is -32002 in the legacy era and -32602 (400)
    /// in the modern one; a role that does not cover it is 403, as for tools.
    fn resource_failure(&self, out: &Answer<'_>, failure: ResourceFailure, uri: Option<&str>, role: Role) -> McpReply {
        match failure {
            ResourceFailure::NotFound(msg) => {
                let code = if out.modern { ErrorCode::INVALID_PARAMS } else { ErrorCode::RESOURCE_NOT_FOUND };
                out.refuse(ReplyStatus::Ok, &ErrorData::new(code, msg).with_data(json!({ "uri": uri })))
            }
            ResourceFailure::InvalidCursor(msg) => out.refuse(ReplyStatus::Ok, &ErrorData::invalid_params(msg)),
            ResourceFailure::Call(CallFailure::Forbidden { needed }) => {
                forbidden(out.id, uri.unwrap_or("resources/list"), needed, role)
            }
            ResourceFailure::Call(CallFailure::Unavailable) => McpReply::unavailable(Some(out.id)),
            ResourceFailure::Call(_) => {
                let err = ErrorData::internal("Internal error while reading the resource; it has been logged");
                out.refuse(ReplyStatus::Ok, &err)
            }
        }
    }

    /// A 2026-07-28 request: no session, every result stamped with `resultType` and
    /// `serverInfo`, errors with the HTTP status the spec gives their code.
    async fn modern(
        &self,
        request: &Request,
        envelope: &Envelope,
        listening: Listening,
        principal: Principal,
        cancel: CancellationToken,
    ) -> McpReply {
        let parsed = match request.method.as_str() {
            // Removed from the modern era (ping; logging/setLevel: the level travels in _meta).
            "ping" | "logging/setLevel" | "initialize" | "resources/subscribe" | "resources/unsubscribe" => {
                Err(ErrorData::method_not_found(&request.method)
                    .with_data(json!({ "hint": format!("{} has no {}", era::MODERN, request.method) })))
            }
            method => ClientRequest::parse(method, request.params.clone()),
        };
        match parsed {
            Ok(parsed) => {
                let ctx = ToolContext { cancel, notify: listening.notifier(), ..ToolContext::new(principal, None) };
                self.apply(request, parsed, ctx, Some(&envelope.client_capabilities)).await
            }
            Err(e) => McpReply::error(modern_status(e.code), Some(&request.id), &e),
        }
    }

    async fn initialize(
        &self,
        request: &Request,
        params: InitializeParams,
        transport: &Transport,
        principal: &Principal,
    ) -> McpReply {
        let negotiated = version::negotiate(&params.protocol_version);
        let result = jsonrpc::result(
            &request.id,
            json!({
                "protocolVersion": negotiated,
                "capabilities": capabilities(),
                "serverInfo": {
                    "name": "tally",
                    "title": "Tally invoicing",
                    "version": env!("CARGO_PKG_VERSION"),
                },
                "instructions": INSTRUCTIONS,
            }),
        );
        let answer = McpReply { protocol_version: Some(negotiated), ..McpReply::ok(result) };
        match transport {
            Transport::Stdio { .. } => answer,
            Transport::Http { .. } => {
                match self.inner.sessions.create(principal, negotiated, params.client_info.as_ref()).await {
                    Ok(session) => McpReply { session_id: Some(session.id), ..answer },
                    Err(e) => {
                        tracing::warn!(error = %e, "could not store a new session");
                        McpReply::unavailable(Some(&request.id))
                    }
                }
            }
        }
    }

    /// `logging/setLevel`: kept with the HTTP session (any replica honours it) or the stdio process.
    async fn set_level(&self, id: &RequestId, transport: &Transport, principal: &Principal, level: &str) -> McpReply {
        match transport {
            Transport::Stdio { session_id } => {
                self.inner.stdio_levels.lock().expect("levels lock").insert(session_id.clone(), level.to_owned());
            }
            Transport::Http { session_id: Some(session_id) } => {
                if let Err(e) = self.inner.sessions.set_log_level(principal, session_id, level).await {
                    tracing::warn!(error = %e, "could not store the session's log level");
                    return McpReply::unavailable(Some(id));
                }
            }
            Transport::Http { session_id: None } => unreachable!("a legacy HTTP request has a session"),
        }
        McpReply::ok(jsonrpc::result(id, json!({})))
    }

    /// The caller's session: over HTTP it must be sent (400), live and opened by this caller's
    /// token (else 404); stdio has none. A refusal answers request `id` (none for a notification).
    async fn session(
        &self,
        transport: &Transport,
        principal: &Principal,
        id: Option<&RequestId>,
    ) -> Result<Option<Session>, Box<McpReply>> {
        let Transport::Http { session_id } = transport else {
            return Ok(None);
        };
        let Some(session_id) = session_id else {
            let err = ErrorData::new(
                ErrorCode::INVALID_REQUEST,
                "Missing Mcp-Session-Id header: send initialize first and echo the session id it returns",
            );
            return Err(Box::new(McpReply::error(ReplyStatus::BadRequest, id, &err)));
        };
        match self.inner.sessions.find(principal, session_id).await {
            Ok(Some(session)) => Ok(Some(session)),
            Ok(None) => {
                let err = ErrorData::new(
                    ErrorCode::INVALID_REQUEST,
                    "Unknown or expired session: send initialize again to start a new one",
                );
                Err(Box::new(McpReply::error(ReplyStatus::NotFound, id, &err)))
            }
            Err(e) => {
                tracing::warn!(error = %e, "session lookup failed");
                Err(Box::new(McpReply::unavailable(id)))
            }
        }
    }

    /// Ends an HTTP session (DELETE). `None` when the store could not be reached.
    pub async fn end_session(&self, principal: &Principal, session_id: &str) -> Option<bool> {
        self.inner
            .sessions
            .end(principal, session_id)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "ending session failed"))
            .ok()
    }

    /// The tools the caller's role may call, paged.
    fn tools_page(&self, params: &ListParams, role: Role) -> Result<Value, ErrorData> {
        #[allow(unused_mut)]
        let mut tools = self.inner.registry.published_for(role);
        #[cfg(feature = "conformance")]
        tools.extend(super::fixtures::TOOLS.iter());
        let start = match &params.cursor {
            None => 0,
            Some(c) => decode_cursor(c).filter(|&o| o <= tools.len()).ok_or_else(|| {
                ErrorData::invalid_params(
                    "Invalid cursor for tools/list: pass back the nextCursor of the previous page",
                )
            })?,
        };
        let end = (start + TOOLS_PAGE).min(tools.len());
        let mut result = json!({ "tools": &tools[start..end] });
        if end < tools.len() {
            result["nextCursor"] = Value::String(URL_SAFE_NO_PAD.encode(format!("tools:{end}")));
        }
        Ok(result)
    }

    /// Calls a tool; `modern` (a modern request's client capabilities) stamps the result and
    /// gives errors their modern HTTP status.
    async fn call_tool(
        &self,
        id: &RequestId,
        params: CallParams,
        ctx: ToolContext,
        modern: Option<&Value>,
    ) -> McpReply {
        #[cfg(feature = "conformance")]
        if let Some(called) = super::fixtures::call(&params.name, &ctx, modern).await {
            let out = Answer { id, modern: modern.is_some() };
            return match called {
                super::fixtures::Called::Result(result) => out.result(result.to_string(), None),
                super::fixtures::Called::Error(e) => out.refuse(ReplyStatus::BadRequest, &e),
            };
        }
        let out = Answer { id, modern: modern.is_some() };
        let ctx_role = ctx.principal.role;
        let args = params.arguments.unwrap_or(Value::Null);
        match self.inner.registry.call(&params.name, args, ctx).await {
            Ok(result) => {
                let outcome = result.error.map_or(Cow::Borrowed("ok"), |code| Cow::Borrowed(code.as_str()));
                out.answer(result.json(), None, outcome)
            }
            Err(CallFailure::UnknownTool) => {
                // Only what this caller's role may call, as tools/list shows it.
                let names = self
                    .inner
                    .registry
                    .definitions()
                    .filter(|d| ctx_role.covers(d.role))
                    .map(|d| d.name)
                    .collect::<Vec<_>>()
                    .join(", ");
                let err = ErrorData::invalid_params(format!("Unknown tool: {}. Available tools: {names}", params.name));
                out.refuse(ReplyStatus::Ok, &err)
            }
            Err(CallFailure::Forbidden { needed }) => forbidden(id, &params.name, needed, ctx_role),
            Err(CallFailure::Unavailable) => McpReply::unavailable(Some(id)),
            Err(CallFailure::Internal) => {
                let err = ErrorData::internal("Internal error while running the tool; it has been logged");
                out.refuse(ReplyStatus::Ok, &err)
            }
        }
    }
}

/// What Tally offers, in both eras.
fn capabilities() -> Value {
    #[allow(unused_mut)]
    let mut caps = json!({
        "tools": { "listChanged": false },
        "resources": { "listChanged": false, "subscribe": false },
        "logging": {},
    });
    #[cfg(feature = "conformance")]
    super::fixtures::capabilities(&mut caps);
    caps
}

fn private(ttl_ms: u64) -> Cache {
    Cache { ttl_ms, scope: CacheScope::Private }
}

/// How one request is answered in its era.
struct Answer<'a> {
    id: &'a RequestId,
    modern: bool,
}

impl Answer<'_> {
    /// A result (a serialized JSON object); modern ones are stamped, with `cache` where it applies.
    fn result(&self, result: String, cache: Option<Cache>) -> McpReply {
        self.answer(&result, cache, "ok".into())
    }

    /// The same, with the outcome the logs record (a tool result's error code, say).
    fn answer(&self, result: &str, cache: Option<Cache>, outcome: Cow<'static, str>) -> McpReply {
        let body = if self.modern {
            jsonrpc::result_raw(self.id, &era::decorate(result, cache))
        } else {
            jsonrpc::result_raw(self.id, result)
        };
        McpReply::answer(body, outcome)
    }

    /// An error: the modern era's status for its code, else `legacy`.
    fn refuse(&self, legacy: ReplyStatus, error: &ErrorData) -> McpReply {
        let status = if self.modern { modern_status(error.code) } else { legacy };
        McpReply::error(status, Some(self.id), error)
    }
}

/// 403: the caller's role does not cover `what` (a tool or a resource); not retryable.
fn forbidden(id: &RequestId, what: &str, needed: Role, role: Role) -> McpReply {
    let err = ErrorData::new(
        ErrorCode::FORBIDDEN,
        format!(
            "{what} needs the {needed} role; this caller's role is {role}. Ask the operator for a token with \
             the {needed} role; retrying will not help"
        ),
    )
    .with_data(json!({ "required_role": needed, "role": role, "retryable": false }));
    McpReply {
        challenge: Some(super::error::insufficient_role_challenge(needed)),
        ..McpReply::error(ReplyStatus::Forbidden, Some(id), &err)
    }
}

/// The session a legacy call belongs to: the HTTP session id or the stdio process's.
fn session_key(transport: &Transport) -> Option<String> {
    match transport {
        Transport::Http { session_id } => session_id.clone(),
        Transport::Stdio { session_id } => Some(session_id.clone()),
    }
}

/// The Postgres NOTIFY channel on which replicas pass cancellations on.
pub const CANCEL_CHANNEL: &str = "tally_cancel";

/// How a running call's session is named in the running-call map and in a NOTIFY payload: a
/// hash, so that a session id (a bearer secret) never travels.
fn run_key(session: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(session.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `params._meta.progressToken`: a string or an integer.
fn progress_token(request: &Request) -> Option<Value> {
    let token = request.params.as_ref()?.get("_meta")?.get("progressToken")?;
    (token.is_string() || token.is_i64() || token.is_u64()).then(|| token.clone())
}

/// A stdio process that began with initialize keeps the handshake era: `server/discover` is
/// not a method there.
fn discover_refusal() -> ErrorData {
    ErrorData::method_not_found("server/discover").with_data(json!({
        "supported": version::SUPPORTED,
        "hint": "This process began with initialize, so it speaks MCP 2025-11-25; start a new one for 2026-07-28",
    }))
}

/// The HTTP status a modern-era error carries (the spec's table); others keep their own.
fn modern_status(code: ErrorCode) -> ReplyStatus {
    match code {
        ErrorCode::METHOD_NOT_FOUND => ReplyStatus::NotFound,
        ErrorCode::PARSE_ERROR
        | ErrorCode::INVALID_REQUEST
        | ErrorCode::INVALID_PARAMS
        | ErrorCode::HEADER_MISMATCH
        | ErrorCode::MISSING_CLIENT_CAPABILITY
        | ErrorCode::UNSUPPORTED_PROTOCOL_VERSION => ReplyStatus::BadRequest,
        _ => ReplyStatus::Ok,
    }
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    std::str::from_utf8(&raw).ok()?.strip_prefix("tools:")?.parse().ok()
}

impl tower::Service<McpRequest> for McpService {
    type Response = McpReply;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<McpReply, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: McpRequest) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(req).await) })
    }
}
