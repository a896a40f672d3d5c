//! Micro-benchmarks: what a call costs before it reaches the database.
//!
//! - schema validation of a typical create_invoice payload (2 lines) and of a 100-line one;
//! - JSON-RPC decode + typed dispatch of tools/call through the MCP service, without the
//!   database (the arguments fail validation, so no handler runs).
//!
//! `cargo bench --bench micro` (or `make bench`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use tally::mcp::jsonrpc::Message;
use tally::mcp::session::SessionStore;
use tally::mcp::{McpRequest, McpService, Transport};

fn create_payload(lines: usize) -> Value {
    let items: Vec<Value> = (0..lines)
        .map(|i| json!({"description": format!("Consulting, week {i}"), "amount_cents": 125_000 + i, "quantity": 1 + i % 3}))
        .collect();
    json!({"customer_id": "cust_42", "line_items": items, "due_date": "2026-12-31", "currency": "EUR",
           "memo": "Thank you for your business", "idempotency_key": "0b9f6a7e-5c1d-4e6f-9a2b-3c4d5e6f7a8b"})
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _entered = runtime.enter();
    // A pool that never connects: nothing here reaches the database.
    let pool = sqlx::PgPool::connect_lazy("postgres://bench@127.0.0.1:1/none").unwrap();
    let registry = tally::app::registry(&pool);
    let schema = &registry.definition("create_invoice").unwrap().input;

    let typical = create_payload(2);
    assert!(schema.validate(&typical).is_ok());
    c.bench_function("validate create_invoice (2 lines)", |b| b.iter(|| schema.validate(black_box(&typical))));
    let large = create_payload(100);
    assert!(schema.validate(&large).is_ok());
    c.bench_function("validate create_invoice (100 lines)", |b| b.iter(|| schema.validate(black_box(&large))));

    let service = McpService::new(tally::app::registry(&pool), SessionStore::new(pool.clone()));
    let mut bad = create_payload(2);
    bad["line_items"][0]["amount_cents"] = json!(-1);
    let body =
        json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"create_invoice","arguments": bad}})
            .to_string();
    let transport = Transport::Stdio { session_id: "bench".into() };
    let principal = tally::domain::Principal::operator("default", tally::domain::access::Role::Admin);
    c.bench_function("decode + dispatch tools/call (no database)", |b| {
        b.iter(|| {
            let message = Message::decode(black_box(body.as_bytes())).unwrap();
            let reply = runtime.block_on(service.handle(McpRequest {
                message,
                era: tally::mcp::era::Era::Legacy,
                transport: transport.clone(),
                principal: principal.clone(),
                cancel: Default::default(),
                notices: None,
            }));
            black_box(reply)
        })
    });
}

criterion_group!(micro, benches);
criterion_main!(micro);
