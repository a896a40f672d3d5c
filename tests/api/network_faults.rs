//! Tally and Postgres on two hosts with a misbehaving network between them.
//!
//! Postgres runs in a network namespace of its own (a throwaway cluster: pg.sh under
//! `ip netns exec`, as the postgres user), listening on its end of a point-to-point link; Tally
//! (the real binary) and the test's clients stay in the root namespace and reach Postgres only
//! across that link. Faults are applied to the link in both directions:
//!
//! - with `tc netem` on a veth pair, where the kernel has sch_netem;
//! - otherwise in userspace, with the same semantics: the link is a pair of TUN devices, one in
//!   each namespace, and a thread of this test moves every IP packet between them, delaying it or
//!   dropping it as netem would. This project's machines (CI included) run a kernel built
//!   without CONFIG_NET_SCH_NETEM that loads no modules, so there this is the path taken. Either
//!   way the kernels' TCP stacks on both sides see real latency, real loss and real silence.
//!
//! Needs root and iproute2 (ip, tc, ss); without them each test prints one SKIPPED line and passes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::process::Command;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::{mpsc, oneshot, watch};

use crate::helpers::{Attempt, call_with_retries_observed, initialize};
use crate::processes::{Cluster, Server};

/// Tally's call deadline here (TALLY_TIMEOUT): short, so that a hang shows within the test.
const TALLY_TIMEOUT: Duration = Duration::from_secs(10);
/// TALLY_DB_ACQUIRE_TIMEOUT: how long a call waits for a working connection before it is
/// answered `unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// Calls served by Postgres at once: as many as there are clients, so that latency alone makes
/// calls slow, not refused.
const POOL_SIZE: usize = 32;
const CLIENTS: usize = 32;
const KEYS: usize = 300;
/// Added to every round trip across the link (half on the way there, half on the way back).
const ADDED_RTT: Duration = Duration::from_millis(200);
const LOSS_PERCENT: u32 = 5;
const PARTITION: Duration = Duration::from_secs(5);
/// The slowest call may take TALLY_TIMEOUT plus this. Tally answers a call at its deadline at the
/// latest; the deadline counts from when Tally has read the request, so the HTTP exchange on
/// loopback, scheduling on a loaded 2-core machine and Tally's own answer add a little. Five
/// seconds covers that many times over while still telling a bounded call from a hang (a TCP
/// connection left to itself gives up only after ~15 minutes).
const SLOWEST_MARGIN: Duration = Duration::from_secs(5);
/// While Postgres is unreachable a call must be refused within this: the acquire timeout plus two
/// seconds for the same slack as above. It is well under TALLY_TIMEOUT, so a call that hangs to
/// its deadline fails it.
const FAIL_FAST: Duration = Duration::from_secs(3);
/// /readyz waits at most one second for the database (PROBE_TIMEOUT in ops.rs), plus slack.
const READYZ_FAST: Duration = Duration::from_secs(3);

// --- skipping ---------------------------------------------------------------------------------

fn skip(why: &str) {
    eprintln!("SKIPPED network_faults: needs root and iproute2 (ip, tc, ss): {why}");
}

/// Why the tests cannot run here, if they cannot.
fn missing_prerequisite() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2));
    if euid != Some("0") {
        return Some("not running as root".into());
    }
    ["ip", "tc", "ss"]
        .into_iter()
        .find(|tool| !Command::new(tool).arg("-V").output().is_ok_and(|o| o.status.success()))
        .map(|tool| format!("`{tool}` not found (Debian: apt-get install iproute2)"))
}

// --- commands ---------------------------------------------------------------------------------

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{program} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn must(program: &str, args: &[&str]) -> String {
    run(program, args).unwrap_or_else(|e| panic!("{e}"))
}

/// `ip netns exec <ns> program args…`
fn in_ns(ns: &str, program: &str, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["netns", "exec", ns, program];
    all.extend_from_slice(args);
    run("ip", &all)
}

// --- the link ---------------------------------------------------------------------------------

/// What the link does to every packet, in both directions.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    Clear,
    /// Adds this much to every round trip.
    Delay(Duration),
    /// Drops this percentage of packets.
    Loss(u32),
    /// Drops every packet.
    Partition,
}

/// A network namespace holding Postgres's host, joined to the root namespace by a link. Dropping
/// it (on panic too) removes the namespace and the link.
struct Network {
    ns: String,
    host_if: String,
    ns_if: String,
    /// Tally's end of the link, in the root namespace.
    host_ip: String,
    /// Postgres's end, in the namespace.
    pg_ip: String,
    /// The userspace link, when the kernel has no netem.
    wire: Option<Wire>,
}

