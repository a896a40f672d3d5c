//! Building HTTP responses: JSON bodies, JSON-RPC errors with their status, Retry-After.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;

use crate::mcp::{ErrorCode, ErrorData, jsonrpc};

pub type Body = Full<Bytes>;

pub fn json(status: StatusCode, body: &Value) -> Response<Body> {
    json_bytes(status, Bytes::from(body.to_string()))
}

/// A response from JSON already serialized (so a recorder can share the same bytes).
pub fn json_bytes(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut res = Response::new(Full::new(body));
    *res.status_mut() = status;
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// A JSON-RPC error answered at the HTTP level, before or instead of dispatch.
pub fn rpc_error(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response<Body> {
    json(status, &jsonrpc::error(None, &ErrorData::new(code, message)))
}

pub fn empty(status: StatusCode) -> Response<Body> {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = status;
    res
}

pub fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut res = Response::new(Full::new(Bytes::from(body)));
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
