//! `cargo fuzz run --fuzz-dir tests/fuzz jsonrpc`: the body is `bodies::jsonrpc` (shared with tests/fuzz_props.rs).
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::jsonrpc(data));
