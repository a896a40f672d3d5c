//! Row-level security: the database, not the code, keeps tenants apart. Raw SQL that forgets
//! its tenant filter, run the way Tally runs every statement (in a transaction begun by
//! `db::begin_for`), sees and changes only its own tenant's rows; two servers of two tenants on
//! one database cannot reach each other's invoices, keys or sessions.

use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use tally::db;

use crate::helpers::{TestApp, pool, server_login, spawn_app_with, widget_invoice};

const TABLES: &[&str] = &[
    "invoices",
    "invoice_lines",
    "customers",
    "payments",
    "idempotency_keys",
    "mcp_sessions",
    "invoice_counters",
    "audit_events",
    "credit_notes",
    "credit_note_counters",
    "refunds",
    "customer_credit",
    "invoice_settlements",
    "tenants",
];

async fn add_tenant(owner: &PgPool, tenant: &str) {
    sqlx::query("insert into tenants (tenant_id, name) values ($1, $1)").bind(tenant).execute(owner).await.unwrap();
}

/// A server for `tenant` on the shared database, with one invoice sent and part paid under
/// idempotency keys, so that every tenant table holds rows of it.
async fn books(owner: &PgPool, tenant: &str) -> (TestApp, String, String) {
    let app = spawn_app_with(owner.clone(), &["--tenant", tenant]).await;
    let s = app.session().await;
    app.ok(&s, "upsert_customer", json!({"customer_id": "cust_1", "name": format!("{tenant} customer")})).await;
    let mut args = widget_invoice("cust_1");
    args["idempotency_key"] = json!("same-key");
    let id = app.ok(&s, "create_invoice", args).await["invoice_id"].as_str().unwrap().to_owned();
    app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 100, "idempotency_key": "pay-1"})).await;
    // A credit note for more than is due: its excess refunded (credit notes, refunds, the
    // customer's credit ledger and the invoice's settlements all hold a row).
    app.ok(
        &s,
        "create_credit_note",
        json!({"invoice_id": id, "reason": "other", "amount_cents": 1000, "excess_to": "refund"}),
    )
    .await;
    (app, s, id)
}

async fn count_as(pool: &PgPool, tenant: &str, table: &str) -> i64 {
    let mut tx = db::begin_for(pool, tenant).await.unwrap();
    sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(&mut *tx).await.unwrap()
}

async fn count_owned(owner: &PgPool, tenant: &str, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table} where tenant_id = $1"))
        .bind(tenant)
        .fetch_one(owner)
        .await
        .unwrap()
}

#[sqlx::test]
async fn unfiltered_sql_sees_and_changes_only_its_own_tenant(o: PgPoolOptions, c: PgConnectOptions) {
    let owner = pool(o, c).await;
    add_tenant(&owner, "acme").await;
    add_tenant(&owner, "globex").await;
    let (_a, _, acme_invoice) = books(&owner, "acme").await;
    let (_g, _, globex_invoice) = books(&owner, "globex").await;

    for table in TABLES {
        let own = count_owned(&owner, "acme", table).await;
        assert!(own > 0, "{table}: acme has rows");
        assert!(count_owned(&owner, "globex", table).await > 0, "{table}: globex has rows");
        assert_eq!(count_as(&owner, "acme", table).await, own, "{table}: acme sees exactly its own rows");
    }

    // Reading another tenant's invoice by id finds nothing (and the same query as its owner does).
    let by_id = "select count(*) from invoices where invoice_id = replace($1, 'inv_', '')::uuid";
    for (tenant, expected) in [("globex", 1), ("acme", 0)] {
        let mut tx = db::begin_for(&owner, tenant).await.unwrap();
        let found: i64 = sqlx::query_scalar(by_id).bind(&globex_invoice).fetch_one(&mut *tx).await.unwrap();
        assert_eq!(found, expected, "globex's invoice as seen by {tenant}");
    }
    let mut tx = db::begin_for(&owner, "acme").await.unwrap();
    // Updates and deletes without a filter touch only acme's rows.
    let updated = sqlx::query("update invoices set memo = 'acme was here'").execute(&mut *tx).await.unwrap();
    assert_eq!(updated.rows_affected(), 1);
    let deleted = sqlx::query("delete from idempotency_keys").execute(&mut *tx).await.unwrap();
    assert_eq!(deleted.rows_affected(), 2);
    tx.commit().await.unwrap();
    let globex_memo: Option<String> =
        sqlx::query_scalar("select memo from invoices where tenant_id = 'globex'").fetch_one(&owner).await.unwrap();
    assert_eq!(globex_memo, None, "globex's invoice unchanged");
    assert_eq!(count_owned(&owner, "globex", "idempotency_keys").await, 2, "globex's keys kept");
    assert_eq!(count_owned(&owner, "acme", "idempotency_keys").await, 0);

    // Writing a row for another tenant is refused by the policy's check.
    let mut tx = db::begin_for(&owner, "acme").await.unwrap();
    let err = sqlx::query("insert into customers (tenant_id, customer_id, name) values ('globex', 'planted', 'x')")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(err.as_database_error().and_then(|e| e.code()).as_deref(), Some("42501"), "{err}");
    drop(tx);
    // Moving an own row into another tenant is refused too.
    let mut tx = db::begin_for(&owner, "acme").await.unwrap();
    let err = sqlx::query("update customers set tenant_id = 'globex'").execute(&mut *tx).await.unwrap_err();
    assert_eq!(err.as_database_error().and_then(|e| e.code()).as_deref(), Some("42501"), "{err}");
    drop(tx);
    assert_eq!(count_owned(&owner, "globex", "customers").await, 1);

    // The application role cannot switch the policies off.
    let mut tx = db::begin_for(&owner, "acme").await.unwrap();
    let err = sqlx::query("alter table invoices disable row level security").execute(&mut *tx).await.unwrap_err();
    assert!(err.as_database_error().is_some(), "{err}");
    drop(tx);

    // Without a tenant set, the application role sees nothing at all: it fails closed.
    let mut tx = owner.begin().await.unwrap();
    sqlx::query("set local role tally_app").execute(&mut *tx).await.unwrap();
    for table in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(&mut *tx).await.unwrap();
        assert_eq!(n, 0, "{table}: no tenant, no rows");
    }
    drop(tx);

    // A line cannot be hung on another tenant's invoice, even by a caller who knows its id: the
    // foreign key includes the tenant.
    let raw_id = globex_invoice.trim_start_matches("inv_").to_owned();
    let mut tx = db::begin_for(&owner, "acme").await.unwrap();
    let err = sqlx::query(
        "insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, line_total_cents)
         values ($1::uuid, 9, 'acme', 'planted', 1, 1, 1)",
    )
    .bind(&raw_id)
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert_eq!(err.as_database_error().and_then(|e| e.code()).as_deref(), Some("23503"), "{err}");
    drop(tx);
    assert_ne!(acme_invoice, globex_invoice);
}

