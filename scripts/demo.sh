#!/usr/bin/env bash
# The example site, working, from a fresh clone: migrate, seed, Redis, Celery workers (one with beat), the server.
# Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=example_site.settings
mkdir -p var
pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "tailored_cms demo: stopped."
}
trap cleanup INT TERM EXIT

redis_answers() {
    $PY -c "import redis, sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()" "$1" 2>/dev/null
}

# Redis: one that answers, else a local redis-server of our own, else tasks run in-process.
export TAILORED_REDIS_URL="${TAILORED_REDIS_URL:-redis://127.0.0.1:6379/0}"
if redis_answers "$TAILORED_REDIS_URL"; then
    echo "Redis: using $TAILORED_REDIS_URL"
elif command -v redis-server >/dev/null; then
    port=6390
    redis-server --port $port --bind 127.0.0.1 --save "" --appendonly no --dir var >var/redis.log 2>&1 &
    pids+=($!)
    export TAILORED_REDIS_URL="redis://127.0.0.1:$port/0"
    for _ in $(seq 50); do redis_answers "$TAILORED_REDIS_URL" && break; sleep 0.1; done
    echo "Redis: started a local redis-server at $TAILORED_REDIS_URL (log: var/redis.log)"
else
    export TAILORED_EAGER=1
    echo "Redis: none could be found or installed. Snapshots come from the database and Celery tasks run" \
         "in-process (no worker, no beat)."
fi

$PY manage.py migrate --noinput -v0
$PY manage.py tailored_demo --history  # and 30 days of visits, for the results to show

if [[ "${TAILORED_EAGER:-0}" != 1 ]]; then
    # Two workers, as docs/deployment.md runs them: the ingest's queue never waits for a segment recompute.
    .venv/bin/celery -A tailored_cms.celery_app worker -B -Q tailored_fresh,celery -n fresh@%h \
        --loglevel=WARNING --concurrency=1 --schedule var/celerybeat-schedule >var/celery.log 2>&1 &
    pids+=($!)
    .venv/bin/celery -A tailored_cms.celery_app worker -Q tailored_bulk -n bulk@%h \
        --loglevel=WARNING --concurrency=1 --prefetch-multiplier=1 >var/celery-bulk.log 2>&1 &
    pids+=($!)
    echo "Celery: an ingest worker with beat and a recompute worker are running (logs: var/celery*.log)"
    echo "Personalization: press Allow in the banner, read three sports articles, go back to the homepage."
fi

cat <<MSG

  tailored_cms demo:  http://127.0.0.1:8000/
  Editor login:       http://127.0.0.1:8000/admin/  user "editor", password "editor"
  Ctrl-C stops the site, the worker and anything else this started.

MSG
$PY manage.py runserver 127.0.0.1:8000 &
pids+=($!)
wait "${pids[-1]}"
