//! The fuzz targets' bodies (tests/fuzz/fuzz_targets/bodies.rs) as ordinary tests, so that they
//! run without a nightly toolchain:
//!
//! * `<target>_corpus_and_regressions`: every committed seed (tests/fuzz/corpus/<target>/) and
//!   every input a fuzzer once broke (tests/fuzz/regressions/<target>/), on each `cargo test`;
//! * `<target>_properties`: proptest inputs, random bytes and seeds with random edits.
//!   `FUZZ_PROP_CASES` sets how many (default 256); `make fuzz-smoke` without nightly runs more.
//!
//! A failing property saves its shrunk input under the test's tmp dir and says where; once the
//! bug is fixed, copy that file into tests/fuzz/regressions/<target>/.

#[path = "fuzz/fuzz_targets/bodies.rs"]
mod bodies;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestError, TestRunner};

type Body = fn(&[u8]);

/// Seeds first, then regressions, each sorted by name.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut out = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else { continue };
        let mut files: Vec<PathBuf> = entries.map(|e| e.expect("readable dir").path()).collect();
        files.retain(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')));
        files.sort();
        out.extend(files.into_iter().map(|f| {
            let bytes = std::fs::read(&f).expect("readable input");
            (f, bytes)
        }));
    }
    out
}

fn replay(target: &str, body: Body) {
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no seeds in tests/fuzz/corpus/{target}/");
    let failed: Vec<String> = inputs
        .iter()
        .filter(|(_, bytes)| catch_unwind(AssertUnwindSafe(|| body(bytes))).is_err())
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{target}: these inputs break an invariant (each panic is printed above): {failed:?}");
}

/// One edit of a seed: what, where, and a byte or length to do it with.
type Edit = (u8, Index, u8, usize);

/// Tokens that JSON and HTTP parsers trip over.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"-1",
    b"1e999",
    b"0.5",
    b"\\u0000",
    b"\\ud800",
    b"\n",
    b"\r\n",
    b"18446744073709551616",
    b"\"id\":",
    b"\"method\":",
    b"\"params\":",
    b"\"arguments\":",
    b"Content-Length: 9999999\n",
];

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for (what, at, byte, len) in edits {
        let i = if out.is_empty() { 0 } else { at.index(out.len() + 1) };
        match what % 6 {
            0 if i < out.len() => out[i] ^= byte | 1,
            1 => out.insert(i, *byte),
            2 => drop(out.drain(i..(i + len).min(out.len()))),
            3 => {
                let copy = out[i..(i + len).min(out.len())].to_vec();
                out.splice(i..i, copy);
            }
            4 => drop(out.splice(i..i, TOKENS[usize::from(*byte) % TOKENS.len()].iter().copied())),
            _ => out.truncate(i),
        }
    }
    out
}

fn properties(target: &str, body: Body) {
    let seeds: Vec<Vec<u8>> = inputs(target).into_iter().map(|(_, bytes)| bytes).collect();
    assert!(!seeds.is_empty(), "no seeds in tests/fuzz/corpus/{target}/");
    let cases = std::env::var("FUZZ_PROP_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256);
    let edit = (any::<u8>(), any::<Index>(), any::<u8>(), 1usize..32);
    let n = seeds.len();
    let strategy = prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..512),
        4 => (0..n, proptest::collection::vec(edit, 1..8)).prop_map(move |(i, edits)| apply(&seeds[i], &edits)),
    ];
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    match runner.run(&strategy, |bytes| {
        body(&bytes);
        Ok(())
    }) {
        Ok(()) => {}
        Err(TestError::Fail(why, bytes)) => {
            let saved = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-{target}-failure"));
            std::fs::write(&saved, &bytes).expect("writable tmp dir");
            panic!(
                "{target}: {why}\ninput ({} bytes, saved to {}): {:?}\nOnce fixed, add it to tests/fuzz/regressions/{target}/.",
                bytes.len(),
                saved.display(),
                String::from_utf8_lossy(&bytes)
            );
        }
        Err(e) => panic!("{target}: {e}"),
    }
}

macro_rules! targets {
    ($($target:ident),* $(,)?) => {
        mod corpus_and_regressions {
            $(#[test]
            fn $target() {
                super::replay(stringify!($target), super::bodies::$target);
            })*
        }
        mod properties {
            $(#[test]
            fn $target() {
                super::properties(stringify!($target), super::bodies::$target);
            })*
        }
    };
}

targets!(jsonrpc, schema, cursor, session, http);
