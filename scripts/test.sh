#!/usr/bin/env bash
# Set up everything and run the whole test suite: the one command CI runs.
#
#   ./scripts/test.sh                       bootstrap, PostgreSQL, Elasticsearch, ruff, all tests
#   ./scripts/test.sh tests/test_x.py -k y  the same, passing arguments to pytest
#
# With CATALOG_REQUIRE_SERVICES=1 (CI) a test whose service is missing fails instead
# of skipping. Services this script started are stopped when it exits; one that was
# already running (started by hand with scripts/services.sh) is reused and left running.
# Exit status: pytest's (its 5, "no tests collected", counts as failure), or ruff's when
# pytest passed.
set -euo pipefail
# shellcheck source=scripts/_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$CATALOG_ROOT"

SERVICES_SH="$CATALOG_ROOT/scripts/services.sh"
timings=()
started=()
t_all="$(catalog_now)"

phase_done() { timings+=("$(printf '%-13s %s' "$1" "$(catalog_elapsed "$2")")"); }

cleanup() {
    local svc
    for svc in "${started[@]}"; do "$SERVICES_SH" stop "$svc" || true; done
    if ((${#timings[@]})); then
        catalog_log "timings:"
        for line in "${timings[@]}"; do catalog_log "  $line"; done
        catalog_log "  $(printf '%-13s %s' total "$(catalog_elapsed "$t_all")")"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Start SERVICE unless it is already running, and export the variables it provides.
start_service() {
    local svc="$1" env_lines
    if "$SERVICES_SH" status "$svc" >/dev/null 2>&1; then
        catalog_log "$svc: reusing the running server"
        env_lines="$("$SERVICES_SH" env "$svc")" || return 1
    else
        started+=("$svc")
        env_lines="$("$SERVICES_SH" start "$svc")" || return 1
    fi
    eval "$env_lines"
}

t="$(catalog_now)"
"$CATALOG_ROOT/scripts/bootstrap.sh"
phase_done bootstrap "$t"

t="$(catalog_now)"
if start_service postgres; then
    "$SERVICES_SH" reset postgres
    catalog_log "CATALOG_TEST_DATABASE_URL=$CATALOG_TEST_DATABASE_URL"
else
    # Without CATALOG_REQUIRE_SERVICES the PostgreSQL tests then skip; with it they fail.
    catalog_log "postgres: could not start; its tests will skip (or fail in CI)"
fi
phase_done postgres "$t"

# The first run fetches the Elasticsearch distribution with Maven into the cache
# (~/.cache/metadata-catalog/elasticsearch); later runs only start the node (12–25 s).
t="$(catalog_now)"
if start_service elasticsearch && "$SERVICES_SH" reset elasticsearch; then
    catalog_log "CATALOG_TEST_ELASTICSEARCH_URL=$CATALOG_TEST_ELASTICSEARCH_URL"
else
    unset CATALOG_TEST_ELASTICSEARCH_URL
    catalog_log "elasticsearch: could not start; its tests will skip (or fail in CI)"
fi
phase_done elasticsearch "$t"

t="$(catalog_now)"
if start_service redis && "$SERVICES_SH" reset redis; then
    catalog_log "CATALOG_TEST_REDIS_URL=$CATALOG_TEST_REDIS_URL"
else
    unset CATALOG_TEST_REDIS_URL
    catalog_log "redis: could not start; its tests will skip (or fail in CI)"
fi
phase_done redis "$t"

t="$(catalog_now)"
ruff_status=0
catalog_log "ruff check ."
"$CATALOG_VENV/bin/ruff" check . || ruff_status=$?
phase_done ruff "$t"

t="$(catalog_now)"
pytest_status=0
catalog_log "pytest $*"
"$CATALOG_VENV/bin/python" -m pytest -ra "$@" </dev/null || pytest_status=$?
phase_done pytest "$t"

if ((pytest_status == 5)); then
    catalog_log "FAILED: pytest collected no tests"
    exit 1
fi
if ((pytest_status != 0)); then
    catalog_log "FAILED: pytest exited with $pytest_status"
    exit "$pytest_status"
fi
if ((ruff_status != 0)); then
    catalog_log "FAILED: tests passed but ruff found problems"
    exit "$ruff_status"
fi
catalog_log "OK: ruff clean, tests passed"
