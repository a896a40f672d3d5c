//! How long a full queue takes to drain: the `Retry-After` of an `overloaded` refusal.
//!
//! While the queue is full every concurrency slot is busy, so calls leave the queue as fast as
//! running calls finish: `concurrency / service time` a second. The service time is an EWMA of
//! the time calls hold a slot (measured inside the concurrency limit by [`DrainTimerLayer`]), so
//! it neither decays while the replica is idle nor needs a busy spell to learn from. If nothing
//! has finished for longer than that pace implies (the running calls are stuck on a lock, say),
//! the time since the last finish bounds the rate instead. The wait is the queue's depth at that
//! rate, clamped to [`MIN_WAIT`, `MAX_WAIT`]; before any call has finished it is [`UNKNOWN`].

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use tower::{Layer, Service};

pub const MIN_WAIT: Duration = Duration::from_millis(100);
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// The wait before any call has finished here.
pub const UNKNOWN: Duration = Duration::from_secs(1);
/// Weight of each finished call in the service time's EWMA.
const WEIGHT: f64 = 0.1;

#[derive(Debug)]
pub struct DrainRate {
    concurrency: usize,
    epoch: Instant,
    state: Mutex<State>,
    /// When a call last finished, in nanoseconds since `epoch` (0: never).
    last_finish: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    /// Seconds a call holds a slot, smoothed; `None` until one has finished.
    service: Option<f64>,
}

impl DrainRate {
    pub fn new(concurrency: usize) -> Self {
        Self {
            concurrency: concurrency.max(1),
            epoch: Instant::now(),
            state: Mutex::default(),
            last_finish: AtomicU64::new(0),
        }
    }

    /// A call held a slot for `took` and finished (or was dropped) at `now`.
    pub fn finished(&self, took: Duration, now: Instant) {
        let secs = took.as_secs_f64();
        {
            let mut s = self.state.lock().expect("drain state");
            s.service = Some(s.service.map_or(secs, |avg| avg + WEIGHT * (secs - avg)));
        }
        let at = now.saturating_duration_since(self.epoch).as_nanos().max(1);
        self.last_finish.fetch_max(u64::try_from(at).unwrap_or(u64::MAX), Ordering::AcqRel);
    }

    /// Calls leaving the queue per second, as estimated at `now`; `None` before any finished.
    pub fn per_second(&self, now: Instant) -> Option<f64> {
        let service = self.state.lock().expect("drain state").service?;
        let pace = self.concurrency as f64 / service.max(1e-6);
        let last = self.last_finish.load(Ordering::Acquire);
        let since = now.saturating_duration_since(self.epoch + Duration::from_nanos(last)).as_secs_f64();
        // Nothing finished for `since` seconds: the recent rate is at most about one per `since`.
        Some(if since > 1.0 / pace { pace.min(1.0 / since) } else { pace })
    }

    /// When to come back with `depth` calls queued ahead.
    pub fn retry_after(&self, depth: usize, now: Instant) -> Duration {
        match self.per_second(now) {
            None => UNKNOWN,
            Some(rate) => Duration::from_secs_f64((depth.max(1) as f64 / rate).min(MAX_WAIT.as_secs_f64()))
                .clamp(MIN_WAIT, MAX_WAIT),
        }
    }
}

/// Times each call from the moment it holds a concurrency slot until it finishes or is
/// dropped. Goes inside the concurrency limit.
#[derive(Clone)]
pub struct DrainTimerLayer(pub Arc<DrainRate>);

impl<S> Layer<S> for DrainTimerLayer {
    type Service = DrainTimer<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DrainTimer { inner, drain: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct DrainTimer<S> {
    inner: S,
    drain: Arc<DrainRate>,
}

struct Held {
    drain: Arc<DrainRate>,
    since: Instant,
}

impl Drop for Held {
    fn drop(&mut self) {
        let now = Instant::now();
        self.drain.finished(now - self.since, now);
    }
}

pin_project! {
    pub struct Timed<F> {
        #[pin]
        inner: F,
        held: Held,
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

impl<S: Service<R>, R> Service<R> for DrainTimer<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = Timed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let held = Held { drain: self.drain.clone(), since: Instant::now() };
        Timed { inner: self.inner.call(req), held }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn unknown_until_a_call_has_finished() {
        let d = DrainRate::new(4);
        assert_eq!(d.per_second(Instant::now()), None);
        assert_eq!(d.retry_after(100, Instant::now()), UNKNOWN);
    }

    #[test]
    fn the_wait_is_the_depth_at_the_drain_rate() {
        // 8 slots, 40 ms a call: 200 calls a second leave the queue; 100 queued drain in 500 ms.
        let d = DrainRate::new(8);
        let t = d.epoch + Duration::from_secs(10);
        for i in 0..50 {
            d.finished(40 * MS, t + i * MS / 10);
        }
        let now = t + 5 * MS;
        assert!((d.per_second(now).unwrap() - 200.0).abs() < 1e-6);
        assert_eq!(d.retry_after(100, now).as_millis(), 500);
        // Twice the depth, twice the wait; slower calls, longer still.
        assert_eq!(d.retry_after(200, now).as_millis(), 1000);
        for i in 0..200 {
            d.finished(400 * MS, t + i * MS / 10);
        }
        let wait = d.retry_after(100, t + 21 * MS);
        assert!((4900..=5000).contains(&wait.as_millis()), "{wait:?}");
    }

    #[test]
    fn the_wait_is_clamped() {
        let d = DrainRate::new(64);
        let t = d.epoch + Duration::from_secs(1);
        d.finished(MS, t);
        assert_eq!(d.retry_after(10, t), MIN_WAIT, "fast calls: no less than 100 ms");
        let d = DrainRate::new(1);
        d.finished(Duration::from_secs(20), t);
        assert_eq!(d.retry_after(512, t), MAX_WAIT, "slow calls: no more than 30 s");
    }

    #[test]
    fn the_ewma_follows_recent_calls() {
        let d = DrainRate::new(1);
        let t = d.epoch + Duration::from_secs(1);
        d.finished(100 * MS, t);
        d.finished(200 * MS, t);
        // 100 + 0.1 × (200 − 100) = 110 ms a call.
        assert!((d.per_second(t).unwrap() - 1.0 / 0.110).abs() < 1e-6);
    }

    #[test]
    fn a_stall_lengthens_the_wait() {
        // 4 slots, 10 ms a call: 400 a second, but nothing has finished for 2 s.
        let d = DrainRate::new(4);
        let t = d.epoch + Duration::from_secs(1);
        d.finished(10 * MS, t);
        assert_eq!(d.retry_after(8, t), MIN_WAIT);
        let stuck = t + Duration::from_secs(2);
        assert!((d.per_second(stuck).unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(d.retry_after(8, stuck), Duration::from_secs(16));
    }
}
