//! Building HTTP responses: JSON bodies, JSON-RPC errors with their status, Retry-After.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use http_body::Frame;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use serde_json::Value;

use crate::mcp::{ErrorCode, ErrorData, jsonrpc};

/// A whole body, or an SSE stream of a call's notifications and its answer.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

pub fn full(bytes: Bytes) -> Body {
    Full::new(bytes).boxed_unsync()
}

/// One JSON-RPC message as a server-sent event.
pub fn sse_event(message: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(message.len() + 24);
    frame.extend_from_slice(b"event: message\ndata: ");
    frame.extend_from_slice(message);
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}

/// `200 text/event-stream` carrying `events` (already framed by [`sse_event`]).
pub fn sse(events: impl Stream<Item = Bytes> + Send + 'static) -> Response<Body> {
    let body = StreamBody::new(events.map(|e| Ok::<_, Infallible>(Frame::data(e))));
    let mut res = Response::new(body.boxed_unsync());
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, no-transform"));
    res
}

pub fn json(status: StatusCode, body: &Value) -> Response<Body> {
    json_bytes(status, Bytes::from(body.to_string()))
}

/// A response from JSON already serialized (so a recorder can share the same bytes).
pub fn json_bytes(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut res = Response::new(full(body));
    *res.status_mut() = status;
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// A JSON-RPC error answered at the HTTP level, before or instead of dispatch.
pub fn rpc_error(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response<Body> {
    json(status, &jsonrpc::error(None, &ErrorData::new(code, message)))
}

pub fn empty(status: StatusCode) -> Response<Body> {
    let mut res = Response::new(full(Bytes::new()));
    *res.status_mut() = status;
    res
}

pub fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut res = Response::new(full(Bytes::from(body)));
    *res.status_mut() = status;
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// `Retry-After` in whole seconds, rounded up (the body's `retry_after_ms` is exact).
pub fn with_retry_after(mut res: Response<Body>, after: Option<Duration>) -> Response<Body> {
    if let Some(after) = after {
        let secs = after.as_millis().div_ceil(1000).max(1);
        res.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs as u64));
    }
    res
}
