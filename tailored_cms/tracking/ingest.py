"""The ingest: Celery's half of tracking. Plain functions; ``tasks.py`` only calls them.

``ingest_batch()`` reads up to ``INGEST_BATCH`` stream entries with the consumer group (first taking over
entries a dead worker left pending for longer than ``INGEST_CLAIM_IDLE_SECONDS``), stores the events, their
counters and the visitors' activity in ONE transaction, and only after it commits acknowledges and deletes the
entries (``XACK`` + ``XDEL``, one round trip). So:

- a worker killed before the commit stored nothing; its entries stay pending and are claimed by another;
- a batch that failed (the database away) leaves its entries pending too: the same worker's next ``drain``
  takes its own pending entries first, at once, so they are stored in order with what came after them;
- a worker killed after the commit but before the ack stored everything; the claimed entries come back, and
  their events are found by id (``Event``'s primary key) and not counted again;
- two workers racing on one event id (sent twice, or claimed from a worker that was only slow) serialize on the
  visitor's row lock, so the second sees the first's commit and counts it as a duplicate (if it doesn't, the
  primary key refuses the insert, the batch rolls back and is retried).

The events are inserted first, as if none were stored yet (on PostgreSQL one COPY in a savepoint; when one was
stored, the savepoint is undone, the stored ids looked up and the rest inserted: ``sql.insert_new``); what is
counted (topic views, event counts, activity, results) comes from the events inserted.

``drain`` works through the stream batch after batch; a helper thread reads and decodes the next batch and
acknowledges the last one committed while the current one is stored (no SQL in it), so a worker that dies holds
up to two batches pending. Each drain starts with the worker's own pending entries, if any. It re-evaluates the
segments of the visitors its batches gave new events (``rules.recompute.recompute_visitors``), in a transaction
of its own after those batches were committed: at most once a second while it works through a backlog, and when
it ends.

Cost per batch, whatever its size: one Redis round trip to read, one to acknowledge; ten SQL statements (page
URLs and page topics; visitors: insert the missing and lock, plus a look-up of the stored ones first on SQLite;
events: COPY in a savepoint on PostgreSQL, stored ids then an insert on SQLite; visitors' activity; topic views;
event counts) plus the transaction's own, two more on PostgreSQL when an event was stored already, and up to
three for results (``results.rollup``: the areas' goals, the goal visitors' impressions, the daily counters), in
the same transaction. Page views of paths that are no CMS page are dropped.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import DataError, Error, IntegrityError, OperationalError, connections, transaction
from django.http.request import split_domain_port, validate_host
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone, translation

from .. import bulk_sql as sql
from ..conf import tailored_settings
from ..results.rollup import roll_up
from ..rules.active import republish_if_lost
from ..visitors.models import ACTIVITY_FIELDS, Visitor
from ..visitors.stale import forget_stale_snapshots
from .devices import BOT, device_class
from .health import record_fallback
from .models import Event, EventCounts, SpooledEvent, TopicViews
from .stream import FIELD, UTM_PARAMS, InvalidEvent, TrackedEvent, group_name, stream_key

__all__ = [
    "IngestStats",
    "default_consumer",
    "drain",
    "ingest_batch",
    "ingest_spool",
    "recompute_segments_of",
    "worker_redis",
]

logger = logging.getLogger(__name__)

# Events dated later than this (a client's clock) are counted as happening now.
FUTURE_SLACK = timedelta(minutes=5)
# A batch that loses a race (duplicate id, deadlock, "database is locked") is retried this often, then left
# pending for XAUTOCLAIM.
STORE_ATTEMPTS = 4
# The worker's Redis socket timeout: generous, unlike the request path's (a worker may wait; a page may not).
WORKER_REDIS_TIMEOUT = 10.0
# While a drain works through a backlog, the segments of the visitors it touched are re-evaluated this often (s).
RECOMPUTE_EVERY = 1.0
# Consumers that hold nothing and were idle this long are removed from the group (checked once a minute).
FORGET_CONSUMERS_AFTER = timedelta(hours=1)

EVENT_FIELDS = ("id", "visitor", "name", "ts", "page", "props")


@dataclass
class IngestStats:
    """What a batch or a drain did. Every entry read is new, a duplicate, dropped (a bot), not a page, refused or
    invalid."""

    read: int = 0  # stream entries and spooled rows taken
    claimed: int = 0  # of ``read``: taken over from a consumer that stopped (or a failed batch)
    spooled: int = 0  # of ``read``: from the database spool
    new: int = 0  # events stored and counted
    duplicates: int = 0  # events already stored (redelivered, or sent twice)
    dropped: int = 0  # events from bots and crawlers
    not_pages: int = 0  # page views of paths that are no CMS page (not counted: nothing to tailor there)
    refused: int = 0  # events of visitors who had refused tracking by the time they were ingested
    invalid: int = 0  # entries that don't decode (garbled) or that the database refused
    retries: int = 0  # transactions retried after losing a race
    batches: int = 0
    seconds: float = 0.0
    visitor_ids: set[str] = field(default_factory=set, repr=False)  # visitors with new events

    def add(self, other: IngestStats) -> None:
        for name in (
            "read",
            "claimed",
            "spooled",
            "new",
            "duplicates",
            "dropped",
            "not_pages",
            "refused",
            "invalid",
            "retries",
            "batches",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.visitor_ids |= other.visitor_ids

    @property
    def events_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "claimed": self.claimed,
            "spooled": self.spooled,
            "new": self.new,
            "duplicates": self.duplicates,
            "dropped": self.dropped,
            "not_pages": self.not_pages,
            "refused": self.refused,
            "invalid": self.invalid,
            "retries": self.retries,
            "batches": self.batches,
            "visitors": len(self.visitor_ids),
            "seconds": round(self.seconds, 3),
        }

    def __str__(self) -> str:
        return (
            f"read {self.read} (claimed {self.claimed}, spooled {self.spooled}): new {self.new}, "
            f"duplicates {self.duplicates}, dropped {self.dropped}, not pages {self.not_pages}, "
            f"refused {self.refused}, invalid {self.invalid}, retries {self.retries}; "
            f"{self.batches} batches in {self.seconds:.3f} s ({self.events_per_second:,.0f} events/s)"
        )


# --- Redis ---------------------------------------------------------------------------------------------------

_clients: dict[str, redis.Redis] = {}


def worker_redis() -> redis.Redis:
    """The workers' client for ``REDIS_URL``: without the request path's circuit breaker and short timeout."""
    url = tailored_settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(
            url,
            socket_timeout=WORKER_REDIS_TIMEOUT,
            socket_connect_timeout=WORKER_REDIS_TIMEOUT,
            health_check_interval=30,
        )
    return client


def default_consumer() -> str:
    """This process's (and thread's) consumer name in the group: unique among live workers."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_native_id()}"


