#!/usr/bin/env bash
# Start, stop and inspect the throwaway services the tests use, on loopback only.
#
#   scripts/services.sh start SERVICE      start it (reuses one already running)
#   scripts/services.sh stop [SERVICE]     stop it (all when no SERVICE)
#   scripts/services.sh status [SERVICE]   show state; exit 3 if SERVICE is not running
#   scripts/services.sh env [SERVICE]      print `export ...` lines for running services
#   scripts/services.sh reset SERVICE      empty its test data (postgres: recreate the DB)
#   scripts/services.sh clean [SERVICE]    stop it and delete its data directory
#
# `start` logs to stderr and prints `export VAR=...` lines on stdout, so
#   eval "$(scripts/services.sh start postgres)"
# sets the variables the tests read. State lives in $CATALOG_RUN_DIR/<service>/.
#
# Services: postgres. Adding one (redis, elasticsearch) means writing the functions
# <name>_start, <name>_stop, <name>_status, <name>_env (and optionally <name>_reset,
# <name>_clean) and adding <name> to SERVICES below.
set -euo pipefail
# shellcheck source=scripts/_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"

SERVICES=(postgres)

die() { catalog_log "error: $*"; exit 1; }
is_root() { [[ "$(id -u)" == 0 ]]; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The first port from $1 on (100 tried) that nothing listens on.
free_port_from() {
    local port
    for ((port = $1; port < $1 + 100; port++)); do
        port_in_use "$port" || { echo "$port"; return; }
    done
    die "no free port in $1..$(($1 + 99))"
}

# True when pid file $1 names a live process whose command is $2.
pidfile_alive() {
    local pid
    [[ -f "$1" ]] || return 1
    pid="$(head -n1 "$1" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == "$2" ]]
}

# ---------------------------------------------------------------------------------------
# PostgreSQL: Debian's server binaries, a private cluster owned by an unprivileged user
# (the server refuses to run as root), trust auth on loopback, database catalog_test.
PG_DIR="$CATALOG_RUN_DIR/postgres"
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/server.log"
PG_PORT_FILE="$PG_DIR/port"
PG_DB="${CATALOG_PG_DATABASE:-catalog_test}"
PG_SUPERUSER="catalog"                              # database role, not an OS user
PG_OS_USER="${CATALOG_PG_OS_USER:-postgres}"        # OS user the server runs as, when root

# Directory of the PostgreSQL server binaries (newest Debian version, or $CATALOG_PG_BIN).
pg_bin() {
    local dir="${CATALOG_PG_BIN:-}"
    if [[ -z "$dir" ]]; then
        dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null \
            | sort -V | tail -n1)"
    fi
    if [[ -z "$dir" || ! -x "$dir/pg_ctl" || ! -x "$dir/initdb" ]]; then
        catalog_log "postgres: server binaries not found" \
            "(run scripts/bootstrap.sh, or set CATALOG_PG_BIN)"
        return 1
    fi
    echo "$dir"
}

