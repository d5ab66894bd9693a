"""The cache cardinality budget: how many copies of each tailored area django CMS's caches keep.

A tailored area's placeholder (and every page showing it) is cached once per distinct value of the headers it
varies on: the visitor's **variant key** (theme, layout, followed topics and the segments they are in on this
request — every one of them, whatever the area targets) and, for an area with a holdout, the visitor's bucket
(one of 100). Past a few thousand copies the caches hold mostly entries nobody asks for twice: they cost
memory and renders, and hit rarely. ``CACHE_VARIANT_BUDGET`` is the most copies an area may have before the
admin warns its editors.

How the number is known — observed, not guessed: the possible number is the product of every choice and segment
combination (2 to the power of the topics and segments), far above any budget on every real site, so it says
nothing about one area. Instead each live render of an area notes the values it varies on (``note``) in a small
buffer of this process; the next snapshot read carries the buffer (``NOTES``, a piece of its round trip), which
PFADDs the values into one HyperLogLog per area and day — in the round trip the request makes anyway, never an
extra one. A value this process already sent today is not noted again (adding it twice counts it once): the same
visitors viewing the same pages add nothing to their round trips. The admin counts the last ``OBSERVED_DAYS`` days
with PFCOUNT (about 1 % error). Renders happen on cache misses (or with the caches off), so what is counted is
what the caches must hold. Only what the settings alone decide is checked statically (system check W002: themes ×
layouts).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import redis
from django.utils import timezone

from .. import connection, redis_scripts, round_trip
from ..conf import tailored_settings

__all__ = ["NOTES", "OBSERVED_DAYS", "hll_key", "note", "observed_copies", "over_budget", "take_notes"]

OBSERVED_DAYS = 7  # the admin counts the distinct keys of this many days (today included)
HLL_TTL = (OBSERVED_DAYS + 1) * 86400  # a day's HyperLogLog outlives the window by a day
MAX_PENDING = 512  # notes a process keeps between two snapshot reads; more are dropped (the count is an estimate)
MAX_SENT = 10_000  # (area, value) pairs a process remembers sending today (~2 MB); past it, it forgets them

_lock = threading.Lock()
_pending: dict[str, set[str]] = {}
_pending_count = 0
_sent: set[tuple[str, str]] = set()  # what this process sent today (UTC) ...
_sent_until = 0.0  # ... until this time (the next UTC midnight, seconds since the epoch)


def hll_key(area_key: str, day: date) -> str:
    """The HyperLogLog of the values an area varied on that day (UTC)."""
    return connection.key("area-keys", area_key, day.strftime("%Y%m%d"))


def note(area_key: str, vary_values: Iterable[str]) -> None:
    """A live render of the area for these vary values (no I/O: flushed by the next snapshot read)."""
    global _pending_count
    value = "|".join(vary_values) or "_"
    if (area_key, value) in _sent and time.time() < _sent_until:
        return
    with _lock:
        members = _pending.get(area_key)
        if members is None:
            if _pending_count >= MAX_PENDING:
                return
            members = _pending[area_key] = set()
        if value not in members and _pending_count < MAX_PENDING:
            members.add(value)
            _pending_count += 1


def take_notes() -> list[tuple[str, list[str]]]:
    """The notes since the last call, as (HyperLogLog key, values) pairs for today, and an empty buffer; they
    count as sent (the caller sends them: if that fails, they are lost, as a count is an estimate anyway)."""
    global _pending, _pending_count, _sent_until
    if not _pending:  # read without the lock: a note racing this one waits for the next read
        return []
    with _lock:
        pending, _pending, _pending_count = _pending, {}, 0
        now = timezone.now()
        if now.timestamp() >= _sent_until or len(_sent) >= MAX_SENT:
            _sent.clear()
            _sent_until = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo).timestamp()
        _sent.update((area_key, value) for area_key, values in pending.items() for value in values)
    today = now.date()
    return [(hll_key(area_key, today), sorted(values)) for area_key, values in pending.items()]


def _notes_part(visit: round_trip.Visit) -> round_trip.Part:
    notes = take_notes()
    return round_trip.Part([key for key, _values in notes], [HLL_TTL, *(" ".join(values) for _key, values in notes)])


# A piece of the page trip (``round_trip.PAGE``): the notes since the last read, added to their HyperLogLogs.
NOTES = round_trip.Piece("cache_budget", redis_scripts.load("cache_budget"), _notes_part)


def observed_copies(area_keys: Iterable[str]) -> dict[str, int]:
    """Distinct vary values each area was rendered for in the last ``OBSERVED_DAYS`` days (HyperLogLog estimate).

    Cost: one Redis round trip for any number of areas (a pipeline of PFCOUNT); ``{}`` if Redis is down.
    """
    keys = list(dict.fromkeys(area_keys))
    if not keys:
        return {}
    today = timezone.now().date()
    days = [today - timedelta(days=n) for n in range(OBSERVED_DAYS)]

    def count(client: redis.Redis) -> dict[str, int]:
        pipeline = client.pipeline(transaction=False)
        for area_key in keys:
            pipeline.pfcount(*(hll_key(area_key, day) for day in days))
        return {area_key: int(n) for area_key, n in zip(keys, pipeline.execute(), strict=True)}

    return connection.call(count, {})


def over_budget(copies: Mapping[str, int]) -> dict[str, int]:
    """The areas (key -> copies) above ``CACHE_VARIANT_BUDGET``."""
    budget = tailored_settings.CACHE_VARIANT_BUDGET
    return {key: n for key, n in copies.items() if n > budget}
