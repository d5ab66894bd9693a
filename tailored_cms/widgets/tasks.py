"""Celery tasks of widgets: a thin wrapper around ``optimize.refresh_allocations`` (testable without a worker)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

OPTIMIZE_TASK = "tailored_cms.widgets.refresh_allocations"


@shared_task(name=OPTIMIZE_TASK, ignore_result=True)
def refresh_allocations() -> dict[str, Any]:
    """Recompute and publish the optimize areas' allocations (beat runs this every few minutes)."""
    from .optimize import refresh_allocations as refresh

    return {"areas": len(refresh())}
