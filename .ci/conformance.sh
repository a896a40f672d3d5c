#!/usr/bin/env bash
# `make conformance`: the MCP conformance suites against real Tally builds on private ports.
#
# 1. The conformance build (`--features conformance`: the suites' fixture tools, resources and
#    prompts) runs @modelcontextprotocol/conformance@0.1.16 `--suite active` (2025-11-25) and
#    0.2.0-alpha.12 `--requirements 2026-07-28`, each against a committed expected-failures file
#    (tests/conformance/*.yml, one reason per entry): a new failure fails, and so does a listed one
#    that starts passing (the file must then shrink).
# 2. The production build runs the scenarios that need no fixtures, in both revisions.
#
# The suites send no Authorization header, so both servers run as `make run` does: bound to
# loopback, anonymous callers act as the default tenant's admin; a presented token is still
# checked. Node 22 and the suites come from npm; without the registry this says so loudly and
# exits 0 (the only allowed skip).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

V016=@modelcontextprotocol/conformance@0.1.16
ALPHA=@modelcontextprotocol/conformance@0.2.0-alpha.12
GENERIC_2025="server-initialize ping tools-list dns-rebinding-protection server-sse-multiple-streams"
GENERIC_2026="tools-list dns-rebinding-protection server-sse-multiple-streams sep-2164-resource-not-found"

if ! timeout 60 npm view "$V016" version >/dev/null 2>&1; then
    echo "!!!!!!!! conformance SKIPPED: the npm registry cannot be reached, so Node 22 and the suites cannot be fetched !!!!!!!!"
    exit 0
fi
: "${DATABASE_URL:?DATABASE_URL must point at a Postgres database (make conformance sets it)}"

# `--test layers` beside the binary: dev-dependency features unify as in `make test`, so these
# builds reuse its dependencies rather than building them again (see BUILD_BIN in the Makefile).
cargo build --bin tally --test layers --features conformance
cp -f target/debug/tally target/debug/tally-conformance.new && mv -f target/debug/tally-conformance.new target/debug/tally-conformance
cargo build --bin tally --test layers

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# serve BIN: starts it on a free port (in this shell, so that the trap stops it), waits for
# /readyz and sets $port.
serve() {
    port=$(free_port)
    TALLY_ANONYMOUS_ROLE=admin TALLY_LOG=warn "$1" serve --bind "127.0.0.1:$port" >"target/conformance-$port.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 600); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
            "http://127.0.0.1:$port/readyz" 2>/dev/null; then return; fi
        sleep 0.1
    done
    echo "tally did not become ready; log:" >&2
    cat "target/conformance-$port.log" >&2
    exit 1
}

suite() { local pkg=$1; shift; npx -y -p node@22 -p "$pkg" -c "conformance $*"; }

serve target/debug/tally-conformance
fixtures=$port
serve target/debug/tally
production=$port
failed=()

echo "== conformance 0.1.16, --suite active, conformance build"
suite "$V016" server --url "http://127.0.0.1:$fixtures/mcp" --suite active \
    --expected-failures tests/conformance/expected-0.1.16.yml || failed+=("0.1.16 active")

echo "== conformance 0.2.0-alpha.12, --requirements 2026-07-28, conformance build"
suite "$ALPHA" server --url "http://127.0.0.1:$fixtures/mcp" --requirements 2026-07-28 \
    --expected-failures tests/conformance/expected-2026-07-28.yml || failed+=("alpha 2026-07-28")

for s in $GENERIC_2025; do
    echo "== conformance 0.1.16 $s, production build"
    suite "$V016" server --url "http://127.0.0.1:$production/mcp" --scenario "$s" || failed+=("production 2025-11-25 $s")
done
for s in $GENERIC_2026; do
    echo "== conformance 0.2.0-alpha.12 $s at 2026-07-28, production build"
    suite "$ALPHA" server --url "http://127.0.0.1:$production/mcp" --scenario "$s" --spec-version 2026-07-28 \
        || failed+=("production 2026-07-28 $s")
done

if [ ${#failed[@]} -gt 0 ]; then
    printf 'conformance FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "conformance: every run passed (expected failures as listed in tests/conformance/)"
