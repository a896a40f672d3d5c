#!/usr/bin/env bash
# `make bench`: Tally against Postgres's own ceiling, side by side in one run.
#
# Builds release (Tally, and the peer in benches/peer: a plain rmcp server), starts the private cluster (unless DATABASE_URL is set: then its server hosts
# the bench database), creates a fresh database `tally_bench`, starts `tally serve` on it with the
# limiter out of the way, runs `tally bench` (seed 100 000 invoices; create_invoice at 1/8/32/128
# callers each beside pgbench running the same SQL; list, get and a 70/30 mix at 32), then the
# criterion micro-benchmarks. Figures go to target/bench/.
#
# Then the growth run (reads at 10k, 100k and 1M invoices; BENCH_GROWTH=sizes, BENCH_NO_GROWTH=1
# skips it).
#
#   BENCH_DURATION=10s (per scenario)   BENCH_PORT=8099   BENCH_SMOKE=1 (a few hundred calls)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION="${BENCH_DURATION:-10s}"
PORT="${BENCH_PORT:-8099}"
OUT=target/bench
mkdir -p "$OUT"

cargo build --release --bin tally
(cd benches/peer && cargo build --release --quiet)
PEER_PORT="${BENCH_PEER_PORT:-8098}"
if [[ -z "${DATABASE_URL:-}" ]]; then
    bash .ci/pg.sh start
    DATABASE_URL="$(bash .ci/pg.sh url)"
fi
PGBIN="$(bash .ci/pg.sh bindir)"
ADMIN_URL="$DATABASE_URL"
BENCH_URL="${ADMIN_URL%/*}/tally_bench"
"$PGBIN/psql" "$ADMIN_URL" -X -q -v ON_ERROR_STOP=1 \
    -c "drop database if exists tally_bench with (force)" -c "create database tally_bench"

# The limiter is raised out of the way: the ceiling, not the limiter, is measured.
target/release/tally serve --bind "127.0.0.1:$PORT" --database-url "$BENCH_URL" \
    --rate-limit 1000000 --concurrency-limit 512 --queue-limit 100000 --db-pool-size 32 --anonymous-role admin \
    --log warn 2>"$OUT/server.log" &
SERVER=$!
# The peer on the same database (its own tables), driven right after Tally in each scenario.
benches/peer/target/release/tally-bench-peer --bind "127.0.0.1:$PEER_PORT" --database-url "$BENCH_URL" \
    2>"$OUT/peer.log" &
PEER=$!
trap 'kill "$SERVER" "$PEER" 2>/dev/null || true; wait "$SERVER" "$PEER" 2>/dev/null || true' EXIT
for pid_port in "$SERVER:$PORT:server" "$PEER:$PEER_PORT:peer"; do
    IFS=: read -r pid port log <<<"$pid_port"
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
        kill -0 "$pid" 2>/dev/null || { cat "$OUT/$log.log"; exit 1; }
        sleep 0.1
    done
done

smoke=()
[[ -n "${BENCH_SMOKE:-}" ]] && smoke=(--smoke)
{
    echo "# tally bench, $(date -u +%FT%TZ)"
    echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $("$PGBIN/postgres" --version)"
} | tee "$OUT/results.txt"
target/release/tally bench --url "http://127.0.0.1:$PORT/mcp" --database-url "$BENCH_URL" \
    --server-pid "$SERVER" --pgbench "$PGBIN/pgbench" --duration "$DURATION" "${smoke[@]}" \
    --peer-url "http://127.0.0.1:$PEER_PORT/mcp" --peer-pid "$PEER" \
    --out "$OUT/results.json" | tee -a "$OUT/results.txt"

# The list query's plan on 100 000 invoices, for BENCHMARKS.md.
"$PGBIN/psql" "$BENCH_URL" -X -q -c "explain (analyze, buffers, costs off)
  select i.invoice_id, i.number, i.customer_id from invoices i
   where i.tenant_id = 'default' and i.customer_id = 'seed_7'
   order by i.created_at desc, i.invoice_id desc limit 21" | tee "$OUT/list_plan.txt"

# Growth: the reads as the books grow from 10 000 to 1 000 000 invoices (paid history; the open
# invoices stay 1 000), on a database of their own with a server of its own, 4 callers.
if [[ -z "${BENCH_SMOKE:-}" && -z "${BENCH_NO_GROWTH:-}" ]]; then
    GROWTH_URL="${ADMIN_URL%/*}/tally_growth"
    "$PGBIN/psql" "$ADMIN_URL" -X -q -v ON_ERROR_STOP=1 \
        -c "drop database if exists tally_growth with (force)" -c "create database tally_growth"
    kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true
    target/release/tally serve --bind "127.0.0.1:$PORT" --database-url "$GROWTH_URL" \
        --rate-limit 1000000 --concurrency-limit 512 --queue-limit 100000 --db-pool-size 32 --anonymous-role admin \
        --log warn 2>"$OUT/growth-server.log" &
    SERVER=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    echo "# growth: 10 000 → 100 000 → 1 000 000 invoices, 4 callers" | tee "$OUT/growth.txt"
    target/release/tally bench --url "http://127.0.0.1:$PORT/mcp" --database-url "$GROWTH_URL" \
        --server-pid "$SERVER" --duration "$DURATION" --callers 4 --growth "${BENCH_GROWTH:-10000,100000,1000000}" \
        --out "$OUT/growth.json" | tee -a "$OUT/growth.txt"
    # The plans at the largest size: a customer's page, an invoice by id, and list_outstanding's
    # report for the whole tenant as of today (as src/domain/receivables.rs builds it).
    "$PGBIN/psql" "$GROWTH_URL" -X -q -c "explain (analyze, buffers, costs off)
      select i.invoice_id, i.number, i.customer_id from invoices i
       where i.tenant_id = 'default' and i.customer_id = 'seed_7'
       order by i.created_at desc, i.invoice_id desc limit 21" \
      -c "explain (analyze, buffers, costs off)
      select * from invoices i where i.tenant_id = 'default'
         and i.invoice_id = (select invoice_id from invoices where tenant_id = 'default' and number = 'SEED-500000')" \
      -c "explain (analyze, buffers, costs off)
      with open as (
        select i.customer_id, i.currency, i.due_date, i.total_cents - coalesce(paid.cents, 0)::bigint as due,
               current_date - i.due_date as days_late
          from invoices i
          cross join lateral (select sum(p.amount_cents) as cents from payments p where p.invoice_id = i.invoice_id
                                and (p.paid_at at time zone 'utc')::date <= current_date) paid
         where i.tenant_id = 'default' and i.issued_at is not null and (i.issued_at at time zone 'utc')::date <= current_date
           and (i.voided_at is null or (i.voided_at at time zone 'utc')::date > current_date) and i.status = 'sent')
      select customer_id, currency, sum(due)::bigint, count(*) from open where due > 0
       group by customer_id, currency order by customer_id, currency" | tee "$OUT/growth_plans.txt"
fi

if [[ -z "${BENCH_SMOKE:-}" ]]; then
    cargo bench --bench micro -- --warm-up-time 1 --measurement-time 5 2>&1 | tee "$OUT/micro.txt"
fi
echo "figures: $OUT/results.txt, $OUT/results.json, $OUT/list_plan.txt, $OUT/growth.txt, $OUT/growth_plans.txt, $OUT/micro.txt"
