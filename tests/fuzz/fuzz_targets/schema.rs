//! `cargo fuzz run --fuzz-dir tests/fuzz schema`: the body is `bodies::schema` (shared with tests/fuzz_props.rs).
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::schema(data));
