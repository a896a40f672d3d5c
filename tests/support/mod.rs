//! Shared helpers for integration tests (`mod support;` in each test file).

// Each test file uses a different subset of the helpers.
#[allow(dead_code)]
pub mod schema_gen;
