//! Recording and replay end to end: a session recorded from the real server replays green on a
//! fresh database with ids flowing across calls, and the replayer catches a changed answer and
//! a changed server behaviour at the exact step and path.

use std::path::Path;

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tally::recording::{Direction, Line};
use tally::replay::{self, Recording, Target};

use crate::helpers::{FreshDatabase, TestApp, pool, spawn_app_with};

/// Records one billing conversation in which ids flow across seven calls.
async fn record(app: &TestApp) -> String {
    let s = app.session().await;
    app.ok(&s, "upsert_customer", json!({"customer_id": "cust_r", "name": "Replay Ltd", "payment_terms_days": 14}))
        .await;
    let id = app
        .ok(&s, "create_invoice", json!({"customer_id": "cust_r", "idempotency_key": "rec-1", "line_items": [{"description": "Work", "amount_cents": 5000}]}))
        .await["invoice_id"]
        .clone();
    app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    app.ok(&s, "update_draft_invoice", json!({"invoice_id": id, "memo": "March"})).await;
    app.ok(&s, "send_invoice", json!({"invoice_id": id})).await;
    let pay = json!({"invoice_id": id, "amount_cents": 2000, "reference": "wire-1", "_meta": {"authorization": "Bearer s3cret"}});
    app.call(&s, "apply_payment", pay).await; // refused: _meta is not an argument; recorded all the same
    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 2000, "reference": "wire-1"})).await;
    app.ok(&s, "apply_payment", json!({"invoice_id": id, "amount_cents": 3000})).await;
    let done = app.ok(&s, "get_invoice", json!({"invoice_id": id})).await;
    assert_eq!(done["status"], "paid");
    let page = app.ok(&s, "list_invoices", json!({"customer_id": "cust_r", "limit": 1})).await;
    assert!(page["next_cursor"].is_null());
    let res = app.client.delete(&app.url).header("mcp-session-id", &s).send().await.unwrap();
    assert!(res.status().is_success());
    s
}

fn recorded_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

/// Replays over HTTP against a server of its own on a fresh database.
async fn replay_fresh(recording: &Recording, prefix: Option<&str>) -> Result<usize, replay::Failure> {
    replay_fresh_as(recording, prefix, None).await
}

/// The same, with the server requiring tokens when `role` is given: the replayer then presents
/// one of its own, made for the fresh database.
async fn replay_fresh_as(
    recording: &Recording,
    prefix: Option<&str>,
    role: Option<Option<tally::domain::access::Role>>,
) -> Result<usize, replay::Failure> {
    let db = FreshDatabase::create(&std::env::var("DATABASE_URL").unwrap()).await.unwrap();
    let pool = PgPoolOptions::new().max_connections(8).connect(&db.url).await.unwrap();
    let flags: &[&str] = if role.is_some() { &["--tokens-only"] } else { &[] };
    let app = spawn_app_with(pool.clone(), flags).await;
    if let Some(prefix) = prefix {
        sqlx::query("update tenants set invoice_prefix = $1").bind(prefix).execute(&pool).await.unwrap();
    }
    let access = tally::domain::access::AccessService::new(pool.clone());
    let token = match role.flatten() {
        Some(role) => Some(access.create_token("default", "replayer", role, None).await.unwrap().secret),
        None => None,
    };
    let result = replay::replay_one(recording, &Target::Url { url: app.url.clone(), token }).await;
    app.stop().await;
    pool.close().await;
    db.drop().await.unwrap();
    result
}

