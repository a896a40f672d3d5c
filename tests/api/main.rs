//! Integration tests: the real server on port 0, real HTTP, a fresh Postgres database per test
//! (`#[sqlx::test]`), and the real binary over stdio. One binary keeps link time down.

mod burst;
mod helpers;
mod http_protocol;
mod invoices;
mod limits;
mod stdio;
mod tool_schemas;
