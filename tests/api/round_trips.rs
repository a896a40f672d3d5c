//! Round trips to Postgres per call, counted on the wire: a proxy between Tally and Postgres
//! counts ReadyForQuery messages, which end every round trip of the protocol (a simple query,
//! or an extended-protocol batch up to its Sync) exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::spawn_app;

/// Forwards every connection to `upstream`, counting the server's ReadyForQuery ('Z') messages.
async fn counting_proxy(upstream: (String, u16)) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect((upstream.0.as_str(), upstream.1)).await.unwrap();
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut client_read, &mut server_write).await });
            let counted = counted.clone();
            tokio::spawn(async move {
                // Without TLS the server's side is typed messages from the first byte:
                // a type byte, then a length that counts itself but not the type.
                let (mut pending, mut buf) = (Vec::new(), vec![0u8; 64 * 1024]);
                loop {
                    let n = match server_read.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    let mut at = 0;
                    while pending.len() >= at + 5 {
                        let len = u32::from_be_bytes(pending[at + 1..at + 5].try_into().unwrap()) as usize;
                        if pending.len() < at + 1 + len {
                            break;
                        }
                        if pending[at] == b'Z' {
                            counted.fetch_add(1, Ordering::SeqCst);
                        }
                        at += 1 + len;
                    }
                    if client_write.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                    pending.drain(..at);
                }
            });
        }
    });
    (port, count)
}

fn create(key: Option<&str>) -> serde_json::Value {
    let mut args = json!({"customer_id": "acme", "currency": "USD", "line_items": [
        {"description": "Widget", "amount_cents": 1500, "quantity": 2},
        {"description": "Installation", "amount_cents": 500}]});
    if let Some(key) = key {
        args["idempotency_key"] = json!(key);
    }
    json!({"name": "create_invoice", "arguments": args})
}

#[sqlx::test]
async fn create_invoice_is_one_round_trip_to_postgres_and_a_ping_after(o: PgPoolOptions, c: PgConnectOptions) {
    let (port, round_trips) = counting_proxy((c.get_host().to_owned(), c.get_port())).await;
    // One connection, so that the statement is prepared once (a connection's first use of a
    // statement costs a second round trip, to parse it).
    // Without a ping before each acquire, as `tally serve`'s pool (src/db.rs).
    let pool = o
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(c.port(port).ssl_mode(PgSslMode::Disable))
        .await
        .unwrap();
    let app = spawn_app(pool).await;
    let s = app.session().await;
    for i in 0..3 {
        let first = app.rpc(&s, "tools/call", create(Some(&format!("warm-{i}")))).await;
        assert_eq!(first["result"]["isError"], false, "{first}");
        app.rpc(&s, "tools/call", create(None)).await;
    }
    // The session is served from memory once the access listener runs (it starts with the app).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.rpc(&s, "ping", json!({})).await;

    let n = 20;
    let counts = |before: usize| round_trips.load(Ordering::SeqCst) - before;
    let before = round_trips.load(Ordering::SeqCst);
    let mut ids = vec![];
    for i in 0..n {
        let made = app.rpc(&s, "tools/call", create(Some(&format!("key-{i}")))).await;
        assert_eq!(made["result"]["isError"], false, "{made}");
        ids.push(made["result"]["structuredContent"]["invoice_id"].clone());
    }
    let keyed = counts(before);
    let before = round_trips.load(Ordering::SeqCst);
    for _ in 0..n {
        app.rpc(&s, "tools/call", create(None)).await;
    }
    let keyless = counts(before);
    let before = round_trips.load(Ordering::SeqCst);
    for (i, id) in ids.iter().enumerate() {
        let again = app.rpc(&s, "tools/call", create(Some(&format!("key-{i}")))).await;
        assert_eq!(&again["result"]["structuredContent"]["invoice_id"], id, "{again}");
    }
    let replayed = counts(before);
    // Two per call: the call's one statement, and the ping sqlx 0.8 sends on every connection
    // it takes back into the pool (off the caller's path: the reply has gone by then). A little
    // slack for a background task's query.
    for (what, total) in [("keyed", keyed), ("without a key", keyless), ("replayed", replayed)] {
        assert!(total <= 2 * n + 2, "create_invoice {what}: {total} round trips for {n} calls");
    }
    let invoices: i64 = sqlx::query_scalar("select count(*) from invoices").fetch_one(&app.pool).await.unwrap();
    assert_eq!(invoices, 6 + 2 * n as i64, "every create wrote once, every replay nothing");
}
