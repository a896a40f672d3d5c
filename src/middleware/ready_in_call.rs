//! Moves the wait for readiness from `poll_ready` into the call's future.
//!
//! tower's `Timeout` starts its clock in `call`, so time spent waiting in an inner
//! `poll_ready` (the concurrency limit's queue) is not timed. Behind this adapter the wait
//! happens inside the future `Timeout` is timing: the deadline counts from arrival.

use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use tower::{BoxError, Layer, Service, ServiceExt};

#[derive(Clone, Copy, Default)]
pub struct ReadyInCallLayer;

impl<S> Layer<S> for ReadyInCallLayer {
    type Service = ReadyInCall<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReadyInCall { inner }
    }
}

#[derive(Clone)]
pub struct ReadyInCall<S> {
    inner: S,
}

impl<S, R> Service<R> for ReadyInCall<S>
where
    S: Service<R, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: R) -> Self::Future {
        // A fresh clone holds no reserved capacity; `oneshot` waits for readiness, then calls.
        Box::pin(self.inner.clone().oneshot(req))
    }
}
