//! Streamable HTTP as the spec and real clients need it: sessions, statuses, guards.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{PROTOCOL, pool, spawn_app, spawn_app_with};

fn init(version: &str) -> Value {
    json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name":"t","version":"1"}}})
}

#[sqlx::test]
async fn initialize_issues_a_session_stored_in_postgres(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let res = app.post(None, &init(PROTOCOL)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let session = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    assert!(session.len() >= 32 && session.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    let body: Value = res.json().await.unwrap();
    let result = &body["result"];
    assert_eq!(result["protocolVersion"], PROTOCOL);
    assert_eq!(result["serverInfo"]["name"], "tally");
    assert!(result["capabilities"]["tools"].is_object());
    assert!(result["capabilities"]["resources"].is_object());
    assert!(result["capabilities"].get("prompts").is_none(), "declare only what is implemented");
    let instructions = result["instructions"].as_str().unwrap();
    assert!(instructions.contains("idempotency_key") && instructions.contains("minor units"));
    assert_eq!(app.count("mcp_sessions").await, 1, "sessions live in Postgres, visible to every replica");
}

#[sqlx::test]
async fn version_negotiation_echoes_supported_and_offers_latest(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    for (asked, answered) in [("2025-06-18", "2025-06-18"), ("2025-03-26", "2025-03-26"), ("2024-11-05", PROTOCOL)] {
        let body: Value = app.post(None, &init(asked)).await.json().await.unwrap();
        assert_eq!(body["result"]["protocolVersion"], answered);
    }
}

#[sqlx::test]
async fn a_session_survives_on_another_replica(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c).await;
    let first = spawn_app(pool.clone()).await;
    let second = spawn_app(pool).await;
    let session = first.session().await;
    let res = second.rpc(&session, "ping", json!({})).await;
    assert_eq!(res["result"], json!({}));
}

#[sqlx::test]
async fn notifications_get_202_and_get_is_405(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let session = app.session().await;
    let res = app
        .post(Some(&session), &json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(res.text().await.unwrap().is_empty());
    let res = app.post(Some(&session), &json!({"jsonrpc":"2.0","id":5,"result":{}})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "responses from the client are accepted too");
    let res = app.client.get(&app.url).header("accept", "text/event-stream").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "POST, DELETE");
}

#[sqlx::test]
async fn sessions_missing_unknown_and_deleted(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let ping = json!({"jsonrpc":"2.0","id":3,"method":"ping"});
    let res = app.post(None, &ping).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a request without a session");
    let res = app.post(Some("no-such-session-0000000000"), &ping).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "unknown session: the client re-initializes");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["id"], 3, "the error correlates with the request");

    let session = app.session().await;
    let delete = |s: &str| app.client.delete(&app.url).header("mcp-session-id", s).send();
    assert_eq!(delete(&session).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(app.post(Some(&session), &ping).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(delete(&session).await.unwrap().status(), StatusCode::NOT_FOUND);
    let no_header = app.client.delete(&app.url).send().await.unwrap();
    assert_eq!(no_header.status(), StatusCode::BAD_REQUEST);
}

#[sqlx::test]
async fn protocol_version_header_is_checked(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let session = app.session().await;
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
    let send = |version: Option<&'static str>| {
        let mut req = app
            .client
            .post(&app.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &session)
            .json(&ping);
        if let Some(v) = version {
            req = req.header("mcp-protocol-version", v);
        }
        req.send()
    };
    assert_eq!(send(Some("1999-01-01")).await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(send(Some("2025-06-18")).await.unwrap().status(), StatusCode::OK);
    assert_eq!(send(None).await.unwrap().status(), StatusCode::OK, "absent: 2025-03-26 is assumed");
}

#[sqlx::test]
async fn dns_rebinding_and_foreign_origins_are_refused(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let send = |host: &str, origin: Option<&str>| {
        let mut req = app
            .client
            .post(&app.url)
            .header("host", host)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .json(&init(PROTOCOL));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    assert_eq!(
        send("evil.example.com", Some("http://evil.example.com")).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let local = format!("127.0.0.1:{}", app.addr.port());
    assert_eq!(send(&local, Some("http://evil.example.com")).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(send(&local, Some("http://localhost:6274")).await.unwrap().status(), StatusCode::OK);
    assert_eq!(send(&format!("localhost:{}", app.addr.port()), None).await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.count("mcp_sessions").await, 2, "refused requests started no session");
}

#[sqlx::test]
async fn malformed_messages_get_jsonrpc_errors_with_4xx(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&app.url)
            .header("content-type", content_type)
            .header("accept", "application/json, text/event-stream")
            .body(body)
            .send()
    };
    let res = raw("{not json", "application/json").await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["id"], Value::Null);

    let res = raw(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, "application/json").await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], -32600);

    let res = raw(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, "application/json").await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let res = raw(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, "text/plain").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[sqlx::test]
async fn oversized_bodies_are_refused(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--max-body-bytes", "4096"]).await;
    let session = app.session().await;
    let big = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_invoice","arguments":{
        "customer_id":"c","memo":"x".repeat(10_000),"line_items":[{"description":"d","amount_cents":1}]}}});
    let res = app.post(Some(&session), &big).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.count("invoices").await, 0);
}

#[sqlx::test]
async fn unknown_methods_and_tools_are_protocol_errors(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let session = app.session().await;
    let res = app.rpc(&session, "prompts/list", json!({})).await;
    assert_eq!(res["error"]["code"], -32601);
    let res = app.rpc(&session, "tools/call", json!({"name": "delete_everything", "arguments": {}})).await;
    assert_eq!(res["error"]["code"], -32602);
    assert!(res["error"]["message"].as_str().unwrap().contains("create_invoice"), "lists the tools that exist");
    let res = app.rpc(&session, "tools/call", json!({"arguments": {}})).await;
    assert_eq!(res["error"]["code"], -32602, "tools/call without a name");
    let res = app.rpc(&session, "tools/list", json!({"cursor": "bogus"})).await;
    assert_eq!(res["error"]["code"], -32602, "a bad tools/list cursor");
}

#[sqlx::test]
async fn health_and_unknown_paths(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let base = format!("http://{}", app.addr);
    assert_eq!(app.client.get(format!("{base}/healthz")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.client.get(format!("{base}/readyz")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.client.get(format!("{base}/nope")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

/// `tally_ready` says what /readyz would: 0 while the schema is behind the binary, 1 again after.
#[sqlx::test]
async fn readiness_is_exported_as_a_gauge(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let base = format!("http://{}", app.addr);
    let ready = || async {
        let text = app.client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
        let line =
            text.lines().find(|l| l.starts_with("tally_ready ")).unwrap_or_else(|| panic!("no tally_ready:\n{text}"));
        line.trim_start_matches("tally_ready ").trim().to_owned()
    };
    assert_eq!(ready().await, "1");
    let newest: i64 =
        sqlx::query_scalar("select max(version) from _sqlx_migrations").fetch_one(&app.pool).await.unwrap();
    sqlx::query("update _sqlx_migrations set success = false where version = $1")
        .bind(newest)
        .execute(&app.pool)
        .await
        .unwrap();
    let res = app.client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "migrations pending");
    assert_eq!(ready().await, "0");
    sqlx::query("update _sqlx_migrations set success = true where version = $1")
        .bind(newest)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(ready().await, "1");
    app.stop().await;
}
