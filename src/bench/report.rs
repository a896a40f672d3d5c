//! The figures of a run, as a table for people and JSON for files.

use serde::Serialize;

use super::load::Run;

#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub scenario: String,
    pub callers: usize,
    pub calls: usize,
    pub errors: usize,
    pub calls_per_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Server CPU (user + system) per call, from /proc.
    pub cpu_ms_per_call: Option<f64>,
    /// The load generator's own CPU per call (it shares the machine with the server).
    pub client_cpu_ms_per_call: Option<f64>,
    /// The server's peak resident memory during the scenario.
    pub peak_rss_mb: Option<f64>,
    /// pgbench transactions/s of the same SQL at the same concurrency.
    pub ceiling_per_s: Option<f64>,
    /// The peer (benches/peer) in the same scenario, run right after.
    pub peer: Option<PeerFigures>,
}

/// What the peer did in the same scenario.
#[derive(Debug, Clone, Serialize)]
pub struct PeerFigures {
    pub calls_per_s: f64,
    pub errors: usize,
    pub p99_ms: f64,
    pub cpu_ms_per_call: Option<f64>,
}

impl Figures {
    pub fn new(scenario: &str, callers: usize, run: &Run, cpu_seconds: Option<f64>, peak_rss: Option<u64>) -> Self {
        let pct = |p: f64| {
            if run.latencies_us.is_empty() {
                return 0.0;
            }
            let i = ((run.latencies_us.len() as f64 * p).ceil() as usize).clamp(1, run.latencies_us.len()) - 1;
            f64::from(run.latencies_us[i]) / 1000.0
        };
        Self {
            scenario: scenario.to_owned(),
            callers,
            calls: run.calls,
            errors: run.errors,
            calls_per_s: run.calls as f64 / run.elapsed.as_secs_f64().max(1e-9),
            p50_ms: pct(0.50),
            p95_ms: pct(0.95),
            p99_ms: pct(0.99),
            cpu_ms_per_call: cpu_seconds.filter(|_| run.calls > 0).map(|s| s * 1000.0 / run.calls as f64),
            client_cpu_ms_per_call: None,
            peak_rss_mb: peak_rss.map(|b| b as f64 / (1024.0 * 1024.0)),
            ceiling_per_s: None,
            peer: None,
        }
    }

    /// Tally's calls/s over pgbench's transactions/s.
    pub fn ratio(&self) -> Option<f64> {
        self.ceiling_per_s.filter(|c| *c > 0.0).map(|c| self.calls_per_s / c)
    }

    /// Tally's calls/s over the peer's.
    pub fn peer_ratio(&self) -> Option<f64> {
        self.peer.as_ref().filter(|p| p.calls_per_s > 0.0).map(|p| self.calls_per_s / p.calls_per_s)
    }

    pub fn line(&self) -> String {
        let opt = |v: Option<f64>, digits: usize| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"));
        let peer = self.peer.as_ref();
        format!(
            "| {:<22} | {:>7} | {:>7} | {:>6} | {:>9.1} | {:>7.2} | {:>7.2} | {:>7.2} | {:>8} | {:>8} | {:>7} | {:>9} | {:>6} | {:>8} | {:>8} | {:>7} |",
            self.scenario,
            self.callers,
            self.calls,
            self.errors,
            self.calls_per_s,
            self.p50_ms,
            self.p95_ms,
            self.p99_ms,
            opt(self.cpu_ms_per_call, 3),
            opt(self.client_cpu_ms_per_call, 3),
            opt(self.peak_rss_mb, 1),
            opt(self.ceiling_per_s, 1),
            opt(self.ratio(), 2),
            opt(peer.map(|p| p.calls_per_s), 1),
            opt(peer.and_then(|p| p.cpu_ms_per_call), 3),
            opt(self.peer_ratio(), 2),
        )
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub figures: Vec<Figures>,
}

impl Report {
    pub fn push(&mut self, figures: Figures) {
        self.figures.push(figures);
    }

    pub const HEADER: &'static str = "| scenario               | callers |   calls | errors |   calls/s | p50 ms  | p95 ms  | p99 ms  | cpu ms/c | gen ms/c | rss MB  | pgbench/s | ratio  |   peer/s | peer cpu | vs peer |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    pub fn table(&self) -> String {
        let mut out = String::from(Self::HEADER);
        for f in &self.figures {
            out.push('\n');
            out.push_str(&f.line());
        }
        out
    }
}
