#!/usr/bin/env bash
# Private PostgreSQL cluster for Tally development and CI.
#
#   .ci/pg.sh start    create the cluster once, start it if not running, wait
#                      until it accepts connections, create database `tally`
#   .ci/pg.sh stop     stop it (no error if it is not running)
#   .ci/pg.sh status   print where it lives and whether it runs (exit 3 if not)
#   .ci/pg.sh url      print the DATABASE_URL (the owner's: migrations, tests, `tally token`)
#   .ci/pg.sh app-url  print the server's own login (owns nothing; row-level security holds)
#   .ci/pg.sh destroy  stop it and delete its data (used by `make clean-db`)
#   .ci/pg.sh bindir   print the directory of the PostgreSQL server binaries (pgbench too)
#
# The cluster lives in .pg/ at the repository root (git-ignored): data in
# .pg/data, server log in .pg/log. It listens on 127.0.0.1:$TALLY_PG_PORT
# (default 54329) only, with `trust` auth, bootstrap superuser `tally`, the
# server's login role `tally_server` (a member of tally_app) and database `tally`. It is a throw-away dev cluster: never point it at real data.
#
# For tests that put the server behind a network of their own (tests/api/network_faults.rs runs
# it inside a network namespace): TALLY_PG_LISTEN adds a listen address beside 127.0.0.1, and
# TALLY_PG_TRUST_NET (a CIDR, e.g. 10.213.0.1/32) is trusted as well as loopback.
#
# PostgreSQL refuses to run as root. When this script runs as root the server
# runs as the `postgres` OS user instead; if that user cannot reach the
# repository (CI clones into a mode-700 mktemp dir owned by root), the data and
# log go to /var/tmp/tally-pg-<hash of the repo path>, and .pg/data and .pg/log
# become symlinks to them so stop/status/destroy find them again.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# TALLY_PG_HOME puts a cluster elsewhere (tests start throwaway clusters this way).
PGHOME="${TALLY_PG_HOME:-$REPO/.pg}"
PORT="${TALLY_PG_PORT:-54329}"
LISTEN_EXTRA="${TALLY_PG_LISTEN:-}"
TRUST_NET="${TALLY_PG_TRUST_NET:-}"
DB_USER=tally
APP_USER=tally_server
DB_NAME=tally
READY_TIMEOUT=30 # seconds

die() { echo "pg.sh: $*" >&2; exit 1; }
log() { echo "pg.sh: $*" >&2; }

# --- which PostgreSQL ------------------------------------------------------

# Prints the directory holding initdb/pg_ctl/postgres, or fails.
find_bindir() {
    local d
    # pg_config can come from libpq-dev without the server: check for pg_ctl.
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$d" && -x "$d/pg_ctl" && -x "$d/initdb" ]]; then echo "$d"; return 0; fi
    fi
    # Debian/Ubuntu keep server binaries off PATH, one dir per major version.
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n | tail -n1 || true)"
    if [[ -n "$d" && -x "$d/pg_ctl" && -x "$d/initdb" ]]; then echo "$d"; return 0; fi
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"; return 0
    fi
    return 1
}

install_postgres() {
    if command -v apt-get >/dev/null 2>&1; then
        local sudo=()
        if [[ $(id -u) -ne 0 ]]; then
            command -v sudo >/dev/null 2>&1 || return 1
            sudo=(sudo)
        fi
        log "PostgreSQL server not found; installing it with apt-get"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
        return 0
    fi
    return 1
}

BINDIR="$(find_bindir || true)"
if [[ -z "$BINDIR" && "${1:-}" == start ]]; then
    install_postgres || true
    BINDIR="$(find_bindir || true)"
fi
if [[ -z "$BINDIR" && "${1:-}" != url ]]; then
    cat >&2 <<'EOF'
pg.sh: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found. Install them:
  Debian/Ubuntu: sudo apt-get install postgresql
  macOS:         brew install postgresql@15
  Fedora:        sudo dnf install postgresql-server
EOF
    exit 1
fi
pgbin() { # the named tool from the server's bin dir, else from PATH
    if [[ -x "$BINDIR/$1" ]]; then echo "$BINDIR/$1"; else command -v "$1" || die "$1 not found"; fi
}

# --- who runs the server ---------------------------------------------------

if [[ $(id -u) -eq 0 ]]; then
    SERVER_USER=postgres
    if ! id "$SERVER_USER" >/dev/null 2>&1; then
        log "creating system user $SERVER_USER to run the server"
        useradd --system --user-group --no-create-home --shell /bin/sh "$SERVER_USER"
    fi
else
    SERVER_USER="$(id -un)"
fi

# Run a command as the server user. From / because runuser keeps the caller's
# cwd, which the postgres user may not be allowed to enter.
as_server() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && if command -v runuser >/dev/null 2>&1; then
            runuser -u "$SERVER_USER" -- "$@"
        else
            su -s /bin/sh "$SERVER_USER" -c "$(printf '%q ' "$@")"
        fi)
    else
        "$@"
    fi
}

# --- where the cluster lives -------------------------------------------------

