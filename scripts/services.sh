#!/usr/bin/env bash
# Start, stop and inspect the throwaway services the tests use, on loopback only.
#
#   scripts/services.sh start SERVICE      start it (reuses one already running)
#   scripts/services.sh stop [SERVICE]     stop it (all when no SERVICE)
#   scripts/services.sh status [SERVICE]   show state; exit 3 if SERVICE is not running
#   scripts/services.sh env [SERVICE]      print `export ...` lines for running services
#   scripts/services.sh reset SERVICE      empty its test data (postgres: recreate the DB;
#                                          elasticsearch: delete the catalog-test* indices)
#   scripts/services.sh clean [SERVICE]    stop it and delete its data directory
#
# `start` logs to stderr and prints `export VAR=...` lines on stdout, so
#   eval "$(scripts/services.sh start postgres)"
# sets the variables the tests read. State lives in $CATALOG_RUN_DIR/<service>/.
#
# Services: postgres, elasticsearch, redis. Adding one means writing the functions
# <name>_start, <name>_stop, <name>_status, <name>_env (and optionally <name>_reset,
# <name>_clean) and adding <name> to SERVICES below.
set -euo pipefail
# shellcheck source=scripts/_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"

SERVICES=(postgres elasticsearch redis)

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
# Elasticsearch: the official minimal distribution (the integ-test-zip that Elasticsearch's
# own test clusters use) from Maven Central, fetched with Maven into the cache outside the
# clone and unpacked once. A single node on loopback, security off, run as an unprivileged
# user (the server refuses to run as root). Maven Central has no 9.x of this artifact
# (newest: 8.19.21), so it runs on Java 17. The Python client's major must match (8.x).
ES_VERSION="8.19.21"
ES_MVN_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip"
ES_MVN_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.11.0"
ES_CACHE="$CATALOG_CACHE_DIR/elasticsearch"
ES_CACHED_HOME="$ES_CACHE/elasticsearch-$ES_VERSION"
ES_DIR="$CATALOG_RUN_DIR/elasticsearch"
ES_PID_FILE="$ES_DIR/elasticsearch.pid"
ES_PORT_FILE="$ES_DIR/port"
ES_CONF="$ES_DIR/config"
ES_LOG_DIR="$ES_DIR/logs"
ES_STARTUP_LOG="$ES_DIR/startup.log"
ES_OS_USER="${CATALOG_ES_OS_USER:-catalog-es}"      # OS user the node runs as, when root
ES_CLUSTER="catalog-test"
ES_INDEX_PREFIX="catalog-test"                      # what `reset` deletes

# JDK for the node: $CATALOG_ES_JAVA_HOME, else Java 17 for 8.x, Java 21+ (Temurin) for 9.x.
es_java_home() {
    local cand
    local -a cands=("${CATALOG_ES_JAVA_HOME:-}")
    if [[ "$ES_VERSION" == 8.* ]]; then
        cands+=(/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-*
            /usr/lib/jvm/java-21-openjdk-* /usr/lib/jvm/temurin-21-jdk-*)
    else
        cands+=(/usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-2[1-9]-jdk-*
            /usr/lib/jvm/java-2[1-9]-openjdk-*)
    fi
    for cand in "${cands[@]}"; do
        [[ -n "$cand" && -x "$cand/bin/java" ]] && { echo "$cand"; return; }
    done
    catalog_log "elasticsearch: no JDK for Elasticsearch $ES_VERSION under /usr/lib/jvm" \
        "(set CATALOG_ES_JAVA_HOME)"
    return 1
}

