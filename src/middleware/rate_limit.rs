//! A rate limit that rejects instead of queueing. tower's own `RateLimit` parks calls over the
//! rate in `poll_ready` (a hidden queue) and is not `Clone`; an agent is better served by an
//! immediate 429 saying when to come back. The limiter is GCRA, shared by every clone, so the
//! limit is global across connections; its rate is this replica's share of the deployment's
//! (see [`shares`](super::shares)), while a refusal names the configured rate.

use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use tower::{BoxError, Layer, Service};

use super::rejection::Rejection;
use super::shares::RateShares;

#[derive(Clone)]
pub struct RateLimitLayer {
    shares: RateShares,
}

impl RateLimitLayer {
    /// The global budget of `shares`: its rate a second, with bursts of up to a second's worth.
    pub fn new(shares: RateShares) -> Self {
        Self { shares }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RejectingRateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RejectingRateLimit { inner, layer: self.clone() }
    }
}

#[derive(Clone)]
pub struct RejectingRateLimit<S> {
    inner: S,
    layer: RateLimitLayer,
}

impl<S, R> Service<R> for RejectingRateLimit<S>
where
    S: Service<R, Error = BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Either<S::Future, Ready<Result<S::Response, BoxError>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let budget = self.layer.shares.global();
        match budget.check() {
            Ok(()) => Either::Left(self.inner.call(req)),
            Err(wait) => {
                metrics::counter!("tally_rejections_total", "reason" => "rate_limited").increment(1);
                Either::Right(ready(Err(Rejection::rate_limited(wait, budget.limit()).into())))
            }
        }
    }
}
