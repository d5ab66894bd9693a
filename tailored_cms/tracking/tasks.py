"""Celery tasks of tracking: thin wrappers around ``ingest`` (testable without a worker)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

INGEST_TASK = "tailored_cms.tracking.ingest_events"


@shared_task(name=INGEST_TASK, ignore_result=True)
def ingest_events(max_seconds: float = 3.0) -> dict[str, Any]:
    """Drain the spool and the event stream for up to ``max_seconds`` (beat runs this every second)."""
    from .ingest import drain  # imported here: importing the task module must not load models

    return drain(max_seconds).as_dict()


PURGE_TASK = "tailored_cms.tracking.purge"


@shared_task(name=PURGE_TASK, ignore_result=True)
def purge_expired() -> dict[str, Any]:
    """Remove events, counters, spooled events and inactive anonymous visitors older than ``RETENTION_DAYS``."""
    from .retention import purge  # imported here: importing the task module must not load models

    return purge().as_dict()