def _ensure_group(client: redis.Redis) -> None:
    try:
        # From "0": events appended before the first worker ever ran are ingested too.
        client.xgroup_create(stream_key(), group_name(), id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


# KEYS: the stream. ARGV: group, consumer, min idle (ms) of entries to take over, count, the entry field, "1" to
# take over entries at all. XAUTOCLAIM (if asked) then XREADGROUP, each up to ``count`` entries. Returns {claimed,
# id, value, id, value, ...}: how many of the pairs were taken over, then each entry's id and the value of its
# field ("" if it has none; nil if it was deleted while pending, which Redis 6.2 reports). A flat reply of byte
# strings: hiredis parses it in C, where redis-py's XREADGROUP reply makes a dict per entry in Python (a fifth of
# reading a batch).
_READ_LUA = """
local out = {0, 0}
local function collect(entries)
  for _, entry in ipairs(entries) do
    local value = false
    if entry[2] then
      value = ''
      for i = 1, #entry[2], 2 do
        if entry[2][i] == ARGV[5] then value = entry[2][i + 1] break end
      end
    end
    out[#out + 1] = entry[1]
    out[#out + 1] = value
  end
end
if ARGV[6] == '2' then
  local own = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[4], 'STREAMS', KEYS[1], '0')
  if own and #own[1][2] > 0 then
    collect(own[1][2])
    out[1] = (#out - 2) / 2
    out[2] = 1
    return out
  end
end
if ARGV[6] ~= '0' then
  collect(redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])[2])
end
out[1] = (#out - 2) / 2
local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[4], 'STREAMS', KEYS[1], '>')
if read then collect(read[1][2]) end
return out
"""


def _read(
    client: redis.Redis, consumer: str, count: int, claim: bool = True, own: bool = False
) -> tuple[int, bool, list[tuple[bytes, bytes | None]]]:
    """(how many were claimed, whether they are this consumer's own, entries: (id, the field's value; ``None`` if
    deleted while pending)), the claimed first; ``claim=False`` takes new entries only. ``own=True``: if this
    consumer has entries pending (a batch of its own that failed: the database was away), those alone, counted
    as claimed, so that they are stored now and in order rather than taken over after
    ``INGEST_CLAIM_IDLE_SECONDS``. Cost: one round trip (a Lua script: XREADGROUP of its own entries, or
    XAUTOCLAIM + XREADGROUP)."""
    key, group = stream_key(), group_name()
    idle_ms = int(tailored_settings.INGEST_CLAIM_IDLE_SECONDS * 1000)
    for attempt in (1, 2):
        try:
            mode = "2" if own else "1" if claim else "0"
            reply = client.eval(_READ_LUA, 1, key, group, consumer, idle_ms, count, FIELD, mode)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc) or attempt == 2:
                raise
            _ensure_group(client)
            continue
        return int(reply[0]), bool(reply[1]), list(zip(reply[2::2], reply[3::2], strict=True))
    raise AssertionError("unreachable")


