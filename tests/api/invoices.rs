//! The invoice tools end to end: create, get, list, idempotency, validation that changes nothing.

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, pool, spawn_app, widget_invoice};

async fn output_schema(app: &TestApp, session: &str, tool: &str) -> jsonschema::Validator {
    let list = app.rpc(session, "tools/list", json!({})).await;
    let tool = list["result"]["tools"].as_array().unwrap().iter().find(|t| t["name"] == tool).unwrap().clone();
    jsonschema::validator_for(&tool["outputSchema"]).unwrap()
}

#[sqlx::test]
async fn create_get_and_list_round_trip(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let created = app
        .ok(
            &s,
            "create_invoice",
            json!({"customer_id": "cust_42", "due_date": "2030-01-31", "memo": "March work",
                   "line_items": [{"description": "Widget", "amount_cents": 1000, "quantity": 3},
                                  {"description": "Setup", "amount_cents": 250}]}),
        )
        .await;
    assert!(output_schema(&app, &s, "create_invoice").await.is_valid(&created), "{created}");
    let id = created["invoice_id"].as_str().unwrap();
    assert!(id.starts_with("inv_") && id.len() == 36);
    assert_eq!(created["status"], "draft");
    assert_eq!(created["currency"], "USD", "the default currency");
    assert_eq!(created["total_cents"], 3250, "computed by the server");
    assert_eq!(created["amount_due_cents"], 3250);
    assert_eq!(created["line_items"][0]["line_total_cents"], 3000);
    assert_eq!(created["line_items"][1]["quantity"], 1, "quantity defaults to 1");

    let fetched = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    assert!(output_schema(&app, &s, "get_invoice").await.is_valid(&fetched));
    assert_eq!(fetched, created, "get returns what create returned");

    let page = app.ok(&s, "list_invoices", json!({})).await;
    assert!(output_schema(&app, &s, "list_invoices").await.is_valid(&page), "{page}");
    assert_eq!(page["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(page["invoices"][0]["invoice_id"], id);
    assert_eq!(page["next_cursor"], Value::Null);
    assert_eq!(app.count("invoice_lines").await, 2);
}

#[sqlx::test]
async fn money_stays_exact_in_any_currency(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let yen = app
        .ok(&s, "create_invoice", json!({"customer_id": "jp_1", "currency": "JPY", "line_items": [{"description": "Tea", "amount_cents": 1500, "quantity": 7}]}))
        .await;
    assert_eq!((yen["currency"].as_str(), yen["total_cents"].as_i64()), (Some("JPY"), Some(10_500)));
    let err = app
        .refused(&s, "create_invoice", json!({"customer_id": "x", "line_items": (0..100).map(|_| json!({"description": "Big", "amount_cents": 10_000_000_000_i64, "quantity": 1_000_000})).collect::<Vec<_>>()}))
        .await;
    assert_eq!(err["code"], "invalid_params");
    assert_eq!(err["errors"][0]["path"], "line_items");
    assert_eq!(err["errors"][0]["code"], "out_of_range");
    assert_eq!(app.count("invoices").await, 1);
}

#[sqlx::test]
async fn bad_params_report_every_problem_and_change_nothing(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let err = app
        .refused(
            &s,
            "create_invoice",
            json!({"customerId": "cust_1", "currency": "usd", "due_date": "2025-02-30",
                   "line_items": [{"description": "ok", "amount_cents": 1},
                                  {"description": "", "amount_cents": 5},
                                  {"description": "neg", "amount_cents": -5, "quantity": 0}],
                   "idempotency_key": "k1"}),
        )
        .await;
    assert_eq!(err["code"], "invalid_params");
    let errors = err["errors"].as_array().unwrap();
    let at =
        |path: &str| errors.iter().find(|e| e["path"] == path).unwrap_or_else(|| panic!("no error at {path}: {err}"));
    assert_eq!(at("customer_id")["code"], "required");
    assert_eq!(at("currency")["code"], "invalid_format");
    assert_eq!(at("currency")["received"], "usd");
    assert_eq!(at("due_date")["code"], "invalid_format");
    assert_eq!(at("line_items[1].description")["code"], "too_short");
    let amount = at("line_items[2].amount_cents");
    assert_eq!(amount["code"], "out_of_range");
    assert_eq!(amount["received"], -5);
    assert!(amount["expected"].as_str().unwrap().contains("integer"), "{amount}");
    assert_eq!(at("line_items[2].quantity")["code"], "out_of_range");
    let unknown = at("customerId");
    assert_eq!(unknown["code"], "unknown_field");
    assert!(unknown["suggestion"].as_str().unwrap().contains("customer_id"), "{unknown}");
    assert!(err["message"].as_str().unwrap().starts_with(&format!("{} problems", errors.len())));
    for table in ["invoices", "invoice_lines", "idempotency_keys"] {
        assert_eq!(app.count(table).await, 0, "{table}: a refused call writes nothing");
    }

    let err = app.refused(&s, "create_invoice", json!({"customer_id": "c", "line_items": []})).await;
    assert_eq!(err["path"], "line_items", "a single problem is also given at the top");
    assert_eq!(err["errors"][0]["code"], "too_few_items");
    let err = app.refused(&s, "list_invoices", json!({"status": "Paid", "limit": 500})).await;
    let codes: Vec<&str> = err["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["not_allowed", "out_of_range"]);
    assert_eq!(err["errors"][0]["allowed"], json!(["draft", "sent", "paid", "overdue", "void", "written_off"]));
}

#[sqlx::test]
async fn an_idempotency_key_never_duplicates(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let args = json!({"customer_id": "cust_1", "idempotency_key": "order-77",
                      "line_items": [{"description": "Widget", "amount_cents": 1000}]});
    let first = app.ok(&s, "create_invoice", args.clone()).await;
    let again = app.ok(&s, "create_invoice", args.clone()).await;
    assert_eq!(first, again, "a repeat returns the first result");
    assert_eq!(app.count("invoices").await, 1);

    let mut changed = args.clone();
    changed["line_items"][0]["amount_cents"] = json!(999);
    let err = app.refused(&s, "create_invoice", changed).await;
    assert_eq!(err["code"], "idempotency_conflict");
    assert_eq!(err["path"], "idempotency_key");
    assert_eq!(app.count("invoices").await, 1);

    // Concurrent calls with one fresh key: one write, every caller gets it.
    let key_args = json!({"customer_id": "cust_2", "idempotency_key": "race-1",
                          "line_items": [{"description": "Widget", "amount_cents": 1000}]});
    let calls = (0..10).map(|_| app.ok(&s, "create_invoice", key_args.clone()));
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(|r| r["invoice_id"] == results[0]["invoice_id"]));
    assert_eq!(app.count("invoices").await, 2);
}

#[sqlx::test]
async fn pages_through_three_pages_newest_first(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    for i in 0..25 {
        app.ok(&s, "create_invoice", widget_invoice("cust_a")).await;
        if i % 5 == 0 {
            app.ok(&s, "create_invoice", widget_invoice("cust_b")).await;
        }
    }
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    let mut sizes = Vec::new();
    loop {
        let mut args = json!({"customer_id": "cust_a", "limit": 10});
        if !cursor.is_null() {
            args["cursor"] = cursor.clone();
        }
        let page = app.ok(&s, "list_invoices", args).await;
        let invoices = page["invoices"].as_array().unwrap();
        sizes.push(invoices.len());
        seen.extend(
            invoices
                .iter()
                .map(|i| (i["created_at"].as_str().unwrap().to_owned(), i["invoice_id"].as_str().unwrap().to_owned())),
        );
        assert!(invoices.iter().all(|i| i["customer_id"] == "cust_a"));
        cursor = page["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(sizes, [10, 10, 5]);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, no repeats");
    sorted.dedup();
    assert_eq!(sorted.len(), 25);

    let first = app.ok(&s, "list_invoices", json!({"customer_id": "cust_a", "limit": 10})).await;
    let err = app.refused(&s, "list_invoices", json!({"customer_id": "cust_b", "cursor": first["next_cursor"]})).await;
    assert_eq!((err["code"].as_str(), err["path"].as_str()), (Some("invalid_cursor"), Some("cursor")));
    let err = app.refused(&s, "list_invoices", json!({"cursor": "not-a-cursor"})).await;
    assert_eq!(err["code"], "invalid_cursor");
}

#[sqlx::test]
async fn statuses_filter_and_overdue_is_derived(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    app.customer(&s, "cust_s").await;
    let create = async |due: &str| {
        let mut args = widget_invoice("cust_s");
        args["due_date"] = json!(due);
        app.ok(&s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned()
    };
    let (late, on_time, voided, paid, draft) = (
        create("2020-01-01").await,
        create("2099-01-01").await,
        create("2020-01-01").await,
        create("2099-01-01").await,
        create("2099-01-01").await,
    );
    // Issued on or before their due dates, in date order (a due date never precedes the issue date).
    for id in [&late, &voided] {
        app.ok(&s, "send_invoice", json!({"invoice_id": id, "issue_date": "2020-01-01"})).await;
    }
    for id in [&on_time, &paid] {
        app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    }
    app.ok(&s, "void_invoice", json!({"invoice_id": voided, "reason": "test"})).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": paid, "amount_cents": 1000})).await;
    let only = |status: &'static str| {
        let app = &app;
        let s = &s;
        async move {
            let page = app.ok(s, "list_invoices", json!({"status": status})).await;
            page["invoices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["invoice_id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(only("overdue").await, std::slice::from_ref(&late));
    assert_eq!(only("sent").await, [on_time]);
    assert_eq!(only("void").await, [voided]);
    assert_eq!(only("paid").await, [paid]);
    assert_eq!(only("draft").await, [draft]);
    let overdue = app.ok(&s, "get_invoice", json!({"invoice_id": late})).await;
    assert_eq!(overdue["status"], "overdue");
}

#[sqlx::test]
async fn unknown_and_malformed_invoice_ids(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let missing = format!("inv_{}", "0".repeat(32));
    let err = app.refused(&s, "get_invoice", json!({"invoice_id": missing})).await;
    assert_eq!(err["code"], "not_found");
    let err = app.refused(&s, "get_invoice", json!({"invoice_id": "INV-000001"})).await;
    assert_eq!(err["errors"][0]["code"], "pattern_mismatch");
    assert_eq!(err["errors"][0]["path"], "invoice_id");
}
