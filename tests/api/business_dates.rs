//! Issued invoices as legal documents: business dates in the tenant's time zone, the parties frozen
//! at send, partial updates, the customer's own currency, and reports that agree with themselves
//! for any date.

use chrono::{Days, NaiveDate, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::documents::read_pdf;
use crate::helpers::{TestApp, pool, spawn_app, spawn_app_with};

fn today_utc() -> NaiveDate {
    Utc::now().date_naive()
}

fn day(d: NaiveDate) -> String {
    d.to_string()
}

async fn draft(app: &TestApp, s: &str, customer: &str, cents: i64) -> String {
    let args = json!({"customer_id": customer, "line_items": [{"description": "Work", "amount_cents": cents}]});
    app.ok(s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned()
}

/// The issue's first finding: a payment dated tomorrow was accepted, and then the reports for
/// today disagreed with each other (and a statement failed with an internal error).
#[sqlx::test]
async fn a_payment_dated_tomorrow_is_refused_and_the_reports_agree(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    app.customer(&s, "acme").await;
    let big = app.sent_invoice(&s, "acme", "Big", 100_000).await;
    let small = app.sent_invoice(&s, "acme", "Small", 25_000).await;
    let tomorrow = day(today_utc() + Days::new(1));
    let refused = app
        .refused(&s, "apply_payment", json!({"invoice_id": big, "amount_cents": 100_000, "paid_at": tomorrow}))
        .await;
    assert_eq!(refused["errors"][0]["path"], "paid_at", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("after today"), "{refused}");
    assert_eq!(app.count("payments").await, 0, "a refused payment writes nothing");

    app.ok(&s, "apply_payment", json!({"invoice_id": small, "amount_cents": 5_000})).await;
    let report = app.ok(&s, "list_outstanding", json!({})).await;
    assert_eq!(report["balances"][0]["outstanding_cents"], 120_000);
    let customer = app.ok(&s, "get_customer", json!({"customer_id": "acme"})).await;
    assert_eq!(customer["outstanding"][0]["outstanding_cents"], 120_000);
    let from = day(today_utc() - Days::new(30));
    let st = app.ok(&s, "get_statement", json!({"customer_id": "acme", "from": from})).await;
    assert_eq!(st["sections"][0]["closing_cents"], 120_000);
    let open = app.ok(&s, "get_statement", json!({"customer_id": "acme", "kind": "open_items"})).await;
    assert_eq!(open["sections"][0]["closing_cents"], 120_000);
    let invoice = app.ok(&s, "get_invoice", json!({"invoice_id": small})).await;
    assert_eq!(invoice["amount_due_cents"], 20_000);

    // A statement that ends after today would print a projection as fact: refused, plainly.
    let err = app.refused(&s, "get_statement", json!({"customer_id": "acme", "from": from, "to": tomorrow})).await;
    assert_eq!(err["errors"][0]["path"], "to", "{err}");
    app.stop().await;
}

#[sqlx::test]
async fn issue_dates_rise_with_numbers_and_refusals_spend_no_number(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    app.customer(&s, "acme").await;
    let today = today_utc();
    let (a, b, d) =
        (draft(&app, &s, "acme", 100).await, draft(&app, &s, "acme", 200).await, draft(&app, &s, "acme", 300).await);

    let tomorrow = day(today + Days::new(1));
    let err = app.refused(&s, "send_invoice", json!({"invoice_id": a, "issue_date": tomorrow})).await;
    assert_eq!(err["errors"][0]["path"], "issue_date", "{err}");

    let sent = app
        .ok(&s, "send_invoice", json!({"invoice_id": a, "issue_date": "2026-01-10", "supply_date": "2026-01-08"}))
        .await;
    assert_eq!(sent["number"], "INV-000001", "the refused send spent no number");
    assert_eq!(sent["issue_date"], "2026-01-10");
    assert_eq!(sent["supply_date"], "2026-01-08");
    assert_eq!(sent["due_date"], "2026-02-09", "issue date + 30 days of terms");

    let err = app.refused(&s, "send_invoice", json!({"invoice_id": b, "issue_date": "2026-01-09"})).await;
    assert_eq!(err["errors"][0]["path"], "issue_date", "{err}");
    assert!(err["message"].as_str().unwrap().contains("2026-01-10"), "names the latest date: {err}");

    // A due date before the issue date is refused, before a number is spent.
    app.ok(&s, "update_draft_invoice", json!({"invoice_id": b, "due_date": "2026-01-05"})).await;
    let err = app.refused(&s, "send_invoice", json!({"invoice_id": b, "issue_date": "2026-01-10"})).await;
    assert_eq!(err["errors"][0]["path"], "due_date", "{err}");

    let period =
        json!({"invoice_id": b, "issue_date": "2026-01-10", "period_start": "2026-01-31", "period_end": "2026-01-01"});
    let err = app.refused(&s, "send_invoice", period).await;
    assert_eq!(err["errors"][0]["path"], "period_start", "{err}");
    app.ok(&s, "update_draft_invoice", json!({"invoice_id": b, "due_date": "2026-01-20"})).await;
    let args =
        json!({"invoice_id": b, "issue_date": "2026-01-10", "period_start": "2026-01-01", "period_end": "2026-01-31"});
    let sent = app.ok(&s, "send_invoice", args).await;
    assert_eq!(sent["number"], "INV-000002");
    assert_eq!((sent["period_start"].as_str(), sent["period_end"].as_str()), (Some("2026-01-01"), Some("2026-01-31")));

    let sent = app.ok(&s, "send_invoice", json!({"invoice_id": d})).await;
    assert_eq!(sent["number"], "INV-000003");
    assert_eq!(sent["issue_date"], day(today), "today, by default");
    app.stop().await;
}

#[sqlx::test]
async fn an_invoice_names_its_buyer(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let id = draft(&app, &s, "nobody", 500).await;
    let err = app.refused(&s, "send_invoice", json!({"invoice_id": id})).await;
    assert!(err["message"].as_str().unwrap().contains("upsert_customer"), "{err}");
    let err = app.refused(&s, "upsert_customer", json!({"customer_id": "nobody", "email": "a@b.example"})).await;
    assert_eq!(err["errors"][0]["path"], "name", "a new customer needs a name: {err}");
    app.ok(&s, "upsert_customer", json!({"customer_id": "nobody", "name": "Somebody Ltd"})).await;
    assert_eq!(app.ok(&s, "send_invoice", json!({"invoice_id": id})).await["number"], "INV-000001");
    app.stop().await;
}

#[sqlx::test]
async fn updates_change_only_the_fields_given(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let full = json!({"legal_name": "Acme Trading Ltd", "address": "1 Main St\nSpringfield", "tax_id": "DE123456789",
                      "email": "billing@acme.example", "payment_instructions": "IBAN DE00 1234", "footer": "Reg. 42"});
    app.ok(&s, "set_business_profile", full).await;
    let p = app.ok(&s, "set_business_profile", json!({"phone": "+49 30 1234"})).await;
    assert_eq!(p["phone"], "+49 30 1234");
    for (k, v) in [("legal_name", "Acme Trading Ltd"), ("tax_id", "DE123456789"), ("footer", "Reg. 42")] {
        assert_eq!(p[k], v, "{k} kept when only the phone changed");
    }
    let p = app.ok(&s, "set_business_profile", json!({"footer": null})).await;
    assert_eq!(p["footer"], Value::Null, "an explicit null clears");
    assert_eq!(p["address"], "1 Main St\nSpringfield");

    app.ok(
        &s,
        "upsert_customer",
        json!({"customer_id": "c1", "name": "Old", "tax_id": "FR123", "email": "x@y.example"}),
    )
    .await;
    let u = app.ok(&s, "upsert_customer", json!({"customer_id": "c1", "billing_address": "2 Rue"})).await;
    assert_eq!(
        (u["name"].as_str(), u["tax_id"].as_str(), u["created"].as_bool()),
        (Some("Old"), Some("FR123"), Some(false))
    );
    let u = app.ok(&s, "upsert_customer", json!({"customer_id": "c1", "tax_id": null})).await;
    assert_eq!(u["tax_id"], Value::Null);
    assert_eq!(u["email"], "x@y.example");
    app.stop().await;
}

#[sqlx::test]
async fn a_customer_currency_is_the_default(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    app.ok(&s, "upsert_customer", json!({"customer_id": "eu", "name": "EU GmbH", "currency": "EUR"})).await;
    assert_eq!(app.ok(&s, "create_invoice", crate::helpers::widget_invoice("eu")).await["currency"], "EUR");
    assert_eq!(app.ok(&s, "create_invoice", crate::helpers::widget_invoice("unknown")).await["currency"], "USD");
    let mut jpy = crate::helpers::widget_invoice("eu");
    jpy["currency"] = json!("JPY");
    assert_eq!(app.ok(&s, "create_invoice", jpy).await["currency"], "JPY", "a given currency wins");
    app.stop().await;
}

/// Changing the customer and the profile after send changes no document of the sent invoice,
/// byte for byte; a draft's document shows the change.
#[sqlx::test]
async fn issued_invoices_keep_the_parties_they_were_issued_to(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    use base64::Engine;
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#1a5"/></svg>"##;
    let profile = json!({"legal_name": "Acme Trading Ltd", "address": "1 Main St", "tax_id": "DE123456789",
                         "payment_instructions": "IBAN DE00 1234", "footer": "Reg. 42",
                         "logo_base64": base64::engine::general_purpose::STANDARD.encode(svg)});
    app.ok(&s, "set_business_profile", profile).await;
    app.ok(
        &s,
        "upsert_customer",
        json!({"customer_id": "c1", "name": "Globex", "billing_address": "9 Elm St", "tax_id": "FR1"}),
    )
    .await;
    let sent = app.sent_invoice(&s, "c1", "Consulting", 120_000).await;
    let draft_id = draft(&app, &s, "c1", 5_000).await;
    let uri = |id: &str| format!("invoice://{id}/pdf");
    let (sent_before, draft_before) =
        (read_pdf(&app, &s, &uri(&sent)).await, read_pdf(&app, &s, &uri(&draft_id)).await);

    app.ok(
        &s,
        "upsert_customer",
        json!({"customer_id": "c1", "name": "Globex Renamed", "billing_address": "1 New Rd", "tax_id": null}),
    )
    .await;
    app.ok(&s, "set_business_profile", json!({"phone": "+1 555", "tax_id": null, "remove_logo": true})).await;
    let (sent_after, draft_after) = (read_pdf(&app, &s, &uri(&sent)).await, read_pdf(&app, &s, &uri(&draft_id)).await);
    assert!(sent_before == sent_after, "the sent invoice's document changed after the parties did");
    assert!(draft_before != draft_after, "a draft prints the live parties");
    let text = crate::documents::inspect(&draft_after).text;
    assert!(text.contains("Globex Renamed"), "{text}");
    let text = crate::documents::inspect(&sent_after).text;
    assert!(text.contains("Globex") && !text.contains("Renamed") && text.contains("DE123456789"), "{text}");
    app.stop().await;
}

/// A tenant at UTC+14 and one at UTC−12 on one database: each one's today, future-date
/// refusals and overdue follow its own zone. The zones' dates are 26 hours apart, so at any
/// moment they differ by one or two days.
#[sqlx::test]
async fn today_is_the_tenants_own(o: PgPoolOptions, c: PgConnectOptions) {
    let owner = pool(o, c).await;
    for attempt in 0.. {
        let before = Utc::now();
        let east_today = (before + chrono::Duration::hours(14)).date_naive();
        let west_today = (before - chrono::Duration::hours(12)).date_naive();
        let (east, west) = (format!("east{attempt}"), format!("west{attempt}"));
        for t in [&east, &west] {
            sqlx::query("insert into tenants (tenant_id, name) values ($1, $1)").bind(t).execute(&owner).await.unwrap();
        }
        let east = spawn_app_with(owner.clone(), &["--tenant", &east]).await;
        let west = spawn_app_with(owner.clone(), &["--tenant", &west]).await;
        let (e, w) = (east.session().await, west.session().await);
        east.ok(&e, "set_business_profile", json!({"time_zone": "Pacific/Kiritimati"})).await;
        west.ok(&w, "set_business_profile", json!({"time_zone": "Etc/GMT+12"})).await;
        let err = east.refused(&e, "set_business_profile", json!({"time_zone": "EST"})).await;
        assert_eq!(err["errors"][0]["path"], "time_zone", "{err}");
        let held = checks(&east, &e, east_today, &west, &w, west_today).await
            && moving_back_is_refused(&east, &e, east_today, west_today).await
            && (Utc::now() + chrono::Duration::hours(14)).date_naive() == east_today
            && (Utc::now() - chrono::Duration::hours(12)).date_naive() == west_today;
        east.stop().await;
        west.stop().await;
        if held {
            break;
        }
        // A zone's midnight passed during the checks: run them again, on new tenants.
        assert!(attempt < 3, "midnight cannot pass three times in a row");
    }
}

/// The east has issued on its today; in the west it is not that day yet, so the east may not move
/// there (its records would be dated in the future). Returns false when a midnight passed meanwhile.
async fn moving_back_is_refused(east: &TestApp, e: &str, east_today: NaiveDate, west_today: NaiveDate) -> bool {
    let err = east.refused(e, "set_business_profile", json!({"time_zone": "Etc/GMT+12"})).await;
    assert_eq!(err["errors"][0]["path"], "time_zone", "{err}");
    let message = err["message"].as_str().unwrap();
    if !message.contains(&day(east_today)) {
        return false;
    }
    assert!(message.contains(&day(west_today)), "{message}");
    // Nothing changed: the east's today is still its own.
    let profile = east.ok(e, "get_business_profile", json!({})).await;
    assert_eq!(profile["time_zone"], "Pacific/Kiritimati");
    true
}

/// Returns false when a check's outcome can be explained only by a midnight passing meanwhile.
async fn checks(
    east: &TestApp,
    e: &str,
    east_today: NaiveDate,
    west: &TestApp,
    w: &str,
    west_today: NaiveDate,
) -> bool {
    assert!((east_today - west_today).num_days() >= 1);
    // An invoice issued and due on the west's today is overdue in the east (whose today is
    // later) and not in the west.
    for (app, s, overdue) in [(east, e, true), (west, w, false)] {
        app.customer(s, "c").await;
        let args = json!({"customer_id": "c", "due_date": day(west_today), "line_items": [{"description": "x", "amount_cents": 10}]});
        let id = app.ok(s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned();
        let sent = app.ok(s, "send_invoice", json!({"invoice_id": id, "issue_date": day(west_today)})).await;
        assert_eq!(sent["status"], if overdue { "overdue" } else { "sent" }, "{sent}");
    }
    // The west cannot issue on the east's today: that is its tomorrow (or later).
    let id = draft(west, w, "c", 1_000).await;
    let err = west.refused(w, "send_invoice", json!({"invoice_id": id, "issue_date": day(east_today)})).await;
    assert_eq!(err["errors"][0]["path"], "issue_date", "{err}");
    for (app, s, today) in [(east, e, east_today), (west, w, west_today)] {
        let id = draft(app, s, "c", 1_000).await;
        let sent = app.ok(s, "send_invoice", json!({"invoice_id": id})).await;
        if sent["issue_date"] != day(today) {
            return false;
        }
        let err = app
            .refused(
                s,
                "apply_payment",
                json!({"invoice_id": id, "amount_cents": 1, "paid_at": day(today + Days::new(1))}),
            )
            .await;
        assert_eq!(err["errors"][0]["path"], "paid_at");
        app.ok(s, "apply_payment", json!({"invoice_id": id, "amount_cents": 1, "paid_at": day(today)})).await;
        let report = app.ok(s, "list_outstanding", json!({})).await;
        if report["as_of"] != day(today) {
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// One ledger: random books, every report at every date against an independent model.

#[derive(Debug, Clone)]
struct Book {
    id: String,
    customer: String,
    currency: &'static str,
    total: i64,
    issued: NaiveDate,
    due: NaiveDate,
    payments: Vec<(NaiveDate, i64)>,
    voided: Option<NaiveDate>,
}

impl Book {
    /// What is open on it at the end of `d`, computed here, not by Tally.
    fn open(&self, d: NaiveDate) -> i64 {
        if d < self.issued || self.voided.is_some_and(|v| v <= d) {
            return 0;
        }
        self.total - self.payments.iter().filter(|(p, _)| *p <= d).map(|(_, a)| a).sum::<i64>()
    }
}

/// (outstanding, overdue, [current, 1-30, 31-60, 61-90, >90]) per currency as of `d`.
fn model(books: &[Book], d: NaiveDate) -> std::collections::BTreeMap<&'static str, (i64, i64, [i64; 5])> {
    let mut out = std::collections::BTreeMap::new();
    for b in books {
        let open = b.open(d);
        if open <= 0 {
            continue;
        }
        let late = (d - b.due).num_days();
        let e = out.entry(b.currency).or_insert((0, 0, [0; 5]));
        e.0 += open;
        if late > 0 {
            e.1 += open;
        }
        let bucket = match late {
            ..=0 => 0,
            1..=30 => 1,
            31..=60 => 2,
            61..=90 => 3,
            _ => 4,
        };
        e.2[bucket] += open;
    }
    out
}

fn reported(balances: &Value) -> std::collections::BTreeMap<String, (i64, i64, [i64; 5])> {
    balances
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let a = &b["aging"];
            let n = |v: &Value| v.as_i64().unwrap();
            let aging = ["current_cents", "days_1_30_cents", "days_31_60_cents", "days_61_90_cents", "over_90_cents"]
                .map(|k| n(&a[k]));
            (b["currency"].as_str().unwrap().to_owned(), (n(&b["outstanding_cents"]), n(&b["overdue_cents"]), aging))
        })
        .collect()
}

#[sqlx::test]
async fn every_report_agrees_with_an_independent_model_at_every_date(o: PgPoolOptions, c: PgConnectOptions) {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;

    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    let today = today_utc();
    let start = today - Days::new(60);
    // Per invoice: issue offset (days after start), due offset, total, payments (offset from
    // issue − 5, share), whether to void it.
    let invoice = (
        0..50u64,
        0..40u64,
        1..20_000i64,
        proptest::collection::vec((0..70u64, 1..5i64), 0..4),
        proptest::bool::weighted(0.15),
        0..3usize,
    );
    let strategy = proptest::collection::vec(invoice, 8..14);
    let mut runner = TestRunner::deterministic();
    // Every customer's plan first, then issued in date order across them: numbers and issue
    // dates rise together in the tenant's one series.
    let mut plans = Vec::new();
    for round in 0..3u64 {
        let customer = format!("ledger_{round}");
        app.customer(&s, &customer).await;
        for item in strategy.new_tree(&mut runner).unwrap().current() {
            plans.push((customer.clone(), round, item));
        }
    }
    plans.sort_by_key(|(_, round, item)| item.0 + round * 3);
    let mut books: Vec<Book> = Vec::new();
    for (customer, round, (issue_off, due_off, total, pays, void, cur)) in plans {
        let currency = ["USD", "EUR", "JPY"][cur];
        let issued = start + Days::new(issue_off + round * 3);
        let due = issued + Days::new(due_off);
        let args = json!({"customer_id": customer, "currency": currency, "due_date": day(due),
                          "line_items": [{"description": "Work", "amount_cents": total}]});
        let id = app.ok(&s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned();
        app.ok(&s, "send_invoice", json!({"invoice_id": id, "issue_date": day(issued)})).await;
        let mut book = Book { id, customer, currency, total, issued, due, payments: vec![], voided: None };
        if void {
            app.ok(&s, "void_invoice", json!({"invoice_id": book.id, "reason": "test"})).await;
            book.voided = Some(today);
        } else {
            let mut left = total;
            for (off, share) in pays {
                if left == 0 {
                    break;
                }
                // Some dated before the issue date (they count from it), none after today.
                let paid = (issued - Days::new(5) + Days::new(off)).min(today);
                let amount = (total * share / 10).clamp(1, left);
                let args = json!({"invoice_id": book.id, "amount_cents": amount, "paid_at": day(paid)});
                app.ok(&s, "apply_payment", args).await;
                book.payments.push((paid, amount));
                left -= amount;
            }
        }
        books.push(book);
    }
    let by_customer =
        |customer: &str| -> Vec<Book> { books.iter().filter(|b| b.customer == customer).cloned().collect() };
    for b in &books {
        // get_invoice's amount due is the ledger's, as of today.
        let inv = app.ok(&s, "get_invoice", json!({"invoice_id": b.id})).await;
        assert_eq!(inv["amount_due_cents"], b.open(today), "{}", b.id);
    }
    let mut d = start - Days::new(5);
    while d <= today + Days::new(40) {
        for round in 0..3 {
            let customer = format!("ledger_{round}");
            let mine = by_customer(&customer);
            let expected = model(&mine, d);
            let report = app.ok(&s, "list_outstanding", json!({"customer_id": customer, "as_of": day(d)})).await;
            let got = reported(&report["balances"]);
            let want: std::collections::BTreeMap<String, _> =
                expected.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
            assert_eq!(got, want, "list_outstanding for {customer} as of {d}");
            if d <= today {
                let st = app
                    .ok(
                        &s,
                        "get_statement",
                        json!({"customer_id": customer, "from": day(start - Days::new(10)), "to": day(d)}),
                    )
                    .await;
                for section in st["sections"].as_array().unwrap() {
                    let cur = section["currency"].as_str().unwrap();
                    let (closing, _, aging) = want.get(cur).copied().unwrap_or((0, 0, [0; 5]));
                    assert_eq!(section["closing_cents"], closing, "activity statement closing, {customer} {cur} {d}");
                    assert_eq!(section["opening_cents"], 0, "nothing before the window");
                    let a = &section["aging"];
                    let got =
                        ["current_cents", "days_1_30_cents", "days_31_60_cents", "days_61_90_cents", "over_90_cents"]
                            .map(|k| a[k].as_i64().unwrap());
                    assert_eq!(got, aging, "activity statement aging, {customer} {cur} {d}");
                }
                let open = app
                    .ok(&s, "get_statement", json!({"customer_id": customer, "kind": "open_items", "as_of": day(d)}))
                    .await;
                for section in open["sections"].as_array().unwrap() {
                    let cur = section["currency"].as_str().unwrap();
                    let want_total = want.get(cur).map_or(0, |v| v.0);
                    let items: i64 = section["open_items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| i["open_cents"].as_i64().unwrap())
                        .sum();
                    assert_eq!(
                        (section["closing_cents"].as_i64().unwrap(), items),
                        (want_total, want_total),
                        "open items {customer} {cur} {d}"
                    );
                }
            }
            if d == today {
                let acct = app.ok(&s, "get_customer", json!({"customer_id": customer})).await;
                assert_eq!(reported(&acct["outstanding"]), want, "get_customer {customer}");
            }
        }
        d = d + Days::new(7);
    }
    // Today itself, whatever the stride landed on.
    for round in 0..3 {
        let customer = format!("ledger_{round}");
        let want: std::collections::BTreeMap<String, _> =
            model(&by_customer(&customer), today).iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        let report = app.ok(&s, "list_outstanding", json!({"customer_id": customer})).await;
        assert_eq!(reported(&report["balances"]), want, "list_outstanding today for {customer}");
        let acct = app.ok(&s, "get_customer", json!({"customer_id": customer})).await;
        assert_eq!(reported(&acct["outstanding"]), want, "get_customer today for {customer}");
    }
    app.stop().await;
}

/// Dates written by an older release (no issue date, void date or settled day) are derived by the
/// trigger it leaves for one release, so reports still agree.
#[sqlx::test]
async fn rows_written_the_old_way_are_completed(o: PgPoolOptions, c: PgConnectOptions) {
    let owner: PgPool = pool(o, c).await;
    let app = spawn_app(owner.clone()).await;
    let s = app.session().await;
    app.customer(&s, "old").await;
    let id = draft(&app, &s, "old", 700).await;
    let uuid = uuid::Uuid::try_parse(&id[4..]).unwrap();
    // What the previous release's send wrote: status, number and issued_at only.
    sqlx::raw_sql(&format!(
        "begin; select set_config('app.tenant_id', 'default', true);
         update invoices set status = 'sent', number = 'INV-000001', issued_at = now() where invoice_id = '{uuid}';
         commit;"
    ))
    .execute(&owner)
    .await
    .unwrap();
    let inv = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    assert_eq!(inv["issue_date"], day(today_utc()));
    assert_eq!(inv["amount_due_cents"], 700);
    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 700})).await;
    assert_eq!(app.ok(&s, "list_outstanding", json!({})).await["balances"], json!([]));
    app.stop().await;
}

/// What the documents say: a paid invoice says so instead of asking for money, a word too long
/// for its cell wraps inside it, and a statement of one currency says which in its title and file.
#[sqlx::test]
async fn documents_say_what_happened(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    app.ok(&s, "set_business_profile", json!({"legal_name": "Acme", "payment_instructions": "IBAN DE00 1234"})).await;
    app.customer(&s, "c1").await;
    let long = "X".repeat(120);
    let args = json!({"customer_id": "c1", "line_items": [{"description": format!("Part {long}"), "amount_cents": 12_345_678}]});
    let id = app.ok(&s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned();
    app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    let open = crate::documents::inspect(&read_pdf(&app, &s, &format!("invoice://{id}/pdf")).await).text;
    assert!(open.contains("HOW TO PAY") && open.contains("Amount due 123,456.78 USD by"), "{open}");
    // The long word wrapped: no line holds it whole, and the amount stands in its own column.
    assert!(!open.lines().any(|l| l.contains(&long)), "{open}");
    assert!(open.lines().any(|l| l.trim_end().ends_with("123,456.78 USD")), "{open}");

    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 12_345_678})).await;
    let paid = crate::documents::inspect(&read_pdf(&app, &s, &format!("invoice://{id}/pdf")).await).text;
    assert!(!paid.contains("HOW TO PAY") && !paid.contains("IBAN"), "a paid invoice asks for nothing: {paid}");
    assert!(paid.contains(&format!("Paid in full on {}", today_utc())), "{paid}");

    let one = app.ok(&s, "get_statement", json!({"customer_id": "c1", "kind": "open_items", "currency": "USD"})).await;
    assert!(one["document"]["name"].as_str().unwrap().ends_with("-USD.pdf"), "{}", one["document"]);
    let text = crate::documents::inspect(&read_pdf(&app, &s, one["document"]["uri"].as_str().unwrap()).await).text;
    assert!(text.contains("Statement of open items in USD"), "{text}");
    app.stop().await;
}

