"""A visitor's bucket, 0–99: a stable hash of their id, which holdouts and the optimize strategy split visitors by.

The bucket alone decides what every area of a page does with holdouts for a visitor, so django CMS's caches can
vary on it (``HOLDOUT_VARY_HEADER``, one of 100 values) instead of on the visitor. No I/O.
"""

from __future__ import annotations

import hashlib

__all__ = ["HOLDOUT_BUCKETS", "hash_to_bucket", "holdout_bucket", "in_holdout"]

HOLDOUT_BUCKETS = 100  # holdouts are whole percents: one bucket per percent


def hash_to_bucket(value: str) -> int:
    digest = hashlib.blake2b(value.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % HOLDOUT_BUCKETS


def holdout_bucket(visitor_id: str) -> int:
    """The visitor's bucket, 0–99: a hash of their id, the same on every request, in every process."""
    return hash_to_bucket(visitor_id)


def in_holdout(visitor_id: str | None, area_key: str, percent: int) -> bool:
    """``True`` if the visitor is in the area's holdout (``percent`` of visitors see its fallback). No I/O.

    A stable hash of (visitor id, area key): the visitor's bucket turned by an offset that is a hash of the
    area's key, below ``percent``. So each area holds out its own ``percent`` of visitors (two 5% holdouts
    share visitors only when their offsets are less than 5 apart), always the same ones; and what every area
    of a page decides for a visitor depends on the visitor's bucket alone, one of 100 values, which django
    CMS's caches can vary on (``HOLDOUT_VARY_HEADER``). A hash of both together would leave the caches one
    copy per visitor. Visitors without an id (no cookie) are never held out: they would be a new random
    visitor on every request.
    """
    if not visitor_id or percent <= 0:
        return False
    return (holdout_bucket(visitor_id) + hash_to_bucket(area_key)) % HOLDOUT_BUCKETS < percent
