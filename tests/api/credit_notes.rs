//! Credit notes, refunds and customer credit through the tools, with figures worked out by hand in
//! the comments: a partial credit before payment, a full credit after full payment with a refund,
//! a credit after part payment split into what was due and what was paid, a void of a sent VAT
//! invoice, the caps, a race for the last creditable unit, and isolation between tenants.

use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, pool, spawn_app, spawn_app_with};

/// A VAT seller with 19 % and 7 % rates and a customer "kunde" in EUR; the rates' ids.
async fn vat_books(app: &TestApp, s: &str) -> (String, String) {
    app.ok(s, "set_business_profile", json!({"legal_name": "Muster GmbH", "tax_id": "DE136695976"})).await;
    app.ok(s, "set_tax_settings", json!({"tax_mode": "vat"})).await;
    let rate = |name: &str, percent: i64| json!({"name": name, "kind": "vat", "percent": percent, "category": "S"});
    let standard = app.ok(s, "create_tax_rate", rate("USt 19 %", 19)).await["tax_rate_id"].as_str().unwrap().to_owned();
    let reduced = app.ok(s, "create_tax_rate", rate("USt 7 %", 7)).await["tax_rate_id"].as_str().unwrap().to_owned();
    app.ok(s, "upsert_customer", json!({"customer_id": "kunde", "name": "Kunde AG", "currency": "EUR"})).await;
    (standard, reduced)
}

/// Sends 2 × 50.00 at 19 % and 1 × 20.00 at 7 %: 100.00 + 19.00 + 20.00 + 1.40 = 140.40 EUR.
async fn sent_140_40(app: &TestApp, s: &str, standard: &str, reduced: &str) -> String {
    let draft = app
        .ok(
            s,
            "create_invoice",
            json!({"customer_id": "kunde", "currency": "EUR", "line_items": [
                {"description": "Widget", "amount_cents": 5_000, "quantity": 2, "tax_rate_ids": [standard]},
                {"description": "Book", "amount_cents": 2_000, "tax_rate_ids": [reduced]}]}),
        )
        .await;
    assert_eq!(draft["total_cents"], 14_040, "{draft}");
    let id = draft["invoice_id"].as_str().unwrap().to_owned();
    app.ok(s, "send_invoice", json!({"invoice_id": id})).await;
    id
}

async fn outstanding(app: &TestApp, s: &str) -> Value {
    app.ok(s, "list_outstanding", json!({"customer_id": "kunde"})).await["balances"][0].clone()
}

/// The activity statement from the invoice's day to today: every entry, and the closing balance.
async fn statement(app: &TestApp, s: &str) -> Value {
    let today = chrono::Utc::now().date_naive();
    let st = app
        .ok(
            s,
            "get_statement",
            json!({"customer_id": "kunde", "kind": "activity", "from": today.to_string(), "to": today.to_string()}),
        )
        .await;
    st["sections"][0].clone()
}

