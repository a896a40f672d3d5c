//! Money under concurrency: racing sends get gapless numbers, racing payments never
//! over-apply, and one idempotency key makes one write, for every write tool.

use futures_util::future::join_all;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, pool, spawn_app, widget_invoice};

async fn sent_invoice(app: &TestApp, s: &str, cents: i64) -> String {
    app.customer(s, "cust_c").await;
    let args = json!({"customer_id": "cust_c", "line_items": [{"description": "Work", "amount_cents": cents}]});
    let id = app.ok(s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned();
    app.ok(s, "send_invoice", json!({"invoice_id": id})).await;
    id
}

#[sqlx::test]
async fn fifty_racing_sends_get_numbers_one_to_fifty(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let mut drafts = Vec::new();
    for i in 0..50 {
        app.customer(&s, &format!("cust_{i}")).await;
        drafts.push(app.ok(&s, "create_invoice", widget_invoice(&format!("cust_{i}"))).await["invoice_id"].clone());
    }
    let sends = drafts.iter().map(|id| app.ok(&s, "send_invoice", json!({"invoice_id": id})));
    let mut numbers: Vec<String> =
        join_all(sends).await.iter().map(|i| i["number"].as_str().unwrap().to_owned()).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("INV-{n:06}")).collect();
    assert_eq!(numbers, expected, "no gap, no duplicate");
}

#[sqlx::test]
async fn twenty_racing_ten_percent_payments_settle_exactly(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let id = sent_invoice(&app, &s, 10_000).await;
    let pays = (0..20).map(|_| app.call(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 1000})));
    let results = join_all(pays).await;
    let ok = results.iter().filter(|r| r["isError"] == false).count();
    let refused: Vec<&Value> = results.iter().filter(|r| r["isError"] == true).collect();
    assert_eq!(ok, 10, "exactly ten fit");
    for r in &refused {
        let code = r["structuredContent"]["error"]["code"].as_str().unwrap();
        assert!(code == "invalid_state" || code == "overpayment", "{r}");
    }
    let invoice = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    assert_eq!((invoice["amount_paid_cents"].as_i64(), invoice["status"].as_str()), (Some(10_000), Some("paid")));
    assert_eq!(app.count("payments").await, 10);
}

#[sqlx::test]
async fn one_key_one_write_for_every_write_tool(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let draft_id = app.ok(&s, "create_invoice", widget_invoice("cust_k")).await["invoice_id"].clone();
    let to_void = app.ok(&s, "create_invoice", widget_invoice("cust_k")).await["invoice_id"].clone();
    let to_pay = sent_invoice(&app, &s, 5000).await;
    // (tool, arguments, the same key's arguments changed)
    let calls: Vec<(&str, Value, Value)> = vec![
        (
            "upsert_customer",
            json!({"customer_id": "cust_k", "name": "K"}),
            json!({"customer_id": "cust_k", "name": "Other"}),
        ),
        ("create_invoice", widget_invoice("cust_k"), widget_invoice("cust_other")),
        (
            "update_draft_invoice",
            json!({"invoice_id": draft_id, "memo": "once"}),
            json!({"invoice_id": draft_id, "memo": "twice"}),
        ),
        ("send_invoice", json!({"invoice_id": draft_id}), json!({"invoice_id": to_void})),
        (
            "apply_payment",
            json!({"invoice_id": to_pay, "amount_cents": 100}),
            json!({"invoice_id": to_pay, "amount_cents": 101}),
        ),
        (
            "void_invoice",
            json!({"invoice_id": to_void, "reason": "duplicate"}),
            json!({"invoice_id": to_void, "reason": "other"}),
        ),
    ];
    for (tool, mut args, mut other) in calls {
        args["idempotency_key"] = json!(format!("key-{tool}"));
        other["idempotency_key"] = args["idempotency_key"].clone();
        let events_before = app.count("audit_events").await;
        // Ten at once with one key: one write, and every caller sees its result.
        let results = join_all((0..10).map(|_| app.ok(&s, tool, args.clone()))).await;
        assert!(results.iter().all(|r| *r == results[0]), "{tool}: every caller gets the first result");
        assert_eq!(app.count("audit_events").await, events_before + 1, "{tool}: one write");
        assert_eq!(app.ok(&s, tool, args.clone()).await, results[0], "{tool}: a later retry replays");
        let err = app.refused(&s, tool, other).await;
        assert_eq!(err["code"], "idempotency_conflict", "{tool}");
        assert_eq!(app.count("audit_events").await, events_before + 1, "{tool}: a conflict writes nothing");
    }
    assert_eq!(app.count("payments").await, 1);
}

/// The reply's text block, as the bytes Tally sent.
async fn reply_text(app: &TestApp, s: &str, tool: &str, args: &Value) -> String {
    let res = app
        .post(
            Some(s),
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                        "params": {"name": tool, "arguments": args}}),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["result"]["isError"], false, "{body}");
    body["result"]["content"][0]["text"].as_str().unwrap().to_owned()
}

#[sqlx::test]
async fn a_keyed_repeat_answers_with_the_first_replys_very_text(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    app.customer(&s, "cust_bytes").await;
    let mut args = widget_invoice("cust_bytes");
    args["idempotency_key"] = json!("bytes-1");
    let first = reply_text(&app, &s, "create_invoice", &args).await;
    let kept: String =
        sqlx::query_scalar("select response::text from idempotency_keys").fetch_one(&app.pool).await.unwrap();
    assert_eq!(kept, first, "the key keeps the reply's text as sent");
    assert_eq!(reply_text(&app, &s, "create_invoice", &args).await, first, "a repeat sends the same text");
    // Even after the invoice moved on: a repeat is the first answer, not today's state.
    let id = serde_json::from_str::<Value>(&first).unwrap()["invoice_id"].clone();
    app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    assert_eq!(reply_text(&app, &s, "create_invoice", &args).await, first);
}

#[sqlx::test]
async fn keys_are_kept_a_day_then_pruned(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let mut args = widget_invoice("cust_old");
    args["idempotency_key"] = json!("old-key");
    let first = app.ok(&s, "create_invoice", args.clone()).await;
    assert_eq!(tally::domain::idempotency::prune(&app.pool).await.unwrap(), 0, "a fresh key is kept");
    sqlx::query("update idempotency_keys set created_at = now() - interval '25 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    let second = app.ok(&s, "create_invoice", args).await;
    assert_ne!(first["invoice_id"], second["invoice_id"], "an expired key is a new key");
    sqlx::query("update idempotency_keys set created_at = now() - interval '25 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(tally::domain::idempotency::prune(&app.pool).await.unwrap(), 1);
    assert_eq!(app.count("idempotency_keys").await, 0);
}

#[sqlx::test]
async fn a_result_stored_by_an_older_version_is_an_actionable_error(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let mut args = widget_invoice("cust_old_shape");
    args["idempotency_key"] = json!("old-shape");
    let first = app.ok(&s, "create_invoice", args.clone()).await;
    // As if an earlier Tally had kept a result of another shape under this key.
    sqlx::query(
        "update idempotency_keys set response = '{\"invoice_id\": \"inv_x\", \"total\": 1}', result_shape = 'older'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let err = app.refused(&s, "create_invoice", args).await;
    assert_eq!(err["code"], "idempotency_result_unavailable");
    assert!(err["message"].as_str().unwrap().contains("get_invoice"), "{err}");
    assert_eq!(app.count("invoices").await, 1, "still one write");
    assert_eq!(
        app.ok(&s, "get_invoice", json!({"invoice_id": first["invoice_id"]})).await["invoice_id"],
        first["invoice_id"]
    );
}
