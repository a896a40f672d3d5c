//! A rate limit that rejects instead of queueing. tower's own `RateLimit` parks calls over the
//! rate in `poll_ready` (a hidden queue) and is not `Clone`; an agent is better served by an
//! immediate 429 saying when to come back. The limiter is GCRA (`governor`), shared by every
//! clone, so the limit is global across connections.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tower::{BoxError, Layer, Service};

use super::rejection::Rejection;

#[derive(Clone)]
pub struct RateLimitLayer {
    limiter: Arc<DefaultDirectRateLimiter>,
    per_second: u32,
}

impl RateLimitLayer {
    /// `per_second` calls a second, with bursts of up to that many.
    pub fn per_second(per_second: NonZeroU32) -> Self {
        Self { limiter: Arc::new(RateLimiter::direct(Quota::per_second(per_second))), per_second: per_second.get() }
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
        match self.layer.limiter.check() {
            Ok(()) => Either::Left(self.inner.call(req)),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                metrics::counter!("tally_rejections_total", "reason" => "rate_limited").increment(1);
                Either::Right(ready(Err(Rejection::rate_limited(wait, self.layer.per_second).into())))
            }
        }
    }
}