fn kinds(section: &Value) -> Vec<(String, i64, i64)> {
    section["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["charge_cents"].as_i64().unwrap(),
                e["credit_cents"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[sqlx::test]
async fn a_partial_credit_before_payment_reduces_what_is_due(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let (standard, reduced) = vat_books(&app, &s).await;
    let id = sent_140_40(&app, &s, &standard, &reduced).await;
    // One widget back: 50.00 net, 19 % of it 9.50, 59.50 in all; nothing was paid, so all of it
    // reduces what is due: 140.40 − 59.50 = 80.90.
    let receipt = app
        .ok(
            &s,
            "create_credit_note",
            json!({"invoice_id": id, "reason": "product_unsatisfactory", "lines": [{"line_no": 1, "quantity": 1}],
                   "idempotency_key": "cn-1"}),
        )
        .await;
    let note = &receipt["credit_note"];
    assert_eq!(note["number"], "CN-000001", "{receipt}");
    assert_eq!(note["invoice_number"], "INV-000001");
    assert_eq!(
        (note["subtotal_cents"].as_i64(), note["tax_cents"].as_i64(), note["total_cents"].as_i64()),
        (Some(5_000), Some(950), Some(5_950))
    );
    assert_eq!(note["tax_breakdown"][0]["taxable_cents"], 5_000);
    assert_eq!(note["applied_cents"], 5_950);
    assert_eq!(note["excess_cents"], 0);
    assert_eq!(note["excess_to"], Value::Null);
    assert_eq!(receipt["invoice_status"], "sent", "partly credited, still open");
    assert_eq!(receipt["invoice_amount_due_cents"], 8_090);
    // The same key gives the same credit note, not a second one.
    let again = app
        .ok(
            &s,
            "create_credit_note",
            json!({"invoice_id": id, "reason": "product_unsatisfactory", "lines": [{"line_no": 1, "quantity": 1}],
                   "idempotency_key": "cn-1"}),
        )
        .await;
    assert_eq!(again["credit_note"]["credit_note_id"], note["credit_note_id"]);
    assert_eq!(app.count("credit_notes").await, 1);

    let invoice = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    assert_eq!(invoice["amount_due_cents"], 8_090, "{invoice}");
    assert_eq!(invoice["amount_credited_cents"], 5_950);
    assert_eq!(invoice["credit_notes"][0]["number"], "CN-000001");
    assert!(invoice["history"].as_array().unwrap().iter().any(|e| e["action"] == "credited"), "{invoice}");
    let balance = outstanding(&app, &s).await;
    assert_eq!(balance["outstanding_cents"], 8_090, "{balance}");
    assert_eq!(balance["balance_cents"], 8_090);
    let section = statement(&app, &s).await;
    assert_eq!(kinds(&section), vec![("invoice".into(), 14_040, 0), ("credit_note".into(), 0, 5_950)]);
    assert_eq!(section["closing_cents"], 8_090);
    // The rest of line 1 (one widget) is all it has left: two more are refused with what is left.
    let refused = app
        .refused(
            &s,
            "create_credit_note",
            json!({"invoice_id": id, "reason": "other", "lines": [{"line_no": 1, "quantity": 2}]}),
        )
        .await;
    assert_eq!(refused["errors"][0]["path"], "lines[0].quantity", "{refused}");
    assert!(refused["errors"][0]["expected"].as_str().unwrap().contains("to 1"), "{refused}");
    // Paying the rest settles it: paid means settled by payments and credits together.
    let paid = app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 8_090})).await;
    assert_eq!(paid["status"], "paid", "{paid}");
    assert_eq!(paid["amount_due_cents"], 0);
}

#[sqlx::test]
async fn a_full_credit_after_full_payment_is_refunded(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let (standard, reduced) = vat_books(&app, &s).await;
    let id = sent_140_40(&app, &s, &standard, &reduced).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 14_040})).await;
    // All of it was paid: without saying where the money goes, the credit note is refused, and no
    // number is spent.
    let refused =
        app.refused(&s, "create_credit_note", json!({"invoice_id": id, "reason": "duplicate", "whole": true})).await;
    assert_eq!(refused["errors"][0]["path"], "excess_to", "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("14040 was paid already"), "{refused}");
    assert_eq!(app.count("credit_notes").await, 0);
    let receipt = app
        .ok(
            &s,
            "create_credit_note",
            json!({"invoice_id": id, "reason": "duplicate", "whole": true, "excess_to": "refund",
                   "refund": {"method": "bank_transfer", "reference": "RF-77"}}),
        )
        .await;
    let note = &receipt["credit_note"];
    assert_eq!(note["number"], "CN-000001", "the refused attempt spent no number: {receipt}");
    assert_eq!(note["total_cents"], 14_040);
    assert_eq!(note["applied_cents"], 0);
    assert_eq!(note["excess_cents"], 14_040);
    assert_eq!(note["refund"]["amount_cents"], 14_040);
    assert_eq!(note["refund"]["reference"], "RF-77");
    assert_eq!(receipt["invoice_status"], "paid");
    let section = statement(&app, &s).await;
    assert_eq!(
        kinds(&section),
        vec![
            ("invoice".into(), 14_040, 0),
            ("payment".into(), 0, 14_040),
            ("credit_note".into(), 0, 14_040),
            ("refund".into(), 14_040, 0)
        ]
    );
    assert_eq!(section["closing_cents"], 0);
    // Nothing is left to credit.
    let refused =
        app.refused(&s, "create_credit_note", json!({"invoice_id": id, "reason": "other", "whole": true})).await;
    assert_eq!(refused["code"], "invalid_params", "{refused}");
}

