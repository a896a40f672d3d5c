//! The HTTP edge under clients that hold connections without finishing requests: silent and
//! slow-header sockets, a connection flood past the cap, a trickling body, and a client that
//! stops reading its responses. Real calls keep being answered throughout.

use std::time::Duration;

use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, pool, spawn_app_with};

/// Generous bound for "answered, not hung": far above any call on a busy 2-core machine.
const ANSWERED_WITHIN: Duration = Duration::from_secs(30);

/// A test holds two sockets per connection in one process: take the whole allowance.
fn raise_open_files_limit() {
    rlimit::increase_nofile_limit(u64::MAX).expect("raise RLIMIT_NOFILE");
}

/// Real calls on fresh connections: each is answered with 200 and a result.
async fn real_calls_are_answered(app: &TestApp, n: usize) {
    let session = tokio::time::timeout(ANSWERED_WITHIN, app.session()).await.expect("initialize answered");
    for _ in 0..n {
        let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        let call =
            json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_invoices","arguments":{}}});
        let res = tokio::time::timeout(ANSWERED_WITHIN, app.post_with(&client, Some(&session), &call))
            .await
            .expect("a real call is answered");
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["result"]["isError"], false, "{body}");
    }
}

/// Reads until the server closes the connection (EOF or reset); returns the bytes read.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 64 * 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("the server closes the connection");
    seen
}

#[sqlx::test]
async fn a_thousand_idle_and_slow_header_connections_do_not_stop_real_calls(o: PgPoolOptions, c: PgConnectOptions) {
    raise_open_files_limit();
    let app = spawn_app_with(pool(o, c).await, &["--header-read-timeout", "2s"]).await;
    let mut held = Vec::new();
    for i in 0..1000 {
        let mut s = TcpStream::connect(app.addr).await.unwrap();
        if i % 2 == 1 {
            // Slowloris: a request line and one header, then nothing.
            s.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
        }
        held.push(s);
    }
    real_calls_are_answered(&app, 20).await;
    // Every held connection is closed by the server once the header timeout passes.
    for s in &mut held {
        closed_by_server(s, Duration::from_secs(30)).await;
    }
    real_calls_are_answered(&app, 5).await;
    app.stop().await;
}

#[sqlx::test]
async fn past_the_connection_cap_new_connections_are_closed_at_once(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--max-connections", "20", "--header-read-timeout", "2s"]).await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(app.addr).await.unwrap());
    }
    // The 21st is accepted after the twenty (the accept loop takes them in order) and closed.
    let mut over = TcpStream::connect(app.addr).await.unwrap();
    let _ = over.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
    let answer = closed_by_server(&mut over, Duration::from_secs(30)).await;
    assert!(answer.is_empty(), "past the cap nothing is served: {}", String::from_utf8_lossy(&answer));
    // The held ones time out, which frees the cap for real calls.
    for s in &mut held {
        closed_by_server(s, Duration::from_secs(30)).await;
    }
    real_calls_are_answered(&app, 5).await;
    let metrics = app.client.get(format!("http://{}/metrics", app.addr)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tally_http_connections_refused_total"), "{metrics}");
    app.stop().await;
}

#[sqlx::test]
async fn a_trickling_body_gets_408(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--body-read-timeout", "1s"]).await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    let head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                Accept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"";
    s.write_all(head.as_bytes()).await.unwrap();
    let answer = String::from_utf8(closed_by_server(&mut s, Duration::from_secs(30)).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within"), "{answer}");
    real_calls_are_answered(&app, 1).await;
    app.stop().await;
}

/// With one call slot, a client that pipelines requests and never reads their answers must
/// not hold the slot: other calls are answered, and the stalled connection is closed once its
/// writes have stalled for the write timeout.
#[sqlx::test]
async fn a_client_that_stops_reading_holds_no_call_slot(o: PgPoolOptions, c: PgConnectOptions) {
    let app = spawn_app_with(pool(o, c).await, &["--concurrency-limit", "1", "--write-timeout", "1s"]).await;
    let session = app.session().await;
    let mut stalled = TcpStream::connect(app.addr).await.unwrap();
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}).to_string();
    let one = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nMcp-Session-Id: {session}\r\n\
         MCP-Protocol-Version: 2025-11-25\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // ~2000 tools/list answers of ~20 KB: far more than the socket buffers hold.
    let requests = 2000;
    let pipelined = one.repeat(requests);
    let (mut reader, mut writer) = stalled.split();
    let sent = tokio::time::timeout(Duration::from_secs(60), writer.write_all(pipelined.as_bytes())).await;
    // The server may stop reading once its own writes stall; what was sent is enough either way.
    drop(sent);
    real_calls_are_answered(&app, 10).await;
    // The stalled writes pass the write timeout while we keep not reading (a deliberate wait:
    // the condition is the server's timer, not something to poll).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut seen = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    let drained = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen += buf[..n].windows(12).filter(|w| w == b"HTTP/1.1 200").count(),
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "the stalled connection was closed by the server");
    assert!(seen < requests, "closed before answering everything ({seen} of {requests} answers arrived)");
    app.stop().await;
}
