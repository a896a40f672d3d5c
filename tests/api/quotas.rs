//! Fair limits: a tenant over its own quota is refused (retryable, naming the tenant's limit)
//! while another tenant's calls all go through.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tally::domain::access::{AccessService, NewTenant, Role};

use crate::helpers::{PROTOCOL, TestApp, pool, spawn_app_with, widget_invoice};

async fn tenant_with_token(app: &TestApp, id: &str, rate: Option<u32>, concurrency: Option<u32>) -> String {
    let access = AccessService::new(app.pool.clone());
    access
        .create_tenant(&NewTenant {
            tenant_id: id.into(),
            name: id.into(),
            invoice_prefix: None,
            credit_note_prefix: None,
            rate_limit_per_second: rate,
            concurrency_limit: concurrency,
        })
        .await
        .unwrap();
    access.create_token(id, "agent", Role::Admin, None).await.unwrap().secret
}

async fn send(app: &TestApp, token: &str, session: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(&app.url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", PROTOCOL)
        .json(body);
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body = if status == StatusCode::ACCEPTED { Value::Null } else { res.json().await.unwrap() };
    (status, body)
}

async fn open(app: &TestApp, token: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                      "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "q", "version": "1"}}});
    let res = app
        .client
        .post(&app.url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
    res.headers()["mcp-session-id"].to_str().unwrap().to_owned()
}

#[sqlx::test]
async fn a_tenant_flooding_past_its_rate_does_not_starve_another(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--tokens-only"]).await;
    let flooder = tenant_with_token(&app, "flood", Some(5), None).await;
    let quiet = tenant_with_token(&app, "quiet", None, None).await;
    let (fs, qs) = (open(&app, &flooder).await, open(&app, &quiet).await);
    let ping = |id: u64| json!({"jsonrpc": "2.0", "id": id, "method": "ping"});

    let started = Instant::now();
    let floods = join_all((0..60).map(|i| {
        let (app, flooder, fs, ping) = (&app, &flooder, &fs, ping(i));
        async move { send(app, flooder, Some(fs), &ping).await }
    }));
    let quiets = join_all((0..20).map(|i| {
        let (app, quiet, qs, ping) = (&app, &quiet, &qs, ping(100 + i));
        async move { send(app, quiet, Some(qs), &ping).await }
    }));
    let (floods, quiets) = tokio::join!(floods, quiets);
    let elapsed = started.elapsed().as_secs_f64();

    assert!(quiets.iter().all(|(s, _)| *s == StatusCode::OK), "the quiet tenant is never refused: {quiets:?}");
    let admitted = floods.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    // GCRA: a burst of 5, then 5 a second. The bound allows for however long the burst took.
    let most = 5 + (elapsed * 5.0).ceil() as usize + 1;
    assert!((1..=most).contains(&admitted), "{admitted} of 60 admitted in {elapsed:.2}s (at most {most})");
    for (status, body) in floods.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        let data = &body["error"]["data"];
        assert_eq!(body["error"]["code"], -32010);
        assert_eq!(data["retryable"], true);
        assert!(data["retry_after_ms"].as_u64().unwrap() > 0);
        assert_eq!(data["limit"], json!({"scope": "tenant", "tenant_id": "flood", "requests_per_second": 5}));
        assert!(body["error"]["message"].as_str().unwrap().contains("tenant"), "{body}");
    }
}

#[sqlx::test]
async fn a_tenant_at_its_concurrency_quota_is_refused_while_another_is_served(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--tokens-only", "--tenant-concurrency-limit", "1"]).await;
    let busy = tenant_with_token(&app, "busy", None, None).await;
    let other = tenant_with_token(&app, "other", None, None).await;
    let (bs, os) = (open(&app, &busy).await, open(&app, &other).await);
    let create = |id: u64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "create_invoice", "arguments": widget_invoice("cust_q")}})
    };
    let (_, made) = send(&app, &busy, Some(&bs), &create(1)).await;
    let invoice = made["result"]["structuredContent"]["invoice_id"].as_str().unwrap().to_owned();

    // Hold the invoice's row so that busy's send_invoice waits inside its one allowed call.
    let mut lock = app.pool.begin().await.unwrap();
    sqlx::query("select 1 from invoices where tenant_id = 'busy' for update").execute(&mut *lock).await.unwrap();
    let send_call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                           "params": {"name": "send_invoice", "arguments": {"invoice_id": invoice}}});
    let held = tokio::spawn({
        let (client, url, busy, bs) = (app.client.clone(), app.url.clone(), busy.clone(), bs.clone());
        async move {
            client
                .post(&url)
                .bearer_auth(&busy)
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", PROTOCOL)
                .header("mcp-session-id", &bs)
                .json(&send_call)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    // Until Postgres shows the call waiting on the lock (bounded: a stuck call fails the test).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar("select count(*) from pg_stat_activity where wait_event_type = 'Lock'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "send_invoice never reached the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (status, body) = send(&app, &busy, Some(&bs), &json!({"jsonrpc": "2.0", "id": 3, "method": "ping"})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], -32011);
    assert_eq!(body["error"]["data"]["limit"], json!({"scope": "tenant", "tenant_id": "busy", "concurrency": 1}));
    assert_eq!(body["error"]["data"]["retryable"], true);
    let (status, _) = send(&app, &other, Some(&os), &create(4)).await;
    assert_eq!(status, StatusCode::OK, "another tenant is served meanwhile");

    lock.rollback().await.unwrap();
    assert_eq!(held.await.unwrap(), StatusCode::OK);
    let (status, _) = send(&app, &busy, Some(&bs), &json!({"jsonrpc": "2.0", "id": 5, "method": "ping"})).await;
    assert_eq!(status, StatusCode::OK, "the permit came back");
}
