//! Taxes and discounts through the tools: VAT with mixed rates and a document discount, reverse
//! charge and its pre-send rule, US sales tax with two components, the rules on rates, and the
//! figures everywhere they show. Figures are worked out by hand in the comments.

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, pool, spawn_app};

async fn rate(app: &TestApp, s: &str, args: Value) -> String {
    app.ok(s, "create_tax_rate", args).await["tax_rate_id"].as_str().unwrap().to_owned()
}

async fn vat_seller(app: &TestApp, s: &str) {
    app.ok(s, "set_business_profile", json!({"legal_name": "Muster GmbH", "tax_id": "DE136695976"})).await;
    app.ok(s, "set_tax_settings", json!({"tax_mode": "vat"})).await;
}

#[sqlx::test]
async fn a_german_invoice_at_19_and_7_percent_with_a_10_percent_discount(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    vat_seller(&app, &s).await;
    let standard = rate(&app, &s, json!({"name": "USt 19 %", "kind": "vat", "percent": 19, "category": "S"})).await;
    let reduced = rate(&app, &s, json!({"name": "USt 7 %", "kind": "vat", "percent": 7, "category": "S"})).await;
    app.ok(&s, "upsert_customer", json!({"customer_id": "kunde", "name": "Kunde AG", "currency": "EUR"})).await;
    let draft = app
        .ok(
            &s,
            "create_invoice",
            json!({"customer_id": "kunde", "currency": "EUR",
                   "line_items": [
                       {"description": "Beratung", "amount_cents": 12_000, "quantity": 1.5, "unit": "HUR", "tax_rate_ids": [standard]},
                       {"description": "Buch", "amount_cents": 2_999, "quantity": 3, "tax_rate_ids": [reduced]}],
                   "allowances": [{"reason": "Treuerabatt", "percent": 10}]}),
        )
        .await;
    // Lines: 1.5 × 120.00 = 180.00 (S 19); 3 × 29.99 = 89.97 (S 7); Σ 269.97.
    // 10 % of 269.97 = 26.997 → 27.00, split 180.00 : 89.97 → 18.0044… and 8.9955…:
    // floors 18.00 + 8.99 = 26.99, the unit left goes to the larger remainder (8.9955) → 9.00.
    // S 19: 180.00 − 18.00 = 162.00, tax 30.78; S 7: 89.97 − 9.00 = 80.97, tax 5.6679 → 5.67.
    // Total 242.97 + 36.45 = 279.42.
    assert_eq!(draft["subtotal_cents"], 26_997, "{draft}");
    assert_eq!(draft["allowance_cents"], 2_700);
    assert_eq!(draft["tax_cents"], 3_645);
    assert_eq!(draft["total_cents"], 27_942);
    assert_eq!(draft["line_items"][0]["quantity"], json!(1.5));
    assert_eq!(draft["tax_breakdown"][0]["taxable_cents"], 16_200);
    assert_eq!(draft["tax_breakdown"][0]["tax_cents"], 3_078);
    assert_eq!(draft["tax_breakdown"][1]["taxable_cents"], 8_097);
    assert_eq!(draft["tax_breakdown"][1]["tax_cents"], 567);
    assert_eq!(draft["allowances"][0]["parts"][1]["amount_cents"], 900);
    let id = draft["invoice_id"].as_str().unwrap();
    let sent = app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    assert_eq!(sent["total_cents"], 27_942, "the sent invoice carries the draft's figures");
    let report = app.ok(&s, "list_outstanding", json!({})).await;
    assert_eq!(report["balances"][0]["outstanding_cents"], 27_942, "{report}");
    let customer = app.ok(&s, "get_customer", json!({"customer_id": "kunde"})).await;
    assert_eq!(customer["outstanding"][0]["outstanding_cents"], 27_942);
}

