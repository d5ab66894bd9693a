#!/usr/bin/env bash
# The whole suite: on SQLite, then on PostgreSQL when a server answers at 127.0.0.1:5432.
# Tests start their own redis-server (tests/redis_server.py); a missing service fails, it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

echo "== tests on SQLite"
$PY -m pytest "$@"

if $PY - <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
except OSError:
    sys.exit(1)
PY
then
    echo "== tests on PostgreSQL (127.0.0.1:5432)"
    TAILORED_TEST_DB=postgres $PY -m pytest -p no:cacheprovider "$@"
else
    echo "== no PostgreSQL answers at 127.0.0.1:5432: the suite ran on SQLite only"
fi