#[sqlx::test]
async fn two_tenants_on_one_database_cannot_reach_each_other(o: PgPoolOptions, c: PgConnectOptions) {
    let owner = pool(o, c).await;
    add_tenant(&owner, "acme").await;
    add_tenant(&owner, "globex").await;
    let (acme, acme_session, acme_invoice) = books(&owner, "acme").await;
    let (globex, globex_session, globex_invoice) = books(&owner, "globex").await;

    // The same idempotency key in two tenants made two invoices.
    assert_ne!(acme_invoice, globex_invoice);
    assert_eq!(acme.count("invoices").await, 2);

    // Every tool that takes an invoice id: not found, and nothing changed.
    let before: Vec<(String, i64)> = sqlx::query("select status, amount_paid_cents from invoices order by invoice_id")
        .fetch_all(&owner)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (tool, args) in [
        ("get_invoice", json!({"invoice_id": acme_invoice})),
        ("send_invoice", json!({"invoice_id": acme_invoice})),
        ("apply_payment", json!({"invoice_id": acme_invoice, "amount_cents": 1})),
        ("void_invoice", json!({"invoice_id": acme_invoice, "reason": "not yours"})),
        ("update_draft_invoice", json!({"invoice_id": acme_invoice, "memo": "not yours"})),
    ] {
        let err = globex.refused(&globex_session, tool, args).await;
        assert_eq!(err["code"], "not_found", "{tool}: {err}");
    }
    let after: Vec<(String, i64)> = sqlx::query("select status, amount_paid_cents from invoices order by invoice_id")
        .fetch_all(&owner)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(before, after, "nothing changed");

    // Listings and reports show only the caller's books.
    let page = globex.ok(&globex_session, "list_invoices", json!({})).await;
    assert_eq!(page["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(page["invoices"][0]["invoice_id"], globex_invoice);
    let notes = globex.ok(&globex_session, "list_credit_notes", json!({})).await;
    assert_eq!(notes["credit_notes"].as_array().unwrap().len(), 1);
    assert_eq!(notes["credit_notes"][0]["invoice_id"], globex_invoice);
    let customers = globex.ok(&globex_session, "list_customers", json!({})).await;
    assert_eq!(customers["customers"][0]["name"], "globex customer");

    // Customer tools: the same customer id in two tenants is two customers, and one tenant's
    // customer is not found by the other.
    acme.ok(&acme_session, "upsert_customer", json!({"customer_id": "cust_acme_only", "name": "Only Acme"})).await;
    let err = globex.refused(&globex_session, "get_customer", json!({"customer_id": "cust_acme_only"})).await;
    assert_eq!(err["code"], "not_found", "{err}");
    let got = globex.ok(&globex_session, "get_customer", json!({"customer_id": "cust_1"})).await;
    assert_eq!(got["name"], "globex customer", "{got}");
    globex.ok(&globex_session, "upsert_customer", json!({"customer_id": "cust_1", "name": "Globex renamed"})).await;
    let acme_own = acme.ok(&acme_session, "get_customer", json!({"customer_id": "cust_1"})).await;
    assert_eq!(acme_own["name"], "acme customer", "acme's cust_1 untouched: {acme_own}");
    let page = globex.ok(&globex_session, "list_invoices", json!({"customer_id": "cust_acme_only"})).await;
    assert_eq!(page["invoices"], json!([]));
    let listed = globex.ok(&globex_session, "list_customers", json!({})).await;
    assert_eq!(listed["customers"].as_array().unwrap().len(), 1, "{listed}");

    // One tenant's session id means nothing to the other's server.
    let res = globex.post(Some(&acme_session), &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})).await;
    assert_eq!(res.status(), reqwest::StatusCode::NOT_FOUND);
    let res = acme.post(Some(&acme_session), &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
}

#[sqlx::test]
async fn pruning_and_the_session_gauge_span_tenants(o: PgPoolOptions, c: PgConnectOptions) {
    let owner = pool(o, c).await;
    add_tenant(&owner, "acme").await;
    let (_a, _, _) = books(&owner, "acme").await;
    let (_d, _, _) = books(&owner, "default").await;
    let live: i64 = sqlx::query_scalar("select count_live_sessions(3600)").fetch_one(&owner).await.unwrap();
    let all: i64 =
        sqlx::query_scalar("select count(*) from mcp_sessions where ended_at is null").fetch_one(&owner).await.unwrap();
    assert_eq!(live, all, "every tenant's sessions are counted");
    assert!(
        count_owned(&owner, "acme", "mcp_sessions").await > 0
            && count_owned(&owner, "default", "mcp_sessions").await > 0
    );
    sqlx::query("update idempotency_keys set created_at = now() - interval '25 hours'").execute(&owner).await.unwrap();
    assert_eq!(tally::domain::idempotency::prune(&owner).await.unwrap(), 4, "two keys in each tenant");
    assert_eq!(count_owned(&owner, "acme", "idempotency_keys").await, 0);
}

#[sqlx::test]
async fn the_server_on_its_own_login_serves_and_that_login_cannot_get_past_the_policies(
    o: PgPoolOptions,
    c: PgConnectOptions,
) {
    let owner = pool(o, c.clone()).await;
    add_tenant(&owner, "acme").await;
    add_tenant(&owner, "globex").await;
    let (_globex, _, _) = books(&owner, "globex").await;
    let login = server_login(&owner, &c).await;

    // The whole call path works as that login: a write, reads, readiness and metrics.
    let app = spawn_app_with(login.clone(), &["--tenant", "acme", "--skip-migrations"]).await;
    let s = app.session().await;
    app.customer(&s, "cust_1").await;
    let id = app.ok(&s, "create_invoice", widget_invoice("cust_1")).await["invoice_id"].as_str().unwrap().to_owned();
    app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    let listed = app.ok(&s, "list_invoices", json!({})).await;
    assert_eq!(listed["invoices"].as_array().unwrap().len(), 1, "acme sees its own invoice only: {listed}");
    for path in ["/readyz", "/metrics"] {
        let res = app.client.get(format!("http://{}{path}", app.addr)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }

    // Raw SQL as the login: no tenant set sees nothing, and it can neither lift nor leave the policies.
    let mut conn = login.acquire().await.unwrap();
    for table in TABLES.iter().filter(|t| **t != "tenants") {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(&mut *conn).await.unwrap();
        assert_eq!(n, 0, "{table}: the bare login sees no tenant's rows");
    }
    for attempt in [
        "alter table invoices disable row level security",
        "alter table invoices no force row level security",
        "drop policy if exists tenant_isolation on invoices",
        "set role tally",
        "create table sneaky (id int)",
        "update _sqlx_migrations set success = false",
    ] {
        let err = sqlx::query(attempt).execute(&mut *conn).await.expect_err(attempt);
        assert!(
            err.to_string().contains("permission denied") || err.to_string().contains("must be owner"),
            "{attempt}: {err}"
        );
    }
    let row: (bool, bool) = sqlx::query_as("select rolsuper, rolbypassrls from pg_roles where rolname = current_user")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(row, (false, false));
    drop(conn);
    assert_eq!(count_owned(&owner, "globex", "invoices").await, 1, "globex's books are whole");
}

#[sqlx::test(migrations = false)]
async fn a_server_that_may_not_migrate_refuses_to_start_on_a_schema_behind_it(o: PgPoolOptions, c: PgConnectOptions) {
    let owner = pool(o, c).await;
    let args = tally::config::ServeArgs::parse_from([
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        "postgres://unused/",
        "--skip-migrations",
    ])
    .unwrap();
    let err = tally::app::App::build(&args, Some(owner)).await.err().expect("refuses to start");
    assert!(format!("{err:#}").contains("tally migrate"), "{err:#}");
}