#[sqlx::test]
async fn a_credit_after_part_payment_splits_into_due_and_paid(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let (standard, reduced) = vat_books(&app, &s).await;
    let id = sent_140_40(&app, &s, &standard, &reduced).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 10_000})).await;
    // Credit both widgets: 100.00 + 19.00 = 119.00. Due was 40.40: that part reduces the invoice
    // (now settled, and paid, since payments and credits settled it together); 78.60 was paid
    // already and is kept as the customer's credit.
    let receipt = app
        .ok(
            &s,
            "create_credit_note",
            json!({"invoice_id": id, "reason": "order_change", "lines": [{"line_no": 1, "quantity": 2}],
                   "excess_to": "customer_credit"}),
        )
        .await;
    let note = &receipt["credit_note"];
    assert_eq!(note["total_cents"], 11_900, "{receipt}");
    assert_eq!(note["applied_cents"], 4_040);
    assert_eq!(note["excess_cents"], 7_860);
    assert_eq!(note["excess_to"], "customer_credit");
    assert_eq!(receipt["invoice_status"], "paid");
    assert_eq!(receipt["invoice_amount_due_cents"], 0);
    let balance = outstanding(&app, &s).await;
    assert_eq!(balance["outstanding_cents"], 0, "{balance}");
    assert_eq!(balance["credit_cents"], 7_860);
    assert_eq!(balance["balance_cents"], -7_860);
    let customer = app.ok(&s, "get_customer", json!({"customer_id": "kunde"})).await;
    assert_eq!(customer["outstanding"][0]["credit_cents"], 7_860, "{customer}");
    let section = statement(&app, &s).await;
    // 140.40 − 100.00 − 119.00 = −78.60: the business owes the customer its credit.
    assert_eq!(section["closing_cents"], -7_860, "{section}");
}

