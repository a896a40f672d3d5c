//! `cargo fuzz run --fuzz-dir tests/fuzz cursor`: the body is `bodies::cursor` (shared with tests/fuzz_props.rs).
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::cursor(data));
