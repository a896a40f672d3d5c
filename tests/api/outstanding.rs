//! list_outstanding against hand-computed fixtures: as of 2025-06-30, with invoices issued
//! 2025-01-01 (backdated), due on chosen days, some partly paid before or after that date.

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, pool, spawn_app};

/// A sent invoice of `cents` due `due`, issued on `issued` (backdated: issue in date order).
async fn issued(app: &TestApp, s: &str, customer: &str, currency: &str, cents: i64, due: &str, issued: &str) -> String {
    let args = json!({"customer_id": customer, "currency": currency, "due_date": due,
                      "line_items": [{"description": "Work", "amount_cents": cents}]});
    app.customer(s, customer).await;
    let id = app.ok(s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned();
    app.ok(s, "send_invoice", json!({"invoice_id": id, "issue_date": issued})).await;
    id
}

fn aging(current: i64, d30: i64, d60: i64, d90: i64, over: i64) -> Value {
    json!({"current_cents": current, "days_1_30_cents": d30, "days_31_60_cents": d60, "days_61_90_cents": d90, "over_90_cents": over})
}

#[sqlx::test]
async fn aging_buckets_match_hand_computed_fixtures(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let jan = "2025-01-01";
    issued(&app, &s, "a", "USD", 1000, "2025-07-10", jan).await; // not yet due: current
    issued(&app, &s, "a", "USD", 2000, "2025-06-30", jan).await; // due that day: current
    let part = issued(&app, &s, "a", "USD", 3000, "2025-06-29", jan).await; // 1 day late, 500 paid before
    issued(&app, &s, "a", "USD", 4000, "2025-05-31", jan).await; // 30 days late
    issued(&app, &s, "a", "USD", 5000, "2025-05-30", jan).await; // 31 days late
    issued(&app, &s, "a", "USD", 6000, "2025-04-01", jan).await; // 90 days late
    let late_paid = issued(&app, &s, "a", "USD", 7000, "2025-03-31", jan).await; // 91 days late, paid after the date
    issued(&app, &s, "a", "EUR", 800, "2025-06-01", jan).await; // 29 days late, in euros
    let voided_later = issued(&app, &s, "b", "USD", 900, "2025-06-30", jan).await; // voided today: open back then
    let paid_before = issued(&app, &s, "b", "USD", 10_000, "2025-06-30", jan).await; // paid in full before the date
    issued(&app, &s, "b", "USD", 1100, "2025-08-01", "2025-07-15").await; // issued after the date
    app.ok(&s, "apply_payment", json!({"invoice_id": part, "amount_cents": 500, "paid_at": "2025-06-01"})).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": late_paid, "amount_cents": 7000, "paid_at": "2025-07-05"})).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": paid_before, "amount_cents": 10_000, "paid_at": "2025-06-15"}))
        .await;
    app.ok(&s, "void_invoice", json!({"invoice_id": voided_later, "reason": "sent twice"})).await;

    let report = app.ok(&s, "list_outstanding", json!({"as_of": "2025-06-30"})).await;
    assert_eq!(report["as_of"], "2025-06-30");
    assert_eq!(
        report["balances"],
        json!([
            {"customer_id": "a", "currency": "EUR", "outstanding_cents": 800, "overdue_cents": 800, "open_invoices": 1,
             "oldest_due_date": "2025-06-01", "aging": aging(0, 800, 0, 0, 0), "credit_cents": 0, "balance_cents": 800},
            {"customer_id": "a", "currency": "USD", "outstanding_cents": 27_500, "overdue_cents": 24_500, "open_invoices": 7,
             "oldest_due_date": "2025-03-31", "aging": aging(3000, 6500, 5000, 6000, 7000), "credit_cents": 0,
             "balance_cents": 27_500},
            {"customer_id": "b", "currency": "USD", "outstanding_cents": 900, "overdue_cents": 0, "open_invoices": 1,
             "oldest_due_date": "2025-06-30", "aging": aging(900, 0, 0, 0, 0), "credit_cents": 0, "balance_cents": 900},
        ])
    );

    let eur = app.ok(&s, "list_outstanding", json!({"as_of": "2025-06-30", "currency": "EUR"})).await;
    assert_eq!(eur["balances"].as_array().unwrap().len(), 1);
    let b = app.ok(&s, "list_outstanding", json!({"as_of": "2025-06-30", "customer_id": "b"})).await;
    assert_eq!(b["balances"][0]["outstanding_cents"], 900);

    // Today the late invoice is paid and b's first is void; b still owes the one issued after
    // the report date, and everything is long overdue.
    let now = app.ok(&s, "list_outstanding", json!({})).await;
    let owed: Vec<(&str, &str, i64, i64, i64)> = now["balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let n = |k: &str| b[k].as_i64().unwrap();
            (
                b["customer_id"].as_str().unwrap(),
                b["currency"].as_str().unwrap(),
                n("outstanding_cents"),
                n("overdue_cents"),
                n("open_invoices"),
            )
        })
        .collect();
    assert_eq!(owed, [("a", "EUR", 800, 800, 1), ("a", "USD", 20_500, 20_500, 6), ("b", "USD", 1100, 1100, 1)]);
}