#[sqlx::test]
async fn voiding_a_sent_vat_invoice_issues_a_credit_note(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let (standard, reduced) = vat_books(&app, &s).await;
    let first = sent_140_40(&app, &s, &standard, &reduced).await;
    let second = sent_140_40(&app, &s, &standard, &reduced).await;
    let voided = app.ok(&s, "void_invoice", json!({"invoice_id": first, "reason": "Wrong customer"})).await;
    assert_eq!(voided["status"], "void", "{voided}");
    assert_eq!(voided["number"], "INV-000001", "it keeps its number");
    assert_eq!(voided["amount_due_cents"], 0);
    let note = &voided["credit_notes"][0];
    assert_eq!(note["number"], "CN-000001");
    assert_eq!(note["reason"], "void");
    assert_eq!(note["total_cents"], 14_040);
    let full = app.ok(&s, "get_credit_note", json!({"credit_note_id": note["credit_note_id"]})).await;
    assert_eq!(full["memo"], "Wrong customer");
    assert_eq!(full["lines"].as_array().unwrap().len(), 2, "{full}");
    // The series continues without a gap.
    let receipt = app
        .ok(
            &s,
            "create_credit_note",
            json!({"invoice_id": second, "reason": "pricing_error", "amount_cents": 1_000, "tax_group": "S:19"}),
        )
        .await;
    // 10.00 at 19 %: 1.90 tax, 11.90 in all.
    assert_eq!(receipt["credit_note"]["number"], "CN-000002");
    assert_eq!(receipt["credit_note"]["total_cents"], 1_190);
    let listed = app.ok(&s, "list_credit_notes", json!({"customer_id": "kunde"})).await;
    let numbers: Vec<&str> =
        listed["credit_notes"].as_array().unwrap().iter().map(|n| n["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, vec!["CN-000002", "CN-000001"]);
    let section = statement(&app, &s).await;
    // 2 × 140.40 − 140.40 − 11.90 = 128.50, and no void entry beside the credit note.
    assert_eq!(section["closing_cents"], 12_850, "{section}");
    assert!(kinds(&section).iter().all(|(k, _, _)| k != "void"), "{section}");
    assert_eq!(outstanding(&app, &s).await["outstanding_cents"], 12_850);
}

#[sqlx::test]
async fn without_vat_a_void_after_a_partial_credit_closes_what_is_left(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let id = app.sent_invoice(&s, "kunde", "Consulting", 10_000).await;
    let receipt = app
        .ok(&s, "create_credit_note", json!({"invoice_id": id, "reason": "pricing_error", "amount_cents": 2_500}))
        .await;
    assert_eq!(receipt["invoice_amount_due_cents"], 7_500, "{receipt}");
    let voided = app.ok(&s, "void_invoice", json!({"invoice_id": id, "reason": "Cancelled"})).await;
    assert_eq!(voided["status"], "void");
    assert_eq!(voided["credit_notes"].as_array().unwrap().len(), 1, "no credit note for a void without VAT");
    let section = statement(&app, &s).await;
    assert_eq!(
        kinds(&section),
        vec![("invoice".into(), 10_000, 0), ("credit_note".into(), 0, 2_500), ("void".into(), 0, 7_500)]
    );
    assert_eq!(section["closing_cents"], 0);
}

#[sqlx::test]
async fn two_credit_notes_racing_for_the_last_unit(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let (standard, reduced) = vat_books(&app, &s).await;
    let id = sent_140_40(&app, &s, &standard, &reduced).await;
    app.ok(
        &s,
        "create_credit_note",
        json!({"invoice_id": id, "reason": "other", "lines": [{"line_no": 1, "quantity": 1}]}),
    )
    .await;
    let args = json!({"invoice_id": id, "reason": "other", "lines": [{"line_no": 1, "quantity": 1}]});
    let (a, b) = tokio::join!(
        app.call(&s, "create_credit_note", args.clone()),
        app.call(&s, "create_credit_note", args.clone())
    );
    let wins = [&a, &b].iter().filter(|r| r["isError"] == false).count();
    assert_eq!(wins, 1, "one wins, one is refused: {a} {b}");
    let invoice = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    // Both widgets credited, never three: 2 × 59.50.
    assert_eq!(invoice["amount_credited_cents"], 11_900, "{invoice}");
    assert_eq!(invoice["amount_due_cents"], 14_040 - 11_900);
}

async fn add_tenant(owner: &PgPool, tenant: &str) {
    sqlx::query("insert into tenants (tenant_id, name) values ($1, $1)").bind(tenant).execute(owner).await.unwrap();
}

#[sqlx::test]
async fn a_tenant_never_reaches_another_tenants_credit_notes(o: PgPoolOptions, c: PgConnectOptions) {
    let owner = pool(o, c).await;
    add_tenant(&owner, "acme").await;
    sqlx::query("insert into tenants (tenant_id, name, credit_note_prefix) values ('globex', 'Globex', 'GX-CN-')")
        .execute(&owner)
        .await
        .unwrap();
    let acme = spawn_app_with(owner.clone(), &["--tenant", "acme"]).await;
    let globex = spawn_app_with(owner.clone(), &["--tenant", "globex"]).await;
    let (sa, sg) = (acme.session().await, globex.session().await);
    let id = acme.sent_invoice(&sa, "kunde", "Widget", 1_000).await;
    let receipt = acme.ok(&sa, "create_credit_note", json!({"invoice_id": id, "reason": "other", "whole": true})).await;
    let note_id = receipt["credit_note"]["credit_note_id"].clone();
    let refused = globex.refused(&sg, "get_credit_note", json!({"credit_note_id": note_id})).await;
    assert_eq!(refused["code"], "not_found", "{refused}");
    let refused =
        globex.refused(&sg, "create_credit_note", json!({"invoice_id": id, "reason": "other", "whole": true})).await;
    assert_eq!(refused["code"], "not_found", "{refused}");
    let listed = globex.ok(&sg, "list_credit_notes", json!({})).await;
    assert_eq!(listed["credit_notes"], json!([]));
    // Its PDF: acme reads it (a PDF), globex finds no such resource.
    let uri = format!("credit_note://{}/pdf", note_id.as_str().unwrap());
    let read = acme.rpc(&sa, "resources/read", json!({"uri": uri})).await;
    let content = &read["result"]["contents"][0];
    assert_eq!(content["mimeType"], "application/pdf", "{read}");
    let pdf =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, content["blob"].as_str().unwrap()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let rendered = acme.ok(&sa, "render_credit_note", json!({"credit_note_id": note_id})).await;
    assert_eq!(rendered["document"]["uri"], json!(uri), "{rendered}");
    let missing = globex.rpc(&sg, "resources/read", json!({"uri": uri})).await;
    assert_eq!(missing["error"]["code"], -32002, "{missing}");
    let json_uri = format!("credit_note://{}", note_id.as_str().unwrap());
    let missing = globex.rpc(&sg, "resources/read", json!({"uri": json_uri})).await;
    assert_eq!(missing["error"]["code"], -32002, "{missing}");
    // globex's own first credit note starts its own series, under its own prefix.
    let theirs = globex.sent_invoice(&sg, "kunde", "Widget", 1_000).await;
    let r = globex.ok(&sg, "create_credit_note", json!({"invoice_id": theirs, "reason": "other", "whole": true})).await;
    assert_eq!(r["credit_note"]["number"], "GX-CN-000001");
}

#[sqlx::test]
async fn customer_credit_is_applied_to_a_later_invoice(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let first = app.sent_invoice(&s, "kunde", "Consulting", 10_000).await;
    // 120.00 arrives for a 100.00 invoice: refused unless the 20.00 over is kept as credit.
    let refused = app.refused(&s, "apply_payment", json!({"invoice_id": first, "amount_cents": 12_000})).await;
    assert_eq!(refused["code"], "overpayment", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("excess_to_credit"), "{refused}");
    let paid = app
        .ok(&s, "apply_payment", json!({"invoice_id": first, "amount_cents": 12_000, "excess_to_credit": true}))
        .await;
    assert_eq!(
        (paid["status"].as_str(), paid["excess_to_credit_cents"].as_i64()),
        (Some("paid"), Some(2_000)),
        "{paid}"
    );
    assert_eq!(paid["amount_paid_cents"], 10_000);
    // A credit note of 30.00 on the paid invoice, kept as credit too: 50.00 in all.
    app.ok(
        &s,
        "create_credit_note",
        json!({"invoice_id": first, "reason": "pricing_error", "amount_cents": 3_000, "excess_to": "customer_credit"}),
    )
    .await;
    let balance = outstanding(&app, &s).await;
    assert_eq!((balance["credit_cents"].as_i64(), balance["balance_cents"].as_i64()), (Some(5_000), Some(-5_000)));
    // A later invoice of 80.00 takes all 50.00 of it: 30.00 still due.
    let second = app.sent_invoice(&s, "kunde", "Consulting, May", 8_000).await;
    let applied =
        app.ok(&s, "apply_customer_credit", json!({"invoice_id": second, "idempotency_key": "use-credit"})).await;
    assert_eq!(
        (applied["amount_cents"].as_i64(), applied["amount_due_cents"].as_i64(), applied["credit_left_cents"].as_i64()),
        (Some(5_000), Some(3_000), Some(0)),
        "{applied}"
    );
    assert_eq!(applied["status"], "sent");
    // The same key is the same application; with no credit left, another is refused.
    let again =
        app.ok(&s, "apply_customer_credit", json!({"invoice_id": second, "idempotency_key": "use-credit"})).await;
    assert_eq!(again, applied);
    let refused = app.refused(&s, "apply_customer_credit", json!({"invoice_id": second})).await;
    assert_eq!(refused["errors"][0]["path"], "invoice_id", "{refused}");
    let balance = outstanding(&app, &s).await;
    assert_eq!((balance["outstanding_cents"].as_i64(), balance["credit_cents"].as_i64()), (Some(3_000), Some(0)));
    // The statement: 100 + 80 charged; 120 paid, 30 credited; the credit applied moves nothing.
    let section = statement(&app, &s).await;
    assert_eq!(section["closing_cents"], 3_000, "{section}");
    assert!(kinds(&section).contains(&("credit_applied".into(), 0, 0)), "{section}");
}

#[sqlx::test]
async fn a_write_off_after_part_payment_closes_what_is_due(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let id = app.sent_invoice(&s, "kunde", "Consulting", 10_000).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 4_000})).await;
    let w = app.ok(&s, "write_off_invoice", json!({"invoice_id": id, "reason": "Customer insolvent"})).await;
    assert_eq!(
        (w["status"].as_str(), w["amount_cents"].as_i64(), w["amount_due_cents"].as_i64()),
        (Some("written_off"), Some(6_000), Some(0)),
        "{w}"
    );
    let invoice = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    assert_eq!(invoice["status"], "written_off");
    assert_eq!(invoice["amount_paid_cents"], 4_000, "the payment stays on record");
    assert_eq!(invoice["write_off"]["amount_cents"], 6_000, "{invoice}");
    assert_eq!(invoice["write_off"]["reason"], "Customer insolvent");
    assert!(invoice["history"].as_array().unwrap().iter().any(|e| e["action"] == "written_off"), "{invoice}");
    assert_eq!(app.count("credit_notes").await, 0, "a write-off is not a credit note");
    let refused = app.refused(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 1})).await;
    assert_eq!(refused["code"], "invalid_state", "{refused}");
    let report = app.ok(&s, "list_outstanding", json!({"customer_id": "kunde"})).await;
    assert_eq!(report["balances"], json!([]), "nothing is owed");
    let section = statement(&app, &s).await;
    assert_eq!(
        kinds(&section),
        vec![("invoice".into(), 10_000, 0), ("payment".into(), 0, 4_000), ("write_off".into(), 0, 6_000)]
    );
    assert_eq!(section["closing_cents"], 0);
}

