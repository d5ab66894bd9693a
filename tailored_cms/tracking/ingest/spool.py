"""The spool: events the request path kept in the database while Redis was down, ingested like the stream's and
deleted in the same transaction that stores them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from ...conf import tailored_settings
from ..health import record_fallback
from ..models import SpooledEvent
from ..stream import InvalidEvent, TrackedEvent
from .consumer_group import worker_redis
from .interpretation import Item, prepare
from .stats import IngestStats
from .writing import store

__all__ = ["ingest_spool"]

logger = logging.getLogger(__name__)


def ingest_spool(count: int | None = None, *, before_commit: Callable[[], None] | None = None) -> IngestStats:
    """Ingest up to ``count`` spooled events (oldest first) and delete them in the same transaction.

    Cost: one query when the spool is empty (the usual case).
    """
    started = time.monotonic()
    count = count or tailored_settings.INGEST_BATCH
    rows = list(SpooledEvent.objects.order_by("pk").values_list("pk", "data")[:count])
    stats = IngestStats(read=len(rows), spooled=len(rows), batches=1 if rows else 0)
    if not rows:
        return stats
    pairs: list[tuple[int, TrackedEvent]] = []
    garbled: list[int] = []
    for pk, data in rows:
        try:
            pairs.append((pk, TrackedEvent.decode(data)))
        except InvalidEvent as exc:
            garbled.append(pk)
            logger.warning("Skipped a garbled spooled event #%s: %s", pk, exc)
    stats.invalid += len(garbled)
    items = prepare(pairs, stats)
    # Rows that need no storing (garbled, bots, repeats) go with every transaction: deleting twice is harmless.
    unstored = {pk for pk, _data in rows} - {item.handle for item in items}

    def delete(batch_items: list[Item]) -> None:
        SpooledEvent.objects.filter(pk__in=unstored | {item.handle for item in batch_items}).delete()

    stats.add(store(items, within=delete, before_commit=before_commit))
    _count_fallback(len(rows))
    stats.seconds = time.monotonic() - started
    return stats


def _count_fallback(count: int) -> None:
    """Staff see how often events took the database path (``health``); Redis may still be down: then only log."""
    try:
        record_fallback(worker_redis(), count)
    except redis.RedisError as exc:
        logger.warning("Ingested %d spooled events; could not count them in Redis (%s)", count, exc)
