//! Cluster-wide rate limits: the global rate (`TALLY_RATE_LIMIT`) and each tenant's rate are
//! budgets for the whole deployment, however many replicas serve it. Each replica enforces its
//! own share of every budget in memory (a [`Gcra`] per budget), so no call waits on Postgres;
//! the shares are agreed through Postgres, off the call path.
//!
//! **Heartbeat.** Every replica runs [`Heartbeat`]: every `TALLY_LIMIT_HEARTBEAT` (500 ms) one
//! statement (`limiter_heartbeat`, migration `…_cluster_limits`) stamps its row in
//! `limiter_replicas` with its demand (calls per second arriving at its global limit and at each
//! tenant's) and returns every replica heard from within `TALLY_LIMIT_LIVENESS` (2 s).
//!
//! **Split.** From those rows every replica computes the same split of each budget ([`allocate`])
//! and retunes its limiter to its own part:
//! - each live replica is first given a floor, [`FLOOR`] of the budget divided among them, so a
//!   replica that just started getting calls admits some before its demand is known;
//! - the rest is shared max-min fairly by demand (plus [`HEADROOM`]): a replica that needs less
//!   than an equal part gets what it needs, and the others share what it leaves. Under even load
//!   that is an equal split; a tenant whose agent talks to one replica gets nearly all of its
//!   rate there;
//! - what no replica wants is spread equally, so the parts always add up to the budget exactly.
//!
//! **Changes.** A replica that joins is counted from its first heartbeat. One that stops
//! cleanly deletes its row (`limiter_leave`), so the others take its share at their next
//! heartbeat; one that dies is dropped when its row is older than the liveness window. Either
//! way the survivors are back at the full budget within a heartbeat (clean) or the window plus
//! a heartbeat (killed).
//!
//! **Postgres unreachable.** A replica that cannot heartbeat keeps the last shares it computed:
//! it never grows them on its own. If every replica loses Postgres, their parts still add up to
//! the budget. If only this one does, the others stop counting it after the window and take the
//! whole budget, so the deployment may admit up to this replica's share more than the budget,
//! but this replica's calls cannot reach Postgres either, and the budget is there to protect it.
//!
//! stdio serves one client and keeps a purely local limit (a [`RateShares`] without a heartbeat).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::types::Json;
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::gcra::Gcra;

/// Part of each budget set aside as a floor, split equally among the live replicas.
pub const FLOOR: f64 = 0.05;

/// Extra over a replica's measured demand that the split gives it, for calls to grow into
/// before the next heartbeat notices.
pub const HEADROOM: f64 = 0.25;

/// How quickly a fall in demand is believed (a rise is believed at once).
const DEMAND_DECAY: Duration = Duration::from_millis(500);

/// Demand below this (calls per second) is reported as none.
const NEGLIGIBLE: f64 = 0.01;

/// A tenant's limiter unused this long is dropped (its bucket has long been full again).
const IDLE_TENANT: Duration = Duration::from_secs(60);

/// How long one heartbeat may take before it counts as failed.
const BEAT_TIMEOUT: Duration = Duration::from_secs(2);

/// How often, and after how long without a heartbeat a replica stops being counted.
#[derive(Debug, Clone, Copy)]
pub struct ClusterSettings {
    pub heartbeat: Duration,
    pub liveness: Duration,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self { heartbeat: Duration::from_millis(500), liveness: Duration::from_secs(2) }
    }
}

/// Splits `budget` among replicas with the given demands: a floor each, then max-min fair by
/// demand (with headroom), then what is left over equally. The parts add up to `budget`.
pub fn allocate(budget: f64, demands: &[f64]) -> Vec<f64> {
    let n = demands.len();
    if n == 0 {
        return vec![];
    }
    let floor = FLOOR * budget / n as f64;
    let mut left = budget - floor * n as f64;
    let wants: Vec<f64> = demands.iter().map(|d| (d.max(0.0) * (1.0 + HEADROOM) - floor).max(0.0)).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| wants[a].total_cmp(&wants[b]).then(a.cmp(&b)));
    let mut parts = vec![floor; n];
    for (k, &i) in order.iter().enumerate() {
        let given = wants[i].min(left / (n - k) as f64);
        parts[i] += given;
        left -= given;
    }
    for part in &mut parts {
        *part += left / n as f64;
    }
    parts
}