#[sqlx::test]
async fn a_recorded_session_replays_green_on_a_fresh_database(o: PgPoolOptions, c: PgConnectOptions) {
    let dir = tempdir();
    let app = spawn_app_with(pool(o, c).await, &["--record-dir", dir.to_str().unwrap()]).await;
    let session = record(&app).await;
    app.stop().await; // flushes the recorder

    let files = recorded_files(&dir);
    assert_eq!(files.len(), 1, "one file per session: {files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.starts_with("http-tests-") && name.ends_with(".jsonl"), "{name}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains("s3cret"), "secrets never reach the file");
    assert!(text.contains("[redacted]"));
    assert!(
        !text.contains(&session[..16]) || text.contains("session_id"),
        "the session id appears only as data the server returned"
    );
    let lines: Vec<Line> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let Line::Header(header) = &lines[0] else { panic!("a header first") };
    assert_eq!(
        (header.format.as_str(), header.format_version, header.transport.as_str()),
        ("tally.session", 1, "http")
    );
    assert_eq!(header.protocol_version.as_deref(), Some("2025-11-25"));
    assert_eq!(header.client_info.as_ref().unwrap()["name"], "tests");
    assert_eq!(header.server.rate_limit, 1000);
    let ins = lines.iter().filter(|l| matches!(l, Line::Message { dir: Direction::In, .. })).count();
    let outs = lines.iter().filter(|l| matches!(l, Line::Message { dir: Direction::Out, .. })).count();
    assert_eq!((ins, outs), (12, 12), "initialize, initialized, and ten tool calls, each answered; the tail is there");
    let offsets: Vec<u64> =
        lines.iter().filter_map(|l| if let Line::Message { t_ms, .. } = l { Some(*t_ms) } else { None }).collect();
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "time offsets never go back");

    // Replayed on a fresh database: the new invoice id is bound at create and substituted into
    // get, update, send and every payment; a wrong substitution would be not_found.
    let recording = replay::load(&files[0]).unwrap();
    assert_eq!(replay_fresh(&recording, None).await.unwrap(), 12);

    // Against a server that requires tokens, the replayer presents its own; without one, the
    // first answer already differs (401).
    use tally::domain::access::Role;
    assert_eq!(replay_fresh_as(&recording, None, Some(Some(Role::Admin))).await.unwrap(), 12);
    let refused = replay_fresh_as(&recording, None, Some(None)).await.unwrap_err();
    assert_eq!(refused.step, 1, "{refused:?}");
}

#[sqlx::test]
async fn the_replayer_names_the_step_and_path_that_changed(o: PgPoolOptions, c: PgConnectOptions) {
    let dir = tempdir();
    let app = spawn_app_with(pool(o, c).await, &["--record-dir", dir.to_str().unwrap()]).await;
    record(&app).await;
    app.stop().await;
    let recording = replay::load(&recorded_files(&dir)[0]).unwrap();

    // A recorded answer altered: the second payment's remaining amount.
    let mut altered = recording.clone();
    let step = altered.exchanges.iter().position(|e| e.request["params"]["arguments"]["amount_cents"] == 3000).unwrap();
    altered.exchanges[step].response.as_mut().unwrap()["result"]["structuredContent"]["amount_due_cents"] = json!(1);
    let failure = replay_fresh(&altered, None).await.unwrap_err();
    assert_eq!(failure.step, step + 1);
    assert!(failure.what.contains("apply_payment"), "{failure}");
    let paths: Vec<&str> = failure.mismatches.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(paths, ["result.structuredContent.amount_due_cents"], "{failure}");
    assert_eq!((failure.mismatches[0].expected.as_str(), failure.mismatches[0].actual.as_str()), ("1", "0"));
    let report = failure.to_string();
    assert!(
        report.contains(&format!("step {}", step + 1))
            && report.contains("expected: 1")
            && report.contains("actual:   0"),
        "{report}"
    );

    // A server behaviour changed by a deliberately wrong fixture: the tenant numbers invoices
    // BILL-… instead of INV-…, and send_invoice is where it shows.
    let failure = replay_fresh(&recording, Some("BILL-")).await.unwrap_err();
    assert!(failure.what.contains("send_invoice"), "{failure}");
    assert!(failure.mismatches.iter().any(|m| m.path == "result.structuredContent.number"), "{failure}");
}

