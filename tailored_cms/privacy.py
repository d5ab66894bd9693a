"""A visitor's data: export everything stored about them, erase it everywhere. Plain functions; ``me/`` calls them.

Where a visitor's data lives:

- the database: the ``Visitor`` row (choices, consent, activity, traits) and, by foreign key, their raw ``Event`` rows,
  ``TopicViews`` / ``EventCounts`` counters, segment ``Membership`` history and quiz answers (``QuizResponse``);
  ``SpooledEvent`` rows (events kept while Redis was down) name the visitor only inside their encoded JSON;
- Redis: the snapshot (``<prefix>:snap:<id>``), the visitor's rate-limit counter of ``events/`` (a minute's
  count), their recommended pages (``recommendations.store``: they say what the visitor read) and entries of the
  event stream not yet ingested.

Cost of the stream scan (export and erase): ``XRANGE`` in pages of ``STREAM_SCAN_PAGE`` entries up to the stream's
last entry when the scan started, so O(backlog) — normally a second's worth of events, since ingest deletes what
it acknowledged; at worst ``STREAM_MAXLEN`` entries (1,000 round trips of 1,000 entries). Erasing adds one
``XACK`` + ``XDEL`` round trip per page holding the visitor's entries. Spooled rows are found with a substring
filter on their JSON (a table scan of the spool, which is empty unless Redis was down).

Known limit: entries a worker has already read but not yet committed can still be written after the erase
(a window of one batch, about a second); erasing again removes them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from . import connection
from .quiz.models import QuizResponse
from .recommendations import store as recommendations_store
from .rules import runs
from .rules.models import Membership, Segment
from .tracking.models import Event, EventCounts, SpooledEvent, TopicViews
from .tracking.stream import FIELD, InvalidEvent, TrackedEvent, group_name, stream_key
from .visitors.models import StaleSnapshot, Visitor
from .visitors.stale import mark_stale
from .visitors.store import RedisSnapshotStore, get_store

__all__ = ["STREAM_SCAN_PAGE", "ErasureIncomplete", "erase_visitor", "export_visitor"]

STREAM_SCAN_PAGE = 1000  # stream entries per XRANGE round trip

# Every column of the visitor row but the user link (the account is the site's, not ours): a field added to
# Visitor is exported without anyone remembering to list it here.
VISITOR_FIELDS = tuple(field.attname for field in Visitor._meta.concrete_fields if field.name != "user")


class ErasureIncomplete(Exception):
    """Redis could not be reached: the database part was erased, Redis's was not. Erasing again finishes it."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__(gettext("Redis is unreachable; the visitor's snapshot or pending events may remain."))
        self.counts = counts


def _canonical(visitor_id: Any) -> str | None:
    if visitor_id is None or visitor_id == "":
        return None
    try:
        return str(uuid.UUID(str(visitor_id)))
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    """JSON-ready: datetimes and dates in ISO 8601, UUIDs as strings."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _event_dict(event: TrackedEvent) -> dict[str, Any]:
    data: dict[str, Any] = {"id": event.id, "name": event.name, "ts": event.ts.isoformat(), "props": event.props}
    for name in ("path", "referrer", "user_agent", "host", "page_id"):
        value = getattr(event, name)
        if value:
            data[name] = value
    return data


def _decode_if_mine(raw: bytes | str | None, visitor_id: str) -> TrackedEvent | None:
    """The event if ``raw`` is one of the visitor's (a cheap substring test first, then the real decode)."""
    if raw is None:
        return None
    needle = f'"v":"{visitor_id}"'
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    if needle not in text:
        return None
    try:
        event = TrackedEvent.decode(text)
    except InvalidEvent:
        # Garbled but naming the visitor at the top level: still theirs (ingest would skip it anyway).
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if isinstance(data, dict) and data.get("v") == visitor_id:
            return TrackedEvent(visitor_id=visitor_id, name=str(data.get("n", "?"))[:64], id=str(data.get("i", "")))
        return None
    return event if event.visitor_id == visitor_id else None


