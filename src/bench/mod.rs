//! `tally bench`: how close to Postgres's own ceiling Tally gets.
//!
//! Drives a running server over real HTTP as MCP clients do (one session per caller), measures
//! calls/s and latency percentiles, the server's CPU time per call and peak RSS from /proc, and
//! runs pgbench with a script doing exactly the SQL `create_invoice` does, at the same
//! concurrency on the same cluster, for the ratio. `make bench` runs the full plan;
//! tests run a tiny one so the harness cannot rot.

mod load;
mod pgbench;
mod process;
mod report;
mod seed;

use std::path::PathBuf;
use std::time::Duration;

pub use load::{Workload, run_workload};
pub use pgbench::{Pgbench, create_invoice_script};
pub use process::ServerProcess;
pub use report::{Figures, PeerFigures, Report};
pub use seed::{STATEMENT_CUSTOMER, seed_invoices, seed_statement};

/// What to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    /// How long each scenario runs.
    pub duration: Duration,
    /// Concurrent callers for the create_invoice runs (and pgbench).
    pub create_callers: Vec<usize>,
    /// Concurrent callers for list, get and mixed.
    pub read_callers: usize,
    /// Invoices seeded for list_invoices and get_invoice.
    pub seed: u64,
    /// Customers the seeded invoices are spread across.
    pub customers: u64,
    /// Scenarios to run (all when empty): create, list, get, mixed.
    pub only: Vec<String>,
    /// When set, the growth run instead: seed each of these sizes in turn (adding to the last)
    /// and measure the reads at each, with `read_callers` callers.
    pub growth: Vec<u64>,
}

impl Plan {
    /// The plan: 1/8/32/128 creators, 32 readers, 100 000 invoices, 10 s a scenario.
    pub fn full(duration: Duration) -> Self {
        Self {
            duration,
            create_callers: vec![1, 8, 32, 128],
            read_callers: 32,
            seed: 100_000,
            customers: 1_000,
            only: vec![],
            growth: vec![],
        }
    }

    /// A few hundred calls in all: the harness works end to end.
    pub fn smoke() -> Self {
        Self {
            duration: Duration::from_millis(300),
            create_callers: vec![1, 4],
            read_callers: 4,
            seed: 200,
            customers: 10,
            only: vec![],
            growth: vec![],
        }
    }
}

/// Where to find things.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub database_url: String,
    /// The server process, for CPU and RSS; without it those columns stay empty.
    pub server_pid: Option<u32>,
    /// pgbench, for the ceiling; without it the ratio stays empty.
    pub pgbench: Option<PathBuf>,
    /// The peer (benches/peer), for the Tally / peer ratio; create and list only.
    pub peer: Option<Peer>,
}

/// The plain rmcp server Tally is compared with.
#[derive(Debug, Clone)]
pub struct Peer {
    pub url: String,
    pub pid: Option<u32>,
}

/// Runs the plan: seeds, then every scenario; prints the table as it goes.
pub async fn run(target: &Target, plan: &Plan) -> anyhow::Result<Report> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(&target.database_url).await?;
    if !plan.growth.is_empty() {
        return growth(target, plan, &pool).await;
    }
    let seeded = seed_invoices(&pool, plan.seed, plan.customers).await?;
    seed_statement(&pool).await?;
    if target.peer.is_some() {
        seed::seed_peer(&pool, plan.seed, plan.customers).await?;
    }
    let server = target.server_pid.map(ServerProcess::new);
    let pgbench = match &target.pgbench {
        Some(path) => Some(Pgbench::prepare(path.clone(), &target.database_url, &target.url).await?),
        None => None,
    };
    let mut report = Report::default();
    let wanted = |w: Workload| plan.only.is_empty() || plan.only.iter().any(|o| w.name().starts_with(o.as_str()));
    for &callers in plan.create_callers.iter().filter(|_| wanted(Workload::Create)) {
        let mut figures = measure(target, server.as_ref(), Workload::Create, callers, plan, &seeded).await?;
        figures.peer = peer(target, Workload::Create, callers, plan, &seeded).await?;
        if let Some(pgbench) = &pgbench {
            let tps = pgbench.run(callers, plan.duration)?;
            figures.ceiling_per_s = Some(tps);
        }
        report.push(figures);
    }
    // The same creates with taxed lines: the tenant charges VAT for these runs only.
    if wanted(Workload::CreateTaxed) {
        let taxed = seed::Seeded { tax_rates: load::tax_mode(&target.url, "vat").await?, ..seeded.clone() };
        for &callers in &plan.create_callers {
            report.push(measure(target, server.as_ref(), Workload::CreateTaxed, callers, plan, &taxed).await?);
        }
        load::tax_mode(&target.url, "none").await?;
    }
    for workload in [Workload::List, Workload::Get, Workload::Mixed].into_iter().filter(|w| wanted(*w)) {
        let mut figures = measure(target, server.as_ref(), workload, plan.read_callers, plan, &seeded).await?;
        if workload == Workload::List {
            figures.peer = peer(target, workload, plan.read_callers, plan, &seeded).await?;
        }
        report.push(figures);
    }
    // Documents one at a time, for the render time itself (p50/p99), then a burst of invoices
    // against the render slots.
    for (workload, callers) in [(Workload::RenderInvoice, 1), (Workload::RenderInvoice, 8), (Workload::Statement, 1)] {
        if wanted(workload) {
            report.push(measure(target, server.as_ref(), workload, callers, plan, &seeded).await?);
        }
    }
    pool.close().await;
    Ok(report)
}

