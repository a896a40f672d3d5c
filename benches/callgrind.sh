#!/usr/bin/env bash
# `make callgrind`: instructions per create_invoice, get_invoice and list_invoices call, counted
# by valgrind's callgrind on a release build (see benches/callgrind.py for what is counted).
#
#   benches/callgrind.sh [BINARY]   (default target/release/tally, built first)   CALLGRIND_CALLS=200
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=target/bench/callgrind
rm -rf "$OUT" && mkdir -p "$OUT"
BIN="${1:-}"
if [[ -z "$BIN" ]]; then
    cargo build --release --bin tally
    BIN=target/release/tally
fi
command -v valgrind >/dev/null || { echo "callgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
if [[ -z "${DATABASE_URL:-}" ]]; then
    bash .ci/pg.sh start
    DATABASE_URL="$(bash .ci/pg.sh url)"
fi
PGBIN="$(bash .ci/pg.sh bindir)"
DB_URL="${DATABASE_URL%/*}/tally_callgrind"
"$PGBIN/psql" "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 \
    -c "drop database if exists tally_callgrind with (force)" -c "create database tally_callgrind"
"$BIN" migrate --database-url "$DB_URL" 2>/dev/null

PORT="${CALLGRIND_PORT:-8097}"
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.%p" \
    "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$DB_URL" --anonymous-role admin --log warn \
    2>"$OUT/server.log" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.log"; exit 1; }
    sleep 0.5
done
python3 benches/callgrind.py "http://127.0.0.1:$PORT/mcp" "$SERVER" "$OUT" "${CALLGRIND_CALLS:-200}" \
    | tee "$OUT/results.txt"
