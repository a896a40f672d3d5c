//! `/mcp`, the Streamable HTTP endpoint: POST carries one JSON-RPC message, DELETE ends a
//! session, GET is 405 (Tally sends no server-initiated messages yet).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use futures_util::stream;
use tokio::sync::mpsc;

use http::header::{ACCEPT, ALLOW, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;

use super::HttpState;
use super::reply::{self, Body};
use crate::mcp::ErrorCode;
use crate::mcp::era::RoutingHeaders;
use crate::pipeline::auth::Presented;
use crate::pipeline::{Caller, Inbound, Outbound};

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
const METHOD_HEADER: &str = "mcp-method";
const NAME_HEADER: &str = "mcp-name";
const REQUEST_ID_HEADER: &str = "x-request-id";
/// Groups stateless calls into one recorded session.
const RECORDING_KEY_HEADER: &str = "tally-session";

pub async fn handle<B>(state: &HttpState, req: Request<B>) -> Response<Body>
where
    B: http_body::Body,
    B::Error: Into<tower::BoxError>,
{
    if let Err(why) = state.guard.check(req.headers()) {
        tracing::warn!(%why, "refused by the DNS-rebinding guard");
        return reply::rpc_error(StatusCode::FORBIDDEN, ErrorCode::INVALID_REQUEST, why);
    }
    match *req.method() {
        Method::POST => post(state, req).await,
        Method::DELETE => delete(state, req.headers()).await,
        _ => {
            let mut res = reply::rpc_error(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::INVALID_REQUEST,
                "Use POST for JSON-RPC messages and DELETE to end a session; Tally offers no GET stream",
            );
            res.headers_mut().insert(ALLOW, HeaderValue::from_static("POST, DELETE"));
            res
        }
    }
}

async fn post<B>(state: &HttpState, req: Request<B>) -> Response<Body>
where
    B: http_body::Body,
    B::Error: Into<tower::BoxError>,
{
    let arrived = Instant::now();
    let (parts, body) = req.into_parts();
    if let Err(res) = check_content_negotiation(&parts.headers) {
        return *res;
    }
    // Read before the call is admitted, so a slow body holds a connection, never a call slot.
    let Ok(collected) = tokio::time::timeout(state.body_read_timeout, body.collect()).await else {
        let msg = format!("The request body did not arrive within {:?}", state.body_read_timeout);
        return reply::rpc_error(StatusCode::REQUEST_TIMEOUT, ErrorCode::INVALID_REQUEST, msg);
    };
    let bytes = match collected.map_err(Into::into) {
        Ok(collected) => collected.to_bytes(),
        Err(e) if is_length_limit(e.as_ref()) => {
            let msg = format!("The request body exceeds the limit of {} bytes", state.max_body_bytes);
            return reply::rpc_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::INVALID_REQUEST, msg);
        }
        Err(e) => {
            return reply::rpc_error(
                StatusCode::BAD_REQUEST,
                ErrorCode::PARSE_ERROR,
                format!("Could not read the body: {e}"),
            );
        }
    };
    let request_id = request_id(&parts.headers);
    let caller = Caller::Http {
        session_id: header(&parts.headers, SESSION_HEADER).map(str::to_owned),
        routing: routing_headers(&parts.headers),
        authorization: authorization(&parts.headers),
        recording_key: header(&parts.headers, RECORDING_KEY_HEADER).map(str::to_owned),
    };
    let inbound = Inbound { bytes, arrived, request_id: request_id.clone(), caller };
    let mut call = match state.pipeline.arrive(inbound) {
        Ok(call) => call,
        Err(answered) => return respond(state, answered, &request_id),
    };
    if !(accepts_event_stream(&parts.headers) && call.may_notify()) {
        return respond(state, call.run().await, &request_id);
    }
    // The call may send notifications: they go out on an SSE stream that ends with the answer.
    // Until the first one arrives nothing is committed, so a call that sends none (a refusal,
    // a quick tool) is answered as plain JSON with its own status.
    let (tx, mut rx) = mpsc::unbounded_channel();
    call.set_notices(tx);
    let mut run = Box::pin(call.run());
    let first = tokio::select! {
        biased;
        out = &mut run => Err(out),
        Some(notice) = rx.recv() => Ok(notice),
    };
    let res = match first {
        Err(out) => {
            let mut pending = drain(&mut rx);
            if pending.is_empty() {
                return respond(state, out, &request_id);
            }
            pending.extend(out.body.as_deref().map(reply::sse_event));
            reply::sse(stream::iter(pending))
        }
        Ok(first) => {
            // The body owns the running call: a client that closes the stream drops it, and
            // dropping it cancels the call.
            let state = (Some(run), rx, VecDeque::from([reply::sse_event(&first)]));
            reply::sse(stream::unfold(state, |(mut run, mut rx, mut queued)| async move {
                loop {
                    if let Some(event) = queued.pop_front() {
                        return Some((event, (run, rx, queued)));
                    }
                    let running = run.as_mut()?;
                    tokio::select! {
                        biased;
                        Some(notice) = rx.recv() => queued.push_back(reply::sse_event(&notice)),
                        out = running => {
                            run = None;
                            queued.extend(drain(&mut rx));
                            queued.extend(out.body.as_deref().map(reply::sse_event));
                        }
                    }
                }
            }))
        }
    };
    with_request_id(res, &request_id)
}