#[tokio::test]
async fn a_truncated_or_foreign_file_is_refused_with_its_line() {
    let dir = tempdir();
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"kind\":\"message\",\"dir\":\"in\",\"t_ms\":0}\n").unwrap();
    assert!(replay::load(&bad).unwrap_err().contains("bad.jsonl:1"));
    std::fs::write(&bad, "{\"kind\":\"header\",\"format\":\"other\",\"format_version\":9,\"tally_version\":\"x\",\"transport\":\"http\",\"protocol_version\":null,\"client_info\":null,\"started_at\":\"x\",\"server\":{\"concurrency_limit\":1,\"queue_limit\":1,\"rate_limit\":1,\"timeout_ms\":1}}\n").unwrap();
    assert!(replay::load(&bad).unwrap_err().contains("unsupported recording format"));
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tally-rec-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Stateless 2026-07-28 calls have no session: they are grouped by the client's `Tally-Session`
/// key, else by a key derived from the credential and client, and a group replays green.
#[sqlx::test]
async fn stateless_calls_are_grouped_by_key_and_replay(o: PgPoolOptions, c: PgConnectOptions) {
    use crate::helpers::{MODERN, with_envelope};
    let dir = tempdir();
    let app = spawn_app_with(pool(o, c).await, &["--record-dir", dir.to_str().unwrap()]).await;
    let call = |id: u64, tool: &str, args: Value| json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params": with_envelope(json!({"name": tool, "arguments": args}))});
    let send = async |key: Option<&str>, body: Value| {
        let name = body["params"]["name"].as_str().unwrap().to_owned();
        let mut headers =
            vec![("mcp-protocol-version", MODERN), ("mcp-method", "tools/call"), ("mcp-name", name.as_str())];
        if let Some(key) = key {
            headers.push(("tally-session", key));
        }
        let res = app.post_raw(None, &headers, &body).await;
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        res.json::<Value>().await.unwrap()
    };
    let created = send(Some("run-1"), call(1, "create_invoice", crate::helpers::widget_invoice("cust_s"))).await;
    let id = created["result"]["structuredContent"]["invoice_id"].as_str().unwrap().to_owned();
    send(Some("run-1"), call(2, "send_invoice", json!({"invoice_id": id}))).await;
    send(Some("run-2"), call(1, "list_invoices", json!({}))).await;
    send(None, call(1, "list_customers", json!({}))).await;
    send(None, call(2, "list_outstanding", json!({}))).await;
    app.stop().await;

    let files = recorded_files(&dir);
    assert_eq!(files.len(), 3, "run-1, run-2 and the derived group: {files:?}");
    let recordings: Vec<Recording> = files.iter().map(|f| replay::load(f).unwrap()).collect();
    let sizes: Vec<usize> = {
        let mut s: Vec<usize> = recordings.iter().map(|r| r.exchanges.len()).collect();
        s.sort();
        s
    };
    assert_eq!(sizes, [1, 2, 2]);
    assert!(recordings.iter().all(|r| r.header.protocol_version.as_deref() == Some(MODERN)));
    let run1 = recordings.iter().find(|r| r.exchanges[0].request["params"]["name"] == "create_invoice").unwrap();
    assert_eq!(replay_fresh(run1, None).await.unwrap(), 2, "both steps replayed");
}

/// A server whose `tools/list` differs from the recorded one by `change`: a release that added,
/// or removed, a tool.
struct ChangedTools<F: FnMut(&mut Vec<Value>) + Send> {
    inner: replay::HttpClient,
    change: F,
}

impl<F: FnMut(&mut Vec<Value>) + Send> replay::ReplayClient for ChangedTools<F> {
    fn send<'a>(
        &'a mut self,
        request: &'a Value,
    ) -> futures_util::future::BoxFuture<'a, Result<replay::Answer, String>> {
        Box::pin(async move {
            let mut answer = self.inner.send(request).await?;
            if request["method"] == "tools/list"
                && let Some(tools) = answer.message.as_mut().and_then(|m| m["result"]["tools"].as_array_mut())
            {
                (self.change)(tools);
            }
            Ok(answer)
        })
    }
}

/// The committed README session replays green against a server that has gained a tool since
/// it was recorded (at the end of the list, or among the others); it fails against one that has
/// lost a tool.
#[sqlx::test]
async fn a_recorded_session_replays_unchanged_after_a_tool_is_added(o: PgPoolOptions, c: PgConnectOptions) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sessions/readme_snippet.jsonl");
    let recording = replay::load(&path).unwrap();
    let added = json!({"name": "a_tool_added_later", "title": "A tool added later", "description": "Added later.",
                       "inputSchema": {"type": "object", "properties": {}, "additionalProperties": false}});
    let owner = pool(o.clone(), c.clone()).await;
    for at in [usize::MAX, 3] {
        // Each server closes its pool when it stops: one pool each.
        let app = spawn_app_with(pool(o.clone(), c.clone()).await, &[]).await;
        let added = added.clone();
        let mut client = ChangedTools {
            inner: replay::HttpClient::new(&app.url, None),
            change: move |tools: &mut Vec<Value>| tools.insert(at.min(tools.len()), added.clone()),
        };
        let steps = replay::replay(&recording, &mut client).await;
        assert_eq!(steps.ok(), Some(recording.exchanges.len()), "a tool added at {at} changes nothing");
        app.stop().await;
        // Each replay wrote cust_42's invoice; the next starts from the same books.
        sqlx::query("delete from invoices").execute(&owner).await.unwrap();
        sqlx::query("delete from idempotency_keys").execute(&owner).await.unwrap();
    }
    let app = spawn_app_with(pool(o, c).await, &[]).await;
    let mut client = ChangedTools {
        inner: replay::HttpClient::new(&app.url, None),
        change: |tools: &mut Vec<Value>| drop(tools.remove(0)),
    };
    let failure = replay::replay(&recording, &mut client).await.expect_err("a removed tool fails the replay");
    assert!(failure.mismatches.iter().any(|m| m.path.contains("tools")), "{failure:?}");
    app.stop().await;
}
