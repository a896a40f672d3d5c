//! Overload an agent can act on: every rejection is immediate, retryable and says when to come
//! back; a timed-out call leaves nothing half-written; nothing acknowledged is ever lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{PROTOCOL, call_with_retries, database_url, initialize, pool, spawn_app, spawn_app_with};
use crate::processes::{Cluster, Server};

fn create(i: usize) -> Value {
    json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"create_invoice","arguments":{
        "customer_id": format!("cust_{i}"), "idempotency_key": format!("burst-{i}"),
        "line_items": [{"description": "Widget", "amount_cents": 1000}]}}})
}

/// 1000 concurrent creates, each with its own key, by clients that honour Retry-After; returns
/// how many refusals they met on the way.
async fn thousand_creates(flags: &[&str], o: PgPoolOptions, c: PgConnectOptions) -> usize {
    let app = spawn_app_with(pool(o, c).await, flags).await;
    let session = app.session().await;
    let refusals = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let calls = (0..1000).map(|i| {
        let (client, url, session, refusals) = (client.clone(), app.url.clone(), session.clone(), refusals.clone());
        tokio::spawn(async move { call_with_retries(&client, &url, &session, &create(i), &refusals).await })
    });
    for r in futures_util::future::join_all(calls).await {
        let body = r.unwrap();
        assert_eq!(body["result"]["isError"], false, "{body}");
    }
    assert_eq!(app.count("invoices").await, 1000);
    assert_eq!(app.count("invoice_lines").await, 1000);
    let lineless: i64 = sqlx::query_scalar("select count(*) from invoices i where not exists (select 1 from invoice_lines l where l.invoice_id = i.invoice_id)")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(lineless, 0);
    let customers: i64 =
        sqlx::query_scalar("select count(distinct customer_id) from invoices").fetch_one(&app.pool).await.unwrap();
    assert_eq!(customers, 1000, "none duplicated");
    refusals.load(Ordering::Relaxed)
}

#[sqlx::test]
async fn a_thousand_creates_with_retries_make_exactly_a_thousand_invoices(o: PgPoolOptions, c: PgConnectOptions) {
    let refusals = thousand_creates(&[], o, c).await;
    eprintln!("default limits: {refusals} retryable refusals on the way");
}

#[sqlx::test]
async fn a_thousand_creates_through_tight_limits_retry_to_exactly_a_thousand(o: PgPoolOptions, c: PgConnectOptions) {
    // Limits tight enough that the burst must be refused (both 429 and 503) and retried.
    let refusals =
        thousand_creates(&["--concurrency-limit", "4", "--queue-limit", "8", "--rate-limit", "300"], o, c).await;
    eprintln!("tight limits: {refusals} retryable refusals on the way");
    assert!(refusals >= 500, "the limits turned calls away ({refusals})");
}

#[sqlx::test]
async fn a_call_held_past_its_timeout_is_rolled_back_and_the_pool_stays_clean(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--timeout", "1s", "--db-acquire-timeout", "500ms"]).await;
    let s = app.session().await;
    app.customer(&s, "cust_t").await;
    let id = app.ok(&s, "create_invoice", crate::helpers::widget_invoice("cust_t")).await["invoice_id"].clone();
    // Another connection holds the tenant's invoice counter: send_invoice locks the invoice,
    // then blocks on the counter, mid-transaction, until its deadline.
    let mut holder = app.pool.begin().await.unwrap();
    sqlx::query("select * from invoice_counters for update").execute(&mut *holder).await.unwrap();
    let started = Instant::now();
    let res = app.post(Some(&s), &json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"send_invoice","arguments":{"invoice_id": id}}})).await;
    let took = started.elapsed();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "1");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32012);
    assert_eq!(body["error"]["data"]["reason"], "timeout");
    assert_eq!(body["error"]["data"]["limit"]["timeout_ms"], 1000);
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(5), "{took:?}");
    holder.rollback().await.unwrap();

    let invoice = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    assert_eq!((invoice["status"].as_str(), &invoice["number"]), (Some("draft"), &Value::Null), "nothing half-written");
    assert_eq!(invoice["history"].as_array().unwrap().len(), 1, "no audit record of a send that did not happen");
    for i in 0..100 {
        let args =
            json!({"customer_id": format!("after_{i}"), "line_items": [{"description": "x", "amount_cents": 1}]});
        app.ok(&s, "create_invoice", args).await;
    }
    let stuck: i64 = sqlx::query_scalar("select count(*) from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stuck, 0, "no pooled connection was left inside a transaction");
    // The send can still happen, and gets the first number: the timed-out one used none.
    assert_eq!(app.ok(&s, "send_invoice", json!({"invoice_id": id})).await["number"], "INV-000001");
}