def _acknowledge(client: redis.Redis, entry_ids: Sequence[bytes]) -> None:
    """XACK + XDEL (MULTI: both or neither) so the stream holds only the backlog. Cost: one round trip."""
    if not entry_ids:
        return
    key = stream_key()
    pipeline = client.pipeline(transaction=True)
    pipeline.xack(key, group_name(), *entry_ids)
    pipeline.xdel(key, *entry_ids)
    pipeline.execute()


_FORGET_SCRIPT = """
local removed = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['pending'] == 0 and info['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed = removed + 1
  end
end
return removed
"""
_forgotten_at = 0.0


def _forget_idle_consumers(client: redis.Redis) -> None:
    """Remove consumers that hold no entries and were long idle (stopped workers), at most once a minute.

    A Lua script, so the check and the removal are atomic: a consumer that reads in between is never removed
    with entries pending (that would lose them).
    """
    global _forgotten_at
    now = time.monotonic()
    if now - _forgotten_at < 60:
        return
    _forgotten_at = now
    idle_ms = int(max(FORGET_CONSUMERS_AFTER.total_seconds(), 10 * tailored_settings.INGEST_CLAIM_IDLE_SECONDS) * 1000)
    with contextlib.suppress(redis.ResponseError):  # no stream or group yet
        client.eval(_FORGET_SCRIPT, 1, stream_key(), group_name(), idle_ms)


# --- decoding and interpretation --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """A decoded event on its way to the database, with what ingest worked out about it."""

    event: TrackedEvent
    ts: datetime
    device: str
    handle: Any  # where it came from: a stream entry id or a spool row id


def _prepare(pairs: Iterable[tuple[Any, TrackedEvent]], stats: IngestStats) -> list[_Item]:
    """Drop bots, clamp future times, and merge an id seen twice in the batch. Cost: no I/O."""
    now = timezone.now()
    latest = now + FUTURE_SLACK
    items: list[_Item] = []
    seen: set[str] = set()
    for handle, event in pairs:
        device = device_class(event.user_agent) if event.user_agent else ""
        if device == BOT:
            stats.dropped += 1
            continue
        if event.id in seen:
            stats.duplicates += 1
            continue
        seen.add(event.id)
        items.append(_Item(event, now if event.ts > latest else event.ts, device, handle))
    return items


def referrer_domain(referrer: str, host: str = "") -> str:
    """The referrer's host name without ``www.``; ``""`` when there is none or it is this site (``host``)."""
    if not referrer:
        return ""
    try:
        domain = (urlsplit(referrer).hostname or "").lower()
    except ValueError:
        return ""
    domain = domain.removeprefix("www.")
    if not domain:
        return ""
    if host:
        own, _port = split_domain_port(host.lower())
        if domain == own.removeprefix("www."):
            return ""
    elif validate_host(domain, [h for h in settings.ALLOWED_HOSTS if h != "*"]):
        return ""
    return domain[:255]