short_hash() { printf '%s' "$1" | cksum | cut -d' ' -f1; }

# Sets DATA and LOG. An existing .pg/data (dir or symlink) records the choice
# made when the cluster was created.
locate() {
    if [[ -L "$PGHOME/data" ]]; then
        DATA="$(readlink "$PGHOME/data")"
        LOG="$(dirname "$DATA")/log"
    elif [[ -e "$PGHOME/data" ]] || [[ $(id -u) -ne 0 ]]; then
        DATA="$PGHOME/data"; LOG="$PGHOME/log"
    else
        mkdir -p "$PGHOME"
        if as_server test -x "$PGHOME" 2>/dev/null; then
            DATA="$PGHOME/data"; LOG="$PGHOME/log"
        else
            local base="/var/tmp/tally-pg-$(short_hash "$PGHOME")"
            DATA="$base/data"; LOG="$base/log"
        fi
    fi
}

# Creates the dirs (owned by the server user) and the .pg/ symlinks.
prepare_dirs() {
    mkdir -p "$PGHOME"
    local base; base="$(dirname "$DATA")"
    if [[ "$base" != "$PGHOME" ]]; then
        mkdir -p "$base"
        chown "$SERVER_USER": "$base"; chmod 0700 "$base"
        ln -sfn "$DATA" "$PGHOME/data"
        ln -sfn "$LOG" "$PGHOME/log"
        printf 'Cluster data and log live in %s (the postgres user cannot reach %s).\n' \
            "$base" "$REPO" >"$PGHOME/README"
    fi
    if [[ ! -e "$DATA" ]]; then mkdir -p "$DATA"; chmod 0700 "$DATA"; fi
    if [[ ! -e "$LOG" ]]; then : >"$LOG"; fi
    if [[ $(id -u) -eq 0 ]]; then chown "$SERVER_USER": "$DATA" "$LOG"; fi
}

