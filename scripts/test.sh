#!/usr/bin/env bash
# The whole suite: on SQLite, then on PostgreSQL when a server answers at 127.0.0.1:5432.
# Tests start their own redis-server (tests/redis_server.py); a missing service fails, it never skips.
# The browser tests (marker `browser`) run in the SQLite pass only: they are the slowest, and what they check
# (the front end, the visitor's journeys) does not depend on the database.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

echo "== tests on SQLite"
$PY -m pytest "$@"

# django CMS's own tests with tailored_cms installed (about a minute and a half; also `make test-cms`).
scripts/test-cms.sh

if $PY - <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
except OSError:
    sys.exit(1)
PY
then
    echo "== tests on PostgreSQL (127.0.0.1:5432), without the browser tests"
    # A -m the caller gave is kept, and-ed with "not browser" (a second -m would replace it).
    markers="not browser"
    args=()
    while [[ $# -gt 0 ]]; do
        case "$1" in
            -m) markers="($2) and not browser"; shift 2 ;;
            -m*) markers="(${1#-m}) and not browser"; shift ;;
            *) args+=("$1"); shift ;;
        esac
    done
    TAILORED_TEST_DB=postgres $PY -m pytest -p no:cacheprovider -m "$markers" "${args[@]}"
else
    echo "== no PostgreSQL answers at 127.0.0.1:5432: the suite ran on SQLite only"
fi
