"""Segment sizes over time: the full recompute records each segment's size per day, results show the history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import connections, router
from django.utils import timezone

from .. import bulk_sql as sql
from .models import SegmentSize

__all__ = ["record_segment_sizes"]


def record_segment_sizes(sizes: Mapping[int, int], now: datetime | None = None) -> None:
    """Store ``sizes`` (segment id -> members) as the sizes of ``now``'s day: the day's last recompute wins.

    Cost: one upsert. Segments made only of request-time rules have no size and are not passed.
    """
    if not sizes:
        return
    day = timezone.localdate(now or timezone.now())
    quote = connections[router.db_for_write(SegmentSize)].ops.quote_name
    column = quote(sql.column_of(SegmentSize, "size"))
    sql.insert(
        SegmentSize,
        ("segment", "day", "size"),
        [(segment_id, day, size) for segment_id, size in sorted(sizes.items())],
        conflict=("segment", "day"),
        action=f"UPDATE SET {column} = excluded.{column}",
    )