# The socket goes into the data dir (owned by the server user) so nothing
# needs /var/run/postgresql; unix socket paths are limited to ~107 bytes, so a
# deep checkout falls back to a short dir under /tmp.
socket_dir() {
    local d="$DATA"
    if (( ${#d} + 20 > 100 )); then
        d="/tmp/tally-pg-sock-$(short_hash "$PGHOME")"
        mkdir -p "$d"
        if [[ $(id -u) -eq 0 ]]; then chown "$SERVER_USER": "$d"; fi
        chmod 0700 "$d"
    fi
    echo "$d"
}

# --- subcommands -------------------------------------------------------------

url() { echo "postgres://$DB_USER@127.0.0.1:$PORT/$DB_NAME"; }
app_url() { echo "postgres://$APP_USER@127.0.0.1:$PORT/$DB_NAME"; }

# Is $1 a live (not zombie) postgres process? Without procfs (macOS) fall back
# to kill -0.
pid_is_postgres() {
    local pid="$1"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    if [[ -d /proc/self ]]; then
        [[ -r "/proc/$pid/status" ]] || return 1
        # The postmaster's parent may be a PID 1 that never reaps: a postmaster
        # killed with SIGKILL then lingers as a zombie that kill -0 (and thus
        # pg_ctl) still counts as running.
        grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" && return 1
        [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]]
    else
        kill -0 "$pid" 2>/dev/null
    fi
}

postmaster_pid() { head -n1 "$DATA/postmaster.pid" 2>/dev/null || true; }

is_running() { [[ -f "$DATA/postmaster.pid" ]] && pid_is_postgres "$(postmaster_pid)"; }

ready() { "$(pgbin pg_isready)" -q -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres; }

# PIDs of live processes whose cwd is the data dir (every server process
# chdirs there). Linux only.
procs_in_datadir() {
    local real d; real="$(cd "$DATA" 2>/dev/null && pwd -P)" || return 0
    for d in /proc/[0-9]*; do
        [[ "$(readlink "$d/cwd" 2>/dev/null)" == "$real" ]] && echo "${d#/proc/}"
    done
    return 0
}

# A server killed with SIGKILL leaves postmaster.pid and the socket's .lock
# file behind. The server copes unless their PID is still "alive": reused by
# another process (likely in containers) or a zombie (see above). Then, once
# the dead postmaster's children are gone (they exit on their own when their
# postmaster dies), drop both files.
clear_stale_pid() {
    [[ -f "$DATA/postmaster.pid" ]] && ! is_running || return 0
    if [[ -d /proc/self ]]; then
        local i
        for ((i = 0; i < 30; i++)); do
            [[ -z "$(procs_in_datadir)" ]] && break
            sleep 0.5
        done
        [[ -z "$(procs_in_datadir)" ]] ||
            die "processes from a dead server still use $DATA: $(procs_in_datadir | tr '\n' ' ')"
    fi
    log "removing stale postmaster.pid (pid $(postmaster_pid) is not a running postgres)"
    rm -f "$DATA/postmaster.pid" "$DATA"/.s.PGSQL.*.lock \
        "/tmp/tally-pg-sock-$(short_hash "$PGHOME")"/.s.PGSQL.*.lock
}

init_cluster() {
    log "creating cluster in $DATA"
    as_server "$(pgbin initdb)" -D "$DATA" -U "$DB_USER" --auth=trust \
        -E UTF8 --no-locale >"$LOG.initdb" 2>&1 || { cat "$LOG.initdb" >&2; die "initdb failed"; }
    # Settings that never change; port and socket dir are rewritten on each
    # start (tally-runtime.conf) so TALLY_PG_PORT can change between runs.
    as_server tee -a "$DATA/postgresql.conf" >/dev/null <<'EOF'

# --- Tally private dev cluster (.ci/pg.sh) ---
listen_addresses = '127.0.0.1'
max_connections = 300        # tests open many pools
shared_buffers = 128MB
fsync = on                   # durability tests rely on real commits
include_if_exists = 'tally-runtime.conf'
EOF
    # initdb --auth=trust already trusts local and 127.0.0.1; make it explicit.
    as_server tee "$DATA/pg_hba.conf" >/dev/null <<'EOF'
# Private dev cluster: trust, loopback only (listen_addresses = 127.0.0.1).
local   all   all                 trust
host    all   all   127.0.0.1/32  trust
EOF
}

start() {
    locate
    prepare_dirs
    [[ -f "$DATA/PG_VERSION" ]] || init_cluster
    if is_running; then
        log "already running ($DATA)"
    else
        if ready 2>/dev/null; then
            die "another server already listens on 127.0.0.1:$PORT; stop it or set TALLY_PG_PORT"
        fi
        clear_stale_pid
        local sock; sock="$(socket_dir)"
        {
            printf "port = %s\nunix_socket_directories = '%s'\n" "$PORT" "${sock//\'/\'\'}"
            if [[ -n "$LISTEN_EXTRA" ]]; then printf "listen_addresses = '127.0.0.1,%s'\n" "$LISTEN_EXTRA"; fi
        } | as_server tee "$DATA/tally-runtime.conf" >/dev/null
        if [[ -n "$TRUST_NET" ]]; then
            local line="host    all   all   $TRUST_NET  trust"
            as_server grep -qxF "$line" "$DATA/pg_hba.conf" || printf '%s\n' "$line" | as_server tee -a "$DATA/pg_hba.conf" >/dev/null
        fi
        log "starting server on 127.0.0.1${LISTEN_EXTRA:+,$LISTEN_EXTRA}:$PORT (log: $PGHOME/log)"
        if ! as_server "$(pgbin pg_ctl)" -D "$DATA" -l "$LOG" -w -t "$READY_TIMEOUT" start >/dev/null; then
            tail -n 40 "$LOG" >&2 || true
            die "server failed to start"
        fi
    fi
    local i
    for ((i = 0; i < READY_TIMEOUT * 2; i++)); do
        ready && break
        sleep 0.5
    done
    if ! ready; then
        tail -n 40 "$LOG" >&2 || true
        die "server not ready on 127.0.0.1:$PORT after ${READY_TIMEOUT}s"
    fi
    local psql; psql="$(pgbin psql)"
    if [[ "$("$psql" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres -XtAc \
        "select 1 from pg_database where datname = '$DB_NAME'")" != 1 ]]; then
        "$psql" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres -Xq -c "create database $DB_NAME"
        log "created database $DB_NAME"
    fi
    # The server's own login: it owns nothing and acts through tally_app, so row-level security
    # holds for it (the owner, $DB_USER, migrates). The migration creates tally_app too; whichever
    # comes first makes it.
    "$psql" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres -Xq -v ON_ERROR_STOP=1 <<SQL
do \$\$ begin
    if not exists (select 1 from pg_roles where rolname = 'tally_app') then create role tally_app nologin; end if;
    if not exists (select 1 from pg_roles where rolname = '$APP_USER') then create role $APP_USER login in role tally_app; end if;
end \$\$;
SQL
    log "ready: $(url) (the server logs in as $(app_url))"
}

stop() {
    locate
    if is_running; then
        as_server "$(pgbin pg_ctl)" -D "$DATA" -m fast -w stop >/dev/null
        log "stopped"
    elif [[ -f "$DATA/postmaster.pid" ]]; then
        clear_stale_pid
    else
        log "not running"
    fi
}

status() {
    locate
    echo "data: $DATA"
    echo "log:  $LOG"
    echo "url:  $(url)"
    if is_running; then
        echo "state: running (pid $(postmaster_pid), port $(sed -n 4p "$DATA/postmaster.pid"))"
    else
        echo "state: stopped"
        return 3
    fi
}

destroy() {
    stop
    locate
    local base; base="$(dirname "$DATA")"
    if [[ "$base" != "$PGHOME" ]]; then rm -rf "$base"; fi
    rm -rf "$PGHOME" "/tmp/tally-pg-sock-$(short_hash "$PGHOME")"
    log "removed cluster"
}

case "${1:-}" in
bindir) find_bindir ;;
start) start ;;
stop) stop ;;
status) status ;;
url) url ;;
app-url) app_url ;;
destroy) destroy ;;
*) echo "usage: $0 {start|stop|status|url|destroy|bindir}" >&2; exit 2 ;;
esac
