"""Celery tasks of segments: thin wrappers around ``recompute`` (testable without a worker)."""

from __future__ import annotations

from typing import Any, TypedDict

from celery import shared_task

from ..retries import RetriedFromRedis


class _BrokerRetry(TypedDict):
    """Keyword arguments of kombu's ``Connection.ensure_connection``."""

    max_retries: int
    interval_start: int
    interval_step: int


RECOMPUTE_TASK = "tailored_cms.rules.recompute_all"
RECOMPUTE_SEGMENTS_TASK = "tailored_cms.rules.recompute_segments"
CHUNK_TASK = "tailored_cms.rules.recompute_chunk"
# Sending a task tries the broker twice without waiting: an editor saving a segment while Redis is down gets the
# page back at once instead of waiting through kombu's and redis-py's default retries; beat's next full recompute,
# or tailored_recompute, catches up.
BROKER_RETRY: _BrokerRetry = {"max_retries": 1, "interval_start": 0, "interval_step": 0}
# A saved segment's recompute that finds a full one running tries again this much later (the full one may
# have read the segment's old rules).
RETRY_SECONDS = 30


@shared_task(name=RECOMPUTE_TASK, bind=True, ignore_result=True)
def recompute_all(self: Any) -> dict[str, Any]:
    """Recompute what can have changed in every segment (beat runs this): visitors changed, definitions changed,
    a new day's time windows (``runs``). Sends the run's chunks to the workers and returns its progress so far;
    skipped while another recompute runs."""
    # Imported here: importing a task module must not load models (it is imported before Django is set up).
    from .recompute import RecomputeRunning
    from .runs import progress

    try:
        run = start_recompute(app=self.app, changes_only=True)
    except RecomputeRunning:
        return {"skipped": "another recompute is running"}
    found = progress(run)
    return found.as_dict() if found else {"run": run}


@shared_task(name=RECOMPUTE_SEGMENTS_TASK, base=RetriedFromRedis, bind=True, ignore_result=True, max_retries=20)
def recompute_segments_task(self: Any, slugs: list[str]) -> dict[str, Any]:
    """Recompute these segments (sent when one is saved); retried while a full recompute holds the lock (the retry
    waits in Redis, not in a worker: retries.py)."""
    # Imported here: importing a task module must not load models (it is imported before Django is set up).
    from .models import Segment
    from .recompute import RecomputeRunning
    from .runs import progress

    slugs = list(Segment.objects.filter(slug__in=slugs).values_list("slug", flat=True))  # deleted meanwhile
    if not slugs:
        return {"segments": 0}
    try:
        run = start_recompute(slugs, app=self.app)
    except RecomputeRunning as exc:
        raise self.retry(exc=exc, countdown=RETRY_SECONDS) from exc
    found = progress(run)
    return found.as_dict() if found else {"run": run}


# Acknowledged when done, and given back when its worker process dies: a chunk is redone rather than lost
# (redone, it writes the same memberships; runs.py).
@shared_task(name=CHUNK_TASK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def recompute_chunk(
    run: str, index: int, after: str | None, upto: str | None, ids: list[str] | None = None
) -> dict[str, Any]:
    """One chunk of visitors of a recompute across workers (``runs.start_run`` sends them)."""
    from .runs import run_chunk  # imported here: importing a task module must not load models

    return run_chunk(run, index, after, upto, ids)


def start_recompute(segments: Any = None, *, app: Any = None, **options: Any) -> str:
    """``runs.start_run`` with the chunks sent to the workers as ``recompute_chunk`` tasks (queue
    ``tailored_bulk``) of ``app`` (a task passes its own: in a worker's thread, Celery's current app may be another);
    run here and now with ``CELERY_TASK_ALWAYS_EAGER``. Returns the run's id."""
    from .runs import start_run  # imported here: importing a task module must not load models

    app = app or recompute_chunk.app
    chunk = app.tasks[CHUNK_TASK]
    with app.connection_for_write() as connection:  # one connection for all the chunks, to today's broker

        def send(args: Any) -> None:
            chunk.apply_async(args, connection=connection)  # apply_async passes connection on to the producer

        return start_run(segments, send=send, **options)


def queue_recompute(slugs: list[str]) -> str:
    """Send the recompute of ``slugs`` to Celery; returns ``"queued"``, or ``"done"`` when it ran here and now
    (``CELERY_TASK_ALWAYS_EAGER``, the demo without Redis). Raises what the broker raised, at once."""
    app = recompute_segments_task.app
    if app.conf.task_always_eager:
        recompute_segments_task.apply(args=(slugs,))
        return "done"
    with app.connection_for_write() as connection:
        connection.ensure_connection(**BROKER_RETRY)
        # apply_async passes its options on to the producer, connection among them
        recompute_segments_task.apply_async((slugs,), connection=connection, retry=False)
    return "queued"
