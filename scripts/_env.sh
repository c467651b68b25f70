# shellcheck shell=bash
# Sourced (never run) by the other scripts: paths, caches and offline flags.
# It only sets variables; every value can be overridden from the environment.

CATALOG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CATALOG_ROOT

# The project's virtualenv lives in the clone; everything downloaded lives outside it,
# so a fresh clone on the same machine is set up from the caches in seconds.
export CATALOG_VENV="${CATALOG_VENV:-$CATALOG_ROOT/.venv}"
_catalog_cache_home="${XDG_CACHE_HOME:-$HOME/.cache}"
export CATALOG_CACHE_DIR="${CATALOG_CACHE_DIR:-$_catalog_cache_home/metadata-catalog}"
export CATALOG_TOOLS_VENV="${CATALOG_TOOLS_VENV:-$CATALOG_CACHE_DIR/tools}"
# Embedding models fetched from Maven Central (catalog/embedding_models.py reads it too).
export CATALOG_MODELS_DIR="${CATALOG_MODELS_DIR:-$CATALOG_CACHE_DIR/models}"
export UV_CACHE_DIR="${UV_CACHE_DIR:-$_catalog_cache_home/uv}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$_catalog_cache_home/pip}"
unset _catalog_cache_home

# Running services (PostgreSQL data dir, sockets, logs, pid files): outside the clone.
export CATALOG_RUN_DIR="${CATALOG_RUN_DIR:-/tmp/metadata-catalog-run}"

# uv must use the machine's Python, never download one.
export UV_PYTHON_DOWNLOADS=never
# Hardlink from uv's cache into .venv (falls back to copying across filesystems).
export UV_LINK_MODE="${UV_LINK_MODE:-hardlink}"

# Embedding models come from a wheel or from Maven at setup: never ask a hub.
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export HF_HUB_DISABLE_TELEMETRY=1

# Browser tests use Debian's Chromium; Playwright must never download a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CATALOG_CHROMIUM="${CATALOG_CHROMIUM:-/usr/bin/chromium}"

# Small helpers shared by the scripts.
catalog_log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
catalog_now() { printf '%s' "${EPOCHREALTIME:-$(date +%s)}"; }
catalog_elapsed() { awk -v a="$1" -v b="$(catalog_now)" 'BEGIN { printf "%.1fs", b - a }'; }
