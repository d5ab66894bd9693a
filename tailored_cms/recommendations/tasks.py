"""Celery tasks of recommendations: thin wrappers around ``compute`` (testable without a worker)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

COMPUTE_ALL_TASK = "tailored_cms.recommendations.compute_all"
COMPUTE_TOUCHED_TASK = "tailored_cms.recommendations.compute_touched"


@shared_task(name=COMPUTE_ALL_TASK, ignore_result=True)
def compute_all_task() -> dict[str, Any]:
    """Learn the model anew and compute every recent reader's list (beat runs this hourly)."""
    from .compute import compute_all  # models: imported once Django's apps are loaded

    return compute_all().as_dict()


@shared_task(name=COMPUTE_TOUCHED_TASK, ignore_result=True)
def compute_touched_task() -> dict[str, Any]:
    """The lists of the visitors the ingest gave page views since the last run (queued, batched, by the
    receiver of ``visitors_touched``)."""
    from . import store
    from .compute import compute_visitors

    touched = store.take_touched()
    return compute_visitors(touched).as_dict() if touched else {"visitors": 0}
