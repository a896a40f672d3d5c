//! Tally: an MCP server through which business agents create and query invoices in Postgres.
//!
//! Layers, outermost first; each imports only those below it:
//! `transport` (HTTP, stdio) → `pipeline` (decode, era, session, record, log) → `middleware`
//! (limits) → `mcp` (protocol) → `tools` (schemas,
//! typed params, handlers) → `domain` (rules, money) → Postgres. `schema` is the declarative
//! builder the tools declare their params with.

pub mod admin;
pub mod app;
pub mod bench;
pub mod config;
pub mod db;
pub mod domain;
pub mod mcp;
pub mod middleware;
pub mod pipeline;
pub mod recording;
pub mod render;
pub mod replay;
pub mod schema;
pub mod telemetry;
pub mod tools;
pub mod transport;
