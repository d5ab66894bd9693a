#!/usr/bin/env bash
# The whole suite: on SQLite, then on PostgreSQL when a server answers at 127.0.0.1:5432.
# Tests start their own redis-server (tests/redis_server.py); a missing service fails, it never skips.
# The browser tests (marker `browser`) and the tests through a real Varnish (marker `edge`) run in the SQLite pass
# only: they are the slowest, and what they check (the front end, the visitor's journeys, what the edge keeps) does
# not depend on the database; the demo site they drive runs on SQLite in both passes.
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
    echo "== tests on PostgreSQL (127.0.0.1:5432), without the browser and edge tests"
    # A -m the caller gave is kept, and-ed with these (a second -m would replace it).
    sqlite_only="not browser and not edge"
    markers="$sqlite_only"
    args=()
    while [[ $# -gt 0 ]]; do
        case "$1" in
            -m) markers="($2) and $sqlite_only"; shift 2 ;;
            -m*) markers="(${1#-m}) and $sqlite_only"; shift ;;
            *) args+=("$1"); shift ;;
        esac
    done
    TAILORED_TEST_DB=postgres $PY -m pytest -p no:cacheprovider -m "$markers" "${args[@]}"
else
    echo "== no PostgreSQL answers at 127.0.0.1:5432: the suite ran on SQLite only"
fi
