//! The state machine through the tools: update, send (numbering, terms), pay, void, and every
//! refusal with what the agent can do instead.

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, pool, spawn_app, widget_invoice};

async fn draft(app: &TestApp, s: &str, customer: &str, cents: i64) -> String {
    app.customer(s, customer).await;
    let args = json!({"customer_id": customer, "line_items": [{"description": "Work", "amount_cents": cents}]});
    app.ok(s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned()
}

async fn today(app: &TestApp) -> chrono::NaiveDate {
    sqlx::query_scalar("select (now() at time zone 'utc')::date").fetch_one(&app.pool).await.unwrap()
}

#[sqlx::test]
async fn update_draft_replaces_what_it_is_given(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let id = draft(&app, &s, "cust_u", 1000).await;
    let updated = app
        .ok(&s, "update_draft_invoice", json!({"invoice_id": id, "memo": "Net 15",
            "line_items": [{"description": "A", "amount_cents": 700, "quantity": 2}, {"description": "B", "amount_cents": 50}]}))
        .await;
    assert_eq!(updated["total_cents"], 1450, "the total follows the new lines");
    assert_eq!(updated["line_items"].as_array().unwrap().len(), 2);
    assert_eq!(updated["memo"], "Net 15");
    assert_eq!(updated["currency"], "USD", "what was not given stays");
    let again = app.ok(&s, "update_draft_invoice", json!({"invoice_id": id, "currency": "EUR"})).await;
    assert_eq!(
        (again["currency"].as_str(), again["total_cents"].as_i64(), again["memo"].as_str()),
        (Some("EUR"), Some(1450), Some("Net 15"))
    );
    assert_eq!(app.count("invoice_lines").await, 2, "old lines are gone");

    app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    let err = app.refused(&s, "update_draft_invoice", json!({"invoice_id": id, "memo": "late"})).await;
    assert_eq!(err["code"], "invalid_state");
    assert_eq!(err["details"]["current_status"], "sent");
    assert_eq!(
        err["details"]["allowed_actions"],
        json!(["apply_payment", "void_invoice", "create_credit_note", "apply_customer_credit", "write_off_invoice"])
    );
}

#[sqlx::test]
async fn sending_numbers_dates_and_refuses_what_cannot_be_sent(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    app.ok(&s, "upsert_customer", json!({"customer_id": "net15", "name": "Net Fifteen", "payment_terms_days": 15}))
        .await;
    let first = draft(&app, &s, "net15", 1000).await;
    let second = draft(&app, &s, "walk_in", 500).await;
    let sent = app.ok(&s, "send_invoice", json!({"invoice_id": first})).await;
    let today = today(&app).await;
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["number"], "INV-000001");
    assert!(sent["issued_at"].is_string());
    assert_eq!(sent["due_date"], (today + chrono::Days::new(15)).to_string(), "the customer's terms");
    let other = app.ok(&s, "send_invoice", json!({"invoice_id": second})).await;
    assert_eq!(other["number"], "INV-000002");
    assert_eq!(
        other["due_date"],
        (today + chrono::Days::new(30)).to_string(),
        "default terms for customers added without terms"
    );

    let err = app.refused(&s, "send_invoice", json!({"invoice_id": first})).await;
    assert_eq!(err["code"], "invalid_state");
    assert_eq!(err["details"]["current_status"], "sent");

    let zero = draft(&app, &s, "walk_in", 0).await;
    let err = app.refused(&s, "send_invoice", json!({"invoice_id": zero})).await;
    assert_eq!(err["code"], "zero_total");
    let unchanged = app.ok(&s, "get_invoice", json!({"invoice_id": zero})).await;
    assert_eq!((unchanged["status"].as_str(), &unchanged["number"]), (Some("draft"), &Value::Null));
    let third = draft(&app, &s, "walk_in", 1).await;
    assert_eq!(
        app.ok(&s, "send_invoice", json!({"invoice_id": third})).await["number"],
        "INV-000003",
        "a refusal used no number"
    );
}

