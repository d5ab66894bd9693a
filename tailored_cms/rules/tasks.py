"""Celery tasks of segments: thin wrappers around ``recompute`` (testable without a worker)."""

from __future__ import annotations

from typing import Any, TypedDict

from celery import shared_task


class _BrokerRetry(TypedDict):
    """Keyword arguments of kombu's ``Connection.ensure_connection``."""

    max_retries: int
    interval_start: int
    interval_step: int


RECOMPUTE_TASK = "tailored_cms.rules.recompute_all"
RECOMPUTE_SEGMENTS_TASK = "tailored_cms.rules.recompute_segments"
# Sending a task tries the broker twice without waiting: an editor saving a segment while Redis is down gets the
# page back at once instead of waiting through kombu's and redis-py's default retries; beat's next full recompute,
# or tailored_recompute, catches up.
BROKER_RETRY: _BrokerRetry = {"max_retries": 1, "interval_start": 0, "interval_step": 0}
# A saved segment's recompute that finds a full one running tries again this much later (the full one may
# have read the segment's old rules).
RETRY_SECONDS = 30


@shared_task(name=RECOMPUTE_TASK, ignore_result=True)
def recompute_all() -> dict[str, Any]:
    """Recompute every segment (beat runs this): time windows move, definitions change. Skipped if one runs."""
    # Imported here: importing a task module must not load models (it is imported before Django is set up).
    from .recompute import RecomputeRunning, recompute_segments

    try:
        return recompute_segments().as_dict()
    except RecomputeRunning:
        return {"skipped": "another recompute is running"}


@shared_task(name=RECOMPUTE_SEGMENTS_TASK, bind=True, ignore_result=True, max_retries=20)
def recompute_segments_task(self: Any, slugs: list[str]) -> dict[str, Any]:
    """Recompute these segments (sent when one is saved); retried while a full recompute holds the lock."""
    # Imported here: importing a task module must not load models (it is imported before Django is set up).
    from .models import Segment
    from .recompute import RecomputeRunning, recompute_segments

    slugs = list(Segment.objects.filter(slug__in=slugs).values_list("slug", flat=True))  # deleted meanwhile
    if not slugs:
        return {"segments": 0}
    try:
        return recompute_segments(slugs).as_dict()
    except RecomputeRunning as exc:
        raise self.retry(exc=exc, countdown=RETRY_SECONDS) from exc


def queue_recompute(slugs: list[str]) -> str:
    """Send the recompute of ``slugs`` to Celery; returns ``"queued"``, or ``"done"`` when it ran here and now
    (``CELERY_TASK_ALWAYS_EAGER``, the demo without Redis). Raises what the broker raised, at once."""
    app = recompute_segments_task.app
    if app.conf.task_always_eager:
        recompute_segments_task.apply(args=(slugs,))
        return "done"
    with app.connection_for_write() as connection:
        connection.ensure_connection(**BROKER_RETRY)
        # apply_async passes its options on to the producer, connection among them; celery-types lists it not
        recompute_segments_task.apply_async((slugs,), connection=connection, retry=False)  # type: ignore[call-arg]
    return "queued"
