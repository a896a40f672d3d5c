//! The rate limits are budgets for the whole deployment: replicas on one database, hammered
//! together far above the limit, admit the configured rate between them (within 10 %), not
//! that rate each; a replica that stops or dies gives its share back to the others within
//! seconds. Each replica here is its own `App` (its own limiter and heartbeat) on its own pool
//! to the test's database; the killed one is the real binary, SIGKILLed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{PROTOCOL, TestApp, database_url, pool, server_login, spawn_app_with};
use crate::processes::Server;

/// Configured calls per second for the whole deployment.
const LIMIT: f64 = 100.0;
/// Callers per replica, each sending pings back to back: thousands a second in all.
const CALLERS: usize = 8;
/// Heartbeat and liveness as deployed (the defaults), spelled out so the test says them.
const CLUSTER: [&str; 4] = ["--limit-heartbeat", "500ms", "--limit-liveness", "2s"];

/// A refusal as it was answered: its Retry-After header and body.
type Refusal = Option<(Option<String>, Value)>;

/// Callers hammering some replicas with pings, recording when each admitted call came back.
struct Hammer {
    admitted: Arc<Mutex<Vec<(usize, Instant)>>>,
    refused: Arc<AtomicUsize>,
    /// One switch per replica: its callers stop when it is set.
    stops: Vec<Arc<AtomicBool>>,
    /// One 429 as it was answered, to check its shape.
    sample_refusal: Arc<Mutex<Refusal>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Hammer {
    fn start(urls: &[String], session: &str) -> Self {
        let admitted = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(AtomicUsize::new(0));
        let sample_refusal = Arc::new(Mutex::new(None));
        let stops: Vec<_> = urls.iter().map(|_| Arc::new(AtomicBool::new(false))).collect();
        let mut tasks = Vec::new();
        for (target, url) in urls.iter().enumerate() {
            for caller in 0..CALLERS {
                let (url, session, stop) = (url.clone(), session.to_owned(), stops[target].clone());
                let (admitted, refused, sample) = (admitted.clone(), refused.clone(), sample_refusal.clone());
                tasks.push(tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let ping = json!({"jsonrpc": "2.0", "id": caller, "method": "ping"});
                    while !stop.load(Ordering::Relaxed) {
                        let sent = client
                            .post(&url)
                            .header("content-type", "application/json")
                            .header("accept", "application/json, text/event-stream")
                            .header("mcp-protocol-version", PROTOCOL)
                            .header("mcp-session-id", &session)
                            .json(&ping)
                            .send()
                            .await;
                        let Ok(res) = sent else {
                            // The replica is gone (killed): its callers are done.
                            return;
                        };
                        match res.status() {
                            StatusCode::OK => admitted.lock().unwrap().push((target, Instant::now())),
                            StatusCode::TOO_MANY_REQUESTS => {
                                refused.fetch_add(1, Ordering::Relaxed);
                                let header = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
                                let body: Value = res.json().await.unwrap();
                                sample.lock().unwrap().get_or_insert((header, body));
                            }
                            // Draining after its callers were told to stop: they are done.
                            _ if stop.load(Ordering::Relaxed) => return,
                            other => panic!("a ping answered {other}: {:?}", res.text().await),
                        }
                    }
                }));
            }
        }
        Self { admitted, refused, stops, sample_refusal, tasks }
    }

    /// Calls admitted by `replicas` that came back within `[from, to)`, per second.
    fn rate(&self, replicas: &[usize], from: Instant, to: Instant) -> f64 {
        let admitted = self.admitted.lock().unwrap();
        let n = admitted.iter().filter(|(r, at)| replicas.contains(r) && *at >= from && *at < to).count();
        n as f64 / (to - from).as_secs_f64()
    }

    /// Hammers on for `warm` (bursts spent, shares settled), then measures `replicas` for `window`;
    /// returns the rate and the window.
    async fn measure(&self, replicas: &[usize], warm: Duration, window: Duration) -> (f64, Instant, Instant) {
        tokio::time::sleep(warm).await;
        let from = Instant::now();
        tokio::time::sleep(window).await;
        let to = Instant::now();
        (self.rate(replicas, from, to), from, to)
    }

    fn stop_hammering(&self, replica: usize) {
        self.stops[replica].store(true, Ordering::Relaxed);
    }

    async fn finish(self) -> usize {
        for stop in &self.stops {
            stop.store(true, Ordering::Relaxed);
        }
        for task in self.tasks {
            task.await.unwrap();
        }
        self.refused.load(Ordering::Relaxed)
    }

    /// How long after `since` `replicas` were admitting 90 % of the limit again: the end of the
    /// first half-second window (stepping by 50 ms) in which they did; `None` within `within`.
    /// An upper bound: the rate may have recovered anywhere in that window.
    fn recovered_after(&self, replicas: &[usize], since: Instant, within: Duration) -> Option<Duration> {
        let (window, step) = (Duration::from_millis(500), Duration::from_millis(50));
        let mut at = since;
        while at + window <= since + within {
            if self.rate(replicas, at, at + window) >= 0.9 * LIMIT {
                return Some(at + window - since);
            }
            at += step;
        }
        None
    }
}