# Download (Maven, into ~/.m2 and the cache) and unpack the distribution, once.
es_fetch() {
    [[ -x "$ES_CACHED_HOME/bin/elasticsearch" ]] && return 0
    mkdir -p "$ES_CACHE"
    (
        flock 9
        [[ -x "$ES_CACHED_HOME/bin/elasticsearch" ]] && exit 0
        command -v mvn >/dev/null 2>&1 \
            || die "elasticsearch: mvn not found (run scripts/bootstrap.sh: it installs maven)"
        command -v unzip >/dev/null 2>&1 || die "elasticsearch: unzip not found"
        local zip="$ES_CACHE/elasticsearch-$ES_VERSION.zip" tmp t
        t="$(catalog_now)"
        if [[ ! -s "$zip" ]]; then
            catalog_log "elasticsearch: fetching $ES_MVN_ARTIFACT with Maven into $ES_CACHE"
            mvn -B -q -Dstyle.color=never "$ES_MVN_PLUGIN:copy" -Dartifact="$ES_MVN_ARTIFACT" \
                -DoutputDirectory="$ES_CACHE" </dev/null >&2 \
                || die "elasticsearch: Maven could not fetch $ES_MVN_ARTIFACT"
        fi
        catalog_log "elasticsearch: unpacking into $ES_CACHED_HOME"
        tmp="$(mktemp -d "$ES_CACHE/.unpack.XXXXXX")"
        unzip -q "$zip" -d "$tmp" || { rm -rf "$tmp"; die "elasticsearch: cannot unzip $zip"; }
        rm -rf "$ES_CACHED_HOME"
        mv "$tmp/elasticsearch-$ES_VERSION" "$ES_CACHED_HOME"
        rm -rf "$tmp" "$zip"                        # Maven keeps its own copy in ~/.m2
        catalog_log "elasticsearch: $ES_VERSION ready in $(catalog_elapsed "$t")"
    ) 9>"$ES_CACHE/.lock"
}

# Run a command as the node's owner: $ES_OS_USER when root, else ourselves.
es_as_owner() {
    if is_root; then
        (cd "$ES_DIR" && setpriv --reuid="$(id -u "$ES_OS_USER")" \
            --regid="$(id -g "$ES_OS_USER")" --init-groups env HOME="$ES_DIR" "$@")
    else
        (cd "$ES_DIR" && "$@")
    fi
}

# The Elasticsearch home the node runs from. The cache lies under a home directory the
# unprivileged user may not enter (/root is 0700), so root runs a hard-linked copy of it
# in the run directory (a plain copy across filesystems), made once per version.
es_home_path() {
    if is_root; then echo "$ES_DIR/home-$ES_VERSION"; else echo "$ES_CACHED_HOME"; fi
}

es_home() {
    local home
    home="$(es_home_path)"
    if ! is_root; then
        echo "$home"
        return
    fi
    if [[ ! -x "$home/bin/elasticsearch" ]]; then
        rm -rf "$ES_DIR"/home-* "$ES_DIR/.home.tmp"
        cp -al "$ES_CACHED_HOME" "$ES_DIR/.home.tmp" 2>/dev/null \
            || { rm -rf "$ES_DIR/.home.tmp"; cp -a "$ES_CACHED_HOME" "$ES_DIR/.home.tmp"; }
        chmod -R a+rX "$ES_DIR/.home.tmp"
        mv "$ES_DIR/.home.tmp" "$home"
    fi
    echo "$home"
}

es_port() { cat "$ES_PORT_FILE" 2>/dev/null || true; }
es_url() { echo "http://127.0.0.1:$(es_port)"; }

# curl against the node: es_curl METHOD PATH [curl args...]
es_curl() {
    local method="$1" path="$2"
    shift 2
    curl -fsS --max-time 30 -X "$method" "$(es_url)$path" "$@"
}

