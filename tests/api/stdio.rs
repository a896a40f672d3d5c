//! The real binary over stdio: newline-delimited JSON-RPC, nothing but protocol on stdout,
//! a clean exit on EOF.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::helpers::{database_url, pool};

#[sqlx::test]
async fn a_session_over_stdio(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    let pool = pool(o, c).await;
    let record_dir = std::env::temp_dir().join(format!("tally-stdio-rec-{}", uuid::Uuid::new_v4().simple()));
    let mut child = spawn_stdio(&url, &["--record-dir", record_dir.to_str().unwrap()]);
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("a reply line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout carries only JSON-RPC, got {line:?}: {e}"))
    };
    let messages = [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    ];
    for m in &messages {
        stdin.write_all(format!("{m}\n").as_bytes()).await.unwrap();
    }
    let init = next().await;
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");

    stdin.write_all(b"{this is not json\n").await.unwrap();
    let err = next().await;
    assert_eq!(err["error"]["code"], -32700);
    assert_eq!(err["id"], Value::Null);

    let create = json!({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"create_invoice","arguments":{
        "customer_id":"cust_stdio","memo":"line one\nline two","line_items":[{"description":"Widget","amount_cents":1000}]}}});
    stdin.write_all(format!("{create}\n").as_bytes()).await.unwrap();
    let created = next().await;
    assert_eq!(created["id"], "c1");
    assert_eq!(
        created["result"]["structuredContent"]["memo"], "line one\nline two",
        "newlines stay escaped inside one line"
    );

    let list = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_invoices","arguments":{"customer_id":"cust_stdio"}}});
    stdin.write_all(format!("{list}\n").as_bytes()).await.unwrap();
    let listed = next().await;
    assert_eq!(
        listed["result"]["structuredContent"]["invoices"][0]["invoice_id"],
        created["result"]["structuredContent"]["invoice_id"]
    );

    drop(stdin); // EOF: the server finishes and exits cleanly.
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "exit status {status}");
    let count: i64 = sqlx::query_scalar("select count(*) from invoices").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 1);

    // The recording has the whole session, its last answer included, written before exit.
    let files: Vec<_> = std::fs::read_dir(&record_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].file_name().unwrap().to_str().unwrap().starts_with("stdio-t-"));
    let recording = tally::replay::load(&files[0]).unwrap();
    assert_eq!(recording.header.transport, "stdio");
    let methods: Vec<&str> = recording.exchanges.iter().map(|e| e.request["method"].as_str().unwrap()).collect();
    assert_eq!(
        methods,
        ["initialize", "notifications/initialized", "tools/call", "tools/call"],
        "the malformed line is answered, not recorded"
    );
    assert_eq!(recording.exchanges[3].response.as_ref().unwrap()["id"], 2);
}

#[sqlx::test]
async fn throttling_over_stdio_arrives_as_jsonrpc_errors(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    let _pool = pool(o, c).await;
    let mut child = spawn_stdio(&url, &["--rate-limit", "2"]);
    let mut stdin = child.stdin.take().unwrap();
    let mut burst = String::new();
    for id in 0..10 {
        burst.push_str(&format!("{}\n", json!({"jsonrpc":"2.0","id":id,"method":"ping"})));
    }
    stdin.write_all(burst.as_bytes()).await.unwrap();
    drop(stdin);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut limited = 0;
    let mut answered = 0;
    while let Some(line) = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap() {
        let reply: Value = serde_json::from_str(&line).unwrap();
        answered += 1;
        if reply.get("error").is_some() {
            limited += 1;
            assert_eq!(reply["error"]["code"], -32010, "{reply}");
            assert_eq!(reply["error"]["data"]["retryable"], true);
            assert_eq!(reply["error"]["data"]["reason"], "rate_limited");
            assert!(reply["error"]["data"]["retry_after_ms"].as_u64().unwrap() > 0);
            assert!(reply["id"].is_number(), "the error answers its request");
        }
    }
    assert_eq!(answered, 10, "every request is answered");
    assert!(limited >= 7, "a rate of 2/s lets few of 10 through ({limited} limited)");
    assert!(child.wait().await.unwrap().success());
}

/// The binary over stdio with extra `stdio` flags, stdin/stdout/stderr piped.
pub(crate) fn spawn_stdio(url: &str, flags: &[&str]) -> tokio::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tally"))
        .arg("stdio")
        .args(flags)
        .env("DATABASE_URL", url)
        .env("TALLY_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("tally binary")
}

/// A line over the limit and binary garbage are each answered with an error, and the session
/// goes on; nothing ends it but EOF.
#[sqlx::test]
async fn oversized_lines_and_binary_garbage_are_answered_not_fatal(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    let _pool = pool(o, c).await;
    let mut child = spawn_stdio(&url, &["--max-body-bytes", "1024"]);
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap();
        serde_json::from_str(&line.expect("a reply line")).unwrap()
    };
    let ping = |id: i64| format!("{}\n", json!({"jsonrpc":"2.0","id":id,"method":"ping"}));

    let long = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}\n",
        "x".repeat(5000)
    );
    stdin.write_all(long.as_bytes()).await.unwrap();
    stdin.write_all(ping(2).as_bytes()).await.unwrap();
    let too_long = next().await;
    assert_eq!(too_long["error"]["code"], -32600, "{too_long}");
    assert!(too_long["error"]["message"].as_str().unwrap().contains("1024 bytes"));
    assert_eq!(next().await["id"], 2, "the rest of the long line was skipped, the next line served");

    for garbage in
        [&b"\xff\xfe\x00\x01garbage\x80"[..], b"\x1b[2J\x07", b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"\xc3}"]
    {
        stdin.write_all(garbage).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
        let err = next().await;
        assert_eq!(err["error"]["code"], -32700, "{err}");
    }
    stdin.write_all(b"\r\n   \n").await.unwrap(); // blank lines are skipped
    stdin.write_all(ping(4).trim_end().as_bytes()).await.unwrap();
    stdin.write_all(b"\r\n").await.unwrap(); // CR LF ends a line too
    assert_eq!(next().await["id"], 4);

    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "exit status {}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A client that closes our stdout is gone: the process stops reading and exits cleanly, with
/// one line on stderr saying why, even though stdin stays open.
#[sqlx::test]
async fn a_closed_stdout_ends_the_session_cleanly(o: PgPoolOptions, c: PgConnectOptions) {
    let url = database_url(&c);
    let _pool = pool(o, c).await;
    let mut child = spawn_stdio(&url, &[]);
    let mut stdin = child.stdin.take().unwrap();
    drop(child.stdout.take()); // the read end of stdout is closed
    let mut stderr = child.stderr.take().unwrap();
    stdin.write_all(format!("{}\n", json!({"jsonrpc":"2.0","id":1,"method":"ping"})).as_bytes()).await.unwrap();
    // stdin stays open: only the closed stdout can end the process.
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.expect("exits, not hangs").unwrap();
    assert!(status.success(), "exit status {status}");
    let mut log = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut log).await.unwrap();
    assert!(log.contains("stdout was closed"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    drop(stdin);
}
