//! One error vocabulary for the protocol: JSON-RPC codes with names, and the error object.

use serde::Serialize;
use serde_json::Value;

/// A JSON-RPC error code. The spec reserves -32700..-32600 and MCP reserves -32020..-32099;
/// -32000..-32019 are Tally's own, used for throttling and availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    pub const PARSE_ERROR: Self = Self(-32700);
    pub const INVALID_REQUEST: Self = Self(-32600);
    pub const METHOD_NOT_FOUND: Self = Self(-32601);
    pub const INVALID_PARAMS: Self = Self(-32602);
    pub const INTERNAL_ERROR: Self = Self(-32603);
    /// 2025-11-25: no such resource (the modern era uses -32602).
    pub const RESOURCE_NOT_FOUND: Self = Self(-32002);
    /// 2026-07-28: an HTTP routing header is missing or disagrees with the body (HTTP 400).
    pub const HEADER_MISMATCH: Self = Self(-32020);
    /// 2026-07-28: the request needs a client capability its `_meta` did not declare (HTTP 400).
    pub const MISSING_CLIENT_CAPABILITY: Self = Self(-32021);
    /// 2026-07-28: the request's protocol version is not one Tally speaks (HTTP 400);
    /// `data: {supported, requested}`.
    pub const UNSUPPORTED_PROTOCOL_VERSION: Self = Self(-32022);
    /// Over the rate limit: retry after `data.retry_after_ms`.
    pub const RATE_LIMITED: Self = Self(-32010);
    /// The queue in front of the concurrency limit is full: retry after `data.retry_after_ms`.
    pub const OVERLOADED: Self = Self(-32011);
    /// The call did not finish within the request timeout (queueing included).
    pub const TIMEOUT: Self = Self(-32012);
    /// A dependency (the database) is unavailable or exhausted: retry after `data.retry_after_ms`.
    pub const UNAVAILABLE: Self = Self(-32013);
    /// No valid access token (HTTP 401): missing, unknown, revoked or expired. Not retryable
    /// with the same token.
    pub const UNAUTHORIZED: Self = Self(-32001);
    /// The token is valid but its role does not cover the tool (HTTP 403); `data.required_role`
    /// names the role needed.
    pub const FORBIDDEN: Self = Self(-32003);
}

/// When to retry after the database was unreachable.
pub const UNAVAILABLE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// A JSON-RPC error object: `{code, message, data?}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorData {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorData {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn method_not_found(method: &str) -> Self {
        Self::new(ErrorCode::METHOD_NOT_FOUND, format!("Method not found: {method}"))
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_PARAMS, message)
    }

    /// The database could not be reached: retry after a second.
    pub fn unavailable() -> Self {
        Self::retryable(
            RetryReason::Unavailable,
            "The database is unavailable right now. Wait retry_after_ms, then send the same request again.",
            UNAVAILABLE_RETRY,
            Value::Null,
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INTERNAL_ERROR, message)
    }
}

/// Why a call was turned away; each reason tells the agent to come back later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    RateLimited,
    Overloaded,
    Timeout,
    Unavailable,
}

impl RetryReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::Overloaded => "overloaded",
            Self::Timeout => "timeout",
            Self::Unavailable => "unavailable",
        }
    }

    pub fn code(self) -> ErrorCode {
        match self {
            Self::RateLimited => ErrorCode::RATE_LIMITED,
            Self::Overloaded => ErrorCode::OVERLOADED,
            Self::Timeout => ErrorCode::TIMEOUT,
            Self::Unavailable => ErrorCode::UNAVAILABLE,
        }
    }
}

impl RetryReason {
    /// The reason behind one of the retryable codes.
    pub fn of(code: ErrorCode) -> Option<Self> {
        [Self::RateLimited, Self::Overloaded, Self::Timeout, Self::Unavailable].into_iter().find(|r| r.code() == code)
    }
}

impl ErrorData {
    /// What a call answered with this error ended in, for logs: the refusal's reason, or
    /// `error <code>`.
    pub fn outcome(&self) -> std::borrow::Cow<'static, str> {
        match RetryReason::of(self.code) {
            Some(reason) => reason.as_str().into(),
            None => format!("error {}", self.code.0).into(),
        }
    }

    /// A retryable error: `data` says so, why, when to come back and which limit was hit.
    pub fn retryable(
        reason: RetryReason,
        message: impl Into<String>,
        retry_after: std::time::Duration,
        limit: Value,
    ) -> Self {
        let retry_after_ms = u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX).max(1);
        Self::new(reason.code(), message).with_data(serde_json::json!({
            "retryable": true,
            "retry_after_ms": retry_after_ms,
            "reason": reason.as_str(),
            "limit": limit,
        }))
    }
}

/// The `WWW-Authenticate` challenge of a 403 (MCP authorization, RFC 6750): the role needed, as
/// the scope.
pub fn insufficient_role_challenge(needed: crate::domain::access::Role) -> String {
    format!(r#"Bearer realm="tally", error="insufficient_scope", scope="{needed}""#)
}