/// One budget as this replica holds it: the configured rate, this replica's limiter for its
/// share, and the calls that arrived (its demand).
#[derive(Debug)]
pub struct Budget {
    /// The configured rate for the whole deployment, calls per second.
    limit: AtomicU32,
    gcra: Gcra,
    /// Calls that arrived at this limit, admitted or not.
    arrivals: AtomicU64,
    demand: Mutex<Demand>,
}

#[derive(Debug, Default)]
struct Demand {
    counted: u64,
    per_second: f64,
    idle_since: Option<Instant>,
}

impl Budget {
    fn new(limit: NonZeroU32, share: f64) -> Self {
        Self {
            limit: AtomicU32::new(limit.get()),
            gcra: Gcra::new(share),
            arrivals: AtomicU64::new(0),
            demand: Mutex::default(),
        }
    }

    /// Counts one arrival and admits it, or says how long until one would be admitted.
    pub fn check(&self) -> Result<(), Duration> {
        self.arrivals.fetch_add(1, Ordering::Relaxed);
        self.gcra.check(Instant::now())
    }

    /// The configured rate (what a refusal names), not this replica's share of it.
    pub fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    /// This replica's share now, calls per second.
    pub fn share(&self) -> f64 {
        self.gcra.rate()
    }

    /// Folds the arrivals since the last heartbeat into the demand; returns it.
    fn measure(&self, elapsed: Duration, now: Instant) -> f64 {
        let count = self.arrivals.load(Ordering::Relaxed);
        let mut d = self.demand.lock().expect("demand lock");
        let arrived = count - d.counted;
        d.counted = count;
        let secs = elapsed.as_secs_f64().max(1e-3);
        // No replica can use more than the whole budget; capped, a flood's demand falls back
        // to an ordinary level as soon as the flood moves elsewhere.
        let sample = (arrived as f64 / secs).min(self.limit() as f64);
        d.per_second = if sample >= d.per_second {
            sample
        } else {
            let keep = (-secs / DEMAND_DECAY.as_secs_f64()).exp();
            sample + (d.per_second - sample) * keep
        };
        if d.per_second < NEGLIGIBLE {
            d.per_second = 0.0;
        }
        d.idle_since = if arrived > 0 { None } else { Some(d.idle_since.unwrap_or(now)) };
        d.per_second
    }

    fn idle_for(&self, now: Instant) -> Duration {
        let d = self.demand.lock().expect("demand lock");
        d.idle_since.map_or(Duration::ZERO, |since| now.saturating_duration_since(since))
    }
}

/// The replicas this one last heard from, with their demands. Always holds this replica.
#[derive(Debug, Clone)]
struct View {
    me: usize,
    replicas: Vec<Replica>,
}

#[derive(Debug, Clone)]
struct Replica {
    id: Uuid,
    demand: f64,
    tenants: HashMap<String, f64>,
}

impl View {
    fn alone(id: Uuid) -> Self {
        Self { me: 0, replicas: vec![Replica { id, demand: 0.0, tenants: HashMap::new() }] }
    }

    fn share(&self, budget: f64, demand: impl Fn(&Replica) -> f64) -> f64 {
        let demands: Vec<f64> = self.replicas.iter().map(demand).collect();
        allocate(budget, &demands)[self.me]
    }

    fn global_share(&self, budget: f64) -> f64 {
        self.share(budget, |r| r.demand)
    }

    fn tenant_share(&self, tenant: &str, budget: f64) -> f64 {
        self.share(budget, |r| r.tenants.get(tenant).copied().unwrap_or(0.0))
    }
}

