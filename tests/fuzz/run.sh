#!/usr/bin/env bash
# Fuzzes every target (or the ones named) for SECONDS each with cargo-fuzz (libFuzzer):
#
#   bash tests/fuzz/run.sh SECONDS [TARGET...]      (make fuzz / make fuzz-smoke)
#
# Without a nightly toolchain it says so in one line and runs the same bodies as property tests
# instead (tests/fuzz_props.rs, FUZZ_PROP_CASES cases per target, default 2000 per second asked).
# With one it installs cargo-fuzz when missing, builds every target once (release, debug
# assertions on, no sanitizer: the code is safe Rust), then runs each. New inputs go to a scratch
# corpus, tests/fuzz/target/corpus/<target>/ (git-ignored, kept between runs); the committed seeds
# (corpus/<target>/) and regressions (regressions/<target>/) are only read. A crash is saved
# under tests/fuzz/artifacts/<target>/ and fails the run once every target has had its turn.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(jsonrpc schema cursor session http)
fi
dir=tests/fuzz

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: nightly toolchain missing; running the fuzz bodies as property tests (tests/fuzz_props.rs)"
    export FUZZ_PROP_CASES=${FUZZ_PROP_CASES:-$((seconds * 2000))}
    exec cargo test --test fuzz_props -- "${targets[@]}"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked
fi

# Its own target dir, whatever CARGO_TARGET_DIR says: the flags differ from every other build.
flags=(--fuzz-dir "$dir" --target-dir "$dir/target" --sanitizer none --debug-assertions)
echo "fuzz: building ${#targets[@]} targets with $(cargo +nightly --version)"
# One target: that one; more: all of them, in one cargo run.
one=()
if [ ${#targets[@]} -eq 1 ]; then
    one=("${targets[0]}")
fi
cargo +nightly fuzz build "${flags[@]}" "${one[@]}"
# Run the binaries just built (`cargo fuzz run` would rebuild first, after any edit to src/).
bin=$dir/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release

mkdir -p "$dir/target/logs"
failed=()
for t in "${targets[@]}"; do
    scratch=$dir/target/corpus/$t
    mkdir -p "$scratch" "$dir/artifacts/$t"
    corpora=("$scratch" "$dir/corpus/$t")
    if [ -d "$dir/regressions/$t" ]; then
        corpora+=("$dir/regressions/$t")
    fi
    log=$dir/target/logs/$t.log
    started=$SECONDS
    if "$bin/$t" -artifact_prefix="$dir/artifacts/$t/" -max_total_time="$seconds" -timeout=10 \
        -dict="$dir/tally.dict" -print_final_stats=1 "${corpora[@]}" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        echo "fuzz: $t: ${runs:-?} inputs in $((SECONDS - started)) s (${rate:-?}/s), corpus $(ls "$scratch" | wc -l), no failure"
    else
        failed+=("$t")
        echo "fuzz: $t FAILED (whole log: $log):"
        sed -n '/panicked at/,/^stack backtrace/p' "$log" | head -n 30
        grep -a -E '^(SUMMARY|==[0-9]+== ERROR)|Test unit written to' "$log" || tail -n 20 "$log"
        echo "fuzz: minimize with: cargo +nightly fuzz tmin ${flags[*]} $t $dir/artifacts/$t/<file>"
        echo "fuzz: then, once fixed, add the input to $dir/regressions/$t/ (tests/fuzz_props.rs replays it)"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]}"
    exit 1
fi
