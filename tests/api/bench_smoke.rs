//! A tiny run of the benchmark harness, so it cannot rot: a few hundred calls through every
//! scenario, and pgbench running the create_invoice script against this test's own database,
//! which also keeps that script in step with the schema.

use std::path::PathBuf;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tally::bench::{Plan, Target, run};

use crate::helpers::{database_url, pool, spawn_app_with};

fn pgbench() -> PathBuf {
    let out = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/pg.sh"))
        .arg("bindir")
        .output()
        .unwrap();
    assert!(out.status.success(), "no PostgreSQL binaries");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()).join("pgbench")
}

#[sqlx::test]
async fn the_bench_harness_runs_end_to_end(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    let app = spawn_app_with(pool(o, c).await, &["--rate-limit", "1000000"]).await;
    let target = Target {
        url: app.url.clone(),
        database_url: url,
        server_pid: Some(std::process::id()),
        pgbench: Some(pgbench()),
        peer: None,
    };
    let report = run(&target, &Plan::smoke()).await.unwrap();
    let names: Vec<(&str, usize)> = report.figures.iter().map(|f| (f.scenario.as_str(), f.callers)).collect();
    assert_eq!(
        names,
        [
            ("create_invoice", 1),
            ("create_invoice", 4),
            ("create_invoice taxed", 1),
            ("create_invoice taxed", 4),
            ("list_invoices", 4),
            ("get_invoice", 4),
            ("mixed 70/30", 4),
            ("render_invoice", 1),
            ("render_invoice", 8),
            ("get_statement 500 rows", 1)
        ]
    );
    for f in &report.figures {
        assert!(f.calls > 0 && f.errors == 0, "{}", f.line());
        assert!(f.p50_ms <= f.p95_ms && f.p95_ms <= f.p99_ms, "{}", f.line());
        assert!(f.cpu_ms_per_call.is_some() && f.peak_rss_mb.is_some(), "{}", f.line());
    }
    let creates = &report.figures[..2];
    assert!(
        creates.iter().all(|f| f.ceiling_per_s.is_some_and(|tps| tps > 0.0)),
        "pgbench ran the create_invoice script"
    );
    let total: usize = report.figures.iter().map(|f| f.calls).sum();
    assert!(total >= 100, "a few hundred calls ({total})");
    assert!(report.table().lines().count() == report.figures.len() + 2);
    // The pgbench transactions wrote exactly create_invoice's rows.
    let rows: (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from invoices where customer_id like 'bench_%'),
                (select count(*) from invoice_lines l join invoices i using (invoice_id) where i.customer_id like 'bench_%'),
                (select count(*) from audit_events where action = 'created')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows.1, rows.0 * 2, "two lines per invoice: {rows:?}");
    assert!(rows.2 >= rows.0, "an audit record per invoice: {rows:?}");
}