class _Pages:
    """The CMS pages of a batch's page views and their topics. Cost: at most two queries, for the whole batch."""

    def __init__(self, items: Sequence[_Item]) -> None:
        from cms.models import PageUrl

        from ..widgets.models import PageTopics

        self.by_path: dict[str, int | None] = {}
        candidates: dict[str, tuple[str, frozenset[str]]] = {}
        roots = _page_roots()
        for item in items:
            path = item.event.path
            if item.event.page_id is None and path and path not in candidates:
                found = _page_path(path, roots)
                if found is not None:
                    candidates[path] = found
        if candidates:
            urls = PageUrl.objects.filter(path__in={slug for slug, _ in candidates.values()})
            if getattr(settings, "SITE_ID", None):
                urls = urls.filter(site_id=settings.SITE_ID)
            by_language: dict[tuple[str, str], int] = {}
            any_language: dict[str, int] = {}
            for url_path, language, page_id in urls.values_list("path", "language", "page_id"):
                by_language[(url_path, language)] = page_id
                any_language.setdefault(url_path, page_id)
            for path, (slug, languages) in candidates.items():
                page_id = next((by_language[(slug, lang)] for lang in languages if (slug, lang) in by_language), None)
                self.by_path[path] = page_id if page_id is not None else any_language.get(slug)
        page_ids = {pid for pid in self.by_path.values() if pid is not None}
        page_ids.update(item.event.page_id for item in items if item.event.page_id is not None)
        self.topics: dict[int, list[str]] = defaultdict(list)
        if page_ids:
            through = PageTopics.topics.through
            for page_id, slug in through.objects.filter(pagetopics__extended_object_id__in=page_ids).values_list(
                "pagetopics__extended_object_id", "topic__slug"
            ):
                self.topics[page_id].append(slug)

    def page_of(self, event: TrackedEvent) -> int | None:
        if event.page_id is not None:
            return event.page_id
        return self.by_path.get(event.path)


def _page_roots() -> tuple[tuple[str, frozenset[str]], ...]:
    """django CMS's root URL per language (``/`` or ``/en/``…), longest first. Cost: no I/O; the reversing (a
    twentieth of a batch's time) once per urlconf, script prefix and languages."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _roots(urlconf, get_script_prefix(), settings.LANGUAGE_CODE, tuple(settings.LANGUAGES))


@functools.lru_cache(maxsize=16)
def _roots(
    urlconf: str, script_prefix: str, language_code: str, languages: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, frozenset[str]], ...]:
    roots: dict[str, set[str]] = defaultdict(set)
    for code, _name in languages:
        with translation.override(code), contextlib.suppress(NoReverseMatch):
            roots[reverse("pages-root", urlconf=urlconf)].add(code)
    return tuple(sorted(((root, frozenset(codes)) for root, codes in roots.items()), key=lambda r: -len(r[0])))


def _page_path(path: str, roots: Sequence[tuple[str, frozenset[str]]]) -> tuple[str, frozenset[str]] | None:
    """(PageUrl.path, languages) for a request path, as django CMS resolves it; None outside the CMS."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    for root, languages in roots:
        if path.startswith(root):
            return path[len(root) :].rstrip("/"), languages
        if path + "/" == root:
            return "", languages
    return None


# --- the transaction ----------------------------------------------------------------------------------------------