/// Echoes the call's request id, so that a log line and an answer lead to each other.
fn with_request_id(mut res: Response<Body>, request_id: &str) -> Response<Body> {
    if let Ok(id) = HeaderValue::from_str(request_id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    res
}

/// Notifications already sent, framed as events.
fn drain(rx: &mut mpsc::UnboundedReceiver<Bytes>) -> VecDeque<Bytes> {
    std::iter::from_fn(|| rx.try_recv().ok()).map(|n| reply::sse_event(&n)).collect()
}

/// The client takes an SSE answer (`Accept: text/event-stream`, or anything).
fn accepts_event_stream(headers: &HeaderMap) -> bool {
    header(headers, ACCEPT.as_str()).is_some_and(|a| {
        let a = a.to_ascii_lowercase();
        a.contains("text/event-stream") || a.contains("*/*")
    })
}

/// The plain answer to a message: JSON with its status, or an empty 202.
fn respond(state: &HttpState, out: Outbound, request_id: &str) -> Response<Body> {
    let status = StatusCode::from_u16(out.status.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = match out.body {
        Some(body) => reply::with_retry_after(reply::json_bytes(status, body), out.retry_after),
        None => reply::empty(status),
    };
    res = with_request_id(res, request_id);
    if let Some(id) = out.new_session.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(SESSION_HEADER, id);
    }
    if let Some(challenge) = out.challenge.and_then(|c| state.challenge(c)) {
        res.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    }
    res
}

async fn delete(state: &HttpState, headers: &HeaderMap) -> Response<Body> {
    let Some(id) = header(headers, SESSION_HEADER) else {
        return reply::rpc_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::INVALID_REQUEST,
            "DELETE needs the Mcp-Session-Id header",
        );
    };
    let auth = authorization(headers);
    let presented = Presented::from_header(auth.as_deref());
    let principal = match state.pipeline.principal(presented).await {
        Ok(principal) => principal,
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
            let mut res = reply::json(status, &crate::mcp::jsonrpc::error(None, &refusal.error));
            if let Some(challenge) = refusal.challenge.and_then(|c| state.challenge(c)) {
                res.headers_mut().insert(WWW_AUTHENTICATE, challenge);
            }
            return res;
        }
    };
    match state.mcp.end_session(&principal, id).await {
        Some(true) => {
            if let Some(recorder) = &state.recorder {
                recorder.close(id);
            }
            reply::empty(StatusCode::NO_CONTENT)
        }
        Some(false) => {
            reply::rpc_error(StatusCode::NOT_FOUND, ErrorCode::INVALID_REQUEST, "Unknown or already ended session")
        }
        None => reply::rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::UNAVAILABLE,
            "The session store is unavailable; retry",
        ),
    }
}

/// POST bodies are JSON, and the client must accept a JSON answer.
fn check_content_negotiation(headers: &HeaderMap) -> Result<(), Box<Response<Body>>> {
    let content_type = header(headers, CONTENT_TYPE.as_str()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/json") {
        return Err(Box::new(reply::rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::INVALID_REQUEST,
            "Content-Type must be application/json",
        )));
    }
    if let Some(accept) = header(headers, ACCEPT.as_str()) {
        let accept = accept.to_ascii_lowercase();
        if !["application/json", "application/*", "*/*"].iter().any(|t| accept.contains(t)) {
            return Err(Box::new(reply::rpc_error(
                StatusCode::NOT_ACCEPTABLE,
                ErrorCode::INVALID_REQUEST,
                "Accept must allow application/json (send: application/json, text/event-stream)",
            )));
        }
    }
    Ok(())
}

/// The headers the modern era routes by, as sent.
fn routing_headers(headers: &HeaderMap) -> RoutingHeaders {
    let owned = |name| header(headers, name).map(str::to_owned);
    RoutingHeaders {
        protocol_version: owned(VERSION_HEADER),
        method: owned(METHOD_HEADER),
        name: owned(NAME_HEADER),
        duplicated: [VERSION_HEADER, METHOD_HEADER, NAME_HEADER]
            .into_iter()
            .find(|name| headers.get_all(*name).iter().count() > 1),
    }
}

/// The caller's `X-Request-Id` when it is a sane token, else a new one; echoed on the answer.
fn request_id(headers: &HeaderMap) -> String {
    header(headers, REQUEST_ID_HEADER)
        .filter(|id| id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned)
}

/// The `Authorization` header as presented: none, or its value. One that is there but cannot be
/// read (not visible ASCII, blank, or sent twice) is an empty value, which authentication refuses
/// as malformed (401): a caller who presents credentials is never taken for one who sent none.
fn authorization(headers: &HeaderMap) -> Option<String> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return Some(String::new());
    }
    Some(first.to_str().map(|v| v.trim().to_owned()).unwrap_or_default())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

fn is_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_or_repeated_authorization_header_is_never_no_header() {
        let with = |values: &[&[u8]]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
            }
            authorization(&h)
        };
        assert_eq!(with(&[]), None);
        assert_eq!(with(&[b"Bearer tally_x"]).as_deref(), Some("Bearer tally_x"));
        for bad in [&[b"Bearer \xff\xfe".as_slice()][..], &[b"   "], &[b"Bearer a", b"Bearer b"]] {
            let seen = with(bad);
            assert_eq!(seen.as_deref(), Some(""), "{bad:?}");
            assert_eq!(Presented::from_header(seen.as_deref()), Presented::Malformed);
        }
    }
}
