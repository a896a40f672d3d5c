//! Resources in both eras: `invoice://{invoice_id}` and `customer://{customer_id}` read as JSON,
//! published as templates, recent invoices listed with a cursor, and another tenant's not found.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{pool, spawn_app_with, widget_invoice};

#[sqlx::test]
async fn invoices_and_customers_read_as_json_in_both_eras(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c).await;
    for tenant in ["acme", "globex"] {
        sqlx::query("insert into tenants (tenant_id, name) values ($1, $1)").bind(tenant).execute(&pool).await.unwrap();
    }
    let acme = spawn_app_with(pool.clone(), &["--tenant", "acme"]).await;
    let globex = spawn_app_with(pool.clone(), &["--tenant", "globex"]).await;
    let session = acme.session().await;
    acme.ok(&session, "upsert_customer", json!({"customer_id": "cust_r", "name": "Reader Ltd"})).await;
    let mut ids = Vec::new();
    for _ in 0..55 {
        ids.push(
            acme.ok(&session, "create_invoice", widget_invoice("cust_r")).await["invoice_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let uri = format!("invoice://{}", ids[0]);

    // Legacy: templates, read, list with a cursor.
    let templates = acme.rpc(&session, "resources/templates/list", json!({})).await;
    let uris: Vec<&str> = templates["result"]["resourceTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["uriTemplate"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        [
            "invoice://{invoice_id}",
            "invoice://{invoice_id}/pdf",
            "credit_note://{credit_note_id}",
            "credit_note://{credit_note_id}/pdf",
            "customer://{customer_id}",
            "statement://{customer_id}/activity/{from}/{to}{/currency}",
            "statement://{customer_id}/open-items/{as_of}{/currency}",
        ]
    );
    let read = acme.rpc(&session, "resources/read", json!({"uri": uri})).await;
    let content = &read["result"]["contents"][0];
    assert_eq!((&content["uri"], &content["mimeType"]), (&json!(uri), &json!("application/json")));
    let invoice: Value = serde_json::from_str(content["text"].as_str().unwrap()).unwrap();
    let tool = acme.ok(&session, "get_invoice", json!({"invoice_id": ids[0]})).await;
    assert_eq!(invoice, tool, "the resource is what get_invoice returns");
    let customer = acme.rpc(&session, "resources/read", json!({"uri": "customer://cust_r"})).await;
    let customer: Value = serde_json::from_str(customer["result"]["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(customer["name"], "Reader Ltd");

    let first = acme.rpc(&session, "resources/list", json!({})).await;
    let page = first["result"]["resources"].as_array().unwrap();
    assert_eq!(page.len(), 50);
    assert_eq!(page[0]["uri"], format!("invoice://{}", ids[54]), "newest first");
    assert_eq!(page[0]["mimeType"], "application/json");
    let cursor = first["result"]["nextCursor"].as_str().unwrap();
    let second = acme.rpc(&session, "resources/list", json!({"cursor": cursor})).await;
    assert_eq!(second["result"]["resources"].as_array().unwrap().len(), 5);
    assert!(second["result"].get("nextCursor").is_none());
    let bad = acme.rpc(&session, "resources/list", json!({"cursor": "bogus"})).await;
    assert_eq!(bad["error"]["code"], -32602);

    // Unknown, malformed and other-tenant URIs are not found: -32002 in the legacy era.
    let globex_session = globex.session().await;
    for (app, s, missing) in [
        (&globex, &globex_session, uri.clone()),
        (&globex, &globex_session, "customer://cust_r".to_owned()),
        (&acme, &session, "invoice://inv_00000000000000000000000000000000".to_owned()),
        (&acme, &session, "invoice://not-an-id".to_owned()),
        (&acme, &session, "invoice://".to_owned()),
        (&acme, &session, "ftp://x".to_owned()),
    ] {
        let res = app.rpc(s, "resources/read", json!({"uri": missing})).await;
        assert_eq!(res["error"]["code"], -32002, "{missing}: {res}");
        assert_eq!(res["error"]["data"]["uri"], json!(missing));
    }
    let listed = globex.rpc(&globex_session, "resources/list", json!({})).await;
    assert_eq!(listed["result"]["resources"], json!([]), "globex sees none of acme's invoices");

    // Modern: the same reads, stamped, and not found is -32602 with 400.
    let (status, read) = acme.modern(None, "resources/read", json!({"uri": uri})).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!((&read["result"]["resultType"], &read["result"]["cacheScope"]), (&json!("complete"), &json!("private")));
    assert_eq!(read["result"]["contents"][0]["uri"], json!(uri));
    let (status, other) = globex.modern(None, "resources/read", json!({"uri": uri})).await;
    assert_eq!((status, &other["error"]["code"]), (StatusCode::BAD_REQUEST, &json!(-32602)), "{other}");
    let (_, listed) = acme.modern(None, "resources/list", json!({})).await;
    assert_eq!(listed["result"]["resources"].as_array().unwrap().len(), 50);
    assert_eq!(listed["result"]["ttlMs"], 0, "the books change with every write");
    let (_, templates) = acme.modern(None, "resources/templates/list", json!({})).await;
    assert_eq!(templates["result"]["resourceTemplates"].as_array().unwrap().len(), 7);
    // The Mcp-Name header of resources/read is the URI.
    let body = json!({"jsonrpc":"2.0","id":7,"method":"resources/read","params": crate::helpers::with_envelope(json!({"uri": uri}))});
    let res = acme
        .post_raw(
            None,
            &[
                ("mcp-protocol-version", crate::helpers::MODERN),
                ("mcp-method", "resources/read"),
                ("mcp-name", "invoice://other"),
            ],
            &body,
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