def _write(items: Sequence[_Item], stats: IngestStats) -> None:
    """Store ``items`` and update counters and activity. Must run inside a transaction; see the module docstring.

    Locks are taken in one order by every worker (visitors by id, then events by id, then counters by key), so
    concurrent batches wait for each other instead of deadlocking.
    """
    # Page views of paths that are no CMS page (a view of the site's own, a 404) are dropped: they say nothing
    # about interest in tailored content. Resolved before the visitors are locked, so their visitors aren't made.
    pages = _Pages([item for item in items if item.event.is_page_view])
    pages_only = [item for item in items if not item.event.is_page_view or pages.page_of(item.event) is not None]
    stats.not_pages += len(items) - len(pages_only)
    items = pages_only
    if not items:
        return
    visitor_ids = sorted({item.event.visitor_id for item in items})
    activity, refusing = _lock_visitors(visitor_ids)
    refusing |= {visitor_id for visitor_id in visitor_ids if visitor_id not in activity}
    if refusing:
        # The database's answer wins over the one the request path read from Redis: a refusal saved while Redis
        # was unreachable (visitors/stale.py), or just before these events were ingested, stores none of them.
        # Nor does an erasure that deleted the visitor between their insert and their lock.
        kept = [item for item in items if item.event.visitor_id not in refusing]
        stats.refused += len(items) - len(kept)
        items = kept
        if not items:
            return
    # The events first, each row as it is stored: which of them are new (not redelivered) decides all the counting.
    event_rows: list[tuple[Any, ...]] = []
    referrers: dict[str, str] = {}
    for item in items:
        event = item.event
        props = event.props
        page_id = None
        if event.is_page_view:
            page_id = pages.page_of(event)
            referrer = referrer_domain(event.referrer, event.host)
            props = {**props, "path": event.path}
            if referrer:
                props["referrer"] = referrers[event.id] = referrer
            if item.device:
                props["device"] = item.device
        elif event.path:
            props = {**props, "path": event.path}
        event_rows.append((event.id, event.visitor_id, event.name, item.ts, page_id, props))
    event_rows.sort(key=itemgetter(0))  # by id: the order every worker takes their locks in
    inserted = sql.insert_new(Event, EVENT_FIELDS, event_rows)
    new = items if len(inserted) == len(items) else [item for item in items if item.event.id in inserted]
    stats.duplicates += len(items) - len(new)
    if not new:
        return
    gap = timedelta(minutes=tailored_settings.VISIT_GAP_MINUTES)
    zone = timezone.get_current_timezone()
    topic_views: Counter[tuple[str, str, date]] = Counter()
    event_counts: Counter[tuple[str, str, date]] = Counter()
    changed: set[str] = set()
    for item in sorted(new, key=attrgetter("ts")):
        event = item.event
        visitor_id = event.visitor_id
        day = item.ts.astimezone(zone).date()
        event_counts[(visitor_id, event.name, day)] += 1
        referrer = ""
        if event.is_page_view:
            page_id = pages.page_of(event)
            for slug in pages.topics.get(page_id, ()) if page_id is not None else ():
                topic_views[(visitor_id, slug, day)] += 1
            referrer = referrers.get(event.id, "")
        _update_activity(activity[visitor_id], item, referrer, gap)
        changed.add(visitor_id)
    stats.visitor_ids |= changed
    stats.new += len(new)

    sql.update(
        Visitor,
        ACTIVITY_FIELDS,
        [(visitor_id, *(activity[visitor_id][name] for name in ACTIVITY_FIELDS)) for visitor_id in sorted(changed)],
    )
    sql.insert(
        TopicViews,
        ("visitor", "topic", "day", "count"),
        [(*key, count) for key, count in sorted(topic_views.items())],
        conflict=("visitor", "topic", "day"),
        action=sql.increment(TopicViews),
    )
    sql.insert(
        EventCounts,
        ("visitor", "name", "day", "count"),
        [(*key, count) for key, count in sorted(event_counts.items())],
        conflict=("visitor", "name", "day"),
        action=sql.increment(EventCounts),
    )
    # Results: impressions, clicks and conversions per variant and path, exactly once with the events (last: its
    # counters are the rows concurrent batches share most, locked for the shortest time).
    roll_up([(item.event, item.ts) for item in new])


