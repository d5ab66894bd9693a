"""Tasks tried again later without an ETA message: the retry waits in Redis, not in a worker.

A Celery retry with a countdown is a message the worker holds, unacknowledged, until it is due (an ETA task); a
worker holding one when Redis goes away crashes in kombu's clean-up (``restore_unacked``) and shuts down. A task
of class ``RetriedFromRedis`` sent for later (``self.retry(countdown=...)``, ``autoretry_for``, or
``apply_async(countdown=..., eta=...)``) is instead noted in a Redis sorted set by the time it is due; beat's
``send_due_retries`` (every ``POLL_SECONDS``) sends those due as plain messages, with their count of retries, so
``max_retries`` holds. A retry is at most ``POLL_SECONDS`` late; one that Redis loses (no persistence) is lost, as
a message in the broker would be.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any

from celery import Celery, Task, shared_task
from celery.result import AsyncResult

from . import connection

__all__ = ["POLL_SECONDS", "SEND_DUE_TASK", "RetriedFromRedis", "pending", "send_due", "send_due_retries"]

SEND_DUE_TASK = "tailored_cms.send_due_retries"
POLL_SECONDS = 2.0  # beat sends the retries due this often


def _key() -> str:
    return connection.key("retries")


class RetriedFromRedis(Task):
    """A Celery task whose messages for later wait in Redis until due (see the module's docstring)."""

    def apply_async(  # type: ignore[override]  # celery-types spells out every option Celery takes
        self, args: Any = None, kwargs: Any = None, task_id: str | None = None, **options: Any
    ) -> AsyncResult:
        countdown, eta = options.pop("countdown", None), options.pop("eta", None)
        if (countdown is None and eta is None) or self.app.conf.task_always_eager:
            return super().apply_async(args, kwargs, task_id, **options)
        due = _due(countdown, eta)
        task_id = task_id or uuid.uuid4().hex
        entry = {"id": task_id, "task": self.name, "args": list(args or ()), "kwargs": dict(kwargs or {})}
        entry["retries"] = options.get("retries", 0)
        connection.get_redis().zadd(_key(), {json.dumps(entry): due})
        return self.AsyncResult(task_id)


def _due(countdown: float | None, eta: datetime | str | None) -> float:
    if eta is None:
        return time.time() + float(countdown or 0)
    return (datetime.fromisoformat(eta) if isinstance(eta, str) else eta).timestamp()


def pending() -> list[dict[str, Any]]:
    """The retries waiting, soonest first, each with its ``due`` time (a Unix timestamp)."""
    raw: list[tuple[bytes, float]] = connection.get_redis().zrange(_key(), 0, -1, withscores=True)  # type: ignore[assignment]
    return [{**json.loads(member), "due": due} for member, due in raw]


def send_due(app: Celery, now: float | None = None) -> int:
    """Send the retries due by ``now`` to the broker of ``app``; returns how many. Each is taken from the set before
    it is sent (two runs at once send it once) and put back if the broker refuses it."""
    client = connection.get_redis()
    due: list[tuple[bytes, float]] = client.zrangebyscore(_key(), "-inf", now or time.time(), withscores=True)  # type: ignore[assignment]
    sent = 0
    for member, score in due:
        if not client.zrem(_key(), member):
            continue  # another run took it
        entry = json.loads(member)
        try:
            app.send_task(entry["task"], entry["args"], entry["kwargs"], task_id=entry["id"], retries=entry["retries"])
        except Exception:
            client.zadd(_key(), {member: score})
            raise
        sent += 1
    return sent


@shared_task(name=SEND_DUE_TASK, bind=True, ignore_result=True)
def send_due_retries(self: Any) -> int:
    """Send the retries due (beat runs this every ``POLL_SECONDS``)."""
    return send_due(self.app)