/// The row cap of a statement counts rows: 5 001 rows on one day are refused with what to do
/// instead (one currency, or the open items), never "ask for a shorter period"; rows spread over
/// days are refused with the day to split the period at.
#[sqlx::test]
async fn a_statement_too_long_to_print_says_where_to_split_it(o: PgPoolOptions, c: PgConnectOptions) {
    let owner = pool(o, c).await;
    let app = spawn_app(owner.clone()).await;
    let s = app.session().await;
    for (customer, spread) in [("one_day", 0), ("many_days", 1)] {
        app.customer(&s, customer).await;
        // 2 501 invoices and as many payments: 5 002 rows. `spread` days apart per 100 invoices.
        sqlx::raw_sql(&format!(
            "begin; select set_config('app.tenant_id', 'default', true);
             insert into invoices (invoice_id, tenant_id, customer_id, status, currency, total_cents, amount_paid_cents,
                                   due_date, number, issued_at, issue_date, seller, buyer)
             select gen_random_uuid(), 'default', '{customer}', 'sent', 'USD', 1000, 100, date '2026-02-01',
                    '{customer}-' || g, timestamptz '2026-01-05 10:00+00', date '2026-01-05' + (g / 100) * {spread},
                    seller_snapshot('default'), buyer_snapshot('default', '{customer}')
               from generate_series(1, 2501) g;
             insert into payments (payment_id, tenant_id, invoice_id, amount_cents, currency, method, paid_at)
             select gen_random_uuid(), 'default', invoice_id, 100, 'USD', 'cash', issue_date::timestamp at time zone 'UTC'
               from invoices where customer_id = '{customer}';
             commit;"
        ))
        .execute(&owner)
        .await
        .unwrap();
    }
    let one_day = app
        .refused(&s, "get_statement", json!({"customer_id": "one_day", "from": "2026-01-01", "to": "2026-03-31"}))
        .await;
    let message = one_day["message"].as_str().unwrap();
    assert_eq!(one_day["errors"][0]["path"], "currency", "{one_day}");
    assert!(message.contains("open_items") && !message.contains("shorter"), "{message}");
    let many = app
        .refused(&s, "get_statement", json!({"customer_id": "many_days", "from": "2026-01-01", "to": "2026-03-31"}))
        .await;
    let message = many["message"].as_str().unwrap();
    assert_eq!(many["errors"][0]["path"], "to", "{many}");
    // 2 500 invoices and payments fit: 100 a day from 2026-01-05, so the first 5 000 end on
    // 2026-01-29 (rows of one day never split).
    assert!(message.contains("2026-01-29") || message.contains("2026-01-30"), "{message}");
    // The open items of the same customer are few enough to print.
    app.ok(&s, "get_statement", json!({"customer_id": "one_day", "kind": "open_items"})).await;
    app.stop().await;
}