#[sqlx::test]
async fn payments_partial_full_and_refused(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let id = draft(&app, &s, "cust_p", 10_000).await;
    let err = app.refused(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 100})).await;
    assert_eq!(
        (err["code"].as_str(), err["details"]["current_status"].as_str()),
        (Some("invalid_state"), Some("draft"))
    );
    assert!(err["message"].as_str().unwrap().contains("send_invoice"), "says what to do first: {err}");

    app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    let part = app
        .ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 2500, "method": "card", "reference": "auth-1", "paid_at": "2026-01-02"}))
        .await;
    assert_eq!(
        (part["status"].as_str(), part["amount_paid_cents"].as_i64(), part["amount_due_cents"].as_i64()),
        (Some("sent"), Some(2500), Some(7500))
    );
    assert_eq!(part["payment"]["method"], "card");
    assert!(part["payment"]["paid_at"].as_str().unwrap().starts_with("2026-01-02"));
    assert!(part["payment"]["payment_id"].as_str().unwrap().starts_with("pay_"));

    let err = app.refused(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 7501})).await;
    assert_eq!(err["code"], "overpayment");
    assert_eq!(err["details"]["amount_due_cents"], 7500, "the error names what is due");
    assert!(err["message"].as_str().unwrap().contains("75.00 USD"), "{err}");

    let full = app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 7500})).await;
    assert_eq!((full["status"].as_str(), full["amount_due_cents"].as_i64()), (Some("paid"), Some(0)));
    let err = app.refused(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 1})).await;
    assert_eq!(
        (err["code"].as_str(), err["details"]["current_status"].as_str()),
        (Some("invalid_state"), Some("paid"))
    );
    let invoice = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    assert_eq!(invoice["payments"].as_array().unwrap().len(), 2);
    assert_eq!(invoice["amount_due_formatted"], "0.00 USD");
    assert_eq!(app.count("payments").await, 2, "refusals wrote nothing");

    let err =
        app.refused(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 1, "paid_at": "2099-01-01"})).await;
    assert_eq!(err["errors"][0]["path"], "paid_at", "a payment from the future is a validation error");
}

#[sqlx::test]
async fn money_in_currencies_with_other_exponents(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    for (currency, cents, formatted) in
        [("JPY", 1500, "1500 JPY"), ("KWD", 1500, "1.500 KWD"), ("EUR", 1505, "15.05 EUR")]
    {
        app.customer(&s, "fx").await;
        let args = json!({"customer_id": "fx", "currency": currency, "line_items": [{"description": "x", "amount_cents": cents}]});
        let inv = app.ok(&s, "create_invoice", args).await;
        assert_eq!(inv["amount_due_formatted"], formatted);
        app.ok(&s, "send_invoice", json!({"invoice_id": inv["invoice_id"]})).await;
        let paid = app.ok(&s, "apply_payment", json!({"invoice_id": inv["invoice_id"], "amount_cents": cents})).await;
        assert_eq!(
            (paid["currency"].as_str(), paid["payment"]["currency"].as_str()),
            (Some(currency), Some(currency)),
            "a payment is in the invoice's currency"
        );
    }
}

#[sqlx::test]
async fn voiding_and_its_refusals(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let a_draft = draft(&app, &s, "cust_v", 1000).await;
    let voided = app.ok(&s, "void_invoice", json!({"invoice_id": a_draft, "reason": "Duplicate"})).await;
    assert_eq!((voided["status"].as_str(), voided["void_reason"].as_str()), (Some("void"), Some("Duplicate")));
    assert!(voided["voided_at"].is_string());

    let sent = draft(&app, &s, "cust_v", 1000).await;
    let number = app.ok(&s, "send_invoice", json!({"invoice_id": sent})).await["number"].clone();
    let voided = app.ok(&s, "void_invoice", json!({"invoice_id": sent, "reason": "Wrong customer"})).await;
    assert_eq!(voided["number"], number, "a voided invoice keeps its number, so numbers stay gapless");

    let partly = draft(&app, &s, "cust_v", 1000).await;
    app.ok(&s, "send_invoice", json!({"invoice_id": partly})).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": partly, "amount_cents": 10})).await;
    let err = app.refused(&s, "void_invoice", json!({"invoice_id": partly, "reason": "x"})).await;
    assert_eq!(err["code"], "invalid_state");
    assert!(err["message"].as_str().unwrap().contains("cannot be voided"), "{err}");
    assert_eq!(
        err["details"]["allowed_actions"],
        json!(["apply_payment", "create_credit_note", "apply_customer_credit", "write_off_invoice"])
    );

    let err = app.refused(&s, "void_invoice", json!({"invoice_id": a_draft, "reason": "again"})).await;
    assert_eq!(err["details"]["current_status"], "void");
    let err = app.refused(&s, "void_invoice", json!({"invoice_id": a_draft})).await;
    assert_eq!(err["errors"][0]["path"], "reason", "a reason is required");
    let err = app.refused(&s, "send_invoice", json!({"invoice_id": a_draft})).await;
    assert_eq!(err["code"], "invalid_state");
}