#[sqlx::test]
async fn reverse_charge_needs_the_buyers_vat_id_and_a_refusal_spends_no_number(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    vat_seller(&app, &s).await;
    let ae = rate(&app, &s, json!({"name": "Reverse charge", "kind": "vat", "percent": 0, "category": "AE"})).await;
    app.ok(&s, "upsert_customer", json!({"customer_id": "fr", "name": "Client SARL", "currency": "EUR"})).await;
    let args = json!({"customer_id": "fr", "currency": "EUR",
                      "line_items": [{"description": "Services", "amount_cents": 100_000, "tax_rate_ids": [ae]}]});
    let id = app.ok(&s, "create_invoice", args.clone()).await["invoice_id"].as_str().unwrap().to_owned();
    let refused = app.refused(&s, "send_invoice", json!({"invoice_id": id})).await;
    assert_eq!(refused["code"], "rule_broken", "{refused}");
    assert_eq!(refused["rule"], "BR-AE-02");
    assert_eq!(refused["path"], "customer.tax_id");
    let draft = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    assert_eq!(draft["status"], "draft", "nothing changed");
    // A VAT id with a wrong check digit is refused too, by Tally's own rule.
    app.ok(&s, "upsert_customer", json!({"customer_id": "fr", "tax_id": "FR40303265046"})).await;
    let refused = app.refused(&s, "send_invoice", json!({"invoice_id": id})).await;
    assert_eq!(refused["rule"], "TALLY-VATID", "{refused}");
    app.ok(&s, "upsert_customer", json!({"customer_id": "fr", "tax_id": "FR40303265045"})).await;
    let sent = app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    assert_eq!(sent["number"], "INV-000001", "the refused sends spent no number");
    assert_eq!(sent["tax_cents"], 0);
    assert_eq!(sent["tax_breakdown"][0]["exemption_reason"], "Reverse charge");
}

#[sqlx::test]
async fn us_sales_tax_with_state_and_county_components(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    app.ok(&s, "set_tax_settings", json!({"tax_mode": "sales_tax"})).await;
    let state =
        rate(&app, &s, json!({"name": "CA state", "kind": "sales_tax", "percent": 6.25, "jurisdiction": "CA"})).await;
    let county = rate(
        &app,
        &s,
        json!({"name": "LA county", "kind": "sales_tax", "percent": 1, "jurisdiction": "Los Angeles County"}),
    )
    .await;
    app.customer(&s, "la").await;
    let invoice = app
        .ok(
            &s,
            "create_invoice",
            json!({"customer_id": "la", "currency": "USD",
                   "line_items": [
                       {"description": "Widget", "amount_cents": 4_999, "quantity": 3, "tax_rate_ids": [state, county]},
                       {"description": "Support (untaxed)", "amount_cents": 10_000}],
                   "charges": [{"reason": "Shipping", "amount_cents": 1_000}]}),
        )
        .await;
    // Taxed lines 149.97, untaxed 100.00; shipping 1000 cents split 14997 : 10000:
    // 1000 × 14997 / 24997 = 599.95 → 599, 1000 × 10000 / 24997 = 400.05 → 400; the cent left
    // goes to the larger remainder (0.95) → 600 and 400.
    // Taxed set 149.97 + 6.00 = 155.97: state 6.25 % = 9.748125 → 9.75; county 1 % = 1.5597 → 1.56.
    // Total 249.97 + 10.00 + 11.31 = 271.28.
    assert_eq!(invoice["charges"][0]["parts"][0]["amount_cents"], 600, "{invoice}");
    assert_eq!(invoice["tax_breakdown"][0]["tax_cents"], 975);
    assert_eq!(invoice["tax_breakdown"][1]["tax_cents"], 156);
    assert_eq!(invoice["total_cents"], 27_128);
}

