//! Long calls: `create_invoices_batch` with progress on an SSE answer, log messages at the
//! level asked for, and cancellation (legacy `notifications/cancelled`, modern closing the
//! stream) that leaves only whole invoices and lets a retry with the same key finish the job.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{MODERN, TestApp, pool, spawn_app, widget_invoice, with_envelope};

/// An SSE answer read event by event.
struct Events {
    res: reqwest::Response,
    buf: Vec<u8>,
}

impl Events {
    fn new(res: reqwest::Response) -> Self {
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "text/event-stream", "an SSE answer");
        Self { res, buf: Vec::new() }
    }

    /// The next JSON-RPC message, or None at the end of the stream.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let event: Vec<u8> = self.buf.drain(..end + 2).collect();
                let text = String::from_utf8(event).unwrap();
                let data = text.lines().find_map(|l| l.strip_prefix("data: ")).expect("a data line");
                return Some(serde_json::from_str(data).unwrap());
            }
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(60), self.res.chunk())
                .await
                .expect("the stream moves")
                .unwrap()?;
            self.buf.extend_from_slice(&chunk);
        }
    }

    /// Every message to the end: the notifications, then the answer.
    async fn rest(&mut self) -> (Vec<Value>, Value) {
        let mut notes = Vec::new();
        while let Some(m) = self.next().await {
            if m.get("method").is_some() {
                notes.push(m);
            } else {
                assert!(self.next().await.is_none(), "the answer ends the stream");
                return (notes, m);
            }
        }
        panic!("the stream ended without an answer");
    }
}

fn batch(n: usize, key: Option<&str>) -> Value {
    let invoices: Vec<Value> = (0..n).map(|i| widget_invoice(&format!("cust_{}", i % 7))).collect();
    let mut args = json!({ "invoices": invoices });
    if let Some(key) = key {
        args["idempotency_key"] = json!(key);
    }
    args
}

async fn legacy_call(app: &TestApp, session: &str, id: u64, args: Value, meta: Value) -> reqwest::Response {
    let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
        "params":{"name":"create_invoices_batch","arguments":args,"_meta":meta}});
    app.post(Some(session), &body).await
}

fn progress_values(notes: &[Value]) -> Vec<u64> {
    notes
        .iter()
        .filter(|n| n["method"] == "notifications/progress")
        .map(|n| n["params"]["progress"].as_u64().unwrap())
        .collect()
}

#[sqlx::test]
async fn a_batch_reports_strictly_increasing_progress_then_its_result(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let session = app.session().await;
    let res = legacy_call(&app, &session, 5, batch(25, Some("b-1")), json!({"progressToken": "tok-1"})).await;
    let (notes, answer) = Events::new(res).rest().await;
    assert_eq!(progress_values(&notes), (1..=25).collect::<Vec<_>>(), "one step per invoice, strictly increasing");
    assert!(notes.iter().all(|n| n["params"]["progressToken"] == "tok-1" && n["params"]["total"] == 25));
    assert!(!notes.iter().any(|n| n["method"] == "notifications/message"), "no log level was set");
    assert_eq!(answer["id"], 5);
    let result = &answer["result"]["structuredContent"];
    assert_eq!((result["requested"].as_u64(), result["completed"].as_bool()), (Some(25), Some(true)));
    assert_eq!(result["created"].as_array().unwrap().len(), 25);
    assert_eq!(app.count("invoices").await, 25);

    // Without a progress token (and no log level) the answer is plain JSON.
    let res = legacy_call(&app, &session, 6, batch(3, None), json!({})).await;
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    // A numeric token works the same.
    let res = legacy_call(&app, &session, 7, batch(2, None), json!({"progressToken": 77})).await;
    let (notes, _) = Events::new(res).rest().await;
    assert_eq!(notes[0]["params"]["progressToken"], 77);

    // An invalid element refuses the whole batch before anything is written.
    let mut bad = batch(3, None);
    bad["invoices"][2]["line_items"][0]["amount_cents"] = json!(-5);
    let before = app.count("invoices").await;
    let result = app.call(&session, "create_invoices_batch", bad).await;
    assert_eq!(result["isError"], true);
    assert_eq!(result["structuredContent"]["error"]["errors"][0]["path"], "invoices[2].line_items[0].amount_cents");
    assert_eq!(app.count("invoices").await, before);
}

