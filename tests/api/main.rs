//! Integration tests: the real server on port 0, real HTTP, a fresh Postgres database per test
//! (`#[sqlx::test]`), and the real binary over stdio. One binary keeps link time down.

mod access;
mod auth;
mod bench_smoke;
mod burst;
mod business_dates;
mod cluster_limits;
mod concurrency;
mod credit_notes;
mod documents;
mod edge;
mod golden;
mod helpers;
mod hostile;
mod http_protocol;
mod invoices;
mod lifecycle;
mod limits;
mod modern;
mod network_faults;
mod oauth;
mod operations;
mod outstanding;
mod overload;
mod processes;
mod progress;
mod properties;
mod quotas;
mod replay;
mod resources;
mod round_trips;
mod statements;
mod stdio;
mod taxes;
mod tenancy;
mod tool_schemas;
