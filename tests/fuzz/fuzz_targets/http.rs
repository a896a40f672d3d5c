//! `cargo fuzz run --fuzz-dir tests/fuzz http`: the body is `bodies::http` (shared with tests/fuzz_props.rs).
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::http(data));