mod ledger_property {
    //! Random sequences of invoices, payments (overpayments kept as credit), credit notes (each way
    //! the excess can go), write-offs, credit applied and voids, each dated on its own day: no cap
    //! is exceeded, and on every day the customer's balance in `list_outstanding` (and the
    //! statement's closing balance) is Σ invoices − Σ payments − Σ credit notes + Σ refunds −
    //! Σ write-offs − Σ voids dated by then, computed here from what each call answered.

    use chrono::{Days, NaiveDate};
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use serde_json::{Value, json};
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

    use crate::helpers::{TestApp, pool, spawn_app};

    #[derive(Debug, Clone)]
    enum Op {
        Invoice { slot: usize, cents: i64 },
        Pay { slot: usize, cents: i64, to_credit: bool },
        Credit { slot: usize, cents: Option<i64>, to: usize },
        WriteOff { slot: usize },
        ApplyCredit { slot: usize },
        Void { slot: usize },
    }

    fn op() -> impl Strategy<Value = Op> {
        let slot = 0..3usize;
        prop_oneof![
            3 => (slot.clone(), 100..5_000i64).prop_map(|(slot, cents)| Op::Invoice { slot, cents }),
            3 => (slot.clone(), 1..4_000i64, any::<bool>()).prop_map(|(slot, cents, to_credit)| Op::Pay { slot, cents, to_credit }),
            3 => (slot.clone(), prop::option::of(1..3_000i64), 0..3usize).prop_map(|(slot, cents, to)| Op::Credit { slot, cents, to }),
            1 => slot.clone().prop_map(|slot| Op::WriteOff { slot }),
            2 => slot.clone().prop_map(|slot| Op::ApplyCredit { slot }),
            1 => slot.prop_map(|slot| Op::Void { slot }),
        ]
    }

