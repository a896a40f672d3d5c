//! Documents over MCP: render_invoice and get_statement return figures, a resource_link and (on
//! request) the PDF itself; resources/read serves the same bytes in both eras; the statement's
//! figures are list_outstanding's; another tenant cannot reach a document by URI, id or link.

use std::process::Command;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, pool, spawn_app_with};

const LINK_KEY: &str = "0123456789abcdef0123456789abcdef-test-key";

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}

/// `pdftotext -layout` of a PDF, and what qpdf, pdffonts and pdfinfo say of it.
pub struct Pdf {
    pub text: String,
    /// In content order: rotated text such as the DRAFT watermark comes out whole.
    pub raw: String,
    pub pages: usize,
}

pub fn inspect(pdf: &[u8]) -> Pdf {
    let dir = tempfile_dir();
    let path = dir.join(format!("{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, pdf).unwrap();
    let run = |cmd: &str, args: &[&str]| {
        let out = Command::new(cmd)
            .args(args)
            .arg(&path)
            .args(if cmd == "pdftotext" { &["-"][..] } else { &[][..] })
            .output()
            .unwrap_or_else(|e| panic!("{cmd} (make test installs poppler-utils and qpdf): {e}"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run("qpdf", &["--check"]);
    assert!(ok && err.trim().is_empty(), "qpdf --check: {out}{err}");
    let (ok, fonts, _) = run("pdffonts", &[]);
    assert!(ok);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "no fonts at all: {fonts}");
    for row in &rows {
        // name type encoding emb sub uni object ID
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(
            (cols[n - 5], cols[n - 4], cols[n - 3]),
            ("yes", "yes", "yes"),
            "font not embedded, subsetted and Unicode-mapped: {row}"
        );
    }
    let (ok, info, _) = run("pdfinfo", &[]);
    assert!(ok);
    let pages = info.lines().find_map(|l| l.strip_prefix("Pages:")).unwrap().trim().parse().unwrap();
    let (ok, text, _) = run("pdftotext", &["-layout"]);
    assert!(ok);
    let (ok, raw, _) = run("pdftotext", &["-raw"]);
    assert!(ok);
    std::fs::remove_file(&path).ok();
    Pdf { text, raw, pages }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("tally-documents");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn tenants(pool: &sqlx::PgPool) {
    for tenant in ["acme", "globex"] {
        sqlx::query("insert into tenants (tenant_id, name) values ($1, $1 || ' Corp')")
            .bind(tenant)
            .execute(pool)
            .await
            .unwrap();
    }
}

async fn app(pool: &sqlx::PgPool, tenant: &str) -> TestApp {
    spawn_app_with(
        pool.clone(),
        &["--tenant", tenant, "--document-link-key", LINK_KEY, "--public-url", "http://127.0.0.1"],
    )
    .await
}

#[sqlx::test]
async fn an_invoice_renders_links_embeds_and_reads_back(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c).await;
    tenants(&pool).await;
    let acme = app(&pool, "acme").await;
    let s = acme.session().await;
    acme.ok(
        &s,
        "set_business_profile",
        json!({
            "legal_name": "Acme Trading Ltd",
            "address": "1 Harbour Road\nSpringfield 12345",
            "tax_id": "GB123456789",
            "email": "billing@acme.example",
            "payment_instructions": "IBAN GB33 BUKB 2020 1555 5555 55\nBIC BUKBGB22",
            "footer": "Acme Trading Ltd, registered in England no. 01234567",
        }),
    )
    .await;
    acme.ok(
        &s,
        "upsert_customer",
        json!({
            "customer_id": "cust_ru", "name": "Ольга Παπαδοπούλου", "currency": "KWD",
            "billing_address": "ул. Пушкина 10\nΑθήνα 10558", "tax_id": "EL999999999",
        }),
    )
    .await;
    let created = acme
        .ok(
            &s,
            "create_invoice",
            json!({
                "customer_id": "cust_ru", "currency": "KWD", "memo": "Thank you — спасибо — ευχαριστώ",
                "line_items": [
                    {"description": "Consulting — консультация", "amount_cents": 125_500, "quantity": 2},
                    {"description": "Travel", "amount_cents": 40_250},
                ],
            }),
        )
        .await;
    let id = created["invoice_id"].as_str().unwrap().to_owned();

    // A draft: watermarked, no number.
    let draft = acme.ok(&s, "render_invoice", json!({"invoice_id": id})).await;
    let printed = inspect(&read_pdf(&acme, &s, &format!("invoice://{id}/pdf")).await);
    assert!(printed.raw.contains("DRAFT") && printed.text.contains("Draft invoice"), "{}", printed.raw);
    assert!(draft["number"].is_null());

    acme.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    acme.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 100_000, "reference": "TRX-1"})).await;
    let result = acme.call(&s, "render_invoice", json!({"invoice_id": id})).await;
    assert_eq!(result["isError"], false, "{result}");
    let out = &result["structuredContent"];
    assert_eq!(out["amount_due_cents"], 191_250);
    assert_eq!(out["amount_due_formatted"], "191.250 KWD");
    assert_eq!(out["total_formatted"], "291.250 KWD");
    let doc = &out["document"];
    let uri = format!("invoice://{id}/pdf");
    assert_eq!(
        (&doc["uri"], &doc["mime_type"], &doc["standard"], &doc["pages"]),
        (&json!(uri), &json!("application/pdf"), &json!("PDF/A-3u"), &json!(1))
    );
    assert_eq!(doc["embedded"], false, "not embedded unless asked");
    assert_eq!(out["warnings"], json!([]));
    let link = &result["content"][1];
    assert_eq!(
        (&link["type"], &link["uri"], &link["mimeType"]),
        (&json!("resource_link"), &json!(uri), &json!("application/pdf"))
    );
    assert_eq!(link["size"], doc["size_bytes"]);
    assert_eq!(result["content"].as_array().unwrap().len(), 2, "no blob unless asked");

    // resources/read serves the same bytes, in both eras; embed puts them in the result.
    let pdf = read_pdf(&acme, &s, &uri).await;
    assert_eq!(pdf.len() as u64, doc["size_bytes"].as_u64().unwrap());
    let embedded = acme.call(&s, "render_invoice", json!({"invoice_id": id, "embed": true})).await;
    assert_eq!(embedded["structuredContent"]["document"]["embedded"], true);
    let blob = &embedded["content"][2]["resource"];
    assert_eq!(blob["mimeType"], "application/pdf");
    assert_eq!(b64(blob["blob"].as_str().unwrap()), pdf, "the same data gives the same bytes");
    let (status, modern) = acme.modern(None, "resources/read", json!({"uri": uri})).await;
    assert_eq!(status, StatusCode::OK, "{modern}");
    assert_eq!(modern["result"]["contents"][0]["mimeType"], "application/pdf");
    assert_eq!(b64(modern["result"]["contents"][0]["blob"].as_str().unwrap()), pdf);

    let printed = inspect(&pdf);
    assert_eq!(printed.pages, 1);
    let number = out["number"].as_str().unwrap();
    for expected in [
        "Acme Trading Ltd",
        "1 Harbour Road",
        "GB123456789",
        "Ольга Παπαδοπούλου",
        "ул. Пушкина 10",
        "Αθήνα 10558",
        "EL999999999",
        number,
        "Consulting — консультация",
        "125.500 KWD",
        "251.000 KWD",
        "291.250 KWD",
        "100.000 KWD",
        "191.250 KWD",
        "Amount due",
        "IBAN GB33 BUKB 2020 1555 5555 55",
        "TRX-1",
        "Page 1 of 1",
        "Thank you — спасибо — ευχαριστώ",
        "registered in England",
    ] {
        assert!(printed.text.contains(expected), "{expected:?} missing from:\n{}", printed.text);
    }
    assert!(!printed.raw.contains("DRAFT"));

    // The signed link opens without a token; a changed one does not.
    let url = doc["download_url"].as_str().unwrap().replacen("http://127.0.0.1", &acme.base_url(), 1);
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    let mut tampered = url.clone().into_bytes();
    let i = tampered.len() - 3;
    tampered[i] = if tampered[i] == b'x' { b'y' } else { b'x' };
    let res = reqwest::get(String::from_utf8(tampered).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Void: says so.
    let other = acme.ok(&s, "create_invoice", json!({"customer_id": "cust_ru", "currency": "KWD", "line_items": [{"description": "x", "amount_cents": 5}]})).await;
    let other_id = other["invoice_id"].as_str().unwrap();
    acme.ok(&s, "send_invoice", json!({"invoice_id": other_id})).await;
    acme.ok(&s, "void_invoice", json!({"invoice_id": other_id, "reason": "Sent twice"})).await;
    let printed = inspect(&read_pdf(&acme, &s, &format!("invoice://{other_id}/pdf")).await);
    assert!(printed.raw.contains("VOID") && printed.text.contains("Sent twice"), "{}", printed.raw);

    // Another tenant: not by URI, not by id, not by a link signed for acme but edited.
    let globex = app(&pool, "globex").await;
    let g = globex.session().await;
    let read = globex.rpc(&g, "resources/read", json!({"uri": uri})).await;
    assert_eq!(read["error"]["code"], -32002, "{read}");
    let refused = globex.refused(&g, "render_invoice", json!({"invoice_id": id})).await;
    assert_eq!(refused["code"], "not_found");
    let token = url.rsplit('/').next().unwrap();
    let (payload, tag) = token.split_once('.').unwrap();
    let payload = String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.replacen("acme", "globex", 1));
    let res = reqwest::get(format!("{}/documents/{forged}.{tag}", globex.base_url())).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    acme.stop().await;
    globex.stop().await;
}

pub async fn read_pdf(app: &TestApp, session: &str, uri: &str) -> Vec<u8> {
    let read = app.rpc(session, "resources/read", json!({"uri": uri})).await;
    let content = &read["result"]["contents"][0];
    assert_eq!(content["mimeType"], "application/pdf", "{read}");
    b64(content["blob"].as_str().unwrap())
}

/// Sections keyed by currency, from a get_statement result.
fn by_currency(statement: &Value) -> std::collections::BTreeMap<String, Value> {
    statement["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["currency"].as_str().unwrap().to_owned(), s.clone()))
        .collect()
}

#[sqlx::test]
async fn a_statement_agrees_with_list_outstanding_and_get_customer(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c).await;
    tenants(&pool).await;
    let acme = app(&pool, "acme").await;
    let s = acme.session().await;
    acme.ok(&s, "upsert_customer", json!({"customer_id": "cust_s", "name": "Statement Co", "payment_terms_days": 10}))
        .await;
    let mut ids = vec![];
    for (currency, cents) in [("USD", 10_000), ("USD", 2_500), ("EUR", 7_000), ("JPY", 1500)] {
        let inv = acme.ok(&s, "create_invoice", json!({"customer_id": "cust_s", "currency": currency, "line_items": [{"description": "Work", "amount_cents": cents}]})).await;
        let id = inv["invoice_id"].as_str().unwrap().to_owned();
        acme.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
        ids.push(id);
    }
    acme.ok(&s, "apply_payment", json!({"invoice_id": ids[0], "amount_cents": 4_000})).await;
    acme.ok(&s, "void_invoice", json!({"invoice_id": ids[1], "reason": "Duplicate"})).await;
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Days::new(40);

    let st = acme
        .ok(&s, "get_statement", json!({"customer_id": "cust_s", "from": from.to_string(), "to": today.to_string()}))
        .await;
    let outstanding =
        acme.ok(&s, "list_outstanding", json!({"customer_id": "cust_s", "as_of": today.to_string()})).await;
    let customer = acme.ok(&s, "get_customer", json!({"customer_id": "cust_s"})).await;
    let sections = by_currency(&st);
    assert_eq!(sections.keys().collect::<Vec<_>>(), ["EUR", "JPY", "USD"]);
    for balance in outstanding["balances"].as_array().unwrap().iter().chain(customer["outstanding"].as_array().unwrap())
    {
        let section = &sections[balance["currency"].as_str().unwrap()];
        assert_eq!(section["closing_cents"], balance["outstanding_cents"], "{section} vs {balance}");
        for bucket in ["current_cents", "days_1_30_cents", "days_31_60_cents", "days_61_90_cents", "over_90_cents"] {
            assert_eq!(section["aging"][bucket], balance["aging"][bucket], "{bucket}");
        }
    }
    let usd = &sections["USD"];
    assert_eq!(usd["opening_cents"], 0);
    let kinds: Vec<&str> = usd["entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    // Within a day, by time: the payment (dated the day, counted from its invoice's issue) before the later invoice.
    assert_eq!(kinds, ["invoice", "payment", "invoice", "void"]);
    assert_eq!(usd["entries"][3]["balance_cents"], 6_000);
    assert_eq!(usd["closing_cents"], 6_000);

    // Open items as of today: the same closing figures, the open invoices listed.
    let open = acme.ok(&s, "get_statement", json!({"customer_id": "cust_s", "kind": "open_items"})).await;
    let open_usd = &by_currency(&open)["USD"];
    assert_eq!(open_usd["closing_cents"], 6_000);
    assert_eq!(open_usd["open_items"][0]["open_cents"], 6_000);
    assert_eq!(open_usd["open_items"][0]["original_cents"], 10_000);

    // The PDF prints the same figures.
    let uri = st["document"]["uri"].as_str().unwrap();
    let text = inspect(&read_pdf(&acme, &s, uri).await).text;
    for expected in [
        "Statement of account",
        "Balance brought forward",
        "Closing balance",
        "60.00 USD",
        "70.00 EUR",
        "1,500 JPY",
        "Void",
        "Duplicate",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }

    // Cross-field rules, before anything is read.
    let refused = acme.refused(&s, "get_statement", json!({"customer_id": "cust_s"})).await;
    assert_eq!((refused["code"].as_str(), refused["path"].as_str()), (Some("invalid_params"), Some("from")));
    let refused = acme
        .refused(&s, "get_statement", json!({"customer_id": "cust_s", "from": "2026-02-01", "to": "2026-01-01"}))
        .await;
    assert_eq!(refused["path"], "from");
    let refused = acme
        .refused(&s, "get_statement", json!({"customer_id": "cust_s", "kind": "open_items", "from": "2026-01-01"}))
        .await;
    assert_eq!(refused["path"], "from");
    let refused = acme.refused(&s, "get_statement", json!({"customer_id": "nobody", "kind": "open_items"})).await;
    assert_eq!(refused["code"], "not_found");

    // Another tenant's statement URI is not found.
    let globex = app(&pool, "globex").await;
    let g = globex.session().await;
    let read = globex.rpc(&g, "resources/read", json!({"uri": uri})).await;
    assert_eq!(read["error"]["code"], -32002, "{read}");
    acme.stop().await;
    globex.stop().await;
}

#[sqlx::test]
async fn a_500_row_statement_paginates_with_its_header_on_every_page(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c).await;
    // 250 sent invoices and 250 payments, January to June 2026 (what `make bench` renders).
    tally::bench::seed_statement(&pool).await.unwrap();
    let app = spawn_app_with(pool.clone(), &[]).await;
    let s = app.session().await;
    let customer = tally::bench::STATEMENT_CUSTOMER;
    let st =
        app.ok(&s, "get_statement", json!({"customer_id": customer, "from": "2026-01-01", "to": "2026-07-31"})).await;
    let usd = &st["sections"][0];
    // The result lists the first 100 rows as data and says how to page; the PDF has all 500.
    assert_eq!(usd["entries"].as_array().unwrap().len(), 100);
    assert_eq!((st["rows_total"].as_i64(), st["next_rows_after"].as_i64()), (Some(500), Some(100)));
    let last = app
        .ok(
            &s,
            "get_statement",
            json!({"customer_id": customer, "from": "2026-01-01", "to": "2026-07-31", "rows_after": 400}),
        )
        .await;
    assert_eq!(last["sections"][0]["entries"].as_array().unwrap().len(), 100);
    assert_eq!(last["next_rows_after"], Value::Null);
    assert_eq!(
        last["sections"][0]["entries"][99]["balance_cents"], usd["closing_cents"],
        "the last row is the closing"
    );
    assert_eq!(usd["closing_cents"], 250 * 7_500);
    let printed = inspect(&read_pdf(&app, &s, st["document"]["uri"].as_str().unwrap()).await);
    assert_eq!(st["document"]["pages"], printed.pages);
    let pages: Vec<&str> = printed.text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert_eq!(pages.len(), printed.pages);
    assert!(printed.pages >= 8, "500 rows on {} pages", printed.pages);
    for (i, page) in pages.iter().enumerate() {
        let n = i + 1;
        assert!(page.contains(&format!("Page {n} of {}", printed.pages)), "page {n} has no page number:\n{page}");
        if n < printed.pages {
            // Every page but the last (which may hold only the aging table) carries the rows' header.
            assert!(
                ["Date", "Description", "Charges", "Credits", "Balance"].iter().all(|h| page.contains(h)),
                "page {n} lacks the table header:\n{page}"
            );
        }
    }
    assert_eq!(printed.text.matches("Payment on BENCH-").count(), 250);
    assert_eq!(printed.text.matches("Invoice BENCH-").count(), 250);
    assert!(printed.text.contains("Closing balance") && printed.text.contains("18,750.00 USD"), "{}", printed.text);
    app.stop().await;
}

#[sqlx::test]
async fn a_character_no_bundled_font_has_is_replaced_visibly_and_reported(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c).await;
    let app = spawn_app_with(pool.clone(), &[]).await;
    let s = app.session().await;
    app.ok(&s, "upsert_customer", json!({"customer_id": "kk", "name": "Sakura 株式会社", "currency": "JPY"})).await;
    let inv = app
        .ok(&s, "create_invoice", json!({"customer_id": "kk", "currency": "JPY", "line_items": [{"description": "Tea", "amount_cents": 1500}]}))
        .await;
    let out = app.ok(&s, "render_invoice", json!({"invoice_id": inv["invoice_id"]})).await;
    let warnings: Vec<&str> = out["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(warnings.len(), 4, "one per character: {warnings:?}");
    assert!(warnings.iter().any(|w| w.starts_with("U+682A (株)")), "{warnings:?}");
    let printed = inspect(&read_pdf(&app, &s, out["document"]["uri"].as_str().unwrap()).await);
    assert!(printed.text.contains("Sakura \u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"), "{}", printed.text);
    assert!(printed.text.contains("1,500 JPY"), "documents group digits: {}", printed.text);
    // The stored name is untouched: only the document stands in for what it cannot print.
    let customer = app.ok(&s, "get_customer", json!({"customer_id": "kk"})).await;
    assert_eq!(customer["name"], "Sakura 株式会社");
    app.stop().await;
}

#[sqlx::test]
async fn two_payments_on_one_day_print_in_the_order_they_were_recorded(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c).await;
    let app = spawn_app_with(pool.clone(), &[]).await;
    let s = app.session().await;
    let id = app.sent_invoice(&s, "twice", "Work", 10_000).await;
    // Both dated today (paid_at is a day): only the recording order tells them apart.
    for cents in [3_000, 1_000, 2_000] {
        app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": cents})).await;
    }
    let today = chrono::Utc::now().date_naive().to_string();
    let args = json!({"customer_id": "twice", "from": today, "to": today});
    let first = app.ok(&s, "get_statement", args.clone()).await;
    let credits: Vec<i64> = first["sections"][0]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["credit_cents"].as_i64().unwrap())
        .collect();
    assert_eq!(credits, [0, 3_000, 1_000, 2_000]);
    for _ in 0..3 {
        let again = app.ok(&s, "get_statement", args.clone()).await;
        assert_eq!(again["document"]["sha256"], first["document"]["sha256"], "the same data, the same bytes");
    }
    app.stop().await;
}

#[sqlx::test]
async fn an_instalment_plans_payments_run_onto_the_next_page(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c).await;
    let app = spawn_app_with(pool.clone(), &[]).await;
    let s = app.session().await;
    let id = app.sent_invoice(&s, "instalments", "Plan", 100_000).await;
    for n in 0..70 {
        app.ok(
            &s,
            "apply_payment",
            json!({"invoice_id": id, "amount_cents": 1_000, "reference": format!("INST-{n:03}")}),
        )
        .await;
    }
    let out = app.ok(&s, "render_invoice", json!({"invoice_id": id})).await;
    let printed = inspect(&read_pdf(&app, &s, out["document"]["uri"].as_str().unwrap()).await);
    assert!(printed.pages >= 2, "{} page(s)", printed.pages);
    assert_eq!(printed.text.matches("INST-").count(), 70, "every payment printed:\n{}", printed.text);
    assert!(printed.text.contains("300.00 USD"), "amount due");
    app.stop().await;
}