#[sqlx::test]
async fn an_exhausted_pool_is_a_retryable_error_not_a_hang(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = o.max_connections(1).acquire_timeout(Duration::from_millis(300)).connect_with(c).await.unwrap();
    let app = spawn_app(pool.clone()).await;
    let s = app.session().await;
    let held = pool.acquire().await.unwrap();
    let started = Instant::now();
    // A call that reads the books (the session itself may be served from the access cache).
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_invoices","arguments":{}}});
    let res = app.post(Some(&s), &list).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["error"]["code"].as_i64(), body["error"]["data"]["reason"].as_str()),
        (Some(-32013), Some("unavailable"))
    );
    assert_eq!(body["id"], 1);
    assert!(started.elapsed() < Duration::from_secs(3), "fails fast: {:?}", started.elapsed());
    drop(held);
    assert_eq!(app.rpc(&s, "ping", json!({})).await["result"], json!({}));
}

#[sqlx::test]
async fn sigkill_mid_burst_loses_no_acknowledged_write(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    let pool = pool(o, c).await;
    let port = crate::processes::free_port();
    let mut server = Server::start_on(&url, port, &[]).await;
    let client = reqwest::Client::new();
    let session = initialize(&client, &server.mcp_url()).await;
    let acked = Arc::new(std::sync::Mutex::new(Vec::<(usize, String)>::new()));
    let calls: Vec<_> = (0..300)
        .map(|i| {
            let (client, url, session, acked) = (client.clone(), server.mcp_url(), session.clone(), acked.clone());
            tokio::spawn(async move {
                let res = post(&client, &url, &session, &create(i)).await.ok()?;
                let body: Value = res.json().await.ok()?;
                let id = body["result"]["structuredContent"]["invoice_id"].as_str()?.to_owned();
                acked.lock().unwrap().push((i, id));
                Some(())
            })
        })
        .collect();
    // Kill once some creates are acknowledged and others are surely in flight.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < 30 {
        assert!(Instant::now() < deadline, "no acknowledgements");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.start_kill().unwrap(); // SIGKILL
    server.child.wait().await.unwrap();
    futures_util::future::join_all(calls).await;
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() < 300, "the kill landed mid-burst ({} acknowledged)", acked.len());

    // Everything acknowledged is there, whole; nothing is half there.
    for (_, id) in &acked {
        let lines: i64 = sqlx::query_scalar("select count(*) from invoice_lines where invoice_id = $1")
            .bind(uuid::Uuid::try_parse(&id[4..]).unwrap())
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(lines, 1, "{id} was acknowledged");
    }
    let lineless: i64 = sqlx::query_scalar("select count(*) from invoices i where not exists (select 1 from invoice_lines l where l.invoice_id = i.invoice_id)")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(lineless, 0);

    // Restarted, the same keys finish the burst without a duplicate.
    let server = Server::start_on(&url, port, &[]).await;
    let session = initialize(&client, &server.mcp_url()).await;
    let refusals = AtomicUsize::new(0);
    for i in 0..300 {
        let body = call_with_retries(&client, &server.mcp_url(), &session, &create(i), &refusals).await;
        if let Some((_, id)) = acked.iter().find(|(j, _)| *j == i) {
            assert_eq!(
                body["result"]["structuredContent"]["invoice_id"],
                id.as_str(),
                "a retry returns the acknowledged invoice"
            );
        }
    }
    let count: i64 = sqlx::query_scalar("select count(*) from invoices").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 300);
}

#[tokio::test]
async fn postgres_stopped_and_restarted_under_light_load() {
    let cluster = Cluster::create();
    let server = Server::start(&cluster.url(), &["--db-acquire-timeout", "1s", "--timeout", "5s"]).await;
    let client = reqwest::Client::new();
    let session = initialize(&client, &server.mcp_url()).await;
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_invoices","arguments":{}}});
    assert_eq!(post(&client, &server.mcp_url(), &session, &list).await.unwrap().status(), StatusCode::OK);

    cluster.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let res = post(&client, &server.mcp_url(), &session, &list).await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().contains_key("retry-after"));
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["data"]["retryable"], true, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "fails fast while the database is down: {:?}",
            started.elapsed()
        );
    }
    let ready = client.get(format!("{}/readyz", server.base)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "not ready without a database");

    cluster.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = post(&client, &server.mcp_url(), &session, &list).await.unwrap();
        if res.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "Tally did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let create = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_invoice","arguments":{
        "customer_id":"after_restart","line_items":[{"description":"x","amount_cents":5}]}}});
    let body: Value = post(&client, &server.mcp_url(), &session, &create).await.unwrap().json().await.unwrap();
    assert_eq!(body["result"]["isError"], false, "the session outlived the restart: {body}");
}

async fn post(client: &reqwest::Client, url: &str, session: &str, body: &Value) -> reqwest::Result<reqwest::Response> {
    client
        .post(url)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", PROTOCOL)
        .header("mcp-session-id", session)
        .json(body)
        .send()
        .await
}
