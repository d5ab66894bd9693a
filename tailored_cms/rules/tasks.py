"""Celery tasks of segments: thin wrappers around ``recompute`` (testable without a worker)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

RECOMPUTE_TASK = "tailored_cms.rules.recompute_all"
RECOMPUTE_SEGMENTS_TASK = "tailored_cms.rules.recompute_segments"
# A saved segment's recompute that finds a full one running tries again this much later (the full one may
# have read the segment's old rules).
RETRY_SECONDS = 30


@shared_task(name=RECOMPUTE_TASK, ignore_result=True)
def recompute_all() -> dict[str, Any]:
    """Recompute every segment (beat runs this): time windows move, definitions change. Skipped if one runs."""
    from .recompute import RecomputeRunning, recompute_segments

    try:
        return recompute_segments().as_dict()
    except RecomputeRunning:
        return {"skipped": "another recompute is running"}


@shared_task(name=RECOMPUTE_SEGMENTS_TASK, bind=True, ignore_result=True, max_retries=20)
def recompute_segments_task(self: Any, slugs: list[str]) -> dict[str, Any]:
    """Recompute these segments (sent when one is saved); retried while a full recompute holds the lock."""
    from .models import Segment
    from .recompute import RecomputeRunning, recompute_segments

    slugs = list(Segment.objects.filter(slug__in=slugs).values_list("slug", flat=True))  # deleted meanwhile
    if not slugs:
        return {"segments": 0}
    try:
        return recompute_segments(slugs).as_dict()
    except RecomputeRunning as exc:
        raise self.retry(exc=exc, countdown=RETRY_SECONDS) from exc