def _lock_visitors(visitor_ids: Sequence[str]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Create the missing visitors, lock all of them (by id) and return their activity, and the ids of those who
    refused tracking. Cost: two queries on PostgreSQL, three elsewhere (``sql.insert_missing``, ``sql.lock``).
    A visitor erased meanwhile (after the insert, before the lock) has no activity: their events are dropped.

    Missing ones are inserted in id order with ON CONFLICT DO NOTHING (another worker may be creating the same
    visitor: this waits for it), then all are locked in id order: every worker takes its locks in one order.
    """
    sql.insert_missing(Visitor, visitor_ids)
    activity, refusing = {}, set()
    for visitor_id, (consent, *values) in sql.lock(
        Visitor, visitor_ids, ("tracking_consent", *ACTIVITY_FIELDS)
    ).items():
        activity[visitor_id] = dict(zip(ACTIVITY_FIELDS, values, strict=True))
        if consent is False:
            refusing.add(visitor_id)
    return activity, refusing


def _update_activity(values: dict[str, Any], item: _Item, referrer: str, gap: timedelta) -> None:
    """Fold one event (in time order) into a visitor's first/last seen, visits and latest device/referrer/UTM."""
    ts, event = item.ts, item.event
    last = values["last_seen"]
    if last is None or ts - last > gap:
        values["visits"] += 1
    if values["first_seen"] is None or ts < values["first_seen"]:
        values["first_seen"] = ts
    if last is not None and ts < last:
        return  # late: older than what is known; the "latest" fields stay
    values["last_seen"] = ts
    if item.device:
        values["device"] = item.device
    if event.is_page_view:
        if referrer:
            values["referrer_domain"] = referrer
        props = event.props
        if props and any(props.get(name) for name in UTM_PARAMS):  # page views carry props only for UTM
            for name in UTM_PARAMS:
                values[name] = str(props.get(name) or "")[:100]


def _store(
    items: list[_Item],
    *,
    within: Callable[[list[_Item]], None] | None = None,
    before_commit: Callable[[], None] | None = None,
) -> IngestStats:
    """``_write`` in one durable transaction, retried when it loses a race; a refused event is set aside.

    ``within(items)`` runs inside the transaction (the spool deletes its rows there).
    """
    attempt = 0
    while True:
        stats = IngestStats(retries=attempt)
        try:
            with transaction.atomic(durable=True):
                if items:
                    _write(items, stats)
                if within is not None:
                    within(items)
                if before_commit is not None:
                    before_commit()
            return stats
        except DataError:
            # A value the database refuses: find it by halves, so the rest of the batch goes in.
            if len(items) <= 1:
                logger.error("Event refused by the database, skipped: %r", items[0].event if items else None)
                stats = IngestStats(invalid=len(items))
                if within is not None:
                    with transaction.atomic(durable=True):
                        within(items)
                return stats
            half = len(items) // 2
            stats = _store(items[:half], within=within)
            stats.add(_store(items[half:], within=within))
            return stats
        except (IntegrityError, OperationalError) as exc:
            attempt += 1
            if attempt >= STORE_ATTEMPTS:
                raise
            logger.info("Ingest batch retried (attempt %d) after: %s", attempt + 1, exc)
            time.sleep(0.05 * attempt)


# --- entry points -----------------------------------------------------------------------------------------------

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _collector_paused(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run ``function`` with Python's cyclic garbage collector paused, and resume it after.

    A batch makes tens of thousands of objects that live until it ends (reference counting frees them: they hold
    no cycles), and each collection the allocations trigger walks them and the worker's whole heap again: about
    an eighth of a drain's CPU, measured. Cycles made meanwhile are collected once the collector runs again.
    """

    @functools.wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        if not gc.isenabled():  # paused already (another thread's batch, or the process's choice): leave it so
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


def _closing_broken_connections(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run ``function``; when it fails on the database, close the connections the failure left unusable.

    A database that went away (restarted, the network failed) leaves Django holding a dead connection, and every
    later query fails on it ("the connection is closed") until it is closed. Celery's Django fixup does that
    between tasks; without it (a loop calling ``drain``, a site's own scheduler) the worker would never recover.
    Closed, the next query connects again. A connection inside an atomic block is left alone: its transaction is
    the caller's to end.
    """

    @functools.wraps(function)
    def closing(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return function(*args, **kwargs)
        except Error:
            for connection in connections.all(initialized_only=True):
                if not connection.in_atomic_block:
                    with contextlib.suppress(Error):
                        connection.close_if_unusable_or_obsolete()
            raise

    return closing


@_collector_paused
def ingest_batch(
    consumer: str | None = None,
    *,
    count: int | None = None,
    client: redis.Redis | None = None,
    before_commit: Callable[[], None] | None = None,
    before_ack: Callable[[], None] | None = None,
) -> IngestStats:
    """Read, store and acknowledge one batch of the stream; see the module docstring.

    ``before_commit`` runs inside the transaction after the writes, ``before_ack`` after the commit: tests use
    them to stop a worker at the worst moments. Must not run inside an atomic block (the commit must be real).
    """
    client = client or worker_redis()
    batch = _take(client, consumer or default_consumer(), count or tailored_settings.INGEST_BATCH)
    return _finish(client, batch, before_commit, before_ack)


@dataclass
class _Batch:
    """Stream entries read and decoded (``_take``), not stored yet, with what was found out about them so far."""

    entries: list[tuple[bytes, bytes | None]]
    items: list[_Item]
    stats: IngestStats
    started: float
    new: int  # entries XREADGROUP gave (not claimed): a full count means more may be waiting
    own: bool = False  # this consumer's own pending entries (``_read``): the rest of the stream comes after

    @property
    def entry_ids(self) -> list[bytes]:
        return [entry_id for entry_id, _raw in self.entries]


def _take(client: redis.Redis, consumer: str, count: int, claim: bool = True, own: bool = False) -> _Batch:
    """Read a batch (abandoned entries first, if ``claim``; see ``_read`` for ``own``), decode it, drop bots and
    repeats. No SQL."""
    started = time.monotonic()
    claimed, own, entries = _read(client, consumer, count, claim, own)
    stats = IngestStats(read=0, claimed=0, batches=1 if entries else 0)
    pairs: list[tuple[bytes, TrackedEvent]] = []
    garbled: list[tuple[bytes, str]] = []
    for entry_id, raw in entries:
        if raw is None:  # deleted from the stream while pending (Redis 6.2 reports these)
            continue
        stats.read += 1
        try:
            if not raw:
                raise InvalidEvent(f"no field {FIELD!r}")
            pairs.append((entry_id, TrackedEvent.decode(raw)))
        except InvalidEvent as exc:
            garbled.append((entry_id, str(exc)))
    stats.claimed = min(claimed, stats.read)
    stats.invalid += len(garbled)
    if garbled:
        logger.warning(
            "Skipped %d garbled stream entries (first: %s: %s)", len(garbled), garbled[0][0].decode(), garbled[0][1]
        )
    return _Batch(entries, _prepare(pairs, stats), stats, started, len(entries) - claimed, own)


def _store_batch(
    batch: _Batch, before_commit: Callable[[], None] | None, before_ack: Callable[[], None] | None
) -> IngestStats:
    """Store a batch in one transaction (the entries still to be acknowledged)."""
    stats = batch.stats
    if batch.items or before_commit is not None:
        stats.add(_store(batch.items, before_commit=before_commit))
    if before_ack is not None:
        before_ack()
    return stats


def _finish(
    client: redis.Redis,
    batch: _Batch,
    before_commit: Callable[[], None] | None = None,
    before_ack: Callable[[], None] | None = None,
) -> IngestStats:
    """Store a batch, then acknowledge and delete its entries."""
    stats = _store_batch(batch, before_commit, before_ack)
    _acknowledge(client, batch.entry_ids)
    stats.seconds = time.monotonic() - batch.started
    return stats


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
    items = _prepare(pairs, stats)
    # Rows that need no storing (garbled, bots, repeats) go with every transaction: deleting twice is harmless.
    unstored = {pk for pk, _data in rows} - {item.handle for item in items}

    def delete(batch_items: list[_Item]) -> None:
        SpooledEvent.objects.filter(pk__in=unstored | {item.handle for item in batch_items}).delete()

    stats.add(_store(items, within=delete, before_commit=before_commit))
    _count_fallback(len(rows))
    stats.seconds = time.monotonic() - started
    return stats


def _count_fallback(count: int) -> None:
    """Staff see how often events took the database path (``health``); Redis may still be down: then only log."""
    try:
        record_fallback(worker_redis(), count)
    except redis.RedisError as exc:
        logger.warning("Ingested %d spooled events; could not count them in Redis (%s)", count, exc)


def recompute_segments_of(stats: IngestStats) -> None:
    """After a batch was committed and acknowledged: re-evaluate the segments of the visitors it gave new events.

    Separate from the batch (its own transaction, after the ack), so the ingest's cost and guarantees are
    unchanged; a failure here is logged, and the next full recompute catches the visitors up.
    """
    if not stats.visitor_ids:
        return
    from ..rules.recompute import recompute_visitors

    try:
        recompute_visitors(stats.visitor_ids)
    except Exception:
        logger.exception("Segments of %d visitors not recomputed after ingest", len(stats.visitor_ids))


@_collector_paused
def _drain_stream(
    client: redis.Redis,
    consumer: str,
    count: int,
    deadline: float,
    total: IngestStats,
    touched: _Touched,
    before_commit: Callable[[], None] | None,
    before_ack: Callable[[], None] | None,
) -> None:
    """Batches of the stream until it is empty or the deadline has passed, each read while the one before is stored.

    A helper thread reads and decodes the next batch, and acknowledges the one committed, while this thread
    waits for the database to store the current one: Redis and Python there, PostgreSQL here, so on two cores
    they overlap (up to a fifth more events/s on a quiet machine; nothing while other work keeps both cores busy). The
    helper never touches the database, and takes over abandoned entries only when the batch before took over
    a full count (more may be waiting), so a slow batch's own entries are never claimed back. A worker that
    dies holds up to two batches pending: both are claimed, as one is.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tailored-ingest") as helper:
        batch = _take(client, consumer, count, own=True)
        acknowledged: Future[None] | None = None
        while True:
            more = (batch.new >= count or batch.own) and time.monotonic() < deadline
            following = helper.submit(_take, client, consumer, count, batch.stats.claimed >= count) if more else None
            stats = _store_batch(batch, before_commit, before_ack)
            if acknowledged is not None:
                acknowledged.result()  # the batch before's: its failure surfaces here
            acknowledged = helper.submit(_acknowledge, client, batch.entry_ids)
            stats.seconds = time.monotonic() - batch.started
            total.add(stats)
            touched.add(stats)
            if following is None:
                acknowledged.result()
                return
            batch = following.result()


class _Touched:
    """The visitors of a drain's batches whose segments wait to be re-evaluated: at most once a second while a
    backlog is drained (each re-evaluation has a fixed cost, about a batch's worth of SQL), and when it ends."""

    def __init__(self) -> None:
        self.pending = IngestStats()
        self.since = time.monotonic()

    def add(self, stats: IngestStats) -> None:
        self.pending.visitor_ids |= stats.visitor_ids
        if time.monotonic() - self.since >= RECOMPUTE_EVERY:
            self.recompute()

    def recompute(self) -> None:
        recompute_segments_of(self.pending)
        self.pending, self.since = IngestStats(), time.monotonic()


@_closing_broken_connections
def drain(
    max_seconds: float = 3.0,
    *,
    consumer: str | None = None,
    before_commit: Callable[[], None] | None = None,
    before_ack: Callable[[], None] | None = None,
) -> IngestStats:
    """Ingest batches until the spool and the stream are empty or ``max_seconds`` have passed (then ~one batch)."""
    started = time.monotonic()
    deadline = started + max_seconds
    count = tailored_settings.INGEST_BATCH
    total = IngestStats()
    touched = _Touched()
    while True:  # the spool first: empty (one query) unless Redis was down
        stats = ingest_spool(count, before_commit=before_commit)
        total.add(stats)
        touched.add(stats)
        if stats.read < count or time.monotonic() >= deadline:
            break
    client = worker_redis()
    forget_stale_snapshots(client)  # copies Redis kept through a partition, before it serves them any longer
    republish_if_lost(client)  # the active segments of a Redis that came back empty
    _drain_stream(client, consumer or default_consumer(), count, deadline, total, touched, before_commit, before_ack)
    touched.recompute()
    _forget_idle_consumers(client)
    total.seconds = time.monotonic() - started
    if total.read:
        logger.info("Ingested events: %s", total)
    return total
