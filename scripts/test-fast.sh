#!/usr/bin/env bash
# The fast lane (`make test-fast`, and each pair of `make matrix`): the suite on SQLite without the browser tests,
# the install test and the tests that start workers (setup.cfg's markers). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
exec "$PY" -m pytest -q -p no:cacheprovider -m "not browser and not install and not workers" "$@"
