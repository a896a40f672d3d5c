//! The edge: every error the limit stack can raise becomes an answer, never a dropped
//! connection. One function walks the cause chain and classifies it.

use std::error::Error;
use std::time::Duration;

use serde_json::Value;
use tower::BoxError;

use super::rejection::Rejection;
use crate::mcp::{ErrorData, ReplyStatus, RetryReason};

/// After a timeout the work may have committed; retrying soon with the same key is safe.
const RETRY_AFTER_TIMEOUT: Duration = Duration::from_secs(1);

/// How a failed call is answered: its status (HTTP maps it; stdio ignores it), `Retry-After`,
/// and the JSON-RPC error object.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: ReplyStatus,
    pub retry_after: Option<Duration>,
    pub error: ErrorData,
}

pub fn classify(err: &BoxError, timeout: Duration) -> Refusal {
    let mut cause: Option<&(dyn Error + 'static)> = Some(err.as_ref());
    while let Some(e) = cause {
        if let Some(r) = e.downcast_ref::<Rejection>() {
            let status = if r.reason == RetryReason::RateLimited {
                ReplyStatus::TooManyRequests
            } else {
                ReplyStatus::Unavailable
            };
            return Refusal {
                status,
                retry_after: Some(r.retry_after),
                error: ErrorData::retryable(r.reason, r.message(), r.retry_after, r.limit.clone()),
            };
        }
        if e.is::<tower::timeout::error::Elapsed>() {
            metrics::counter!("tally_rejections_total", "reason" => "timeout").increment(1);
            let limit = serde_json::json!({ "scope": "global", "timeout_ms": timeout.as_millis() as u64 });
            let r = Rejection { reason: RetryReason::Timeout, retry_after: RETRY_AFTER_TIMEOUT, limit, tenant: false };
            return Refusal {
                status: ReplyStatus::Unavailable,
                retry_after: Some(r.retry_after),
                error: ErrorData::retryable(r.reason, r.message(), r.retry_after, r.limit.clone()),
            };
        }
        cause = e.source();
    }
    tracing::error!(error = %err, "unclassified error at the edge");
    Refusal {
        status: ReplyStatus::Internal,
        retry_after: None,
        error: ErrorData::internal("Internal error").with_data(Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::ErrorCode;

    #[test]
    fn finds_the_cause_and_names_it() {
        let r = classify(&Rejection::rate_limited(Duration::from_millis(200), 5).into(), Duration::from_secs(30));
        assert_eq!((r.status, r.error.code), (ReplyStatus::TooManyRequests, ErrorCode::RATE_LIMITED));
        assert_eq!(r.error.data.as_ref().unwrap()["retry_after_ms"], 200);
        let r = classify(&BoxError::from(tower::timeout::error::Elapsed::new()), Duration::from_secs(30));
        assert_eq!((r.status, r.error.code), (ReplyStatus::Unavailable, ErrorCode::TIMEOUT));
        assert_eq!(r.error.data.as_ref().unwrap()["reason"], "timeout");
        let r = classify(&"boom".into(), Duration::from_secs(30));
        assert_eq!(r.status, ReplyStatus::Internal);
    }
}
