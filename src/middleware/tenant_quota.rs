//! Per-tenant quotas, outermost in the stack: a tenant over its own rate or concurrency is
//! refused before it takes any of the global budget, so one tenant's burst cannot starve
//! another. Each tenant's quota is its override in `tenants` (carried by the principal) or the
//! deployment's default (`--tenant-rate-limit`, `--tenant-concurrency-limit`); with neither,
//! the tenant is bounded by the global limits alone.
//!
//! A tenant's rate, like the global one, is a budget for the whole deployment: this replica
//! enforces its share of it (see [`shares`](super::shares)). Its concurrency is per replica:
//! it bounds the calls this process runs at once.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::Semaphore;
use tower::{BoxError, Layer, Service};

use super::rejection::Rejection;
use super::shares::{Budget, RateShares};
use crate::mcp::{McpReply, McpRequest};

/// When a tenant at its concurrency quota should come back: about one short call later.
const CONCURRENCY_RETRY: Duration = Duration::from_millis(100);

/// The deployment's default quota per tenant.
#[derive(Debug, Clone, Copy, Default)]
pub struct TenantDefaults {
    pub rate_per_second: Option<NonZeroU32>,
    pub concurrency: Option<usize>,
}

/// A tenant's concurrency quota and the semaphore enforcing it.
type Slots = (usize, Arc<Semaphore>);

/// What a tenant's call is checked against.
struct Limiters {
    rate: Option<Arc<Budget>>,
    concurrency: Option<Slots>,
}

#[derive(Clone)]
pub struct TenantQuotaLayer {
    defaults: TenantDefaults,
    rates: RateShares,
    concurrency: Arc<Mutex<HashMap<String, Slots>>>,
}

impl TenantQuotaLayer {
    pub fn new(defaults: TenantDefaults, rates: RateShares) -> Self {
        Self { defaults, rates, concurrency: Arc::default() }
    }

    /// The tenant's rate budget and concurrency semaphore for the quota in force (the
    /// semaphore rebuilt when the quota changed).
    fn limiters(&self, tenant: &str, quota: crate::domain::Quota) -> Limiters {
        let rate = quota.rate_per_second.and_then(NonZeroU32::new).or(self.defaults.rate_per_second);
        let concurrency = quota.concurrency.map(|n| n.max(1) as usize).or(self.defaults.concurrency);
        let rate = rate.map(|n| self.rates.tenant(tenant, n));
        let concurrency = concurrency.map(|n| {
            let mut tenants = self.concurrency.lock().expect("quota map");
            let entry = tenants.entry(tenant.to_owned()).or_insert_with(|| (n, Arc::new(Semaphore::new(n))));
            if entry.0 != n {
                *entry = (n, Arc::new(Semaphore::new(n)));
            }
            entry.clone()
        });
        Limiters { rate, concurrency }
    }
}

impl<S> Layer<S> for TenantQuotaLayer {
    type Service = TenantQuota<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TenantQuota { inner, layer: self.clone() }
    }
}

#[derive(Clone)]
pub struct TenantQuota<S> {
    inner: S,
    layer: TenantQuotaLayer,
}

impl<S> Service<McpRequest> for TenantQuota<S>
where
    S: Service<McpRequest, Response = McpReply, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = McpReply;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<McpReply, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: McpRequest) -> Self::Future {
        let tenant = req.principal.tenant_id.clone();
        let Limiters { rate, concurrency } = self.layer.limiters(&tenant, req.principal.quota);
        if let Some(budget) = rate
            && let Err(wait) = budget.check()
        {
            metrics::counter!("tally_rejections_total", "reason" => "tenant_rate_limited").increment(1);
            let refusal = Rejection::tenant_rate_limited(wait, budget.limit(), &tenant);
            return Box::pin(async move { Err(refusal.into()) });
        }
        let permit = match concurrency {
            Some((n, semaphore)) => match semaphore.try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    metrics::counter!("tally_rejections_total", "reason" => "tenant_overloaded").increment(1);
                    let refusal = Rejection::tenant_overloaded(CONCURRENCY_RETRY, n, &tenant);
                    return Box::pin(async move { Err(refusal.into()) });
                }
            },
            None => None,
        };
        let call = self.inner.call(req);
        Box::pin(async move {
            let reply = call.await;
            drop(permit);
            reply
        })
    }
}
