"""How the tracking pipeline is doing, for staff: the backlog, and how often Redis was down when events arrived.

When Redis is unreachable the request path keeps events in the database (``delivery.spool``). Redis can't count
them then, so the ingest counts them when it moves them out of the spool: ``record_fallback`` adds to a
per-day hash that ``tracking_health`` reads. Not a hot path: a few queries and one Redis round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import redis
from django.utils import timezone

from .. import connection
from .models import SpooledEvent
from .stream import group_name, stream_key

# How many days of fallback counts are kept (one hash field per day).
FALLBACK_DAYS = 30


def fallback_key() -> str:
    """Redis hash: ISO day -> events that reached the database spool instead of Redis."""
    return connection.key("stats", "fallback")


def record_fallback(client: redis.Redis, count: int, day: date | None = None) -> None:
    """Count ``count`` events that took the database path (called by the ingest after it stored them)."""
    if count <= 0:
        return
    day = day or timezone.localdate()
    pipeline = client.pipeline(transaction=False)
    pipeline.hincrby(fallback_key(), day.isoformat(), count)
    pipeline.expire(fallback_key(), (FALLBACK_DAYS + 1) * 86400)
    pipeline.execute()


@dataclass
class TrackingHealth:
    """A snapshot of the pipeline. ``redis_reachable`` False means the other Redis figures are unknown (None)."""

    redis_reachable: bool
    waiting: int | None = None  # stream entries not yet ingested
    pending: int | None = None  # read by a worker, not yet acknowledged
    spooled: int = 0  # events in the database spool now (Redis was down when they arrived)
    fallback_by_day: dict[str, int] = field(default_factory=dict)  # last FALLBACK_DAYS days, newest first

    @property
    def fallback_today(self) -> int:
        return self.fallback_by_day.get(timezone.localdate().isoformat(), 0)

    @property
    def fallback_total(self) -> int:
        return sum(self.fallback_by_day.values())


def tracking_health() -> TrackingHealth:
    """The backlog and the fallback counts. Cost: one query, one Redis round trip."""
    spooled = SpooledEvent.objects.count()

    def read(client: redis.Redis) -> list[object]:
        pipeline = client.pipeline(transaction=False)
        pipeline.xlen(stream_key())
        pipeline.xpending(stream_key(), group_name())
        pipeline.hgetall(fallback_key())
        return pipeline.execute(raise_on_error=False)

    replies = connection.call(read, None)
    if replies is None:
        return TrackingHealth(redis_reachable=False, spooled=spooled)
    waiting, pending, fallback = replies
    oldest = timezone.localdate() - timedelta(days=FALLBACK_DAYS - 1)
    by_day = {
        day.decode(): int(count)
        for day, count in (fallback if isinstance(fallback, dict) else {}).items()
        if day.decode() >= oldest.isoformat()
    }
    return TrackingHealth(
        redis_reachable=True,
        waiting=waiting if isinstance(waiting, int) else 0,
        # No group yet (nothing ingested ever): XPENDING answers an error, i.e. nothing pending.
        pending=pending["pending"] if isinstance(pending, dict) else 0,
        spooled=spooled,
        fallback_by_day=dict(sorted(by_day.items(), reverse=True)),
    )
