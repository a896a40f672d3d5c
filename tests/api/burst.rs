//! The burst from the field: 100 agents' creates at once, default limits.

use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{pool, spawn_app};

#[sqlx::test]
async fn a_hundred_concurrent_creates_all_succeed(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let session = app.session().await;
    let calls = (0..100).map(|i| {
        let body = json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"create_invoice","arguments":{
            "customer_id": format!("cust_{i}"), "line_items": [{"description": "Widget", "amount_cents": 1000}]}}});
        let (app, session) = (&app, &session);
        async move {
            let res = app.post(Some(session), &body).await;
            let status = res.status();
            let body: serde_json::Value = res.json().await.unwrap();
            (status, body)
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let ok = results.iter().filter(|(status, body)| status.is_success() && body["result"]["isError"] == false).count();
    assert!(ok >= 95, "only {ok} of 100 succeeded");
    assert_eq!(ok, 100, "with default limits every create succeeds");
    assert_eq!(app.count("invoices").await, 100);
    let per_customer: i64 =
        sqlx::query_scalar("select count(distinct customer_id) from invoices i join invoice_lines l using (invoice_id) where l.description = 'Widget' and l.line_total_cents = 1000")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(per_customer, 100, "each create wrote its one line");
}