# Major version of the server binaries in $1, as PG_VERSION records it ("15").
pg_major() { "$1/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/'; }

# Run a server command as the cluster's owner: $PG_OS_USER when root, else ourselves.
pg_as_owner() {
    if is_root; then
        (cd "$PG_DIR" && runuser -u "$PG_OS_USER" -- "$@")
    else
        "$@"
    fi
}

pg_port() { cat "$PG_PORT_FILE" 2>/dev/null || true; }
pg_url() { echo "postgresql+psycopg://$PG_SUPERUSER@127.0.0.1:$(pg_port)/$PG_DB"; }

# Ours and alive: a live postgres process in the pid file, listening on our port.
pg_running() {
    local bin
    [[ -f "$PG_DATA/PG_VERSION" && -n "$(pg_port)" ]] \
        && pidfile_alive "$PG_DATA/postmaster.pid" postgres && port_in_use "$(pg_port)" \
        && bin="$(pg_bin 2>/dev/null)" \
        && pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_psql() {
    local bin
    bin="$(pg_bin)" || return 1
    "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(pg_port)" \
        -U "$PG_SUPERUSER" "$@"
}

pg_init() {
    local bin="$1" version
    version="$(pg_major "$bin")" || die "postgres: cannot run $bin/postgres"
    if [[ -f "$PG_DATA/PG_VERSION" ]] && [[ "$(cat "$PG_DATA/PG_VERSION")" == "$version" ]]; then
        return
    fi
    catalog_log "postgres: initdb $PG_DATA (PostgreSQL $version)"
    rm -rf "$PG_DATA"
    mkdir -p "$CATALOG_RUN_DIR" "$PG_DIR"
    if is_root; then
        id "$PG_OS_USER" >/dev/null 2>&1 \
            || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER"
        chmod 755 "$CATALOG_RUN_DIR"
        chown "$PG_OS_USER" "$PG_DIR"
    fi
    pg_as_owner "$bin/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" -E UTF8 --no-locale \
        --auth=trust --no-instructions >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; die "postgres: initdb failed"; }
    # Loopback only, trust only on loopback; durability is not wanted for test data.
    cat >"$PG_DATA/pg_hba.conf" <<'EOF'
local   all  all                trust
host    all  all  127.0.0.1/32  trust
host    all  all  ::1/128       trust
EOF
    cat >>"$PG_DATA/postgresql.conf" <<EOF

# metadata-catalog test cluster (scripts/services.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOF
    is_root && chown "$PG_OS_USER" "$PG_DATA/pg_hba.conf" "$PG_DATA/postgresql.conf"
    return 0
}

postgres_start() {
    local bin port
    bin="$(pg_bin)" || exit 1
    if pg_running; then
        catalog_log "postgres: already running on 127.0.0.1:$(pg_port)"
    else
        pg_init "$bin"
        # A pid file left by a killed run would stop the server from starting.
        if [[ -f "$PG_DATA/postmaster.pid" ]]; then
            catalog_log "postgres: removing stale pid file"
            rm -f "$PG_DATA/postmaster.pid"
        fi
        port="$(free_port_from "${CATALOG_PG_PORT:-55432}")"
        echo "$port" >"$PG_PORT_FILE"
        catalog_log "postgres: starting on 127.0.0.1:$port (log: $PG_LOG)"
        : >"$PG_LOG"
        is_root && chown "$PG_OS_USER" "$PG_LOG"
        pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -o "-p $port" start \
            >/dev/null || { tail -n 20 "$PG_LOG" >&2; die "postgres: failed to start"; }
    fi
    if [[ "$(pg_psql -d postgres -tAc "select 1 from pg_database where datname = '$PG_DB'")" \
        != 1 ]]; then
        pg_psql -d postgres -c "create database $PG_DB"
        catalog_log "postgres: created database $PG_DB"
    fi
    postgres_env
}

postgres_stop() {
    if ! pg_running; then
        [[ -f "$PG_DATA/postmaster.pid" ]] && rm -f "$PG_DATA/postmaster.pid"
        catalog_log "postgres: not running"
        return 0
    fi
    local bin
    bin="$(pg_bin)" || exit 1
    pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" -w -t 30 -m fast stop >/dev/null 2>&1 \
        || pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" -w -t 30 -m immediate stop >/dev/null
    catalog_log "postgres: stopped"
}

postgres_status() {
    if pg_running; then
        echo "postgres: running on 127.0.0.1:$(pg_port), pid $(head -n1 "$PG_DATA/postmaster.pid")," \
            "url $(pg_url)"
    else
        echo "postgres: stopped"
        return 3
    fi
}

postgres_env() {
    pg_running || return 0
    echo "export CATALOG_TEST_DATABASE_URL='$(pg_url)'"
}

postgres_reset() {
    pg_running || die "postgres: not running"
    pg_psql -d postgres -c "drop database if exists $PG_DB with (force)" \
        -c "create database $PG_DB"
    catalog_log "postgres: recreated database $PG_DB"
}

postgres_clean() {
    postgres_stop
    rm -rf "$PG_DIR"
    catalog_log "postgres: removed $PG_DIR"
}

# ---------------------------------------------------------------------------------------
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }

known_service() {
    local s
    for s in "${SERVICES[@]}"; do [[ "$s" == "$1" ]] && return 0; done
    die "unknown service '$1' (known: ${SERVICES[*]})"
}

main() {
    local cmd="${1:-}" svc="${2:-}" rc=0 s
    case "$cmd" in
        start | reset)
            [[ -n "$svc" ]] || usage
            known_service "$svc"
            "${svc}_${cmd}"
            ;;
        stop | status | env | clean)
            if [[ -n "$svc" ]]; then
                known_service "$svc"
                "${svc}_${cmd}" || rc=$?
            else
                for s in "${SERVICES[@]}"; do
                    if [[ "$cmd" == status ]]; then "${s}_status" || true; else "${s}_${cmd}"; fi
                done
            fi
            return "$rc"
            ;;
        *) usage ;;
    esac
}

main "$@"
