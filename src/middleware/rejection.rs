//! The one error the limit layers raise: a call turned away, with when to come back.

use std::fmt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::mcp::RetryReason;

#[derive(Debug, Clone)]
pub struct Rejection {
    pub reason: RetryReason,
    pub retry_after: Duration,
    /// The limit that was hit, as the agent may want to pace itself by it.
    pub limit: Value,
    /// Whether the caller's own tenant quota was hit, rather than the deployment's limit.
    pub tenant: bool,
}

impl Rejection {
    pub fn rate_limited(retry_after: Duration, per_second: u32) -> Self {
        Self {
            reason: RetryReason::RateLimited,
            retry_after,
            limit: json!({ "scope": "global", "requests_per_second": per_second }),
            tenant: false,
        }
    }

    /// Over the tenant's own rate: `data.limit.scope` is `tenant`.
    pub fn tenant_rate_limited(retry_after: Duration, per_second: u32, tenant: &str) -> Self {
        Self {
            reason: RetryReason::RateLimited,
            retry_after,
            limit: json!({ "scope": "tenant", "tenant_id": tenant, "requests_per_second": per_second }),
            tenant: true,
        }
    }

    /// At the tenant's own concurrency quota.
    pub fn tenant_overloaded(retry_after: Duration, concurrency: usize, tenant: &str) -> Self {
        Self {
            reason: RetryReason::Overloaded,
            retry_after,
            limit: json!({ "scope": "tenant", "tenant_id": tenant, "concurrency": concurrency }),
            tenant: true,
        }
    }

    pub fn overloaded(retry_after: Duration, concurrency: usize, queue: usize) -> Self {
        Self {
            reason: RetryReason::Overloaded,
            retry_after,
            limit: json!({ "scope": "global", "concurrency": concurrency, "queue": queue }),
            tenant: false,
        }
    }

    pub fn message(&self) -> &'static str {
        match (self.reason, self.tenant) {
            (RetryReason::RateLimited, true) => {
                return "This tenant's own rate limit is exceeded (other tenants are not affected). Wait retry_after_ms, then retry with the same idempotency_key.";
            }
            (RetryReason::Overloaded, true) => {
                return "This tenant has as many calls running as its quota allows. Wait retry_after_ms, then retry with the same idempotency_key.";
            }
            _ => {}
        }
        match self.reason {
            RetryReason::RateLimited => {
                "Rate limit exceeded: too many calls per second. Wait retry_after_ms, then retry with the same idempotency_key."
            }
            RetryReason::Overloaded => {
                "Tally is at capacity and its queue is full. Wait retry_after_ms, then retry with the same idempotency_key."
            }
            RetryReason::Timeout => {
                "The call did not finish in time. It may or may not have taken effect: retry with the same idempotency_key."
            }
            RetryReason::Unavailable => {
                "A dependency is unavailable. Wait retry_after_ms, then retry with the same idempotency_key."
            }
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (retry after {:?})", self.reason.as_str(), self.retry_after)
    }
}

impl std::error::Error for Rejection {}
