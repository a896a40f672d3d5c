//! The bounded queue in front of the concurrency limit. A call is admitted while fewer than
//! `concurrency + queue` calls are outstanding; past that it is rejected at once (503), so
//! that a burst waits in a queue of known size instead of piling up without bound. The refusal
//! says to come back when the queue will have drained, as [`DrainRate`] estimates it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::future::{Either, Ready, ready};
use pin_project_lite::pin_project;
use tower::{BoxError, Layer, Service};

use super::drain::DrainRate;
use super::rejection::Rejection;

#[derive(Clone)]
pub struct AdmissionLayer {
    outstanding: Arc<AtomicUsize>,
    concurrency: usize,
    queue: usize,
    drain: Arc<DrainRate>,
}

impl AdmissionLayer {
    /// `drain` must be fed by a [`DrainTimerLayer`](super::drain::DrainTimerLayer) inside the
    /// concurrency limit this queue is in front of.
    pub fn new(concurrency: usize, queue: usize, drain: Arc<DrainRate>) -> Self {
        Self { outstanding: Arc::new(AtomicUsize::new(0)), concurrency, queue, drain }
    }
}

impl<S> Layer<S> for AdmissionLayer {
    type Service = Admission<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Admission { inner, layer: self.clone() }
    }
}

#[derive(Clone)]
pub struct Admission<S> {
    inner: S,
    layer: AdmissionLayer,
}

/// Counts a call as outstanding until its future is done or dropped.
struct Ticket(AdmissionLayer);

impl Ticket {
    fn publish(layer: &AdmissionLayer, outstanding: usize) {
        metrics::gauge!("tally_queue_depth").set(outstanding.saturating_sub(layer.concurrency) as f64);
        metrics::gauge!("tally_requests_in_flight").set(outstanding.min(layer.concurrency) as f64);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let now = self.0.outstanding.fetch_sub(1, Ordering::AcqRel) - 1;
        Self::publish(&self.0, now);
    }
}

pin_project! {
    pub struct Admitted<F> {
        #[pin]
        inner: F,
        ticket: Ticket,
    }
}

impl<F: Future> Future for Admitted<F> {
    type Output = F::Output;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

impl<S, R> Service<R> for Admission<S>
where
    S: Service<R, Error = BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Either<Admitted<S::Future>, Ready<Result<S::Response, BoxError>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let layer = &self.layer;
        let now = layer.outstanding.fetch_add(1, Ordering::AcqRel) + 1;
        let ticket = Ticket(layer.clone());
        if now > layer.concurrency + layer.queue {
            drop(ticket);
            metrics::counter!("tally_rejections_total", "reason" => "overloaded").increment(1);
            // Every call queued ahead must start before this one could: the whole queue.
            let wait = layer.drain.retry_after(layer.queue, Instant::now());
            return Either::Right(ready(Err(Rejection::overloaded(wait, layer.concurrency, layer.queue).into())));
        }
        Ticket::publish(layer, now);
        Either::Left(Admitted { inner: self.inner.call(req), ticket })
    }
}
