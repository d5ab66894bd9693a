"""Where events go from a request: the Redis stream, else (Redis down) the database's spool, which the ingest
drains the same way. So an event the request path accepted is kept either way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import redis

from .. import connection
from .stream import TrackedEvent, append

__all__ = ["enqueue", "spool"]


def enqueue(events: Sequence[TrackedEvent]) -> bool:
    """Append ``events`` in one Redis round trip; if Redis is down, ``spool`` them. True if they reached Redis.

    Cost: one round trip; with Redis down (circuit breaker open: no wait) one INSERT instead.
    """
    if not events:
        return True

    def send(client: redis.Redis) -> bool:
        pipeline = client.pipeline(transaction=False)
        append(pipeline, events)
        pipeline.execute()
        return True

    if connection.call(send, False):
        return True
    spool(events)
    return False


def spool(events: Iterable[TrackedEvent]) -> int:
    """Keep events in the database (``SpooledEvent``) for ingest to pick up: the path taken when Redis is down.

    Cost: one INSERT. Returns how many rows were written.
    """
    # Imported here: this module is imported (through ``tracking``) before Django's apps are loaded.
    from .models import SpooledEvent

    rows = [SpooledEvent(data=event.encode()) for event in events]
    SpooledEvent.objects.bulk_create(rows)
    return len(rows)