    /// (day, signed amount): + charges the customer, − credits it.
    type Entries = Vec<(NaiveDate, i64)>;

    async fn balance(app: &TestApp, s: &str, customer: &str, day: NaiveDate) -> i64 {
        let report = app.ok(s, "list_outstanding", json!({"customer_id": customer, "as_of": day.to_string()})).await;
        match report["balances"].as_array().unwrap().as_slice() {
            [] => 0,
            [b] => {
                assert!(
                    b["outstanding_cents"].as_i64().unwrap() >= 0 && b["credit_cents"].as_i64().unwrap() >= 0,
                    "{b}"
                );
                b["balance_cents"].as_i64().unwrap()
            }
            more => panic!("one currency only: {more:?}"),
        }
    }

    #[sqlx::test]
    async fn every_report_agrees_with_the_ledger_on_every_day(o: PgPoolOptions, c: PgConnectOptions) {
        let app = spawn_app(pool(o, c).await).await;
        let s = app.session().await;
        let today = chrono::Utc::now().date_naive();
        let base = today - Days::new(160);
        let mut day = base;
        let sequences = proptest::collection::vec(op(), 12..25);
        let mut runner = TestRunner::deterministic();
        for round in 0..6 {
            let customer = format!("ledger_{round}");
            app.customer(&s, &customer).await;
            let first_day = day;
            let mut entries: Entries = vec![];
            let mut slots: [Option<(String, i64)>; 3] = Default::default();
            let ops = sequences.new_tree(&mut runner).unwrap().current();
            for op in &ops {
                day = day + Days::new(1);
                let d = day.to_string();
                let id = |slot: usize| slots[slot].as_ref().map(|(id, _)| id.clone());
                match op {
                    Op::Invoice { slot, cents } => {
                        let line = json!({"description": "x", "amount_cents": cents});
                        let made =
                            app.ok(&s, "create_invoice", json!({"customer_id": customer, "line_items": [line]})).await;
                        let invoice = made["invoice_id"].as_str().unwrap().to_owned();
                        app.ok(&s, "send_invoice", json!({"invoice_id": invoice, "issue_date": d})).await;
                        entries.push((day, *cents));
                        slots[*slot] = Some((invoice, *cents));
                    }
                    Op::Pay { slot, cents, to_credit } => {
                        let Some(invoice) = id(*slot) else { continue };
                        let args = json!({"invoice_id": invoice, "amount_cents": cents, "paid_at": d, "excess_to_credit": to_credit});
                        let r = app.call(&s, "apply_payment", args).await;
                        if r["isError"] == false {
                            entries.push((day, -cents));
                        }
                    }
                    Op::Credit { slot, cents, to } => {
                        let Some(invoice) = id(*slot) else { continue };
                        let to = ["refund", "customer_credit", "out_of_band"][*to];
                        let mut args =
                            json!({"invoice_id": invoice, "reason": "other", "issue_date": d, "excess_to": to});
                        match cents {
                            Some(c) => args["amount_cents"] = json!(c),
                            None => args["whole"] = json!(true),
                        }
                        let r = app.call(&s, "create_credit_note", args).await;
                        if r["isError"] == false {
                            let note = &r["structuredContent"]["credit_note"];
                            let (total, excess) =
                                (note["total_cents"].as_i64().unwrap(), note["excess_cents"].as_i64().unwrap());
                            assert_eq!(note["applied_cents"].as_i64().unwrap() + excess, total, "{note}");
                            entries.push((day, -total));
                            if excess > 0 && to != "customer_credit" {
                                entries.push((day, excess));
                            }
                        }
                    }
                    Op::WriteOff { slot } => {
                        let Some(invoice) = id(*slot) else { continue };
                        let r = app
                            .call(
                                &s,
                                "write_off_invoice",
                                json!({"invoice_id": invoice, "reason": "bad debt", "written_off_on": d}),
                            )
                            .await;
                        if r["isError"] == false {
                            entries.push((day, -r["structuredContent"]["amount_cents"].as_i64().unwrap()));
                        }
                    }
                    Op::ApplyCredit { slot } => {
                        let Some(invoice) = id(*slot) else { continue };
                        // Dated today on both sides: it moves credit onto the invoice, the balance stays.
                        app.call(&s, "apply_customer_credit", json!({"invoice_id": invoice})).await;
                    }
                    Op::Void { slot } => {
                        let Some(invoice) = id(*slot) else { continue };
                        let due = app.ok(&s, "get_invoice", json!({"invoice_id": invoice})).await["amount_due_cents"]
                            .as_i64()
                            .unwrap();
                        let r =
                            app.call(&s, "void_invoice", json!({"invoice_id": invoice, "reason": "property"})).await;
                        if r["isError"] == false && due > 0 {
                            entries.push((today, -due));
                        }
                    }
                }
            }
            // Caps: no invoice is credited beyond its total or owes less than nothing.
            for (invoice, total) in slots.iter().flatten() {
                let inv: Value = app.ok(&s, "get_invoice", json!({"invoice_id": invoice})).await;
                let credited = inv["amount_credited_cents"].as_i64().unwrap();
                assert!(credited <= *total && inv["amount_due_cents"].as_i64().unwrap() >= 0, "{inv}");
            }
            // Every day of the round, and the day before it: the report is the ledger.
            let mut d = first_day;
            while d <= today {
                let expected: i64 = entries.iter().filter(|(on, _)| *on <= d).map(|(_, a)| a).sum();
                assert_eq!(
                    balance(&app, &s, &customer, d).await,
                    expected,
                    "round {round}, {customer} on {d}: {ops:?}"
                );
                d = if d < day { d + Days::new(1) } else { today.max(d + Days::new(1)) };
            }
            // And the statement over the whole round ends where the report does.
            for end in [day, today] {
                let st = app
                    .ok(
                        &s,
                        "get_statement",
                        json!({"customer_id": customer, "from": first_day.to_string(), "to": end.to_string()}),
                    )
                    .await;
                let closing =
                    st["sections"].as_array().unwrap().first().map_or(0, |x| x["closing_cents"].as_i64().unwrap());
                assert_eq!(closing, balance(&app, &s, &customer, end).await, "round {round} statement to {end}");
            }
        }
    }
}

#[sqlx::test]
async fn an_invoice_paid_with_customer_credit_is_corrected_not_voided(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let first = app.sent_invoice(&s, "kunde", "Consulting", 1_000).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": first, "amount_cents": 1_500, "excess_to_credit": true})).await;
    let second = app.sent_invoice(&s, "kunde", "Consulting", 2_000).await;
    app.ok(&s, "apply_customer_credit", json!({"invoice_id": second})).await;
    let refused = app.refused(&s, "void_invoice", json!({"invoice_id": second, "reason": "wrong"})).await;
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("customer's credit was applied"), "{refused}");
    // The way the error gives: a whole credit note, its paid part back to the customer's credit.
    let r = app
        .ok(
            &s,
            "create_credit_note",
            json!({"invoice_id": second, "reason": "other", "whole": true, "excess_to": "customer_credit"}),
        )
        .await;
    assert_eq!(
        (r["credit_note"]["applied_cents"].as_i64(), r["credit_note"]["excess_cents"].as_i64()),
        (Some(1_500), Some(500))
    );
    assert_eq!(outstanding(&app, &s).await["credit_cents"], 500, "the credit is back");
}
