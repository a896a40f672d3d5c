//! The limits are global: many separate connections share one concurrency limit, one queue
//! and one rate. Rejections come at once, with the right status and Retry-After.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::mpsc;

use crate::helpers::{TestApp, pool, spawn_app_with};

/// A create that will block on the idempotency key's row while a test transaction holds it.
fn held_create(i: usize) -> Value {
    json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"create_invoice","arguments":{
        "customer_id": "cust_held", "idempotency_key": "held",
        "line_items": [{"description": "Widget", "amount_cents": 1000}]}}})
}

/// Sends each body on its own connection (its own client) and reports results as they come.
fn fire(
    app: &TestApp,
    session: &str,
    bodies: Vec<Value>,
) -> mpsc::UnboundedReceiver<(StatusCode, Option<String>, Value, Duration)> {
    let (tx, rx) = mpsc::unbounded_channel();
    for body in bodies {
        let (url, session, tx) = (app.url.clone(), session.to_owned(), tx.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let started = Instant::now();
            let res = client
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-session-id", session)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let body = res.json().await.unwrap_or(Value::Null);
            let _ = tx.send((status, retry_after, body, started.elapsed()));
        });
    }
    rx
}

#[sqlx::test]
async fn concurrency_and_queue_are_global_across_connections(o: PgPoolOptions, c: PgConnectOptions) {
    let app =
        spawn_app_with(pool(o, c).await, &["--concurrency-limit", "2", "--queue-limit", "4", "--rate-limit", "10000"])
            .await;
    let session = app.session().await;
    let mut holder = app.pool.begin().await.unwrap();
    sqlx::query("insert into idempotency_keys (tenant_id, tool, idempotency_key, request_hash) values ('default', 'create_invoice', 'held', 'x')")
        .execute(&mut *holder)
        .await
        .unwrap();

    let mut results = fire(&app, &session, (0..50).map(held_create).collect());
    // 2 run (blocked on the key), 4 wait in the queue, 44 are turned away at once.
    for _ in 0..44 {
        let (status, retry_after, body, took) =
            tokio::time::timeout(Duration::from_secs(20), results.recv()).await.unwrap().unwrap();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        // When the queue will have drained, as estimated from how fast calls finish: within
        // [100 ms, 30 s], and the header is the same in whole seconds, rounded up.
        let wait = body["error"]["data"]["retry_after_ms"].as_u64().unwrap();
        assert!((100..=30_000).contains(&wait), "{body}");
        assert_eq!(retry_after, Some(wait.div_ceil(1000).to_string()));
        assert_eq!(body["error"]["code"], -32011);
        assert_eq!(body["error"]["data"]["retryable"], true);
        assert_eq!(body["error"]["data"]["reason"], "overloaded");
        assert_eq!(body["error"]["data"]["limit"], json!({"scope": "global", "concurrency": 2, "queue": 4}));
        assert!(took < Duration::from_secs(5), "rejected at once, not after waiting ({took:?})");
    }
    assert!(results.try_recv().is_err(), "the six admitted calls are still waiting");
    let metrics = app.client.get(format!("http://{}/metrics", app.addr)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tally_queue_depth 4"), "four wait in the queue:\n{metrics}");
    assert!(metrics.contains("tally_requests_in_flight 2"), "{metrics}");
    assert!(metrics.contains("tally_rejections_total{reason=\"overloaded\"} 44"), "{metrics}");

    holder.rollback().await.unwrap();
    let mut admitted = Vec::new();
    for _ in 0..6 {
        let (status, _, body, _) =
            tokio::time::timeout(Duration::from_secs(20), results.recv()).await.unwrap().unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        admitted.push(body["result"]["structuredContent"]["invoice_id"].clone());
    }
    assert!(admitted.iter().all(|id| id.is_string() && *id == admitted[0]), "one key, one invoice: {admitted:?}");
    assert_eq!(app.count("invoices").await, 1);
}

#[sqlx::test]
async fn the_rate_limit_is_global_and_rejects_at_once(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--rate-limit", "5"]).await;
    let started = Instant::now();
    let session = app.session().await; // initialize + initialized spend two of the five.
    let pings = (0..50).map(|i| json!({"jsonrpc":"2.0","id":i,"method":"ping"})).collect();
    let mut results = fire(&app, &session, pings);
    let (mut ok, mut limited) = (0, 0);
    for _ in 0..50 {
        let (status, retry_after, body, took) =
            tokio::time::timeout(Duration::from_secs(20), results.recv()).await.unwrap().unwrap();
        if status == StatusCode::OK {
            ok += 1;
            continue;
        }
        limited += 1;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
        assert_eq!(body["error"]["code"], -32010);
        assert_eq!(body["error"]["data"]["reason"], "rate_limited");
        assert_eq!(body["error"]["data"]["limit"], json!({"scope": "global", "requests_per_second": 5}));
        assert!(body["error"]["data"]["retry_after_ms"].as_u64().unwrap() > 0);
        assert!(took < Duration::from_secs(2), "a 429 comes at once ({took:?})");
    }
    // Five a second with a burst of five, two spent on the handshake: a handful get through.
    let budget = 5 + (started.elapsed().as_secs_f64() * 5.0).ceil() as usize - 2;
    assert!((1..=budget).contains(&ok), "{ok} pings passed a budget of {budget}");
    assert_eq!(ok + limited, 50);
}
