//! A GCRA rate limiter whose rate can be changed while it runs, keeping its state.
//!
//! The cluster-wide limits (see [`shares`](super::shares)) retune every replica's part of a
//! budget about twice a second. `governor`'s quotas are fixed per limiter, and a limiter built
//! afresh starts with a full burst: rebuilding one on every retune would hand each replica a
//! second's worth of calls twice a second. Here the theoretical arrival time (the GCRA's whole
//! state) stays where it is and only the emission interval changes, so a retune changes the
//! pace from now on and never refills the bucket.
//!
//! Bursts are a second's worth of the rate, as `governor`'s `Quota::per_second` allows: the
//! tolerance is one second less one interval (below one call a second, a single call).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How far ahead of the pace calls may run: one second's worth of them.
const BURST_WINDOW: u64 = 1_000_000_000;

#[derive(Debug)]
pub struct Gcra {
    epoch: Instant,
    /// The theoretical arrival time of the next call, in nanoseconds since `epoch`.
    tat: AtomicU64,
    /// Nanoseconds between calls at the current rate.
    interval: AtomicU64,
}

impl Gcra {
    pub fn new(per_second: f64) -> Self {
        Self { epoch: Instant::now(), tat: AtomicU64::new(0), interval: AtomicU64::new(interval(per_second)) }
    }

    /// Changes the rate from now on; calls already admitted stay counted.
    pub fn set_rate(&self, per_second: f64) {
        self.interval.store(interval(per_second), Ordering::Release);
    }

    /// The rate in force, in calls per second.
    pub fn rate(&self) -> f64 {
        1e9 / self.interval.load(Ordering::Acquire) as f64
    }

    /// Admits one call at `now`, or says how long until one would be admitted.
    pub fn check(&self, now: Instant) -> Result<(), Duration> {
        let t0 = u64::try_from(now.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX);
        let mut tat = self.tat.load(Ordering::Acquire);
        loop {
            let t = self.interval.load(Ordering::Acquire);
            let tolerance = BURST_WINDOW.saturating_sub(t);
            let from = tat.max(t0);
            let earliest = from.saturating_sub(tolerance);
            if t0 < earliest {
                return Err(Duration::from_nanos(earliest - t0));
            }
            match self.tat.compare_exchange_weak(tat, from + t, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(()),
                Err(current) => tat = current,
            }
        }
    }
}

/// The emission interval of `per_second` (at least 1 ns, at most a day).
fn interval(per_second: f64) -> u64 {
    let per_second = if per_second.is_finite() { per_second.max(1.0 / 86_400.0) } else { 1e9 };
    ((1e9 / per_second) as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(gcra: &Gcra, at: Instant) -> bool {
        gcra.check(at).is_ok()
    }

    #[test]
    fn a_burst_of_a_second_then_the_rate() {
        let g = Gcra::new(10.0);
        let t0 = g.epoch + Duration::from_secs(5);
        let burst = (0..100).filter(|_| admitted(&g, t0)).count();
        assert_eq!(burst, 10, "a second's worth at once");
        let wait = g.check(t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        // Then one every 100 ms, no more.
        let later: usize =
            (1..=20).map(|i| (0..5).filter(|_| admitted(&g, t0 + i * Duration::from_millis(100))).count()).sum();
        assert_eq!(later, 20);
    }

    #[test]
    fn a_slow_rate_admits_one_call_at_a_time() {
        let g = Gcra::new(0.5);
        let t0 = g.epoch + Duration::from_secs(1);
        assert!(admitted(&g, t0));
        assert_eq!(g.check(t0).unwrap_err(), Duration::from_secs(2));
        assert!(admitted(&g, t0 + Duration::from_secs(2)));
    }

    #[test]
    fn a_retune_changes_the_pace_but_never_refills_the_bucket() {
        let g = Gcra::new(100.0);
        let t0 = g.epoch + Duration::from_secs(1);
        assert_eq!((0..1000).filter(|_| admitted(&g, t0)).count(), 100);
        // Halved, then doubled back: no fresh burst either way.
        g.set_rate(50.0);
        assert!(!admitted(&g, t0));
        g.set_rate(100.0);
        assert!(!admitted(&g, t0));
        // Over the next second, the new rate only.
        g.set_rate(40.0);
        let mut n = 0;
        for ms in 1..=1000 {
            n += (0..3).filter(|_| admitted(&g, t0 + Duration::from_millis(ms))).count();
        }
        assert!((39..=41).contains(&n), "{n} admitted at 40/s");
        assert!((g.rate() - 40.0).abs() < 1e-6);
    }

    #[test]
    fn an_idle_limiter_has_its_burst_again() {
        let g = Gcra::new(20.0);
        let t0 = g.epoch;
        assert_eq!((0..100).filter(|_| admitted(&g, t0)).count(), 20);
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!((0..100).filter(|_| admitted(&g, t1)).count(), 20);
    }
}
