#!/usr/bin/env bash
# `make samples`: renders the golden fixtures' partly paid invoice and three-month statement and
# writes their first pages as the PNGs README.md shows (tests/documents/sample-*.png).
# Needs DATABASE_URL (an owner's URL: the Makefile's private cluster by default).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${DATABASE_URL:?DATABASE_URL must point at a Postgres database (make samples sets it)}"
bash .ci/tools.sh
psql="$(bash .ci/pg.sh bindir)/psql"
cargo build -q --bin tally --test layers
url="${DATABASE_URL%/*}/tally_samples"
"$psql" "$DATABASE_URL" -Xq -v ON_ERROR_STOP=1 -c "drop database if exists tally_samples with (force)" -c "create database tally_samples"
target/debug/tally migrate --database-url "$url" --log warn
"$psql" "$url" -Xq -v ON_ERROR_STOP=1 -f tests/documents/fixtures.sql
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
render() {
    target/debug/tally render --database-url "$url" --tenant golden "$1" -o "$scratch/$2.pdf"
    pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$scratch/$2.pdf" "tests/documents/$2"
    echo "tests/documents/$2.png"
}
render "invoice://inv_00000000000070008000000000000002/pdf" sample-invoice
render "statement://blue-harbor/activity/2026-01-01/2026-03-31" sample-statement
"$psql" "$DATABASE_URL" -Xq -c "drop database tally_samples with (force)"