fn within_ten_percent(rate: f64, limit: f64) -> bool {
    (rate - limit).abs() <= 0.1 * limit
}

async fn live_replicas(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from limiter_replicas where heartbeat_at > now() - interval '2 seconds'")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Until `n` replicas are live and each has heard of all the others (a heartbeat later).
async fn settle(pool: &PgPool, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while live_replicas(pool).await != n {
        assert!(Instant::now() < deadline, "{n} replicas never registered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
}

fn flags(extra: &[&'static str]) -> Vec<&'static str> {
    CLUSTER.iter().chain(extra).copied().collect()
}

#[sqlx::test]
async fn one_two_and_three_replicas_admit_the_configured_rate_between_them(o: PgPoolOptions, c: PgConnectOptions) {
    let owner = pool(o.clone(), c.clone()).await;
    let global = flags(&["--rate-limit", "100"]);
    let first = spawn_app_with(owner.clone(), &global).await;
    let session = first.session().await;
    let mut replicas: Vec<TestApp> = vec![first];
    let mut rates = vec![];
    for n in 1..=3 {
        if n > 1 {
            // The second logs in as the server's own role, the third as the owner.
            let login = if n == 2 { server_login(&owner, &c).await } else { pool(o.clone(), c.clone()).await };
            let mut f = global.clone();
            if n == 2 {
                f.push("--skip-migrations");
            }
            replicas.push(spawn_app_with(login, &f).await);
        }
        settle(&owner, n as i64).await;
        let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
        let hammer = Hammer::start(&urls, &session);
        let all: Vec<usize> = (0..n).collect();
        let (rate, from, to) = hammer.measure(&all, Duration::from_secs(1), Duration::from_secs(2)).await;
        let each: Vec<String> = (0..n).map(|r| format!("{:.1}", hammer.rate(&[r], from, to))).collect();
        let sample = hammer.sample_refusal.lock().unwrap().clone();
        let refused = hammer.finish().await;
        eprintln!(
            "cluster limits: {n} replica(s), limit {LIMIT}/s: admitted {rate:.1}/s in all ({} each), {refused} refused",
            each.join(" + ")
        );
        assert!(within_ten_percent(rate, LIMIT), "{n} replica(s) admitted {rate:.1}/s against {LIMIT}/s");
        assert!(refused as f64 > 3.0 * rate, "hammered well above the limit: {refused} refused");
        // A refusal names the configured rate, not this replica's share of it.
        let (retry_after, body) = sample.expect("some pings were refused");
        assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1), "{body}");
        assert_eq!(body["error"]["code"], -32010);
        assert_eq!(body["error"]["data"]["limit"], json!({"scope": "global", "requests_per_second": 100}));
        rates.push(rate);
        // A moment for the limiters to fill again before the next round's burst is spent.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eprintln!(
        "cluster limits: admitted with 1/2/3 replicas: {:.1} / {:.1} / {:.1} per second",
        rates[0], rates[1], rates[2]
    );
    for replica in replicas {
        replica.stop().await;
    }
}

#[sqlx::test]
async fn a_stopped_replica_gives_its_share_back_at_once_and_a_killed_one_within_seconds(
    o: PgPoolOptions,
    c: PgConnectOptions,
) {
    let owner = pool(o.clone(), c.clone()).await;
    let global = flags(&["--rate-limit", "100"]);
    let a = spawn_app_with(owner.clone(), &global).await;
    let b = spawn_app_with(pool(o.clone(), c.clone()).await, &global).await;
    let stopped = spawn_app_with(pool(o.clone(), c.clone()).await, &global).await;
    let mut killed = Server::start(&database_url(&c), &global).await;
    settle(&owner, 4).await;
    let session = a.session().await;
    let urls = [a.url.clone(), b.url.clone(), stopped.url.clone(), killed.mcp_url()];
    let hammer = Hammer::start(&urls, &session);
    let (four, _, _) = hammer.measure(&[0, 1, 2, 3], Duration::from_secs(1), Duration::from_secs(2)).await;
    eprintln!("cluster limits: 4 replicas (one a process): admitted {four:.1}/s");
    assert!(within_ten_percent(four, LIMIT), "4 replicas admitted {four:.1}/s");

    // Stopped cleanly: it leaves the cluster, and the others take its share at their next heartbeat.
    hammer.stop_hammering(2);
    let at = Instant::now();
    stopped.stop().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let back = hammer.recovered_after(&[0, 1, 3], at, Duration::from_secs(3));
    eprintln!("cluster limits: a stopped replica's share was back in use after {back:?}");
    let back = back.expect("the survivors never got the stopped replica's share");
    assert!(back <= Duration::from_secs(2), "{back:?}");

    // SIGKILLed: no goodbye; its row ages out after the liveness window (2 s).
    killed.child.start_kill().unwrap();
    let at = Instant::now();
    killed.child.wait().await.unwrap();
    hammer.stop_hammering(3);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let back = hammer.recovered_after(&[0, 1], at, Duration::from_secs(5));
    eprintln!("cluster limits: a killed replica's share was back in use after {back:?}");
    let back = back.expect("the survivors never got the killed replica's share");
    assert!(back <= Duration::from_millis(4500), "{back:?}");
    let now = Instant::now();
    let two = hammer.rate(&[0, 1], now - Duration::from_secs(1), now);
    eprintln!("cluster limits: the 2 survivors admit {two:.1}/s");
    assert!(within_ten_percent(two, LIMIT), "the survivors admit {two:.1}/s");
    hammer.finish().await;
    a.stop().await;
    b.stop().await;
}

#[sqlx::test]
async fn a_tenants_rate_is_shared_by_two_replicas(o: PgPoolOptions, c: PgConnectOptions) {
    const TENANT_LIMIT: f64 = 40.0;
    let owner = pool(o.clone(), c.clone()).await;
    // The global budget is far above the tenant's, so only the tenant's binds.
    let tenant = flags(&["--rate-limit", "100000", "--tenant-rate-limit", "40"]);
    let a = spawn_app_with(owner.clone(), &tenant).await;
    let b = spawn_app_with(pool(o, c).await, &tenant).await;
    settle(&owner, 2).await;
    let session = a.session().await;
    let hammer = Hammer::start(&[a.url.clone(), b.url.clone()], &session);
    let (both, _, _) = hammer.measure(&[0, 1], Duration::from_secs(1), Duration::from_secs(3)).await;
    let sample = hammer.sample_refusal.lock().unwrap().clone();
    eprintln!("cluster limits: one tenant at {TENANT_LIMIT}/s on 2 replicas: admitted {both:.1}/s");
    assert!(within_ten_percent(both, TENANT_LIMIT), "the tenant was admitted {both:.1}/s on two replicas");
    let (_, body) = sample.expect("some pings were refused");
    assert_eq!(
        body["error"]["data"]["limit"],
        json!({"scope": "tenant", "tenant_id": "default", "requests_per_second": 40})
    );

    // The tenant's agent now talks to one replica only: that one gets nearly the whole rate.
    hammer.stop_hammering(1);
    let (one, _, _) = hammer.measure(&[0, 1], Duration::from_secs(2), Duration::from_secs(2)).await;
    eprintln!("cluster limits: the same tenant on 1 of the 2 replicas: admitted {one:.1}/s");
    assert!(within_ten_percent(one, TENANT_LIMIT), "on one replica the tenant was admitted {one:.1}/s");
    hammer.finish().await;
    a.stop().await;
    b.stop().await;
}