#[sqlx::test]
async fn rates_keep_their_categories_rules_and_lines_their_modes(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    // A standard rate of 0 %, and an exempt rate without a reason, are refused.
    let zero =
        app.refused(&s, "create_tax_rate", json!({"name": "x", "kind": "vat", "percent": 0, "category": "S"})).await;
    assert_eq!(zero["path"], "percent", "{zero}");
    let exempt =
        app.refused(&s, "create_tax_rate", json!({"name": "x", "kind": "vat", "percent": 0, "category": "E"})).await;
    assert_eq!(exempt["path"], "exemption_reason", "{exempt}");
    let vat = rate(&app, &s, json!({"name": "VAT 20", "kind": "vat", "percent": 20, "category": "S"})).await;
    app.customer(&s, "acme").await;
    // Tax mode none: a line may not carry a rate; the create writes nothing.
    let before = app.count("invoices").await;
    let args = json!({"customer_id": "acme", "currency": "USD",
                      "line_items": [{"description": "x", "amount_cents": 100, "tax_rate_ids": [vat]}]});
    let refused = app.refused(&s, "create_invoice", args.clone()).await;
    assert_eq!(refused["path"], "line_items[0].tax_rate_ids", "{refused}");
    assert_eq!(app.count("invoices").await, before);
    // A VAT tenant's line without a rate is refused, even on the path that prices without a read.
    app.ok(&s, "set_tax_settings", json!({"tax_mode": "vat"})).await;
    let bare =
        json!({"customer_id": "acme", "currency": "USD", "line_items": [{"description": "x", "amount_cents": 100}]});
    let refused = app.refused(&s, "create_invoice", bare).await;
    assert_eq!(refused["path"], "line_items[0].tax_rate_ids", "{refused}");
    // An archived rate cannot be named; too many decimals in a quantity are refused by the schema.
    app.ok(&s, "archive_tax_rate", json!({"tax_rate_id": vat})).await;
    let refused = app.refused(&s, "create_invoice", args).await;
    assert!(refused["message"].as_str().unwrap().contains("archived"), "{refused}");
    let refused = app
        .refused(&s, "create_invoice", json!({"customer_id": "acme", "line_items": [{"description": "x", "amount_cents": 1, "quantity": 1.00001}]}))
        .await;
    assert_eq!(refused["errors"][0]["path"], "line_items[0].quantity", "{refused}");
}

#[sqlx::test]
async fn prices_that_include_vat_keep_the_shelf_price(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    vat_seller(&app, &s).await;
    let standard = rate(&app, &s, json!({"name": "VAT 19", "kind": "vat", "percent": 19, "category": "S"})).await;
    app.customer(&s, "shop").await;
    let invoice = app
        .ok(
            &s,
            "create_invoice",
            json!({"customer_id": "shop", "currency": "EUR", "prices_include_tax": true,
                   "line_items": [{"description": "Shelf item", "amount_cents": 1_000, "quantity": 3, "tax_rate_ids": [standard]}]}),
        )
        .await;
    // Gross 30.00: taxable round(3000 × 100 / 119) = round(2521.008…) = 2521, tax 479.
    assert_eq!(invoice["total_cents"], 3_000, "{invoice}");
    assert_eq!(invoice["tax_cents"], 479);
    assert_eq!(invoice["line_items"][0]["net_cents"], 2_521);
}

