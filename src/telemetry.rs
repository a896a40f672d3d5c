//! Logs (tracing, to stderr: stdout belongs to the stdio protocol) and the Prometheus recorder.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the log subscriber once; later calls (tests) are no-ops.
pub fn init_logs(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The process's Prometheus recorder, installed on first use.
pub fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("tally_tool_call_duration_seconds".into()),
                    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
                )
                .expect("buckets are non-empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (embedding); then ours only renders.
            let _ = metrics::set_global_recorder(recorder);
            describe_and_zero();
            handle
        })
        .clone()
}

/// Help text for every series, and zeros for those a fresh replica has not touched yet, so that
/// dashboards and the autoscaler see 0 rather than no data.
fn describe_and_zero() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("tally_tool_calls_total", "Tool calls by tool and outcome (ok or the error code).");
    describe_histogram!("tally_tool_call_duration_seconds", metrics::Unit::Seconds, "Tool call duration by tool.");
    describe_gauge!("tally_requests_in_flight", "MCP calls running now (at most the concurrency limit).");
    describe_gauge!("tally_queue_depth", "MCP calls waiting for a concurrency slot.");
    describe_counter!(
        "tally_rejections_total",
        "Calls turned away, by reason: rate_limited, overloaded, timeout, tenant_rate_limited, tenant_overloaded."
    );
    describe_gauge!("tally_db_pool_connections", "Database pool connections by state: idle, in_use, max.");
    describe_gauge!("tally_sessions_active", "Live MCP sessions (shared by all replicas: aggregate with max).");
    describe_gauge!("tally_http_connections", "Open HTTP connections on this replica.");
    describe_counter!(
        "tally_http_connections_refused_total",
        "Connections closed at once because the cap was reached."
    );
    describe_gauge!("tally_build_info", "Always 1; the version label says which build runs.");
    describe_gauge!(
        "tally_ready",
        "1 while this replica would answer /readyz 200, else 0 (set at each probe and scrape)."
    );
    describe_counter!("tally_recording_dropped_total", "Recorded events dropped because the writer fell behind.");
    describe_gauge!(
        "tally_rate_limit_share",
        "This replica's share of TALLY_RATE_LIMIT, calls per second (the replicas' shares add up to it)."
    );
    describe_gauge!(
        "tally_limiter_replicas",
        "Replicas sharing the rate limits, as this one last heard (itself included)."
    );
    metrics::gauge!("tally_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    metrics::gauge!("tally_requests_in_flight").set(0.0);
    metrics::gauge!("tally_queue_depth").set(0.0);
    // At zero from the start, so a dashboard's rate() and an alert's increase() have a series.
    metrics::counter!("tally_recording_dropped_total").increment(0);
    for reason in ["rate_limited", "overloaded", "timeout", "tenant_rate_limited", "tenant_overloaded"] {
        metrics::counter!("tally_rejections_total", "reason" => reason).increment(0);
    }
}