/// As the books grow: the reads at each seeded size, which should stay flat (keyset pages, lookups
/// by key, a statement of one customer, and open receivables that do not grow with history).
async fn growth(target: &Target, plan: &Plan, pool: &sqlx::PgPool) -> anyhow::Result<Report> {
    let server = target.server_pid.map(ServerProcess::new);
    seed_statement(pool).await?;
    // Few enough customers that each has two full pages of list_invoices (20 a page) at the
    // smallest size: otherwise the 10 000 run lists 10 rows a page and the 1 000 000 run 20, and
    // the growth measured is the page's, not the books'.
    let smallest = plan.growth.iter().copied().min().unwrap_or(1);
    let customers = (smallest / 40).clamp(1, plan.customers);
    let mut report = Report::default();
    for &size in &plan.growth {
        let started = std::time::Instant::now();
        let seeded = seed_invoices(pool, size, customers).await?;
        eprintln!("# seeded {size} invoices in {:.1} s", started.elapsed().as_secs_f64());
        for workload in [Workload::List, Workload::Get, Workload::Outstanding, Workload::Statement] {
            let mut figures = measure(target, server.as_ref(), workload, plan.read_callers, plan, &seeded).await?;
            figures.scenario = format!("{} @{}", figures.scenario, size);
            report.push(figures);
        }
    }
    Ok(report)
}

/// The same scenario against the peer, right after Tally's: calls/s and CPU per call.
async fn peer(
    target: &Target,
    workload: Workload,
    callers: usize,
    plan: &Plan,
    seeded: &seed::Seeded,
) -> anyhow::Result<Option<PeerFigures>> {
    let Some(peer) = &target.peer else { return Ok(None) };
    let process = peer.pid.map(ServerProcess::new);
    let before = process.as_ref().and_then(|p| p.cpu_seconds().ok());
    let run = run_workload(&peer.url, workload, callers, plan.duration, seeded).await?;
    let cpu = match (&process, before) {
        (Some(p), Some(before)) => p.cpu_seconds().ok().map(|after| after - before),
        _ => None,
    };
    let figures = Figures::new("peer", callers, &run, cpu, None);
    eprintln!("{}", figures.line());
    Ok(Some(PeerFigures {
        calls_per_s: figures.calls_per_s,
        errors: run.errors,
        p99_ms: figures.p99_ms,
        cpu_ms_per_call: figures.cpu_ms_per_call,
    }))
}

async fn measure(
    target: &Target,
    server: Option<&ServerProcess>,
    workload: Workload,
    callers: usize,
    plan: &Plan,
    seeded: &seed::Seeded,
) -> anyhow::Result<Figures> {
    if let Some(s) = server {
        s.reset_peak_rss();
    }
    let before = server.map(ServerProcess::cpu_seconds);
    // The load generator shares the machine; its own CPU shows what the server competes with.
    let me = ServerProcess::new(std::process::id());
    let me_before = me.cpu_seconds().ok();
    let run = run_workload(&target.url, workload, callers, plan.duration, seeded).await?;
    let cpu = match (server, before) {
        (Some(s), Some(Ok(before))) => s.cpu_seconds().ok().map(|after| after - before),
        _ => None,
    };
    let client_cpu = me_before.and_then(|b| me.cpu_seconds().ok().map(|a| a - b));
    let peak_rss = server.and_then(|s| s.peak_rss_bytes().ok());
    let mut figures = Figures::new(workload.name(), callers, &run, cpu, peak_rss);
    figures.client_cpu_ms_per_call = client_cpu.filter(|_| run.calls > 0).map(|s| s * 1000.0 / run.calls as f64);
    eprintln!("{}", figures.line());
    Ok(figures)
}