/// Every pre-send rule Tally checks refuses with its id and the path to fix, and changes nothing:
/// after all the refusals, the first invoice sent still takes the first number.
#[sqlx::test]
async fn each_pre_send_rule_refuses_with_its_id_and_spends_no_number(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    app.ok(&s, "set_business_profile", json!({"legal_name": "Seller Ltd"})).await;
    app.ok(&s, "set_tax_settings", json!({"tax_mode": "vat"})).await;
    let std = rate(&app, &s, json!({"name": "VAT 20", "kind": "vat", "percent": 20, "category": "S"})).await;
    let k = rate(&app, &s, json!({"name": "Intra-EU goods", "kind": "vat", "percent": 0, "category": "K"})).await;
    let o_rate = rate(&app, &s, json!({"name": "Out of scope", "kind": "vat", "percent": 0, "category": "O"})).await;
    app.ok(&s, "upsert_customer", json!({"customer_id": "b", "name": "Buyer BV", "currency": "EUR"})).await;
    app.ok(&s, "upsert_customer", json!({"customer_id": "kw", "name": "Kuwait Co", "currency": "KWD"})).await;
    let draft = |customer: &'static str, lines: Value| {
        let app = &app;
        let s = &s;
        async move {
            let args = json!({"customer_id": customer, "line_items": lines});
            app.ok(s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned()
        }
    };
    let line = |rates: Vec<&str>| json!({"description": "Goods", "amount_cents": 10_000, "tax_rate_ids": rates});
    let send = |id: String, extra: Value| {
        let app = &app;
        let s = &s;
        async move {
            let mut args = json!({"invoice_id": id});
            args.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            app.refused(s, "send_invoice", args).await
        }
    };
    let check = |refused: Value, rule: &str, path: &str| {
        assert_eq!(refused["code"], "rule_broken", "{refused}");
        assert_eq!(refused["rule"], rule, "{refused}");
        assert_eq!(refused["path"], path, "{refused}");
        assert!(refused["expected"].is_string(), "{refused}");
    };

    let standard = draft("b", json!([line(vec![&std])])).await;
    check(send(standard.clone(), json!({})).await, "BR-S-02", "business_profile.tax_id");
    app.ok(&s, "set_business_profile", json!({"tax_id": "123456789"})).await;
    check(send(standard.clone(), json!({})).await, "BR-CO-09", "business_profile.tax_id");
    app.ok(&s, "set_business_profile", json!({"tax_id": "GB980780684"})).await;

    let intra = draft("b", json!([line(vec![&k])])).await;
    check(send(intra.clone(), json!({})).await, "BR-IC-02", "customer.tax_id");
    app.ok(&s, "upsert_customer", json!({"customer_id": "b", "tax_id": "NL004495445B01"})).await;
    check(send(intra.clone(), json!({})).await, "BR-IC-11", "supply_date");

    let mixed = draft("b", json!([line(vec![&o_rate]), line(vec![&std])])).await;
    check(send(mixed, json!({})).await, "BR-O-11", "line_items");

    // 10.005 KWD (10005 fils) has three decimals; EN 16931 amounts have two.
    let kwd = json!([{"description": "Goods", "amount_cents": 10_005, "tax_rate_ids": [k]}]);
    let kwd = draft("kw", kwd).await;
    app.ok(&s, "upsert_customer", json!({"customer_id": "kw", "tax_id": "BE0403019261"})).await;
    check(send(kwd, json!({"supply_date": "2026-01-05"})).await, "BR-DEC-23", "line_items[0]");

    // A draft made under other settings is refused until updated.
    let before = draft("b", json!([line(vec![&std])])).await;
    app.ok(&s, "set_tax_settings", json!({"tax_mode": "vat", "prices_include_tax": true})).await;
    app.ok(&s, "set_tax_settings", json!({"tax_mode": "sales_tax"})).await;
    let stale = send(before, json!({})).await;
    assert_eq!(stale["errors"][0]["path"], "line_items[0].tax_rate_ids", "{stale}");
    app.ok(&s, "set_tax_settings", json!({"tax_mode": "vat"})).await;

    assert_eq!(app.count("audit_events where action = 'sent'").await, 0, "no refusal sent anything");
    let sent = app.ok(&s, "send_invoice", json!({"invoice_id": intra, "supply_date": "2026-01-05"})).await;
    assert_eq!(sent["number"], "INV-000001", "{sent}");
    let sent = app.ok(&s, "send_invoice", json!({"invoice_id": standard})).await;
    assert_eq!(sent["number"], "INV-000002");
    assert_eq!(sent["tax_cents"], 2_000);
}

/// A batch is priced whole before anything is written: an invoice the tax rules refuse refuses
/// the batch, by its index, and no invoice of it is kept.
#[sqlx::test]
async fn a_batch_with_an_invoice_the_tax_rules_refuse_writes_nothing(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let s = app.session().await;
    vat_seller(&app, &s).await;
    let standard = rate(&app, &s, json!({"name": "VAT 19", "kind": "vat", "percent": 19, "category": "S"})).await;
    let good = json!({"customer_id": "a", "currency": "EUR",
                      "line_items": [{"description": "x", "amount_cents": 100, "tax_rate_ids": [standard]}]});
    let untaxed =
        json!({"customer_id": "b", "currency": "EUR", "line_items": [{"description": "y", "amount_cents": 100}]});
    let refused = app.refused(&s, "create_invoices_batch", json!({"invoices": [good, untaxed]})).await;
    assert_eq!(refused["errors"][0]["path"], "invoices[1].line_items[0].tax_rate_ids", "{refused}");
    assert_eq!(app.count("invoices").await, 0, "the batch wrote nothing");
}