/// This replica's shares of the cluster-wide rate budgets. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RateShares(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    replica: Uuid,
    global: Budget,
    tenants: Mutex<HashMap<String, Arc<Budget>>>,
    view: Mutex<View>,
}

impl RateShares {
    /// This replica's budgets, `global` calls per second and each tenant's rate. Until a
    /// [`Heartbeat`] hears from the other replicas it holds the whole of each, as if alone; a
    /// process that never runs one (stdio) keeps purely local limits.
    pub fn new(global: NonZeroU32) -> Self {
        let replica = Uuid::new_v4();
        Self(Arc::new(Shared {
            replica,
            global: Budget::new(global, global.get() as f64),
            tenants: Mutex::default(),
            view: Mutex::new(View::alone(replica)),
        }))
    }

    pub fn replica_id(&self) -> Uuid {
        self.0.replica
    }

    pub fn global(&self) -> &Budget {
        &self.0.global
    }

    /// The tenant's budget at its configured `limit`, made (at this replica's share of it, as
    /// the last heartbeat split it) on its first call and retuned when the limit changes.
    pub fn tenant(&self, tenant: &str, limit: NonZeroU32) -> Arc<Budget> {
        let mut tenants = self.0.tenants.lock().expect("tenant budgets");
        if let Some(budget) = tenants.get(tenant)
            && budget.limit() == limit.get()
        {
            return budget.clone();
        }
        let share = self.0.view.lock().expect("view").tenant_share(tenant, limit.get() as f64);
        match tenants.get(tenant) {
            Some(budget) => {
                budget.limit.store(limit.get(), Ordering::Relaxed);
                budget.gcra.set_rate(share);
                budget.clone()
            }
            None => {
                let budget = Arc::new(Budget::new(limit, share));
                tenants.insert(tenant.to_owned(), budget.clone());
                budget
            }
        }
    }

    /// How many replicas the last heartbeat counted (this one included).
    pub fn replicas(&self) -> usize {
        self.0.view.lock().expect("view").replicas.len()
    }

    /// Measures every budget's demand since the last heartbeat: the global one, and each
    /// tenant's that has any. Drops tenants idle for long.
    fn measure(&self, elapsed: Duration) -> (f64, HashMap<String, f64>) {
        let now = Instant::now();
        let global = self.0.global.measure(elapsed, now);
        let mut tenants = self.0.tenants.lock().expect("tenant budgets");
        let mut demand = HashMap::new();
        tenants.retain(|tenant, budget| {
            let d = budget.measure(elapsed, now);
            if d > 0.0 {
                demand.insert(tenant.clone(), d);
            }
            // A budget some call still holds is kept: dropping it would lose what it counted.
            budget.idle_for(now) < IDLE_TENANT || Arc::strong_count(budget) > 1
        });
        (global, demand)
    }

    /// Takes what the heartbeat heard and retunes every budget to this replica's share.
    fn apply(&self, view: View) {
        let global = view.global_share(self.0.global.limit() as f64);
        self.0.global.gcra.set_rate(global);
        for (tenant, budget) in self.0.tenants.lock().expect("tenant budgets").iter() {
            budget.gcra.set_rate(view.tenant_share(tenant, budget.limit() as f64));
        }
        metrics::gauge!("tally_rate_limit_share").set(global);
        metrics::gauge!("tally_limiter_replicas").set(view.replicas.len() as f64);
        *self.0.view.lock().expect("view") = view;
    }
}

/// A replica's row as `limiter_heartbeat` returns it: its id, global demand and tenants' demand.
type HeardFrom = (Uuid, f64, Json<HashMap<String, f64>>);

/// The task that keeps this replica's shares agreed with the others', on a connection of its
/// own (so that a pool exhausted by calls cannot make a busy replica look dead).
pub struct Heartbeat {
    shares: RateShares,
    settings: ClusterSettings,
    connect: PgConnectOptions,
    conn: Option<PgConnection>,
    last: Instant,
    failing: bool,
}

