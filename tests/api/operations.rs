//! What operators rely on: metrics that move, health and readiness that mean something, clear
//! startup failures, and a SIGTERM that drains instead of dropping calls.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::process::Command;

use crate::helpers::{database_url, initialize, pool, spawn_app, spawn_app_with, widget_invoice};
use crate::processes::{Server, free_port};

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

#[sqlx::test]
async fn metrics_move_with_calls(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--concurrency-limit", "1", "--queue-limit", "0"]).await;
    let s = app.session().await;
    for _ in 0..3 {
        app.ok(&s, "create_invoice", widget_invoice("m")).await;
    }
    app.refused(&s, "get_invoice", json!({"invoice_id": "nope"})).await;
    let scrape = || async { app.client.get(format!("http://{}/metrics", app.addr)).send().await.unwrap() };
    let res = scrape().await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert_eq!(metric(&text, r#"tally_tool_calls_total{tool="create_invoice",outcome="ok"}"#), 3.0);
    assert_eq!(metric(&text, r#"tally_tool_calls_total{tool="get_invoice",outcome="invalid_params"}"#), 1.0);
    assert_eq!(metric(&text, r#"tally_tool_call_duration_seconds_count{tool="create_invoice"}"#), 3.0);
    assert!(
        text.contains(r#"tally_tool_call_duration_seconds_bucket{tool="create_invoice",le="0.005"}"#),
        "explicit buckets"
    );
    assert!(text.contains(&format!("tally_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))), "{text}");
    assert_eq!(metric(&text, "tally_sessions_active"), 1.0);
    assert!(metric(&text, r#"tally_db_pool_connections{state="max"}"#) >= 1.0);
    assert!(
        text.contains(r#"tally_db_pool_connections{state="idle"}"#)
            && text.contains(r#"tally_db_pool_connections{state="in_use"}"#)
    );
    assert_eq!(metric(&text, "tally_queue_depth"), 0.0);
    assert_eq!(metric(&text, "tally_requests_in_flight"), 0.0);
    assert!(!text.contains("cust_") && !text.contains("inv_"), "labels never carry arguments or ids");
}

#[sqlx::test]
async fn health_and_readiness_mean_something(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let get = |path: &'static str| app.client.get(format!("http://{}{path}", app.addr)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get("/readyz").await.unwrap().status(), StatusCode::OK);
    sqlx::query("delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)")
        .execute(&app.pool)
        .await
        .unwrap();
    let res = get("/readyz").await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "a schema older than the code is not ready");
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "migrations pending");
    assert_eq!(get("/healthz").await.unwrap().status(), StatusCode::OK, "alive all the same");
}

/// Runs `tally serve` expecting it to fail at startup; returns its stderr's last line.
async fn failing_start(database_url: &str, bind: &str) -> (String, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["serve", "--bind", bind])
        .env("DATABASE_URL", database_url)
        .env("TALLY_LOG", "error")
        .stdout(Stdio::null())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out).await.expect("exits by itself").unwrap();
    assert!(!out.status.success(), "a failed start exits non-zero");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line of error: {stderr}");
    (lines[0].to_owned(), started.elapsed())
}

#[sqlx::test]
async fn startup_failures_are_one_clear_line(_o: PgPoolOptions, c: PgConnectOptions) {
    let bind = format!("127.0.0.1:{}", free_port());
    let (line, _) = failing_start("mysql://localhost/x", &bind).await;
    assert!(line.starts_with("tally: DATABASE_URL must be a postgres://"), "{line}");
    let (line, took) = failing_start(&format!("postgres://tally@127.0.0.1:{}/tally", free_port()), &bind).await;
    assert!(line.starts_with("tally: cannot reach the database") && line.contains("after 5 attempts"), "{line}");
    assert!(took < Duration::from_secs(30), "bounded retries: {took:?}");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let (line, _) = failing_start(&database_url(&c), &taken.local_addr().unwrap().to_string()).await;
    assert!(line.starts_with("tally: cannot listen on") && line.contains("in use"), "{line}");
}

#[sqlx::test]
async fn sigterm_drains_accepted_calls_and_refuses_new_connections(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    let pool = pool(o, c).await;
    let port = free_port();
    let mut server = Server::start_on(&url, port, &["--shutdown-grace", "15s"]).await;
    let client = reqwest::Client::new();
    let session = initialize(&client, &server.mcp_url()).await;

    // Thirty creates in flight, held on one idempotency key's row lock until after SIGTERM.
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("insert into idempotency_keys (tenant_id, tool, idempotency_key, request_hash) values ('default', 'create_invoice', 'drain', 'x')")
        .execute(&mut *holder)
        .await
        .unwrap();
    let calls: Vec<_> = (0..30)
        .map(|i| {
            let (client, url, session) = (client.clone(), server.mcp_url(), session.clone());
            tokio::spawn(async move {
                let body = json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"create_invoice","arguments":{
                    "customer_id":"drain","idempotency_key":"drain","line_items":[{"description":"x","amount_cents":1}]}}});
                let res = client.post(url).header("content-type", "application/json").header("mcp-session-id", session).json(&body).send().await.unwrap();
                (res.status(), res.json::<Value>().await.unwrap())
            })
        })
        .collect();
    // Signal only once Tally holds all thirty (running or queued for a slot), not the first.
    let metrics_url = format!("http://127.0.0.1:{port}/metrics");
    let held = || async {
        let text = client.get(&metrics_url).send().await.unwrap().text().await.unwrap();
        let gauge =
            |name: &str| text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok()).unwrap_or(0.0);
        gauge("tally_requests_in_flight ") + gauge("tally_queue_depth ")
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while held().await < 30.0 {
        assert!(Instant::now() < deadline, "the thirty calls never all reached Tally");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let pid = server.child.id().unwrap();
    std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        assert!(Instant::now() < deadline, "the listener kept accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    holder.rollback().await.unwrap(); // the drained calls may now finish

    for call in calls {
        let (status, body) = call.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["result"]["isError"], false, "every accepted call completes: {body}");
    }
    let status = tokio::time::timeout(Duration::from_secs(20), server.child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "exit 0 after draining: {status}");
    let invoices: i64 = sqlx::query_scalar("select count(*) from invoices").fetch_one(&pool).await.unwrap();
    assert_eq!(invoices, 1, "one key, one invoice");
}