#[sqlx::test]
async fn log_messages_come_only_at_the_level_asked_and_carry_no_arguments(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let session = app.session().await;
    let set = app.rpc(&session, "logging/setLevel", json!({"level": "info"})).await;
    assert_eq!(set["result"], json!({}));
    let bad = app.rpc(&session, "logging/setLevel", json!({"level": "loud"})).await;
    assert_eq!(bad["error"]["code"], -32602);
    let res = legacy_call(&app, &session, 8, batch(120, None), json!({})).await;
    let (notes, answer) = Events::new(res).rest().await;
    let messages: Vec<&Value> = notes.iter().filter(|n| n["method"] == "notifications/message").collect();
    assert!(messages.len() >= 2, "a start and a 100-invoice mark: {notes:?}");
    assert!(messages.iter().all(|m| m["params"]["level"] == "info" && m["params"]["logger"] == "tally"));
    let text = serde_json::to_string(&messages).unwrap();
    assert!(!text.contains("cust_") && !text.contains("Widget"), "never the arguments: {text}");
    assert_eq!(answer["result"]["structuredContent"]["completed"], true);

    // The level is the session's: set it higher and the info messages stop.
    app.rpc(&session, "logging/setLevel", json!({"level": "error"})).await;
    let res = legacy_call(&app, &session, 9, batch(3, None), json!({})).await;
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));

    // Modern: the level travels with each request, and without one there are no messages.
    let call = |level: Option<&str>| {
        let mut params = with_envelope(json!({"name": "create_invoices_batch", "arguments": batch(2, None)}));
        if let Some(level) = level {
            params["_meta"]["io.modelcontextprotocol/logLevel"] = json!(level);
        }
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":params})
    };
    let headers =
        [("mcp-protocol-version", MODERN), ("mcp-method", "tools/call"), ("mcp-name", "create_invoices_batch")];
    let res = app.post_raw(None, &headers, &call(Some("debug"))).await;
    let (notes, answer) = Events::new(res).rest().await;
    assert!(notes.iter().any(|n| n["method"] == "notifications/message"));
    assert_eq!(answer["result"]["resultType"], "complete");
    let res = app.post_raw(None, &headers, &call(None)).await;
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "no level, no messages");
    let res = app.post_raw(None, &headers, &call(Some("shouting"))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

/// Cancelled mid-batch: the invoices reported are exactly the ones committed, each whole, and
/// the same batch with the same key creates the rest and no duplicate.
async fn assert_consistent_then_finish(app: &TestApp, session: &str, key: &str, n: usize) {
    let invoices = app.count("invoices").await as usize;
    assert!(invoices > 0 && invoices < n, "the cancel landed mid-batch: {invoices} of {n}");
    let half_written: i64 = sqlx::query_scalar(
        "select count(*) from invoices i where not exists (select 1 from invoice_lines l where l.invoice_id = i.invoice_id)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(half_written, 0, "no invoice without its lines");
    let retry = app.call(session, "create_invoices_batch", batch(n, Some(key))).await;
    let result = &retry["structuredContent"];
    assert_eq!(result["completed"], true);
    let created = result["created"].as_array().unwrap();
    assert_eq!(created.len(), n);
    let replayed = created.iter().filter(|c| c["replayed"] == true).count();
    assert_eq!(replayed, invoices, "what was committed before the cancel is found, not made again");
    assert_eq!(app.count("invoices").await as usize, n, "no duplicates");
}

#[sqlx::test]
async fn notifications_cancelled_stops_a_legacy_batch(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let session = app.session().await;
    let res = legacy_call(&app, &session, 42, batch(500, Some("month-end")), json!({"progressToken": "p"})).await;
    let mut events = Events::new(res);
    while progress_values(&[events.next().await.unwrap()]).first().is_none_or(|p| *p < 5) {}
    let cancel = json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":42,"reason":"user"}});
    assert_eq!(app.post(Some(&session), &cancel).await.status(), StatusCode::ACCEPTED);
    let (_, answer) = events.rest().await;
    let result = &answer["result"]["structuredContent"];
    assert_eq!(result["completed"], false, "{result}");
    let reported = result["created"].as_array().unwrap().len();
    assert_eq!(reported, app.count("invoices").await as usize, "the answer reports what was committed");
    assert_consistent_then_finish(&app, &session, "month-end", 500).await;
}

#[sqlx::test]
async fn closing_the_stream_stops_a_modern_batch(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app(pool(o, c).await).await;
    let mut params = with_envelope(json!({"name": "create_invoices_batch", "arguments": batch(500, Some("run-9"))}));
    params["_meta"]["progressToken"] = json!("m");
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":params});
    let headers =
        [("mcp-protocol-version", MODERN), ("mcp-method", "tools/call"), ("mcp-name", "create_invoices_batch")];
    let mut events = Events::new(app.post_raw(None, &headers, &body).await);
    while progress_values(&[events.next().await.unwrap()]).first().is_none_or(|p| *p < 5) {}
    drop(events); // the client goes away
    // The call stops between two invoices; wait until the count settles.
    let mut last = app.count("invoices").await;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let now = app.count("invoices").await;
        if now == last {
            break;
        }
        last = now;
    }
    let session = app.session().await;
    assert_consistent_then_finish(&app, &session, "run-9", 500).await;
}

#[sqlx::test]
async fn a_cancel_sent_to_another_replica_reaches_the_call(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c).await;
    let running = spawn_app(pool.clone()).await;
    let other = spawn_app(pool).await;
    let session = running.session().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // both replicas listen
    let res = legacy_call(&running, &session, 77, batch(500, Some("cross")), json!({"progressToken": "x"})).await;
    let mut events = Events::new(res);
    while progress_values(&[events.next().await.unwrap()]).first().is_none_or(|p| *p < 5) {}
    let cancel = json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":77}});
    assert_eq!(other.post(Some(&session), &cancel).await.status(), StatusCode::ACCEPTED);
    let (_, answer) = events.rest().await;
    assert_eq!(answer["result"]["structuredContent"]["completed"], false, "the replica running it stopped");
    assert_consistent_then_finish(&running, &session, "cross", 500).await;
}