#[sqlx::test]
async fn history_records_every_change_with_its_origin(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    app.customer(&s, "cust_h").await;
    let mut args = widget_invoice("cust_h");
    args["idempotency_key"] = json!("create-h");
    let id = app.ok(&s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned();
    app.ok(&s, "update_draft_invoice", json!({"invoice_id": id, "memo": "m"})).await;
    app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 400, "idempotency_key": "pay-h-1"})).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 600})).await;
    let invoice = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    let history = invoice["history"].as_array().unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["created", "updated", "sent", "payment_applied", "payment_applied"]);
    let moves: Vec<(Value, Value)> =
        history.iter().map(|e| (e["from_status"].clone(), e["to_status"].clone())).collect();
    assert_eq!(moves[2], (json!("draft"), json!("sent")));
    assert_eq!(moves[4], (json!("sent"), json!("paid")));
    assert_eq!(history[0]["via"], "create_invoice");
    assert_eq!(history[0]["idempotency_key"], "create-h");
    assert_eq!(history[3]["amount_cents"], 400);
    assert_eq!(history[3]["idempotency_key"], "pay-h-1");
    assert!(history.iter().all(|e| e["session_id"] == s.as_str()), "every change names its session");

    let tamper = sqlx::query("update audit_events set action = 'nothing'").execute(&app.pool).await;
    assert!(tamper.unwrap_err().to_string().contains("append-only"));
    let erase = sqlx::query("delete from audit_events").execute(&app.pool).await;
    assert!(erase.is_err());
}

#[sqlx::test]
async fn customers_upsert_get_and_list(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let created = app
        .ok(&s, "upsert_customer", json!({"customer_id": "acme", "name": "Acme Ltd", "email": "ap@acme.example"}))
        .await;
    assert_eq!(
        (created["created"].as_bool(), created["payment_terms_days"].as_i64(), created["currency"].as_str()),
        (Some(true), Some(30), Some("USD"))
    );
    let updated = app
        .ok(&s, "upsert_customer", json!({"customer_id": "acme", "name": "ACME Limited", "payment_terms_days": 45}))
        .await;
    assert_eq!(updated["created"], false);
    assert_eq!(
        (updated["name"].as_str(), updated["email"].as_str(), updated["payment_terms_days"].as_i64()),
        (Some("ACME Limited"), Some("ap@acme.example"), Some(45))
    );

    let err =
        app.refused(&s, "upsert_customer", json!({"customer_id": "bad", "name": "B", "email": "not-an-email"})).await;
    assert_eq!(err["errors"][0]["path"], "email");
    let err = app.refused(&s, "get_customer", json!({"customer_id": "nobody"})).await;
    assert_eq!(err["code"], "not_found");

    let id = draft(&app, &s, "acme", 5000).await;
    app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 1000})).await;
    let account = app.ok(&s, "get_customer", json!({"customer_id": "acme"})).await;
    assert_eq!(account["outstanding"][0]["outstanding_cents"], 4000);
    assert_eq!(account["outstanding"][0]["open_invoices"], 1);

    for (i, name) in ["Beta Corp", "beta labs", "Gamma", "Alpha Beta"].iter().enumerate() {
        app.ok(&s, "upsert_customer", json!({"customer_id": format!("c{i}"), "name": name})).await;
    }
    let page = app.ok(&s, "list_customers", json!({"query": "BETA", "limit": 2})).await;
    let names = |p: &Value| {
        p["customers"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(names(&page), ["Alpha Beta", "Beta Corp"]);
    let next = app.ok(&s, "list_customers", json!({"query": "BETA", "limit": 2, "cursor": page["next_cursor"]})).await;
    assert_eq!(names(&next), ["beta labs"]);
    assert_eq!(next["next_cursor"], Value::Null);
    let all = app.ok(&s, "list_customers", json!({})).await;
    assert_eq!(all["customers"].as_array().unwrap().len(), 5);
}

#[sqlx::test]
async fn nothing_is_due_on_a_void_invoice(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let id = draft(&app, &s, "cust_z", 1000).await;
    app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    let voided = app.ok(&s, "void_invoice", json!({"invoice_id": id, "reason": "sent twice"})).await;
    assert_eq!((voided["total_cents"].as_i64(), voided["amount_due_cents"].as_i64()), (Some(1000), Some(0)));
    assert_eq!(voided["amount_due_formatted"], "0.00 USD");
    let listed = app.ok(&s, "list_invoices", json!({"status": "void"})).await;
    assert_eq!(listed["invoices"][0]["amount_due_cents"], 0);
}
