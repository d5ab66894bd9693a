"""A visitor's bucket, 0–99: a stable hash of their id, which holdouts and the splits of the optimize and
experiment strategies divide visitors by.

The bucket alone decides what every area of a page does with holdouts and splits for a visitor, so django CMS's
caches can vary on it (``HOLDOUT_VARY_HEADER``, one of 100 values) instead of on the visitor. No I/O.
"""

from __future__ import annotations

import hashlib

__all__ = ["HOLDOUT_BUCKETS", "area_place", "hash_to_bucket", "holdout_bucket", "in_holdout", "split_bucket"]

HOLDOUT_BUCKETS = 100  # holdouts are whole percents: one bucket per percent
# What turns a visitor's place in an area into their bucket of its split (``split_bucket``): any number prime to 100
# is a one-to-one turn; this one lands the first places, the holdout's, furthest apart across the 100 buckets.
SPREAD = 59


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
    return area_place(visitor_id, area_key) < percent


def area_place(visitor_id: str, area_key: str) -> int:
    """The visitor's place in the area, 0–99: their bucket turned by a hash of the area's key. The holdout takes
    the first places (``in_holdout``); the split between variants spreads them (``split_bucket``)."""
    return (holdout_bucket(visitor_id) + hash_to_bucket(area_key)) % HOLDOUT_BUCKETS


def split_bucket(visitor_id: str, area_key: str) -> int:
    """The visitor's bucket in the area's split between variants (optimize, experiment), 0–99.

    Their place times ``SPREAD``, modulo 100: one-to-one, so the variants get their shares of the buckets as
    before, and a function of the visitor's bucket alone, so the caches still vary on that one header. The
    holdout's places, the first ones, land far apart, among every variant's buckets: a holdout takes its share
    from each variant, and the visitors left are split as the shares say, to within a bucket or two of the 100
    (whole buckets can't do better: a 5% holdout of two halves is 2.5 buckets of each). Places side by side would
    fall in one variant's buckets, a holdout taken from that variant alone.
    """
    return area_place(visitor_id, area_key) * SPREAD % HOLDOUT_BUCKETS