# Our node's JVMs (launcher and server) carry ES_TMPDIR=<our run dir>/tmp in their
# environment: it tells them apart from any other Elasticsearch, another clone's included.
es_pid_has_marker() {
    { tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | grep -qxF -- "ES_TMPDIR=$ES_DIR/tmp"
}

# True when the pid file names a live JVM of our node.
es_pid_ours() {
    pidfile_alive "$ES_PID_FILE" java && es_pid_has_marker "$(head -n1 "$ES_PID_FILE")"
}

# Pids of every JVM of our node (the launcher included), found by the marker.
es_node_pids() {
    local dir pid
    for dir in /proc/[0-9]*; do
        pid="${dir#/proc/}"
        [[ "$(cat "$dir/comm" 2>/dev/null || true)" == java ]] && es_pid_has_marker "$pid" \
            && echo "$pid"
    done
    return 0
}

# Ours and alive: our node's JVM in the pid file, answering on our port.
es_running() {
    [[ -n "$(es_port)" ]] && es_pid_ours \
        && curl -fsS --max-time 5 "$(es_url)/_cluster/health" >/dev/null 2>&1
}

# Server version from GET /_nodes (the minimal distribution has no GET /).
es_version() {
    es_curl GET '/_nodes/_local?filter_path=nodes.*.version' 2>/dev/null \
        | sed -nE 's/.*"version":"([^"]+)".*/\1/p'
}

# A fresh config directory for the node (writable by it: the keystore lives there).
es_prepare_dirs() {
    local home="$1"
    mkdir -p "$CATALOG_RUN_DIR" "$ES_DIR"
    rm -rf "$ES_CONF"
    cp -r "$home/config" "$ES_CONF"
    cat >"$ES_CONF/jvm.options.d/catalog.options" <<'OPTIONS'
# metadata-catalog test node (scripts/services.sh): no heap dumps of throwaway data
-XX:-HeapDumpOnOutOfMemoryError
OPTIONS
    mkdir -p "$ES_DIR/data" "$ES_LOG_DIR" "$ES_DIR/tmp"
    : >"$ES_STARTUP_LOG"
    if is_root; then
        id "$ES_OS_USER" >/dev/null 2>&1 \
            || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_OS_USER"
        chmod 755 "$CATALOG_RUN_DIR"
        chown -R "$ES_OS_USER:" "$ES_CONF" "$ES_DIR/data" "$ES_LOG_DIR" "$ES_DIR/tmp" \
            "$ES_STARTUP_LOG"
        chown "$ES_OS_USER:" "$ES_DIR"
    fi
}

es_log_tail() {
    local log="$ES_LOG_DIR/$ES_CLUSTER.log"
    catalog_log "elasticsearch: last lines of $ES_STARTUP_LOG and $log:"
    tail -n 20 "$ES_STARTUP_LOG" >&2 2>/dev/null || true
    tail -n 40 "$log" >&2 2>/dev/null || true
}

elasticsearch_start() {
    local home java_home port tport pid deadline t cli_pid cli_status
    local timeout="${CATALOG_ES_START_TIMEOUT:-180}"
    command -v curl >/dev/null 2>&1 \
        || die "elasticsearch: curl not found (run scripts/bootstrap.sh)"
    if es_running; then
        catalog_log "elasticsearch: already running on $(es_url)"
        elasticsearch_env
        return
    fi
    t="$(catalog_now)"
    es_fetch || exit 1
    java_home="$(es_java_home)" || exit 1
    # A pid file left by a killed run: remove it (and stop a node of ours that hangs).
    if [[ -f "$ES_PID_FILE" ]]; then
        if es_pid_ours; then
            catalog_log "elasticsearch: stopping an unresponsive node of ours"
            elasticsearch_stop
        else
            catalog_log "elasticsearch: removing stale pid file"
        fi
        rm -f "$ES_PID_FILE"
    fi
    mkdir -p "$ES_DIR"
    home="$(es_home)"
    es_prepare_dirs "$home"
    port="$(free_port_from "${CATALOG_ES_PORT:-59200}")"
    tport="$(free_port_from "${CATALOG_ES_TRANSPORT_PORT:-59300}")"
    [[ "$tport" != "$port" ]] || tport="$(free_port_from $((port + 1)))"
    echo "$port" >"$ES_PORT_FILE"
    catalog_log "elasticsearch: starting $ES_VERSION on 127.0.0.1:$port" \
        "(transport $tport, Java $java_home, log: $ES_LOG_DIR/$ES_CLUSTER.log)"
    # -d: the launcher returns once the node has started, the node writes the pid file.
    es_as_owner env ES_JAVA_HOME="$java_home" ES_PATH_CONF="$ES_CONF" \
        ES_JAVA_OPTS="${CATALOG_ES_JAVA_OPTS:--Xms1g -Xmx1g}" ES_TMPDIR="$ES_DIR/tmp" \
        JAVA_HOME= "$home/bin/elasticsearch" -d -p "$ES_PID_FILE" \
        -E cluster.name="$ES_CLUSTER" -E node.name="$ES_CLUSTER" \
        -E discovery.type=single-node -E network.host=127.0.0.1 \
        -E http.port="$port" -E transport.port="$tport" \
        -E path.data="$ES_DIR/data" -E path.logs="$ES_LOG_DIR" \
        -E xpack.security.enabled=false \
        -E cluster.routing.allocation.disk.threshold_enabled=false \
        </dev/null >>"$ES_STARTUP_LOG" 2>&1 &
    cli_pid=$!
    deadline=$((SECONDS + timeout))
    until curl -fsS --max-time 10 \
        "$(es_url)/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null 2>&1; do
        # The launcher exits 0 once the node runs in the background, non-zero on failure.
        if [[ -n "$cli_pid" ]] && ! kill -0 "$cli_pid" 2>/dev/null; then
            cli_status=0
            wait "$cli_pid" || cli_status=$?
            cli_pid=""
            if ((cli_status != 0)); then
                es_log_tail
                die "elasticsearch: the node failed to start (launcher exit status $cli_status)"
            fi
        fi
        if [[ -z "$cli_pid" ]] && ! es_pid_ours; then
            es_log_tail
            die "elasticsearch: the node exited during startup"
        fi
        if ((SECONDS >= deadline)); then
            es_log_tail
            [[ -n "$cli_pid" ]] && kill "$cli_pid" 2>/dev/null
            es_kill_node
            die "elasticsearch: not healthy (status yellow) on $(es_url) after ${timeout}s" \
                "(raise CATALOG_ES_START_TIMEOUT)"
        fi
        sleep 1
    done
    [[ -z "$cli_pid" ]] || wait "$cli_pid" 2>/dev/null || true
    pid="$(head -n1 "$ES_PID_FILE" 2>/dev/null || echo '?')"
    catalog_log "elasticsearch: $(es_version) healthy on $(es_url), pid $pid," \
        "in $(catalog_elapsed "$t")"
    elasticsearch_env
}

# Stop every JVM of our node: SIGTERM (again to any the launcher spawns meanwhile), then
# SIGKILL after 30s.
es_kill_node() {
    local -a pids
    local i
    for ((i = 0; i < 300; i++)); do
        mapfile -t pids < <(es_node_pids)
        ((${#pids[@]})) || return 0
        kill -TERM "${pids[@]}" 2>/dev/null || true
        sleep 0.2
    done
    catalog_log "elasticsearch: pids ${pids[*]} ignored SIGTERM for 60s; killing them"
    kill -KILL "${pids[@]}" 2>/dev/null || true
}

elasticsearch_stop() {
    if ! es_pid_ours && [[ -z "$(es_node_pids)" ]]; then
        rm -f "$ES_PID_FILE"
        catalog_log "elasticsearch: not running"
        return 0
    fi
    es_kill_node
    rm -f "$ES_PID_FILE"
    catalog_log "elasticsearch: stopped"
}

elasticsearch_status() {
    if es_running; then
        echo "elasticsearch: running on 127.0.0.1:$(es_port), pid $(head -n1 "$ES_PID_FILE")," \
            "version $(es_version), url $(es_url)"
    else
        echo "elasticsearch: stopped"
        return 3
    fi
}

elasticsearch_env() {
    es_running || return 0
    echo "export CATALOG_TEST_ELASTICSEARCH_URL=$(es_url)"
}

# Delete the test indices: every index, alias and index template named catalog-test*.
# By name, not with a wildcard DELETE (action.destructive_requires_name is on by default).
elasticsearch_reset() {
    es_running || die "elasticsearch: not running"
    local name index alias n=0
    while read -r name; do
        [[ -n "$name" ]] || continue
        es_curl DELETE "/$name" >/dev/null
        n=$((n + 1))
    done < <(es_curl GET "/_cat/indices/$ES_INDEX_PREFIX*?h=index&expand_wildcards=all")
    while read -r alias index; do
        [[ -n "$alias" ]] || continue
        es_curl DELETE "/$index/_alias/$alias" >/dev/null
        n=$((n + 1))
    done < <(es_curl GET "/_cat/aliases/$ES_INDEX_PREFIX*?h=alias,index&expand_wildcards=all")
    while read -r name; do
        [[ -n "$name" ]] || continue
        es_curl DELETE "/_index_template/$name" >/dev/null
        n=$((n + 1))
    done < <(es_curl GET "/_cat/templates/$ES_INDEX_PREFIX*?h=name")
    catalog_log "elasticsearch: deleted $n test indices, aliases and templates ($ES_INDEX_PREFIX*)"
}

elasticsearch_clean() {
    elasticsearch_stop
    rm -rf "$ES_DIR"
    catalog_log "elasticsearch: removed $ES_DIR (the distribution stays in $ES_CACHE)"
}

# ---------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------
# Redis: Debian's redis-server, a private throwaway instance on loopback (no persistence,
# no password), for rq. Started as the invoking user; runs daemonized with a pid file.
REDIS_DIR="$CATALOG_RUN_DIR/redis"
REDIS_PID_FILE="$REDIS_DIR/redis.pid"
REDIS_PORT_FILE="$REDIS_DIR/port"
REDIS_LOG="$REDIS_DIR/redis.log"

redis_port() { cat "$REDIS_PORT_FILE" 2>/dev/null || true; }
redis_url() { echo "redis://127.0.0.1:$(redis_port)/0"; }
redis_running() { pidfile_alive "$REDIS_PID_FILE" redis-server && [[ -n "$(redis_port)" ]]; }

redis_start() {
    command -v redis-server >/dev/null || die "redis: redis-server not found (scripts/bootstrap.sh installs it)"
    if redis_running; then
        catalog_log "redis: already running on 127.0.0.1:$(redis_port)"
    else
        mkdir -p "$REDIS_DIR"
        local port
        port="$(free_port_from "${CATALOG_REDIS_PORT:-56379}")"
        echo "$port" >"$REDIS_PORT_FILE"
        catalog_log "redis: starting on 127.0.0.1:$port (log: $REDIS_LOG)"
        redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
            --pidfile "$REDIS_PID_FILE" --logfile "$REDIS_LOG" --dir "$REDIS_DIR" \
            --save "" --appendonly no --protected-mode yes >/dev/null \
            || die "redis: failed to start"
        local i
        for ((i = 0; i < 100; i++)); do
            redis_running && port_in_use "$port" && break
            sleep 0.1
        done
        redis_running || { tail -n 20 "$REDIS_LOG" >&2; die "redis: failed to start"; }
    fi
    redis_env
}

redis_stop() {
    if ! redis_running; then
        catalog_log "redis: not running"
        return 0
    fi
    local pid
    pid="$(head -n1 "$REDIS_PID_FILE")"
    kill "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$REDIS_PID_FILE"
    catalog_log "redis: stopped"
}

redis_status() {
    if redis_running; then
        echo "redis: running on 127.0.0.1:$(redis_port), pid $(head -n1 "$REDIS_PID_FILE"), url $(redis_url)"
    else
        echo "redis: stopped"
        return 3
    fi
}

redis_env() {
    redis_running || return 0
    echo "export CATALOG_TEST_REDIS_URL='$(redis_url)'"
}

redis_reset() {
    redis_running || die "redis: not running"
    redis-cli -p "$(redis_port)" flushall >/dev/null
    catalog_log "redis: flushed"
}

redis_clean() {
    redis_stop
    rm -rf "$REDIS_DIR"
    catalog_log "redis: removed $REDIS_DIR"
}

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