def _stream_pages(client: Any) -> Iterator[list[tuple[bytes, dict[bytes, bytes]]]]:
    """Pages of the stream from its start to its last entry at the time of the call (a bounded scan)."""
    key = stream_key()
    last = client.xrevrange(key, count=1)
    if not last:
        return
    end = last[0][0]
    start: bytes | str = "-"
    while True:
        page = client.xrange(key, min=start, max=end, count=STREAM_SCAN_PAGE)
        if not page:
            return
        yield page
        if page[-1][0] == end or len(page) < STREAM_SCAN_PAGE:
            return
        start = b"(" + page[-1][0]


def _stream_entries(client: Any, visitor_id: str) -> Iterator[tuple[bytes, TrackedEvent]]:
    for page in _stream_pages(client):
        for entry_id, fields in page:
            event = _decode_if_mine((fields or {}).get(FIELD.encode()), visitor_id)
            if event is not None:
                yield entry_id, event


def _spooled(visitor_id: str) -> list[tuple[int, TrackedEvent]]:
    rows = SpooledEvent.objects.filter(data__contains=f'"v":"{visitor_id}"').values_list("pk", "data")
    found = []
    for pk, data in rows.iterator(chunk_size=1000):
        event = _decode_if_mine(data, visitor_id)
        if event is not None:
            found.append((pk, event))
    return found


def empty_export() -> dict[str, Any]:
    return {
        "exported_at": timezone.now().isoformat(),
        "visitor": None,
        "events": [],
        "topic_views": [],
        "event_counts": [],
        "segments": [],
        "pending_events": [],
        "recommendations": [],
        "quiz_answers": [],
    }


def export_visitor(visitor_id: str | uuid.UUID | None) -> dict[str, Any]:
    """Everything stored about the visitor, JSON-ready; an unknown or missing id gives the empty document.

    ``visitor``: the row (choices, consent, activity) or ``None``; ``events``: raw events, oldest first;
    ``topic_views`` / ``event_counts``: the daily counters; ``segments``: the segments they are or were in, with
    when they joined and left; ``pending_events``: events not yet ingested (the Redis stream and the database
    spool). The Redis snapshot is a copy of ``visitor`` and their segments, and is not repeated.
    Cost: five queries (six if they were in a segment: its name, in the current language), one spool query and the
    stream scan (see the module's docstring).
    """
    document = empty_export()
    vid = _canonical(visitor_id)
    if vid is None:
        return document
    row = Visitor.objects.filter(pk=vid).values(*VISITOR_FIELDS).first()
    if row is not None:
        document["visitor"] = {name: _plain(value) for name, value in row.items()}
    document["events"] = [
        {name: _plain(value) for name, value in values.items()}
        for values in Event.objects.filter(visitor_id=vid)
        .order_by("ts", "id")
        .values("id", "name", "ts", "page_id", "path", "props")
        .iterator(chunk_size=2000)
    ]
    document["topic_views"] = [
        {"topic": topic, "day": day.isoformat(), "count": count}
        for topic, day, count in TopicViews.objects.filter(visitor_id=vid)
        .order_by("day", "topic")
        .values_list("topic", "day", "count")
    ]
    document["event_counts"] = [
        {"name": name, "day": day.isoformat(), "count": count}
        for name, day, count in EventCounts.objects.filter(visitor_id=vid)
        .order_by("day", "name")
        .values_list("name", "day", "count")
    ]
    memberships = Membership.objects.filter(visitor_id=vid).order_by("joined_at", "pk")
    rows = list(memberships.values_list("segment__slug", "joined_at", "left_at"))
    names = Segment.objects.filter(slug__in={slug for slug, _joined, _left in rows}).names() if rows else {}
    document["segments"] = [
        {"segment": slug, "name": names.get(slug, slug), "joined": _plain(joined), "left": _plain(left)}
        for slug, joined, left in rows
    ]
    pending = [_event_dict(event) for _pk, event in _spooled(vid)]
    streamed: list[dict[str, Any]] = connection.call(
        lambda client: [_event_dict(e) for _id, e in _stream_entries(client, vid)], []
    )
    document["pending_events"] = sorted(pending + streamed, key=lambda e: e["ts"])
    document["quiz_answers"] = [
        {"quiz": quiz_id, "answers": answers, "skipped": skipped, "answered_at": _plain(at)}
        for quiz_id, answers, skipped, at in QuizResponse.objects.filter(visitor_id=vid)
        .order_by("answered_at", "pk")
        .values_list("quiz_id", "answers", "skipped", "answered_at")
    ]
    no_list: list[list[Any]] = []
    document["recommendations"] = connection.call(lambda client: recommendations_store.export(client, vid), no_list)
    return document


