//! `cargo fuzz run --fuzz-dir tests/fuzz session`: the body is `bodies::session` (shared with tests/fuzz_props.rs).
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::session(data));