impl Heartbeat {
    pub fn new(shares: RateShares, connect: PgConnectOptions, settings: ClusterSettings) -> Self {
        let connect = connect.application_name("tally limits").disable_statement_logging();
        Self { shares, settings, connect, conn: None, last: Instant::now(), failing: false }
    }

    /// One heartbeat: report demand, hear the others, retune. On failure the shares stay as
    /// they were.
    pub async fn beat(&mut self) {
        let now = Instant::now();
        let (global, tenants) = self.shares.measure(now - self.last);
        self.last = now;
        match tokio::time::timeout(BEAT_TIMEOUT, self.exchange(global, tenants)).await {
            Ok(Ok(view)) => {
                if self.failing {
                    tracing::info!(replicas = view.replicas.len(), "cluster rate limits: heartbeat back");
                    self.failing = false;
                }
                self.shares.apply(view);
            }
            failed => {
                // The connection may be mid-statement: never reuse it.
                self.conn = None;
                if !self.failing {
                    let error = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => format!("no answer within {BEAT_TIMEOUT:?}"),
                    };
                    tracing::warn!(
                        %error,
                        share = self.shares.global().share(),
                        "cluster rate limits: cannot heartbeat; keeping this replica's last shares until Postgres answers"
                    );
                    self.failing = true;
                }
            }
        }
    }

    async fn exchange(&mut self, global: f64, tenants: HashMap<String, f64>) -> Result<View, sqlx::Error> {
        if self.conn.is_none() {
            self.conn = Some(self.connect.connect().await?);
        }
        let conn = self.conn.as_mut().expect("connected");
        let me = self.shares.replica_id();
        let rows: Vec<HeardFrom> =
            sqlx::query_as("select replica_id, demand, tenant_demand from limiter_heartbeat($1, $2, $3, $4)")
                .bind(me)
                .bind(global)
                .bind(Json(tenants))
                .bind(self.settings.liveness.as_secs_f64())
                .fetch_all(&mut *conn)
                .await?;
        let mut replicas: Vec<Replica> =
            rows.into_iter().map(|(id, demand, Json(tenants))| Replica { id, demand, tenants }).collect();
        // Every replica orders the rows the same way, so that all compute the same split.
        replicas.sort_by_key(|r| r.id);
        let me = replicas.iter().position(|r| r.id == me).ok_or(sqlx::Error::RowNotFound)?;
        Ok(View { me, replicas })
    }

    /// Heartbeats until `stop`, then leaves the cluster so the others take this share at once.
    pub async fn run(mut self, stop: CancellationToken) {
        let mut every = tokio::time::interval(self.settings.heartbeat);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = every.tick() => self.beat().await,
            }
        }
        self.leave().await;
    }

    async fn leave(&mut self) {
        let me = self.shares.replica_id();
        let left = tokio::time::timeout(BEAT_TIMEOUT, async {
            if self.conn.is_none() {
                self.conn = Some(self.connect.connect().await?);
            }
            let conn = self.conn.as_mut().expect("connected");
            sqlx::query("select limiter_leave($1)").bind(me).execute(&mut *conn).await?;
            Ok::<_, sqlx::Error>(())
        })
        .await;
        match left {
            Ok(Ok(())) => tracing::info!("cluster rate limits: left; the other replicas take this share"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cluster rate limits: could not leave; the others will after the liveness window")
            }
            Err(_) => {
                tracing::warn!("cluster rate limits: leaving timed out; the others will after the liveness window")
            }
        }
        if let Some(conn) = self.conn.take() {
            let _ = conn.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn the_parts_always_add_up_to_the_budget() {
        for demands in [
            vec![0.0],
            vec![500.0],
            vec![0.0, 0.0, 0.0],
            vec![1000.0, 1000.0],
            vec![1000.0, 10.0, 0.0],
            vec![3.0, 4.0, 5.0, 600.0, 7000.0],
            vec![1e9, 1e-9],
        ] {
            let parts = allocate(100.0, &demands);
            assert!(close(parts.iter().sum(), 100.0), "{demands:?} → {parts:?}");
            assert!(parts.iter().all(|p| *p >= FLOOR * 100.0 / demands.len() as f64 - 1e-9), "{parts:?}");
        }
    }

    #[test]
    fn even_load_is_an_even_split_and_one_replica_holds_all() {
        assert!(close(allocate(100.0, &[0.0])[0], 100.0));
        assert!(close(allocate(100.0, &[400.0])[0], 100.0));
        for parts in [allocate(100.0, &[900.0, 800.0, 1000.0]), allocate(100.0, &[0.0, 0.0, 0.0])] {
            assert!(parts.iter().all(|p| close(*p, 100.0 / 3.0)), "{parts:?}");
        }
    }

    #[test]
    fn a_replica_that_needs_little_gets_it_and_the_busy_ones_the_rest() {
        // A tenant whose agent talks to one replica gets nearly its whole rate there.
        let parts = allocate(50.0, &[200.0, 0.0, 0.0]);
        assert!(close(parts[0], 50.0 - 2.0 * FLOOR * 50.0 / 3.0), "{parts:?}");
        // A quiet replica keeps what it uses plus headroom; the busy ones split the rest evenly.
        let parts = allocate(100.0, &[8.0, 500.0, 700.0]);
        assert!(close(parts[0], 8.0 * (1.0 + HEADROOM)), "{parts:?}");
        assert!(close(parts[1], parts[2]) && close(parts[1], (100.0 - parts[0]) / 2.0), "{parts:?}");
        // Nobody needs the whole budget: each gets its need, and the rest is spread evenly.
        let parts = allocate(100.0, &[10.0, 20.0]);
        let spare = (100.0 - 12.5 - 25.0) / 2.0;
        assert!(close(parts[0], 12.5 + spare) && close(parts[1], 25.0 + spare), "{parts:?}");
    }

    #[test]
    fn demand_rises_at_once_and_falls_gently() {
        let b = Budget::new(NonZeroU32::new(100).unwrap(), 100.0);
        let now = Instant::now();
        for _ in 0..40 {
            let _ = b.check();
        }
        assert!(close(b.measure(Duration::from_millis(500), now), 80.0));
        for _ in 0..500 {
            let _ = b.check();
        }
        assert!(close(b.measure(Duration::from_millis(500), now), 100.0), "capped at the budget");
        let after_quiet = b.measure(Duration::from_millis(500), now);
        assert!(close(after_quiet, 100.0 * (-1.0f64).exp()), "{after_quiet}");
        let mut d = after_quiet;
        for _ in 0..40 {
            d = b.measure(Duration::from_millis(500), now);
        }
        assert_eq!(d, 0.0, "long quiet is no demand");
    }

    #[test]
    fn a_tenant_first_seen_takes_its_share_of_the_last_split() {
        let shares = RateShares::new(NonZeroU32::new(1000).unwrap());
        let me = shares.replica_id();
        let other = Uuid::new_v4();
        let mut replicas = vec![
            Replica { id: me, demand: 300.0, tenants: HashMap::new() },
            Replica { id: other, demand: 300.0, tenants: HashMap::from([("acme".to_owned(), 90.0)]) },
        ];
        replicas.sort_by_key(|r| r.id);
        let view = View { me: replicas.iter().position(|r| r.id == me).unwrap(), replicas };
        shares.apply(view);
        assert!(close(shares.global().share(), 500.0));
        // acme's agent talks to the other replica: this one holds the floor.
        let acme = shares.tenant("acme", NonZeroU32::new(40).unwrap());
        assert!(close(acme.share(), FLOOR * 40.0 / 2.0), "{}", acme.share());
        assert_eq!(acme.limit(), 40);
        // An unseen tenant is split evenly; a changed limit is retuned on the next call.
        assert!(close(shares.tenant("globex", NonZeroU32::new(10).unwrap()).share(), 5.0));
        assert!(close(shares.tenant("globex", NonZeroU32::new(20).unwrap()).share(), 10.0));
    }
}