def _erase_from_stream(client: Any, visitor_id: str) -> int:
    """XACK + XDEL the visitor's entries, one round trip per page that holds any. Returns how many went."""
    key, group = stream_key(), group_name()
    removed = 0
    for page in _stream_pages(client):
        ids = [
            entry_id
            for entry_id, fields in page
            if _decode_if_mine((fields or {}).get(FIELD.encode()), visitor_id) is not None
        ]
        if not ids:
            continue
        pipeline = client.pipeline(transaction=False)
        pipeline.xack(key, group, *ids)  # an error (no consumer group yet: nothing pending) is left in the reply
        pipeline.xdel(key, *ids)
        _acked, deleted = pipeline.execute(raise_on_error=False)
        if isinstance(deleted, Exception):
            raise deleted
        removed += int(deleted)
    return removed


def _erase_keys(client: Any, visitor_id: str) -> int:
    """The snapshot, the events/ rate counter (it names the visitor; it would expire within a minute anyway),
    their recommendations (they say what the visitor read) and their note among the visitors the next segment
    recompute looks at.

    One round trip; returns how many snapshots went.
    """
    pipeline = client.pipeline(transaction=False)
    pipeline.delete(connection.key("snap", visitor_id))
    pipeline.delete(connection.key("rate", "visitor", visitor_id))
    recommendations_store.erase_in(pipeline, visitor_id)
    runs.erase_in(pipeline, visitor_id)
    return int(pipeline.execute()[0])


def erase_visitor(visitor_id: str | uuid.UUID | None) -> dict[str, int]:
    """Erase the visitor everywhere; returns how many of each thing went. Idempotent (erasing twice is fine).

    Order: the stream first (so ingest can't bring the visitor back), then the database in one transaction, then
    the snapshot. A user account is never deleted, only its visitor. Raises ``ErasureIncomplete`` (with the
    counts) when Redis is unreachable: the database part is done, and erasing again finishes the job.
    """
    counts = {
        "visitors": 0,
        "events": 0,
        "topic_views": 0,
        "event_counts": 0,
        "memberships": 0,
        "quiz_answers": 0,
        "spooled_events": 0,
        "stream_entries": 0,
        "snapshots": 0,
    }
    vid = _canonical(visitor_id)
    if vid is None:
        return counts
    # None: Redis was unreachable (each eraser returns a count)
    streamed: int | None = connection.call(lambda client: _erase_from_stream(client, vid), None)
    with transaction.atomic():
        # The visitor first: a batch the ingest is storing for them is waited for, so its events are deleted here
        # too (else deleting the visitor would fail on them); one that had made sure of them just before finds
        # them gone when it locks them, and drops their events (tracking.ingest.writing).
        list(Visitor.objects.select_for_update().filter(pk=vid).values_list("pk"))
        spooled = [pk for pk, _event in _spooled(vid)]
        counts["spooled_events"] = SpooledEvent.objects.filter(pk__in=spooled).delete()[0] if spooled else 0
        counts["events"] = Event.objects.filter(visitor_id=vid).delete()[0]
        counts["topic_views"] = TopicViews.objects.filter(visitor_id=vid).delete()[0]
        counts["event_counts"] = EventCounts.objects.filter(visitor_id=vid).delete()[0]
        counts["memberships"] = Membership.objects.filter(visitor_id=vid).delete()[0]
        counts["quiz_answers"] = QuizResponse.objects.filter(visitor_id=vid).delete()[0]
        counts["visitors"] = Visitor.objects.filter(pk=vid).delete()[1].get(Visitor._meta.label, 0)
        StaleSnapshot.objects.filter(pk=vid).delete()
    snapshots: int | None = connection.call(lambda client: _erase_keys(client, vid), None)
    if snapshots is None:
        mark_stale(vid)  # the worker deletes the copy of their choices when Redis answers; a retry finishes the rest
    store = get_store()
    if not isinstance(store, RedisSnapshotStore):
        store.delete(vid)  # a site's own store, if it swapped ours
    if streamed is None or snapshots is None:
        raise ErasureIncomplete(counts)
    counts["stream_entries"] = streamed
    counts["snapshots"] = snapshots
    return counts
