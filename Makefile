# Tally developer and CI tasks. `make` (or `make help`) lists them.
#
# Works from a fresh clone as a normal user and as root (CI): the Postgres
# cluster is a private one managed by .ci/pg.sh, started on demand unless
# DATABASE_URL is already set.

# bash with strict mode for every recipe line, so a failing command in a
# pipeline or a `a; b` line fails the target.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON    ?= python3
VENV      := .venv
CARGO_TARGET_DIR ?= target
TALLY_BIN := $(abspath $(CARGO_TARGET_DIR))/debug/tally
# Builds target/debug/tally with one small test target beside it, so that dev-dependency features
# unify exactly as in `cargo nextest run`: the binary reuses the test build's dependencies instead
# of building most of them (typst included) a second time.
BUILD_BIN := cargo build --bin tally --test layers
ARGS      ?=

# Prefix for recipe lines that need a database: unless DATABASE_URL is set,
# start the private cluster and export its URL. It is one shell line, so
# write `$(WITH_DB) && cmd` and the export reaches cmd (and sub-makes).
# `|| exit 1`: inside a compound command in an && list the shell's -e does not apply, and a
# cluster that failed to start must stop the recipe rather than let tests find another server.
WITH_DB := if [ -z "$${DATABASE_URL:-}" ]; then bash .ci/pg.sh start || exit 1; export DATABASE_URL="$$(bash .ci/pg.sh url)"; fi

# Fuzzing (tests/fuzz/, cargo-fuzz on the nightly toolchain): seconds per target.
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_TARGETS       ?= jsonrpc schema cursor session http

.PHONY: help db db-stop run test sdk-test venv lint fmt conformance sessions clean-db bench callgrind fuzz fuzz-smoke samples image image-test

help: ## List targets
	@echo "Tally make targets:"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  %-12s %s\n", $$1, $$2}'

db: ## Start the private Postgres cluster (.pg/, 127.0.0.1:$TALLY_PG_PORT, default 54329)
	bash .ci/pg.sh start

db-stop: ## Stop the private Postgres cluster
	bash .ci/pg.sh stop

# On a laptop's loopback, callers that present no token act as the default tenant's admin
# (TALLY_ANONYMOUS_ROLE, unless set otherwise); a token that is presented is checked all the
# same. `make run TALLY_ANONYMOUS_ROLE=` requires tokens.
# On the private cluster the owner migrates and the server logs in as tally_server, which owns
# nothing, as in production; with DATABASE_URL set, the server migrates as that login.
run: ## Run `tally serve $(ARGS)` against DATABASE_URL (default: the private cluster)
	@if [ -z "$${DATABASE_URL:-}" ]; then \
		bash .ci/pg.sh start || exit 1; \
		DATABASE_URL="$$(bash .ci/pg.sh url)" cargo run -q -- migrate || exit 1; \
		export DATABASE_URL="$$(bash .ci/pg.sh app-url)" TALLY_SKIP_MIGRATIONS=true; \
	fi; \
	TALLY_ANONYMOUS_ROLE="$${TALLY_ANONYMOUS_ROLE-admin}" cargo run -- serve $(ARGS)

# .ci/tools.sh installs, if missing, what the document tests read PDFs with (poppler-utils, qpdf)
# and Debian's prometheus (promtool and a real Prometheus, for tests/deploy/test_observability.py).
test: ## Rust tests (nextest, else cargo test), the fuzz smoke run, then the Python SDK tests
	bash .ci/tools.sh
	$(WITH_DB) && \
	if cargo nextest --version >/dev/null 2>&1; then \
		cargo nextest run --no-fail-fast; \
	else \
		echo "cargo-nextest not installed; using cargo test"; \
		cargo test --no-fail-fast; \
	fi && \
	$(MAKE) --no-print-directory fuzz-smoke && \
	$(MAKE) --no-print-directory sdk-test

# The stamp makes pip run again only when the requirements file changes.
$(VENV)/.stamp: tests/sdk/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r tests/sdk/requirements.txt
	touch $@

$(VENV)/.lint-stamp: .ci/lint-requirements.txt $(VENV)/.stamp
	$(VENV)/bin/pip install -q --disable-pip-version-check -r .ci/lint-requirements.txt
	touch $@

venv: $(VENV)/.stamp ## Create .venv with the Python SDK test requirements

# Skips (exit 0) while tests/sdk has no test_*.py: pytest would exit 5 on
# "no tests collected", which CI counts as a failure.
sdk-test: venv ## Python MCP SDK tests in tests/sdk against target/debug/tally
	@if ! compgen -G 'tests/sdk/test_*.py' >/dev/null; then \
		echo "sdk-test: no tests/sdk/test_*.py yet; skipping"; exit 0; \
	fi; \
	$(BUILD_BIN); \
	$(WITH_DB) && TALLY_BIN=$(TALLY_BIN) $(VENV)/bin/python -m pytest -q tests/sdk tests/deploy

lint: $(VENV)/.lint-stamp ## rustfmt check, clippy -D warnings, hadolint on the Dockerfile
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --lib --features conformance -- -D warnings
	cargo clippy --lib --no-default-features -- -D warnings
	$(VENV)/bin/hadolint Dockerfile

fmt: ## Format the Rust code
	cargo fmt --all

# Builds Tally with and without the suites' fixtures, serves each on a private port and runs
# both conformance suites (0.1.16 for 2025-11-25, 0.2.0-alpha.12 for 2026-07-28); see the script.
conformance: ## MCP conformance suites (both revisions) against fresh builds; needs npm (fetches Node 22)
	$(WITH_DB) && bash .ci/conformance.sh

# Each scenario gets a fresh database and its own server; see tests/agents/record.py.
# `make sessions ARGS="voiding stdio_session"` re-records only those scenarios.
sessions: venv ## Re-record tests/sessions/ with the scripted agents in tests/agents/
	$(BUILD_BIN)
	$(WITH_DB) && TALLY_BIN=$(TALLY_BIN) $(VENV)/bin/python tests/agents/record.py $(ARGS)

# cargo-fuzz is installed when missing; without nightly both run tests/fuzz_props.rs instead.
# Findings land in tests/fuzz/artifacts/<target>/; see tests/fuzz/run.sh.
fuzz: ## Fuzz every target FUZZ_SECONDS each (default 60; FUZZ_TARGETS picks some)
	bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: ## Fuzz every target a few seconds (FUZZ_SMOKE_SECONDS, default 5); part of `make test`
	bash tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

samples: ## Render the golden fixtures' sample invoice and statement as README's PNGs
	$(WITH_DB) && bash tests/documents/samples.sh

bench: ## Tally vs the pgbench ceiling, side by side (release build; figures in target/bench/)
	bash benches/run.sh

callgrind: ## Instructions per create/get/list call, counted by valgrind's callgrind (release build)
	bash benches/callgrind.sh

image: ## Build the container image from the Dockerfile with buildah (IMAGE=tally:local; no Docker engine)
	bash .ci/image.sh build

image-test: image venv ## Start the image's binary as the Nomad job does, against the private cluster
	$(WITH_DB) && TALLY_IMAGE=$${IMAGE:-tally:local} $(VENV)/bin/python -m pytest -q tests/image

clean-db: ## Stop the private cluster and delete its data
	bash .ci/pg.sh destroy || true
	rm -rf .pg
