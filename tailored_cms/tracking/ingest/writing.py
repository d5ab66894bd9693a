"""The one transaction of a batch: its visitors, its events, their counters and the visitors' activity.

Locks are taken in one order by every worker (visitors by id, then events by id, then counters by key), so
concurrent batches wait for each other instead of deadlocking. Which events are new (not redelivered) decides all
the counting, so each event is counted exactly once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any

from django.db import DataError, IntegrityError, OperationalError, transaction
from django.utils import timezone

from ... import bulk_sql as sql
from ...conf import tailored_settings
from ...signals import events_stored
from ...visitors.models import ACTIVITY_FIELDS, Visitor
from ..models import Event, EventCounts
from ..stream import TrackedEvent
from .interpretation import Item, referrer_domain, update_activity
from .pages import Pages
from .stats import IngestStats

__all__ = ["EVENT_FIELDS", "STORE_ATTEMPTS", "StoredEvent", "lock_visitors", "store", "write"]

logger = logging.getLogger(__name__)

# A batch that loses a race (duplicate id, deadlock, "database is locked") is retried this often, then left
# pending for XAUTOCLAIM.
STORE_ATTEMPTS = 4

EVENT_FIELDS = ("id", "visitor", "name", "ts", "page", "path", "props")

Activity = dict[str, dict[str, Any]]  # visitor id -> ACTIVITY_FIELDS


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event a batch stored for the first time, as ``events_stored`` tells its receivers."""

    event: TrackedEvent
    ts: datetime  # when it happened (a client's clock in the future is clamped to the ingest's)
    page_id: int | None  # the CMS page of a page view; ``None`` for other events


def write(items: Sequence[Item], stats: IngestStats) -> None:
    """Store ``items`` and update counters and activity. Must run inside a transaction; see the module docstring."""
    # Page views of paths that are no CMS page (a view of the site's own, a 404) are dropped: they say nothing
    # about interest in tailored content. Resolved before the visitors are locked, so their visitors aren't made.
    pages = Pages([item for item in items if item.event.is_page_view])
    pages_only = [item for item in items if not item.event.is_page_view or pages.page_of(item.event) is not None]
    stats.not_pages += len(items) - len(pages_only)
    if not pages_only:
        return
    activity, items = _lock_consenting(pages_only, stats)
    if not items:
        return
    new, referrers = _insert_events(items, pages, stats)
    if not new:
        return
    _count(new, referrers, activity, stats)
    # Last, in this transaction, so exactly once: what the layers above count of the new events (topic views;
    # results: impressions, clicks and conversions per variant, the rows concurrent batches share most, locked for
    # the shortest time this way).
    stored = [
        StoredEvent(item.event, item.ts, pages.page_of(item.event) if item.event.is_page_view else None) for item in new
    ]
    events_stored.send(sender=__name__, events=stored)


def _lock_consenting(items: list[Item], stats: IngestStats) -> tuple[Activity, list[Item]]:
    """Lock the batch's visitors; keep the events of those who did not refuse tracking (and were not erased)."""
    visitor_ids = sorted({item.event.visitor_id for item in items})
    activity, refusing = lock_visitors(visitor_ids)
    refusing |= {visitor_id for visitor_id in visitor_ids if visitor_id not in activity}
    if not refusing:
        return activity, items
    # The database's answer wins over the one the request path read from Redis: a refusal saved while Redis was
    # unreachable (visitors/stale.py), or just before these events were ingested, stores none of them. Nor does
    # an erasure that deleted the visitor between their insert and their lock.
    kept = [item for item in items if item.event.visitor_id not in refusing]
    stats.refused += len(items) - len(kept)
    return activity, kept


def _insert_events(items: list[Item], pages: Pages, stats: IngestStats) -> tuple[list[Item], dict[str, str]]:
    """Insert the events, each row as it is stored; return the new ones (not redelivered) and the page views'
    referrer domains by event id."""
    event_rows: list[tuple[Any, ...]] = []
    referrers: dict[str, str] = {}
    for item in items:
        event = item.event
        props = event.props
        page_id = None
        if event.is_page_view:
            page_id = pages.page_of(event)
            referrer = referrer_domain(event.referrer, event.host)
            props = dict(props)
            if referrer:
                props["referrer"] = referrers[event.id] = referrer
            if item.device:
                props["device"] = item.device
        event_rows.append((event.id, event.visitor_id, event.name, item.ts, page_id, event.path, props))
    event_rows.sort(key=itemgetter(0))  # by id: the order every worker takes their locks in
    inserted = sql.insert_new(Event, EVENT_FIELDS, event_rows)
    new = items if len(inserted) == len(items) else [item for item in items if item.event.id in inserted]
    stats.duplicates += len(items) - len(new)
    return new, referrers


