"""Snapshots the request path may still find in Redis although the visitor changed them meanwhile.

When a visitor's change (choices, consent, a login merging two visitors) is saved while this process can't reach
Redis, the DB has it but Redis may keep the older copy: after a network partition Redis comes back with its
data, and each read renews the copy's expiry, so it would be served for as long as the visitor keeps coming
(their older theme; tracking they refused). So the write path marks the visitor (one row, ``StaleSnapshot``),
and the ingest worker, which runs every second, deletes the marked copies from Redis once it reaches it: the
visitor's next request reads the DB. In between, the ingest stores no events of a visitor who refused tracking
(``tracking.ingest``), so a stale copy's consent can't make their behaviour stored.

Cost: nothing while Redis answers. The worker: one query per drain, plus one Redis round trip and one query
when there are marks.
"""

from __future__ import annotations

import logging

import redis

from .. import connection
from .models import StaleSnapshot

logger = logging.getLogger(__name__)

BATCH = 1000  # marks cleared per drain: a long partition's marks are cleared over a few seconds


def mark_stale(visitor_id: str) -> None:
    """Remember that Redis may hold an outdated copy of this visitor's snapshot. One query."""
    StaleSnapshot.objects.update_or_create(visitor_id=visitor_id)
    logger.warning(
        "Redis unreachable: the snapshot of visitor %s is marked stale until the worker clears it", visitor_id
    )


def forget_stale_snapshots(client: redis.Redis) -> int:
    """Delete the marked visitors' copies from Redis, then their marks; returns how many. Raises ``RedisError``.

    A mark renewed while this runs (the visitor changed again, Redis unreachable again) is kept: only marks no
    newer than what was read are removed.
    """
    marks = list(StaleSnapshot.objects.order_by("marked_at").values_list("visitor_id", "marked_at")[:BATCH])
    if not marks:
        return 0
    client.delete(*(connection.key("snap", visitor_id) for visitor_id, _at in marks))
    newest = max(at for _id, at in marks)
    StaleSnapshot.objects.filter(
        visitor_id__in=[visitor_id for visitor_id, _at in marks], marked_at__lte=newest
    ).delete()
    return len(marks)
