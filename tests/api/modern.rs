//! The stateless 2026-07-28 era beside 2025-11-25 on the same `/mcp` and over stdio: discovery,
//! the per-request envelope, the routing headers and each of the spec's errors for them.

use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tally::domain::access::{AccessService, Role};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::helpers::{MODERN, database_url, pool, spawn_app, spawn_app_with, widget_invoice, with_envelope};
use crate::stdio::spawn_stdio;

/// What is broken, the headers sent, the body and the error code expected.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Value, i64);

const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

#[sqlx::test]
async fn discover_answers_at_once_with_every_revision(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let started = Instant::now();
    let (status, body) = app.modern(None, "server/discover", json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["supportedVersions"], json!([MODERN, "2025-11-25", "2025-06-18", "2025-03-26"]));
    assert!(result["capabilities"]["tools"].is_object());
    assert!(result["instructions"].as_str().unwrap().contains("idempotency_key"));
    assert_eq!(result["cacheScope"], "public", "the same for every caller");
    assert!(result["ttlMs"].as_u64().unwrap() > 0);
    assert_eq!(result["_meta"][SERVER_INFO]["name"], "tally");
    assert_eq!(result["_meta"][SERVER_INFO]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(app.count("mcp_sessions").await, 0, "no session is made");
}

#[sqlx::test]
async fn tools_are_listed_and_called_statelessly(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let (status, listed) = app.modern(None, "tools/list", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let result = &listed["result"];
    assert_eq!((&result["resultType"], &result["cacheScope"]), (&json!("complete"), &json!("private")));
    assert!(result["ttlMs"].as_u64().is_some());
    assert_eq!(result["_meta"][SERVER_INFO]["name"], "tally");
    let names: Vec<&str> = result["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"create_invoice") && names.contains(&"void_invoice"), "{names:?}");
    let (_, again) = app.modern(None, "tools/list", json!({})).await;
    assert_eq!(again["result"]["tools"], result["tools"], "a deterministic order");

    let args = json!({"name": "create_invoice", "arguments": widget_invoice("cust_modern")});
    let (status, created) = app.modern(None, "tools/call", args).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let result = &created["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["_meta"][SERVER_INFO]["name"], "tally");
    assert_eq!(result["isError"], false);
    let id = result["structuredContent"]["invoice_id"].as_str().unwrap().to_owned();
    let (_, got) =
        app.modern(None, "tools/call", json!({"name": "get_invoice", "arguments": {"invoice_id": id}})).await;
    assert_eq!(got["result"]["structuredContent"]["history"][0]["action"], "created");

    // A business refusal is still a tool result (200), as in the legacy era.
    let (status, refused) =
        app.modern(None, "tools/call", json!({"name": "get_invoice", "arguments": {"invoice_id": "inv_nope"}})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(refused["result"]["isError"], true);
    assert_eq!(app.count("mcp_sessions").await, 0);
}

#[sqlx::test]
async fn each_envelope_and_header_error_has_its_code_and_status(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let call = json!({"jsonrpc":"2.0","id":7,"method":"tools/call",
        "params": with_envelope(json!({"name":"list_invoices","arguments":{}}))});
    let headers = [("mcp-protocol-version", MODERN), ("mcp-method", "tools/call"), ("mcp-name", "list_invoices")];
    let answer = async |headers: &[(&str, &str)], body: &Value| {
        let res = app.post_raw(None, headers, body).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["id"], 7, "{body}");
        (status, body["error"]["code"].as_i64().unwrap_or(0), body)
    };

    // The well-formed call, then each way to break it.
    let res = app.post_raw(None, &headers, &call).await;
    assert_eq!(res.status(), StatusCode::OK);
    let b64 = format!("  =?base64?{}?=  ", base64::engine::general_purpose::STANDARD.encode("list_invoices"));
    let (status, _, body) = answer(&[headers[0], headers[1], ("mcp-name", &b64)], &call).await;
    assert_eq!(status, StatusCode::OK, "the base64 form, whitespace around it ignored: {body}");

    let cases: Vec<Case> = vec![
        ("no MCP-Protocol-Version", vec![headers[1], headers[2]], call.clone(), -32020),
        (
            "another MCP-Protocol-Version",
            vec![("mcp-protocol-version", "2025-11-25"), headers[1], headers[2]],
            call.clone(),
            -32020,
        ),
        ("no Mcp-Method", vec![headers[0], headers[2]], call.clone(), -32020),
        ("a wrong Mcp-Method", vec![headers[0], ("mcp-method", "tools/list"), headers[2]], call.clone(), -32020),
        ("no Mcp-Name", vec![headers[0], headers[1]], call.clone(), -32020),
        ("a wrong Mcp-Name", vec![headers[0], headers[1], ("mcp-name", "void_invoice")], call.clone(), -32020),
        (
            "a broken base64 Mcp-Name",
            vec![headers[0], headers[1], ("mcp-name", "=?base64?%%%?=")],
            call.clone(),
            -32020,
        ),
        (
            "no clientCapabilities",
            headers.to_vec(),
            {
                let mut b = call.clone();
                b["params"]["_meta"].as_object_mut().unwrap().remove("io.modelcontextprotocol/clientCapabilities");
                b
            },
            -32602,
        ),
        (
            "a clientInfo that is not single-line text",
            headers.to_vec(),
            {
                let mut b = call.clone();
                b["params"]["_meta"]["io.modelcontextprotocol/clientInfo"]["name"] = json!("a\u{1b}b");
                b
            },
            -32602,
        ),
    ];
    for (what, headers, body, code) in cases {
        let (status, got, body) = answer(&headers, &body).await;
        assert_eq!((status, got), (StatusCode::BAD_REQUEST, code), "{what}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }

    // A header sent twice is refused: its first and last copies could disagree.
    let res = app
        .client
        .post(&app.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", MODERN)
        .header("mcp-method", "tools/call")
        .header("mcp-name", "list_invoices")
        .header("mcp-name", "void_invoice")
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], -32020);

    // A revision Tally does not speak: -32022, naming what it does.
    let mut future = call.clone();
    future["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2030-01-01");
    let (status, code, body) = answer(&[("mcp-protocol-version", "2030-01-01"), headers[1], headers[2]], &future).await;
    assert_eq!((status, code), (StatusCode::BAD_REQUEST, -32022), "{body}");
    assert_eq!(body["error"]["data"]["requested"], "2030-01-01");
    assert!(body["error"]["data"]["supported"].as_array().unwrap().contains(&json!(MODERN)));

    // The 2026-07-28 header without the envelope: the envelope is missing.
    let bare = json!({"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}});
    let (status, code, _) = answer(&[headers[0], ("mcp-method", "tools/list")], &bare).await;
    assert_eq!((status, code), (StatusCode::BAD_REQUEST, -32602));
    assert_eq!(app.count("invoices").await, 0, "nothing refused was run");
}

#[sqlx::test]
async fn removed_and_unknown_methods_are_404(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    for method in ["initialize", "ping", "logging/setLevel", "resources/subscribe", "no/such/method"] {
        let (status, body) = app.modern(None, method, json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}: {body}");
        assert_eq!(body["error"]["code"], -32601, "{method}");
    }
    let (status, body) = app.modern(None, "tools/call", json!({"name": "delete_everything", "arguments": {}})).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::BAD_REQUEST, &json!(-32602)), "{body}");
    let (status, body) = app.modern(None, "tools/list", json!({"cursor": "bogus"})).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::BAD_REQUEST, &json!(-32602)), "{body}");
    // A notification is taken and dropped: the era cancels by closing the stream.
    let note =
        json!({"jsonrpc":"2.0","method":"notifications/cancelled","params": with_envelope(json!({"requestId": 1}))});
    let res =
        app.post_raw(None, &[("mcp-protocol-version", MODERN), ("mcp-method", "notifications/cancelled")], &note).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

#[sqlx::test]
async fn both_eras_share_the_endpoint_without_mixing(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let session = app.session().await;
    let created = app.ok(&session, "create_invoice", widget_invoice("cust_both")).await;
    let id = created["invoice_id"].as_str().unwrap();
    // The modern caller sees the same books, without a session.
    let (_, got) =
        app.modern(None, "tools/call", json!({"name": "get_invoice", "arguments": {"invoice_id": id}})).await;
    assert_eq!(got["result"]["structuredContent"]["invoice_id"], id);
    // Legacy answers carry no modern stamps.
    let legacy = app.rpc(&session, "tools/list", json!({})).await;
    assert!(legacy["result"].get("resultType").is_none() && legacy["result"].get("ttlMs").is_none());
    assert_eq!(app.rpc(&session, "ping", json!({})).await["result"], json!({}));
    // A modern request is never served inside a session.
    let body = json!({"jsonrpc":"2.0","id":7,"method":"tools/list","params": with_envelope(json!({}))});
    let res = app
        .post_raw(
            None,
            &[("mcp-protocol-version", MODERN), ("mcp-method", "tools/list"), ("mcp-session-id", &session)],
            &body,
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // And a legacy request still needs its session.
    let res = app
        .post_raw(
            None,
            &[("mcp-protocol-version", "2025-11-25")],
            &json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[sqlx::test]
async fn every_modern_request_carries_its_own_bearer_token(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c).await;
    let app = spawn_app_with(pool.clone(), &["--tokens-only"]).await;
    let viewer =
        AccessService::new(pool.clone()).create_token("default", "viewer", Role::Viewer, None).await.unwrap().secret;
    let (status, body) = app.modern(None, "tools/list", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app.modern(Some(&viewer), "tools/list", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> =
        body["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"get_invoice") && !names.contains(&"create_invoice"), "{names:?}");
    let (status, body) = app
        .modern(Some(&viewer), "tools/call", json!({"name": "create_invoice", "arguments": widget_invoice("c")}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["data"]["required_role"], "clerk");
}

/// stdio: the first initialize or modern request settles the process's era.
#[sqlx::test]
async fn a_stdio_process_speaks_the_era_it_began_with(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    let _pool = pool(o, c).await;
    let exchange = async |messages: &[Value]| -> Vec<Value> {
        let mut child = spawn_stdio(&url, &[]);
        let mut stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut answers = Vec::new();
        for m in messages {
            stdin.write_all(format!("{m}\n").as_bytes()).await.unwrap();
            let line =
                tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap().unwrap();
            answers.push(serde_json::from_str(&line).unwrap());
        }
        answers
    };
    let discover = json!({"jsonrpc":"2.0","id":1,"method":"server/discover","params": with_envelope(json!({}))});
    let list = json!({"jsonrpc":"2.0","id":2,"method":"tools/list","params": with_envelope(json!({}))});
    let bare_list = json!({"jsonrpc":"2.0","id":3,"method":"tools/list"});
    let init = json!({"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});

    let modern = exchange(&[discover.clone(), list.clone(), bare_list.clone(), init.clone()]).await;
    assert_eq!(modern[0]["result"]["supportedVersions"][0], MODERN);
    assert_eq!(modern[1]["result"]["resultType"], "complete");
    assert_eq!(modern[2]["error"]["code"], -32602, "a modern process needs the envelope: {}", modern[2]);
    assert_eq!(modern[3]["error"]["code"], -32022, "initialize after discover: {}", modern[3]);
    assert_eq!(modern[3]["error"]["data"]["supported"], json!([MODERN]));

    let legacy = exchange(&[init, discover, list]).await;
    assert_eq!(legacy[0]["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(legacy[1]["error"]["code"], -32601, "discover after initialize: {}", legacy[1]);
    assert!(legacy[2]["result"].get("resultType").is_none(), "served as legacy: {}", legacy[2]);
}

/// Over stdio, progress notifications are lines before the answer, in either era.
#[sqlx::test]
async fn stdio_progress_lines_come_before_the_answer(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    let _pool = pool(o, c).await;
    let mut child = spawn_stdio(&url, &[]);
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let invoices: Vec<Value> = (0..4).map(|i| widget_invoice(&format!("c{i}"))).collect();
    let mut params = with_envelope(json!({"name": "create_invoices_batch", "arguments": {"invoices": invoices}}));
    params["_meta"]["progressToken"] = json!("s1");
    let call = json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":params});
    stdin.write_all(format!("{call}\n").as_bytes()).await.unwrap();
    let mut progress = Vec::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap().unwrap();
        let message: Value = serde_json::from_str(&line).unwrap();
        if message["method"] == "notifications/progress" {
            assert_eq!(message["params"]["progressToken"], "s1");
            progress.push(message["params"]["progress"].as_u64().unwrap());
            continue;
        }
        assert_eq!(message["id"], 9);
        assert_eq!(message["result"]["structuredContent"]["completed"], true);
        break;
    }
    assert_eq!(progress, [1, 2, 3, 4]);
}
