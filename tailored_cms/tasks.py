"""Every Celery task of tailored_cms, and their beat schedule.

A site's ``app.autodiscover_tasks()`` imports ``<app>.tasks`` only, so this module imports each task module.
Importing it loads no models, so a site's Celery module may import ``BEAT_SCHEDULE`` before Django is set up::

    from tailored_cms.tasks import BEAT_SCHEDULE, TASK_ROUTES
    app.conf.beat_schedule = {**BEAT_SCHEDULE, **app.conf.beat_schedule}
    app.conf.task_routes = [app.conf.task_routes or {}, TASK_ROUTES]  # the site's routes first

Two queues keep freshness from waiting for maintenance (``TASK_ROUTES``): ``tailored_fresh`` carries the ingest
(and the re-evaluation of the visitors it touched), ``tailored_bulk`` the full segment recompute, the optimize
areas' allocations, the retention purge, trait imports and the recommendations; an edge purge after an editor's
change, and the retries due (``retries``), go with the fresh. A worker consuming ``tailored_fresh`` is never behind a
recompute; see docs/deployment.md for the workers to run.
"""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from .edge.tasks import PURGE_EDGE_TASK, purge_edge
from .recommendations.tasks import COMPUTE_ALL_TASK, COMPUTE_TOUCHED_TASK, compute_all_task, compute_touched_task
from .results.tasks import OPTIMIZE_TASK, refresh_allocations
from .retries import POLL_SECONDS, SEND_DUE_TASK, send_due_retries
from .rules.tasks import (
    CHUNK_TASK,
    RECOMPUTE_SEGMENTS_TASK,
    RECOMPUTE_TASK,
    recompute_all,
    recompute_chunk,
    recompute_segments_task,
)
from .tracking.tasks import INGEST_TASK, PURGE_TASK, ingest_events, purge_expired
from .visitors.tasks import IMPORT_TASK, import_traits_task

__all__ = [
    "BEAT_SCHEDULE",
    "BULK_QUEUE",
    "FRESH_QUEUE",
    "TASK_ROUTES",
    "compute_all_task",
    "compute_touched_task",
    "import_traits_task",
    "ingest_events",
    "purge_edge",
    "purge_expired",
    "recompute_all",
    "recompute_chunk",
    "recompute_segments_task",
    "refresh_allocations",
    "send_due_retries",
]

FRESH_QUEUE = "tailored_fresh"
BULK_QUEUE = "tailored_bulk"

# Celery's task_routes: each task's queue (docs/deployment.md lists them; a test holds the two together).
TASK_ROUTES: dict[str, dict[str, str]] = {
    INGEST_TASK: {"queue": FRESH_QUEUE},
    RECOMPUTE_TASK: {"queue": BULK_QUEUE},
    RECOMPUTE_SEGMENTS_TASK: {"queue": BULK_QUEUE},
    CHUNK_TASK: {"queue": BULK_QUEUE},
    OPTIMIZE_TASK: {"queue": BULK_QUEUE},
    PURGE_TASK: {"queue": BULK_QUEUE},
    IMPORT_TASK: {"queue": BULK_QUEUE},
    PURGE_EDGE_TASK: {"queue": FRESH_QUEUE},
    SEND_DUE_TASK: {"queue": FRESH_QUEUE},
    COMPUTE_TOUCHED_TASK: {"queue": BULK_QUEUE},
    COMPUTE_ALL_TASK: {"queue": BULK_QUEUE},
}

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Every second; a run not started within two seconds (workers busy) is dropped, the next one catches up.
    # Each run drains for at most 3 s, so a backlog is worked off by consecutive (or parallel) runs.
    "tailored-cms-ingest-events": {
        "task": INGEST_TASK,
        "schedule": 1.0,
        "kwargs": {"max_seconds": 3.0},
        "options": {"expires": 2.0},
    },
    # Every two seconds: the retries due (an edge purge, a saved segment's recompute), which wait in Redis rather
    # than in a worker (retries.py). A run not started within that long is dropped; the next one sends them.
    "tailored-cms-retries": {
        "task": SEND_DUE_TASK,
        "schedule": POLL_SECONDS,
        "options": {"expires": POLL_SECONDS},
    },
    # Every 10 minutes: recompute every segment (time windows move: "3 views in 30 days" ends for some
    # visitors without any event). A Redis lock skips a run while another is still going; a run not started
    # within 5 minutes is dropped.
    "tailored-cms-recompute-segments": {
        "task": RECOMPUTE_TASK,
        "schedule": 600.0,
        "options": {"expires": 300.0},
    },
    # Every 5 minutes: the optimize areas' allocations, from the results the ingest rolls up meanwhile. A run not
    # started within 4 minutes is dropped (the next one reads the same results and more).
    "tailored-cms-optimize": {
        "task": OPTIMIZE_TASK,
        "schedule": 300.0,
        "options": {"expires": 240.0},
    },
    # Hourly: every recent reader's recommendations, from a model learnt anew (pages age, popularity moves); the
    # ingest's readers get theirs within seconds in between (recommendations.receivers). Dropped if not started
    # within 30 minutes.
    "tailored-cms-recommendations": {
        "task": COMPUTE_ALL_TASK,
        "schedule": 3600.0,
        "options": {"expires": 1800.0},
    },
    # Daily, at a quiet hour (the site's CELERY timezone): the retention purge (RETENTION_DAYS).
    "tailored-cms-purge": {
        "task": PURGE_TASK,
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 60 * 60 * 6},
    },
}
