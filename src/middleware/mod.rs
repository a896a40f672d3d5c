//! The limits every MCP call passes, over HTTP and stdio alike. Built once and cloned per
//! connection, so that every limit is global to the process; the rates are further shared
//! with the other replicas, as budgets for the whole deployment (see [`shares`]).
//!
//! Order, outermost first, and why:
//! 0. tenant quota: the caller's tenant over its own rate or concurrency is refused before it
//!    takes any of the global budget (see [`tenant_quota`]);
//! 1. rate limit: the cheapest refusal, decided at arrival; over the rate is a 429 at once.
//! 2. admission: the bounded queue; when concurrency + queue calls are outstanding, a 503 at once,
//!    saying to come back when the queue will have drained ([`drain`]).
//! 3. timeout: its clock starts here, at arrival, so time spent queued counts.
//! 4. ready-in-call: moves the wait for a concurrency permit inside the timed future.
//! 5. concurrency limit: at most N calls run; the rest wait (bounded by 2.) for a permit.
//! 6. drain timer: how long each call holds its slot, which is how fast the queue drains.

mod admission;
pub mod drain;
pub mod edge;
mod gcra;
mod rate_limit;
mod ready_in_call;
mod rejection;
pub mod shares;
pub mod tenant_quota;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::timeout::TimeoutLayer;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, ServiceBuilder};

use crate::mcp::{McpReply, McpRequest, McpService};

pub use admission::AdmissionLayer;
pub use rate_limit::RateLimitLayer;
pub use ready_in_call::ReadyInCallLayer;
pub use rejection::Rejection;
pub use shares::{ClusterSettings, Heartbeat, RateShares};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub concurrency: usize,
    pub queue: usize,
    pub rate_per_second: NonZeroU32,
    pub timeout: Duration,
    pub tenant: tenant_quota::TenantDefaults,
}

/// The MCP handler inside its limits.
pub type McpStack = BoxCloneSyncService<McpRequest, McpReply, BoxError>;

/// The stack, its rates enforced as this replica's part of `shares` (whose global budget is
/// `limits.rate_per_second`).
pub fn mcp_stack(limits: Limits, shares: &RateShares, service: McpService) -> McpStack {
    let permits = Arc::new(Semaphore::new(limits.concurrency));
    let drain = Arc::new(drain::DrainRate::new(limits.concurrency));
    let stack = ServiceBuilder::new()
        .layer(tenant_quota::TenantQuotaLayer::new(limits.tenant, shares.clone()))
        .layer(RateLimitLayer::new(shares.clone()))
        .layer(AdmissionLayer::new(limits.concurrency, limits.queue, drain.clone()))
        .layer(TimeoutLayer::new(limits.timeout))
        .layer(ReadyInCallLayer)
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(permits))
        .layer(drain::DrainTimerLayer(drain))
        .service(service);
    BoxCloneSyncService::new(stack)
}