impl Network {
    /// Err when the namespace cannot be made at all (no CAP_SYS_ADMIN): the tests skip. Any later
    /// failure panics.
    fn create() -> Result<Self, String> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let (pid, seq) = (std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
        let id = format!("{pid}x{seq}");
        let (host_ip, pg_ip) = free_addresses(pid, seq);
        let ns = format!("tally-nf-{id}");
        run("ip", &["netns", "add", &ns]).map_err(|e| format!("cannot create a network namespace: {e}"))?;
        // From here on Drop cleans up.
        let mut net = Self { ns, host_if: format!("nfh{id}"), ns_if: format!("nfn{id}"), host_ip, pg_ip, wire: None };
        let ns = net.ns.clone();
        in_ns(&ns, "ip", &["link", "set", "lo", "up"]).unwrap_or_else(|e| panic!("{e}"));
        let netem = in_ns(&ns, "tc", &["qdisc", "add", "dev", "lo", "root", "netem", "delay", "0ms"]).is_ok();
        let (host_if, ns_if) = (net.host_if.clone(), net.ns_if.clone());
        let (host_cidr, pg_cidr) = (format!("{}/30", net.host_ip), format!("{}/30", net.pg_ip));
        if netem {
            in_ns(&ns, "tc", &["qdisc", "del", "dev", "lo", "root"]).unwrap_or_else(|e| panic!("{e}"));
            must("ip", &["link", "add", &host_if, "type", "veth", "peer", "name", &ns_if, "netns", &ns]);
            must("ip", &["addr", "add", &host_cidr, "dev", &host_if]);
            in_ns(&ns, "ip", &["addr", "add", &pg_cidr, "dev", &ns_if]).unwrap_or_else(|e| panic!("{e}"));
        } else {
            // The devices live while the wire holds them open; the namespace one moves over.
            net.wire = Some(Wire::open(&host_if, &ns_if));
            must("ip", &["link", "set", &ns_if, "netns", &ns]);
            must("ip", &["addr", "add", &net.host_ip, "peer", &pg_cidr, "dev", &host_if]);
            in_ns(&ns, "ip", &["addr", "add", &net.pg_ip, "peer", &host_cidr, "dev", &ns_if])
                .unwrap_or_else(|e| panic!("{e}"));
        }
        must("ip", &["link", "set", &host_if, "up"]);
        in_ns(&ns, "ip", &["link", "set", &ns_if, "up"]).unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "network_faults: Postgres host {} in namespace {ns}, Tally at {}, link: {}",
            net.pg_ip,
            net.host_ip,
            if netem { "veth + tc netem" } else { "TUN pair + userspace netem (this kernel has no sch_netem)" }
        );
        Ok(net)
    }

    fn set(&self, fault: Fault) {
        if let Some(wire) = &self.wire {
            *wire.fault.lock().unwrap() = fault;
            return;
        }
        let netem = match fault {
            Fault::Clear => None,
            Fault::Delay(rtt) => Some(format!("delay {}ms", rtt.as_millis() / 2)),
            Fault::Loss(percent) => Some(format!("loss {percent}%")),
            Fault::Partition => Some("loss 100%".to_owned()),
        };
        // Egress of both ends: the root side's veth, and the namespace side's.
        for (ns, dev) in [(None, &self.host_if), (Some(&self.ns), &self.ns_if)] {
            let mut args = vec!["qdisc", if netem.is_some() { "replace" } else { "del" }, "dev", dev, "root"];
            if let Some(netem) = &netem {
                args.push("netem");
                args.extend(netem.split_whitespace());
            }
            let done = match ns {
                Some(ns) => in_ns(ns, "tc", &args),
                None => run("tc", &args),
            };
            // Deleting a qdisc that is not there is fine: the link is already clear.
            if netem.is_some() {
                done.unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }

    /// Packets the userspace link dropped so far (None under tc netem).
    fn dropped(&self) -> Option<u64> {
        self.wire.as_ref().map(|w| w.dropped.load(Ordering::Relaxed))
    }

    /// Resets one TCP connection from Postgres's side: `ss -K` destroys the server's socket for
    /// the client port given, and the kernel sends Tally an RST. Returns what ss printed of the
    /// sockets it destroyed (nothing if the kernel lacks CONFIG_INET_DIAG_DESTROY).
    fn reset_connection(&self, client_port: u16) -> String {
        let filter = format!("( sport = :5432 and dport = :{client_port} )");
        in_ns(&self.ns, "ss", &["-K", "-t", "-n", "state", "established", &filter]).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        // The wire first: closing its devices takes the link down with them.
        drop(self.wire.take());
        let _ = run("ip", &["link", "del", &self.host_if]);
        let _ = run("ip", &["netns", "del", &self.ns]);
    }
}

/// A /30 in 10.213.0.0/16 that no interface here uses yet, chosen from the pid so that parallel
/// test processes pick different ones. These addresses exist only on this machine's link.
fn free_addresses(pid: u32, seq: u32) -> (String, String) {
    let used = run("ip", &["-4", "-o", "addr", "show"]).unwrap_or_default();
    (0..256u32)
        .map(|k| (pid.wrapping_mul(8).wrapping_add(seq).wrapping_add(k.wrapping_mul(7919)) % 16384) * 4)
        .map(|base| {
            (format!("10.213.{}.{}", base >> 8, (base & 255) + 1), format!("10.213.{}.{}", base >> 8, (base & 255) + 2))
        })
        .find(|(host, pg)| {
            ![host, pg].iter().any(|a| used.contains(&format!("inet {a}/")) || used.contains(&format!("inet {a} ")))
        })
        .expect("a free /30 in 10.213.0.0/16")
}

/// The userspace link: two TUN devices and a thread that carries each IP packet from one to the
/// other, applying the current fault (delay half a round trip each way, drop at random, drop all).
struct Wire {
    fault: Arc<Mutex<Fault>>,
    dropped: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Wire {
    fn open(a: &str, b: &str) -> Self {
        let (a, b) = (open_tun(a), open_tun(b));
        let fault = Arc::new(Mutex::new(Fault::Clear));
        let dropped = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = oneshot::channel::<()>();
        let (f, d) = (fault.clone(), dropped.clone());
        // A runtime of its own, so that the link's timing does not depend on how busy the test's
        // tasks keep theirs.
        let thread = std::thread::Builder::new()
            .name("userspace-netem".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async move {
                    // SAFETY: each File owns its descriptor, open until the AsyncFd drops it.
                    let (a, b) = unsafe { (AsyncFd::register(a), AsyncFd::register(b)) };
                    let (a, b) = (a.expect("TUN device in the reactor"), b.expect("TUN device in the reactor"));
                    tokio::select! {
                        () = carry(&a, &b, &f, &d) => {}
                        () = carry(&b, &a, &f, &d) => {}
                        _ = stopped => {}
                    }
                });
            })
            .expect("a thread for the link");
        Self { fault, dropped, stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One direction of the link. Packets keep their order: each waits behind the one before it.
async fn carry(from: &AsyncFd<File>, to: &AsyncFd<File>, fault: &Mutex<Fault>, dropped: &AtomicU64) {
    let (queue, mut queued) = mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let receive = async move {
        let mut buf = vec![0u8; 65536];
        loop {
            let Ok(n) = from.async_io(Interest::READABLE, |mut f| f.read(&mut buf)).await else { return };
            let now = tokio::time::Instant::now();
            let fault = *fault.lock().unwrap();
            let due = match fault {
                Fault::Clear => now,
                Fault::Delay(rtt) => now + rtt / 2,
                Fault::Loss(percent) if rand::random::<f64>() * 100.0 >= f64::from(percent) => now,
                Fault::Loss(_) | Fault::Partition => {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            if queue.send((due, buf[..n].to_vec())).is_err() {
                return;
            }
        }
    };
    let send = async move {
        while let Some((due, packet)) = queued.recv().await {
            tokio::time::sleep_until(due).await;
            let _ = to.async_io(Interest::WRITABLE, |mut f| f.write(&packet)).await;
        }
    };
    tokio::join!(receive, send);
}

/// Creates TUN device `name` (IP packets without a header), gone when the file is closed.
fn open_tun(name: &str) -> File {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    const TUNSETIFF: libc::c_ulong = 0x4004_54ca; // _IOW('T', 202, int)
    const IFF_TUN: libc::c_short = 0x0001;
    const IFF_NO_PI: libc::c_short = 0x1000;
    #[repr(C)]
    struct IfReq {
        name: [u8; libc::IFNAMSIZ],
        flags: libc::c_short,
        _union_rest: [u8; 22],
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/net/tun")
        .expect("/dev/net/tun");
    let mut req = IfReq { name: [0; libc::IFNAMSIZ], flags: IFF_TUN | IFF_NO_PI, _union_rest: [0; 22] };
    assert!(name.len() < libc::IFNAMSIZ, "{name} is too long for an interface name");
    req.name[..name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which IfReq lays out (40 bytes).
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req) };
    assert_eq!(rc, 0, "TUNSETIFF {name}: {}", std::io::Error::last_os_error());
    file
}

// --- the lab: link, Postgres behind it, Tally in front ----------------------------------------

/// Fields drop in order: our pool, Tally (killed), Postgres (destroyed), then the network.
struct Lab {
    pool: PgPool,
    server: Server,
    cluster: Cluster,
    net: Network,
}

impl Lab {
    /// None when the tests must skip (the SKIPPED line has been printed).
    async fn start() -> Option<Self> {
        if let Some(why) = missing_prerequisite() {
            skip(&why);
            return None;
        }
        let net = match Network::create() {
            Ok(net) => net,
            Err(why) => {
                skip(&why);
                return None;
            }
        };
        let cluster = Cluster::create_in_netns(&net.ns, &net.pg_ip, &format!("{}/32", net.host_ip));
        let (timeout, acquire, pool_size) =
            (format!("{}s", TALLY_TIMEOUT.as_secs()), format!("{}s", ACQUIRE_TIMEOUT.as_secs()), POOL_SIZE.to_string());
        let server = Server::start(
            &cluster.url(),
            &["--timeout", &timeout, "--db-acquire-timeout", &acquire, "--db-pool-size", &pool_size],
        )
        .await;
        let pool =
            PgPoolOptions::new().max_connections(4).connect(&cluster.url()).await.expect("Postgres across the link");
        Some(Self { pool, server, cluster, net })
    }

    fn client() -> reqwest::Client {
        // A call that outlives Tally's own deadline by this much has hung: fail it, don't wait.
        reqwest::Client::builder().timeout(TALLY_TIMEOUT + Duration::from_secs(20)).build().unwrap()
    }

    async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Waits (polling, with a deadline) until no backend of Tally's sits inside a transaction.
    async fn no_open_transactions(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let open = self
                .scalar(
                    "select count(*) from pg_stat_activity
                      where backend_type = 'client backend' and pid <> pg_backend_pid()
                        and state like 'idle in transaction%'",
                )
                .await;
            if open == 0 {
                return;
            }
            if Instant::now() >= deadline {
                let who: Vec<(i32, Option<i32>, String, String)> = sqlx::query_as(
                    "select pid, client_port, (now() - state_change)::text, left(query, 80) from pg_stat_activity
                      where backend_type = 'client backend' and state like 'idle in transaction%'",
                )
                .fetch_all(&self.pool)
                .await
                .unwrap();
                let tally_side = run("ss", &["-tan"]).unwrap_or_default();
                let ports: Vec<String> = who.iter().filter_map(|w| w.1).map(|p| format!(":{p} ")).collect();
                let sockets: Vec<&str> =
                    tally_side.lines().filter(|l| ports.iter().any(|p| l.contains(p.as_str()))).collect();
                panic!("{open} connections stayed inside a transaction: {who:?}; Tally's side of them: {sockets:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn create(i: usize) -> Value {
    json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"create_invoice","arguments":{
        "customer_id": format!("nf_{i}"), "idempotency_key": format!("nf-{i}"),
        "line_items": [{"description": "Widget", "amount_cents": 1000},
                       {"description": "Gadget", "amount_cents": 250, "quantity": 2}]}}})
}

fn invoice_uuid(result: &Value) -> uuid::Uuid {
    assert_eq!(result["result"]["isError"], false, "{result}");
    let id = result["result"]["structuredContent"]["invoice_id"].as_str().unwrap_or_else(|| panic!("{result}"));
    uuid::Uuid::try_parse(id.trim_start_matches("inv_")).unwrap_or_else(|_| panic!("invoice id {id}"))
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d.get(d.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// One call made outside the burst (during the partition), timed.
struct Probe {
    took: Duration,
    status: StatusCode,
    reason: Option<String>,
    retry_after: bool,
}

/// Back-to-back `list_invoices` calls until `until` (none started later than FAIL_FAST before it,
/// so that each one, failing fast, ends before the partition does).
async fn probe_calls(client: &reqwest::Client, url: &str, session: &str, until: Instant) -> Vec<Probe> {
    let mut probes = vec![];
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_invoices","arguments":{}}});
    while Instant::now() + FAIL_FAST < until {
        let started = Instant::now();
        let res = client
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", crate::helpers::PROTOCOL)
            .header("mcp-session-id", session)
            .json(&list)
            .send()
            .await
            .expect("Tally answers");
        let (status, retry_after) = (res.status(), res.headers().contains_key("retry-after"));
        let body: Value = res.json().await.unwrap();
        let reason = body["error"]["data"]["reason"].as_str().map(str::to_owned);
        assert!(status == StatusCode::OK || body["error"]["data"]["retryable"] == true, "{status} {body}");
        probes.push(Probe { took: started.elapsed(), status, reason, retry_after });
    }
    probes
}

/// /readyz every 100 ms until `until`: (started, took, status).
async fn probe_readyz(client: &reqwest::Client, base: &str, until: Instant) -> Vec<(Instant, Duration, StatusCode)> {
    let mut seen = vec![];
    while Instant::now() + READYZ_FAST < until {
        let started = Instant::now();
        let status = client.get(format!("{base}/readyz")).send().await.expect("Tally answers /readyz").status();
        seen.push((started, started.elapsed(), status));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

/// Polls /readyz every 100 ms until it answers 200; returns how long that took.
async fn until_ready(client: &reqwest::Client, base: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let res = client.get(format!("{base}/readyz")).send().await.expect("Tally answers /readyz");
        if res.status() == StatusCode::OK {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "/readyz still {} after {within:?}", res.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn landed_at_least(landed: &mut watch::Receiver<usize>, n: usize, within: Duration, phase: &str) {
    let reached = tokio::time::timeout(within, landed.wait_for(|l| *l >= n)).await.is_ok();
    assert!(reached, "{phase}: only {} of {n} creates landed within {within:?}", *landed.borrow());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_burst_through_latency_loss_and_a_partition_lands_every_invoice_once() {
    let Some(mut lab) = Lab::start().await else { return };
    let client = Lab::client();
    let url = lab.server.mcp_url();
    let mut sessions = vec![];
    for _ in 0..=CLIENTS {
        sessions.push(initialize(&client, &url).await);
    }
    let probe_session = sessions.pop().unwrap();

    // Phase boundaries, to file each attempt under the phase it started in.
    let mut marks: Vec<(Instant, &str)> = vec![];
    let attempts = Arc::new(Mutex::new(Vec::<(usize, Attempt)>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let (landed_tx, mut landed) = watch::channel(0usize);
    let landed_tx = Arc::new(landed_tx);

    lab.net.set(Fault::Delay(ADDED_RTT));
    marks.push((Instant::now(), "latency"));
    let burst_started = Instant::now();
    // 32 clients, each its own task and session, take keys off one queue; each key is retried
    // (same key, after Retry-After) until it lands.
    let workers: Vec<_> = sessions
        .into_iter()
        .map(|session| {
            let (client, url, next, attempts, landed_tx) =
                (client.clone(), url.clone(), next.clone(), attempts.clone(), landed_tx.clone());
            tokio::spawn(async move {
                let mut results = vec![];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= KEYS {
                        return results;
                    }
                    let body = call_with_retries_observed(&client, &url, &session, &create(i), |a| {
                        attempts.lock().unwrap().push((i, a));
                    })
                    .await;
                    landed_tx.send_modify(|n| *n += 1);
                    results.push((i, body));
                }
            })
        })
        .collect();

    // Generous: 80 creates at ~1.6 s each (8 round trips of 200 ms), 32 at a time, take ~5 s.
    landed_at_least(&mut landed, 80, Duration::from_secs(45), "latency").await;
    let dropped_before_loss = lab.net.dropped();
    lab.net.set(Fault::Loss(LOSS_PERCENT));
    marks.push((Instant::now(), "loss"));
    landed_at_least(&mut landed, 160, Duration::from_secs(45), "loss").await;
    let dropped_in_loss = lab.net.dropped().zip(dropped_before_loss).map(|(a, b)| a - b);

    lab.net.set(Fault::Partition);
    let cut = Instant::now();
    marks.push((cut, "partition"));
    let landed_at_cut = *landed.borrow();
    let heal_at = cut + PARTITION;
    let base = lab.server.base.clone();
    let (probes, readyz) =
        tokio::join!(probe_calls(&client, &url, &probe_session, heal_at), probe_readyz(&client, &base, heal_at));
    tokio::time::sleep_until(tokio::time::Instant::from_std(heal_at)).await;
    lab.net.set(Fault::Clear);
    let healed = Instant::now();
    marks.push((healed, "after"));
    let ready_after = until_ready(&client, &base, Duration::from_secs(30)).await;

    let mut results = BTreeMap::new();
    for worker in workers {
        let done = tokio::time::timeout(Duration::from_secs(60), worker).await;
        for (i, body) in done.expect("the burst finishes within a minute of the heal").expect("client task") {
            assert!(results.insert(i, body).is_none(), "key {i} was handed out twice");
        }
    }
    let burst_took = burst_started.elapsed();
    let attempts = attempts.lock().unwrap().clone();

    // --- during the partition: refused fast, retryably; /readyz 503 ------------------------------
    assert!(!probes.is_empty(), "probes ran during the partition");
    for p in &probes {
        assert_eq!(
            (p.status, p.reason.as_deref(), p.retry_after),
            (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"), true),
            "a call while Postgres is unreachable is refused as retryable `unavailable` with Retry-After"
        );
        assert!(p.took < FAIL_FAST, "refused fast, not at the deadline: {:?}", p.took);
    }
    // Burst calls that started inside the partition, early enough to end in it if they fail fast.
    let cut_off = attempts.iter().filter(|(_, a)| a.started >= cut && a.started + FAIL_FAST <= healed);
    for (i, a) in cut_off.clone() {
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "key {i} during the partition: {a:?}");
        assert!(a.took < FAIL_FAST, "key {i} hung during the partition: {a:?}");
    }
    assert!(!readyz.is_empty());
    for (_, took, status) in &readyz {
        assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "/readyz during the partition");
        assert!(*took < READYZ_FAST, "/readyz answered fast: {took:?}");
    }

    // --- nothing hung; latency made calls slower ------------------------------------------------
    let slowest = attempts.iter().map(|(_, a)| a.took).max().unwrap();
    assert!(slowest < TALLY_TIMEOUT + SLOWEST_MARGIN, "a call took {slowest:?} (TALLY_TIMEOUT {TALLY_TIMEOUT:?})");
    let phase_of = |t: Instant| marks.iter().rev().find(|(at, _)| *at <= t).map_or("latency", |(_, p)| *p);
    let mut by_phase: HashMap<&str, Vec<&Attempt>> = HashMap::new();
    for (_, a) in &attempts {
        by_phase.entry(phase_of(a.started)).or_default().push(a);
    }
    let ok_times = |phase: &str| -> Vec<Duration> {
        by_phase
            .get(phase)
            .map_or(vec![], |v| v.iter().filter(|a| a.status == StatusCode::OK).map(|a| a.took).collect())
    };
    let slow = median(ok_times("latency"));
    assert!(slow >= ADDED_RTT, "with {ADDED_RTT:?} added per round trip a create takes longer: median {slow:?}");

    // --- exactly 300 invoices, each whole, none twice --------------------------------------------
    assert_eq!(results.len(), KEYS);
    let returned: HashMap<String, uuid::Uuid> =
        results.iter().map(|(i, body)| (format!("nf_{i}"), invoice_uuid(body))).collect();
    assert_eq!(returned.values().collect::<HashSet<_>>().len(), KEYS, "300 distinct invoices returned");
    assert_eq!(lab.scalar("select count(*) from invoices").await, KEYS as i64);
    assert_eq!(lab.scalar("select count(distinct customer_id) from invoices").await, KEYS as i64, "none twice");
    assert_eq!(lab.scalar("select count(*) from invoice_lines").await, 2 * KEYS as i64);
    let partial = lab
        .scalar(
            "select count(*) from invoices i
              where (select count(*) from invoice_lines l where l.invoice_id = i.invoice_id) <> 2",
        )
        .await;
    assert_eq!(partial, 0, "every invoice has both its lines");
    assert_eq!(lab.scalar("select count(*) from audit_events where action = 'created'").await, KEYS as i64);
    assert_eq!(lab.scalar("select count(*) from idempotency_keys where response is not null").await, KEYS as i64);
    assert_eq!(lab.scalar("select count(*) from idempotency_keys").await, KEYS as i64, "no key left claimed");
    let stored: Vec<(String, uuid::Uuid)> =
        sqlx::query_as("select customer_id, invoice_id from invoices").fetch_all(&lab.pool).await.unwrap();
    for (customer, id) in stored {
        assert_eq!(returned.get(&customer), Some(&id), "the invoice returned for {customer} is the one stored");
    }

    // --- the pool recovered without a restart ----------------------------------------------------
    assert!(lab.server.child.try_wait().unwrap().is_none(), "the same Tally process served it all");
    lab.no_open_transactions().await;

    // --- the numbers -----------------------------------------------------------------------------
    let retried: usize = {
        let mut per_key: HashMap<usize, usize> = HashMap::new();
        for (i, _) in &attempts {
            *per_key.entry(*i).or_default() += 1;
        }
        per_key.values().filter(|n| **n > 1).count()
    };
    eprintln!(
        "network_faults: burst of {KEYS} in {:.1}s, {} attempts, {retried} keys retried, slowest attempt {} ms",
        burst_took.as_secs_f64(),
        attempts.len(),
        ms(slowest)
    );
    for phase in ["latency", "loss", "partition", "after"] {
        let all = by_phase.get(phase).map_or(&[][..], Vec::as_slice);
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for a in all.iter().filter(|a| a.status != StatusCode::OK) {
            *reasons.entry(a.reason.as_deref().unwrap_or("?")).or_default() += 1;
        }
        let oks = ok_times(phase);
        eprintln!(
            "network_faults:   {phase:<9} {:>3} attempts, {:>3} landed (median {} ms, max {} ms), refused {reasons:?}",
            all.len(),
            oks.len(),
            ms(median(oks.clone())),
            ms(oks.iter().max().copied().unwrap_or_default()),
        );
    }
    if let Some(dropped) = dropped_in_loss {
        eprintln!("network_faults:   the link dropped {dropped} packets during the {LOSS_PERCENT}% loss phase");
    }
    let probe_ms: Vec<u128> = probes.iter().map(|p| ms(p.took)).collect();
    let cut_off_ms: Vec<u128> = cut_off.map(|(_, a)| ms(a.took)).collect();
    let readyz_ms: Vec<u128> = readyz.iter().map(|(_, t, _)| ms(*t)).collect();
    eprintln!(
        "network_faults:   partition at {landed_at_cut} landed: probes refused in {probe_ms:?} ms, burst calls \
         started in it refused in {cut_off_ms:?} ms, /readyz 503 in {readyz_ms:?} ms; /readyz 200 {} ms after the heal",
        ms(ready_after)
    );
}

/// Holds a create inside its transaction once it has written everything: an AFTER INSERT trigger
/// on audit_events, the last of `create_invoice_once`'s writes (key claimed with its reply,
/// invoice, lines, then the audit record), waits for an advisory lock the test holds. Only for
/// customer `held`'s creation.
const HOLD: &str = "
    create function nf_hold() returns trigger language plpgsql as $$
    begin
        if new.entity = 'invoice' and new.action = 'created' and new.details->>'customer_id' = 'held' then
            perform pg_advisory_xact_lock(4242);
        end if;
        return null;
    end $$;
    create trigger nf_hold after insert on audit_events for each row execute function nf_hold();";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_mid_transaction_leaves_nothing_half_written() {
    let Some(mut lab) = Lab::start().await else { return };
    let client = Lab::client();
    let url = lab.server.mcp_url();
    let session = initialize(&client, &url).await;
    sqlx::raw_sql(HOLD).execute(&lab.pool).await.unwrap();
    let mut holder = lab.pool.acquire().await.unwrap();
    sqlx::query("select pg_advisory_lock(4242)").execute(&mut *holder).await.unwrap();

    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_invoice","arguments":{
        "customer_id": "held", "idempotency_key": "reset-1",
        "line_items": [{"description": "Widget", "amount_cents": 1000},
                       {"description": "Gadget", "amount_cents": 250, "quantity": 2}]}}});
    let (seen, mut attempts) = mpsc::unbounded_channel::<Attempt>();
    let call = {
        let (client, url, session, body) = (client.clone(), url.clone(), session.clone(), body.clone());
        tokio::spawn(async move {
            call_with_retries_observed(&client, &url, &session, &body, |a| {
                let _ = seen.send(a);
            })
            .await
        })
    };

    // The create's backend, waiting in the trigger.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (pid, port): (i32, i32) = loop {
        let held: Option<(i32, i32)> = sqlx::query_as(
            "select pid, client_port from pg_stat_activity
              where backend_type = 'client backend' and wait_event_type = 'Lock' and wait_event = 'advisory'",
        )
        .fetch_optional(&lab.pool)
        .await
        .unwrap();
        if let Some(held) = held {
            break held;
        }
        assert!(Instant::now() < deadline, "the create never reached the trigger");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Mid-transaction, with its writes done: it holds row-exclusive locks on every table it wrote.
    let written: Vec<String> = sqlx::query_scalar(
        "select relation::regclass::text from pg_locks
          where pid = $1 and mode = 'RowExclusiveLock' and locktype = 'relation' order by 1",
    )
    .bind(pid)
    .fetch_all(&lab.pool)
    .await
    .unwrap();
    for table in ["audit_events", "idempotency_keys", "invoice_lines", "invoices"] {
        assert!(written.iter().any(|t| t == table), "the held create has written {table}: {written:?}");
    }

    let killed = lab.net.reset_connection(u16::try_from(port).unwrap());
    let reset_at = Instant::now();
    let technique = if killed.contains(&format!(":{port}")) {
        "ss -K on Postgres's socket (Tally gets a TCP RST)"
    } else {
        // A kernel without CONFIG_INET_DIAG_DESTROY: the server ends the connection instead.
        sqlx::query("select pg_terminate_backend($1)").bind(pid).execute(&lab.pool).await.unwrap();
        "pg_terminate_backend (this kernel cannot destroy sockets)"
    };
    let first = tokio::time::timeout(FAIL_FAST, attempts.recv())
        .await
        .expect("the call is answered promptly once its connection is reset")
        .unwrap();
    let answered_after = (first.started + first.took).saturating_duration_since(reset_at);
    assert_eq!(
        (first.status, first.reason.as_deref()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")),
        "a reset connection is a retryable `unavailable`: {first:?}"
    );
    // Nothing of the orphaned transaction is visible while its backend still waits.
    assert_eq!(lab.scalar("select count(*) from invoices where customer_id = 'held'").await, 0);
    assert_eq!(lab.scalar("select count(*) from idempotency_keys where idempotency_key = 'reset-1'").await, 0);
    let orphan_alive = lab.scalar(&format!("select count(*) from pg_stat_activity where pid = {pid}")).await == 1;

    // The retry (after Retry-After) arrives while the orphan still holds the key's claim, with an
    // invoice written under it: it must wait on the key, not write a second invoice.
    let deadline = Instant::now() + Duration::from_secs(10);
    let blocked = format!("select count(*) from pg_stat_activity where {pid} = any(pg_blocking_pids(pid))");
    while orphan_alive && lab.scalar(&blocked).await == 0 {
        assert!(Instant::now() < deadline, "the retry never reached the orphan's claim on the key");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the orphan go on: it cannot answer its client, so it rolls back, and the waiting retry
    // proceeds as the key's first use.
    sqlx::query("select pg_advisory_unlock(4242)").execute(&mut *holder).await.unwrap();
    drop(holder);
    let result = tokio::time::timeout(Duration::from_secs(30), call).await.expect("the retry lands").unwrap();
    let id = invoice_uuid(&result);
    let mut tries = 1;
    while attempts.try_recv().is_ok() {
        tries += 1;
    }
    let again = call_with_retries_observed(&client, &url, &session, &body, |_| {}).await;
    assert_eq!(invoice_uuid(&again), id, "the key's retry returns the one invoice");

    let stored: Vec<uuid::Uuid> = sqlx::query_scalar("select invoice_id from invoices where customer_id = 'held'")
        .fetch_all(&lab.pool)
        .await
        .unwrap();
    assert_eq!(stored, vec![id], "one invoice for the key");
    let lines: i64 = sqlx::query_scalar("select count(*) from invoice_lines where invoice_id = $1")
        .bind(id)
        .fetch_one(&lab.pool)
        .await
        .unwrap();
    assert_eq!(lines, 2, "with both its lines");
    assert_eq!(lab.scalar("select count(*) from audit_events where idempotency_key = 'reset-1'").await, 1);
    let response: Value = sqlx::query_scalar("select response from idempotency_keys where idempotency_key = 'reset-1'")
        .fetch_one(&lab.pool)
        .await
        .unwrap();
    let stored_result =
        response["invoice_id"].as_str().and_then(|s| uuid::Uuid::try_parse(s.trim_start_matches("inv_")).ok());
    assert_eq!(stored_result, Some(id), "the key's stored result is that invoice");

    // The orphan is gone and the pool serves on.
    let deadline = Instant::now() + Duration::from_secs(10);
    while lab.scalar(&format!("select count(*) from pg_stat_activity where pid = {pid}")).await == 1 {
        assert!(Instant::now() < deadline, "the orphaned backend {pid} lingers");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for i in 0..20 {
        let after = call_with_retries_observed(&client, &url, &session, &create(1000 + i), |_| {}).await;
        invoice_uuid(&after);
    }
    assert!(lab.server.child.try_wait().unwrap().is_none(), "the same Tally process");
    lab.no_open_transactions().await;
    eprintln!(
        "network_faults: reset by {technique}: answered {} ms after the reset ({}), orphaned backend {}, \
         {tries} attempts until the key landed",
        ms(answered_after),
        first.reason.as_deref().unwrap_or("?"),
        if orphan_alive { "still open, the retry waited on it, then it rolled back" } else { "already gone" },
    );
}

/// A write cut off by its deadline while BEGIN's reply is on its way must not leave its pooled
/// connection inside a transaction. (sqlx-postgres 0.8.6's `begin` is not cancel-safe there,
/// sqlx#4393: the next borrower of that connection would run inside the stale transaction.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cut_off_during_begin_leaves_no_transaction_open() {
    use tally::domain::invoices::{InvoiceService, NewInvoice, NewLine};
    use tally::domain::money::Currency;
    let Some(lab) = Lab::start().await else { return };
    // One connection, named, so that the cut-off one is the one the next write gets.
    let options: sqlx::postgres::PgConnectOptions = lab.cluster.url().parse().unwrap();
    let pool = PgPoolOptions::new().max_connections(1).connect_with(options.application_name("cut-off")).await.unwrap();
    let invoices = InvoiceService::new(pool.clone());
    let actor = tally::domain::Actor {
        tenant_id: "default".into(),
        via: "create_invoice",
        session_id: None,
        role: tally::domain::access::Role::Clerk,
        token: None,
    };
    let new = NewInvoice {
        customer_id: "cut".into(),
        line_items: vec![NewLine::simple("Widget", 1000, 1)],
        due_date: None,
        currency: Some(Currency::default()),
        memo: None,
        adjustments: vec![],
        prices_include_tax: None,
    };
    // A second per round trip: the pool's ping of the idle connection answers at 1 s, BEGIN's
    // reply arrives at 2 s, and the deadline falls between them.
    lab.net.set(Fault::Delay(Duration::from_secs(1)));
    let cut = tokio::time::timeout(Duration::from_millis(1500), invoices.create(&actor, new.clone(), None)).await;
    assert!(cut.is_err(), "the deadline cut the write off mid-BEGIN");
    lab.net.set(Fault::Clear);

    // Once the connection is back in its pool, the session behind it must be outside any transaction.
    let deadline = Instant::now() + Duration::from_secs(15);
    while pool.num_idle() == 0 {
        assert!(Instant::now() < deadline, "the cut-off connection never went back to its pool");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let state: String = sqlx::query_scalar("select state from pg_stat_activity where application_name = 'cut-off'")
        .fetch_one(&lab.pool)
        .await
        .unwrap();
    assert_eq!(state, "idle", "the pooled connection was left inside the cut-off write's transaction");
    invoices.create(&actor, new, None).await.expect("the next write on that connection");
    assert_eq!(lab.scalar("select count(*) from invoices where customer_id = 'cut'").await, 1);
}