def _count(new: list[Item], referrers: dict[str, str], activity: Activity, stats: IngestStats) -> None:
    """Fold the new events into their visitors' activity and daily event counts; write them."""
    gap = timedelta(minutes=tailored_settings.VISIT_GAP_MINUTES)
    zone = timezone.get_current_timezone()
    event_counts: Counter[tuple[str, str, date]] = Counter()
    changed: set[str] = set()
    for item in sorted(new, key=attrgetter("ts")):
        event = item.event
        visitor_id = event.visitor_id
        day = item.ts.astimezone(zone).date()
        event_counts[(visitor_id, event.name, day)] += 1
        referrer = referrers.get(event.id, "") if event.is_page_view else ""
        update_activity(activity[visitor_id], item, referrer, gap)
        changed.add(visitor_id)
    stats.visitor_ids |= changed
    stats.new += len(new)
    sql.update(
        Visitor,
        ACTIVITY_FIELDS,
        [(visitor_id, *(activity[visitor_id][name] for name in ACTIVITY_FIELDS)) for visitor_id in sorted(changed)],
    )
    sql.insert(
        EventCounts,
        ("visitor", "name", "day", "count"),
        [(*key, count) for key, count in sorted(event_counts.items())],
        conflict=("visitor", "name", "day"),
        action=sql.increment(EventCounts),
    )


def lock_visitors(visitor_ids: Sequence[str]) -> tuple[Activity, set[str]]:
    """Create the missing visitors, lock all of them (by id) and return their activity, and the ids of those who
    refused tracking. Cost: two queries on PostgreSQL, three elsewhere (``sql.insert_missing``, ``sql.lock``).
    A visitor erased meanwhile (after the insert, before the lock) has no activity: their events are dropped.

    Missing ones are inserted in id order with ON CONFLICT DO NOTHING (another worker may be creating the same
    visitor: this waits for it), then all are locked in id order: every worker takes its locks in one order.
    """
    sql.insert_missing(Visitor, visitor_ids)
    activity: Activity = {}
    refusing: set[str] = set()
    for visitor_id, (consent, *values) in sql.lock(
        Visitor, visitor_ids, ("tracking_consent", *ACTIVITY_FIELDS)
    ).items():
        activity[visitor_id] = dict(zip(ACTIVITY_FIELDS, values, strict=True))
        if consent is False:
            refusing.add(visitor_id)
    return activity, refusing


def store(
    items: list[Item],
    *,
    within: Callable[[list[Item]], None] | None = None,
    before_commit: Callable[[], None] | None = None,
) -> IngestStats:
    """``write`` in one durable transaction, retried when it loses a race; a refused event is set aside.

    ``within(items)`` runs inside the transaction (the spool deletes its rows there).
    """
    attempt = 0
    while True:
        stats = IngestStats(retries=attempt)
        try:
            with transaction.atomic(durable=True):
                if items:
                    write(items, stats)
                if within is not None:
                    within(items)
                if before_commit is not None:
                    before_commit()
            return stats
        except DataError:
            return _set_aside_refused(items, within)
        except (IntegrityError, OperationalError) as exc:
            attempt += 1
            if attempt >= STORE_ATTEMPTS:
                raise
            logger.info("Ingest batch retried (attempt %d) after: %s", attempt + 1, exc)
            time.sleep(0.05 * attempt)


def _set_aside_refused(items: list[Item], within: Callable[[list[Item]], None] | None) -> IngestStats:
    """A value the database refuses: find it by halves, so the rest of the batch goes in."""
    if len(items) <= 1:
        logger.error("Event refused by the database, skipped: %r", items[0].event if items else None)
        stats = IngestStats(invalid=len(items))
        if within is not None:
            with transaction.atomic(durable=True):
                within(items)
        return stats
    half = len(items) // 2
    stats = store(items[:half], within=within)
    stats.add(store(items[half:], within=within))
    return stats
