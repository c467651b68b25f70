#!/usr/bin/env bash
# Set up everything and run the demo: `catalog demo` loads fixtures/ into a fresh
# catalog under var/ and serves it on http://127.0.0.1:5000. Arguments go to
# `catalog demo`.
set -euo pipefail
# shellcheck source=scripts/_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$CATALOG_ROOT"

"$CATALOG_ROOT/scripts/bootstrap.sh"
exec "$CATALOG_VENV/bin/catalog" demo "$@"
