"""Celery tasks of results: a thin wrapper around ``allocations.refresh_allocations`` (testable without a worker)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

# The name sites' beat schedules may already use: it stays the same, whichever package runs the task.
OPTIMIZE_TASK = "tailored_cms.widgets.refresh_allocations"


@shared_task(name=OPTIMIZE_TASK, ignore_result=True)
def refresh_allocations() -> dict[str, Any]:
    """Recompute and publish the optimize areas' allocations (beat runs this every few minutes)."""
    from .allocations import refresh_allocations as refresh  # models: imported once Django's apps are loaded

    return {"areas": len(refresh())}
