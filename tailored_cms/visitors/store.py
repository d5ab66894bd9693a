"""Where snapshots are cached for the request path. Swappable with ``TAILORED_CMS["SNAPSHOT_STORE"]``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

import redis

from .. import connection, redis_scripts, round_trip
from ..conf import tailored_settings
from .consent import decisions
from .models import Visitor
from .snapshot import FORMAT, Snapshot

__all__ = ["CONTRACT", "CaptureOutcome", "EventsCapture", "RedisSnapshotStore", "SnapshotStore", "get_store"]


class CaptureOutcome(StrEnum):
    """What ``SnapshotStore.capture_events`` did with a batch."""

    CAPTURED = "captured"  # the events were appended
    NOT_TRACKED = "not_tracked"  # the visitor's answer (or the site's default) says no: nothing appended
    NO_SNAPSHOT = "no_snapshot"  # the store doesn't know the visitor: read the DB, then try again
    SIGNED_OUT = "signed_out"  # a signed-in user's visitor, but the request has no session: not this visitor
    OVER_LIMIT = "over_limit"  # a rate limit refused the batch; ``limit`` says which


class EventsCapture(NamedTuple):
    """What ``SnapshotStore.capture_events`` did."""

    outcome: CaptureOutcome
    appended: int = 0
    limit: str = ""  # OVER_LIMIT: "visitor" or "ip"
    retry_after: int = 0  # OVER_LIMIT: seconds until that limit's window ends
    # Under EDGE_MODE, the visitor's snapshot the trip read: their response renews the edge key from it.
    snapshot: Snapshot | None = None


# What a store must implement (system check tailored_cms.E017 refuses a SNAPSHOT_STORE that doesn't).
CONTRACT = ("get", "get_and_capture", "capture_events", "set", "delete", "update_segments")


class SnapshotStore(ABC):
    """Contract for a snapshot store: all of ``CONTRACT``, or the system check E017 refuses it.

    Why no fallback for a part a store lacks: each part is something the request path relies on (a batch within
    the rate limits, consent decided before anything is stored, a recompute reaching stored snapshots); a store
    that quietly skipped one would drop rate limits or capture with nothing to show for it. The one method with
    a default, ``get_and_capture``, is complete: it captures nothing itself, and its caller then sends the page
    view in a round trip of its own.

    ``get`` runs on every request of a visitor with a cookie: it makes at most one network round trip, never
    queries the DB and never raises (a failing backend answers ``None`` and the DB is read instead).
    ``set`` and ``delete`` are called after the DB was written; they must not raise either, and return whether
    the store took the change (``False``: a copy the store holds may now be stale; see ``visitors/stale.py``).
    ``get_and_capture`` is ``get`` for a request that may count as a page view: a store that can also append
    the event in the same round trip (when the snapshot says the visitor consented) does so and says it did.
    ``capture_events`` is the ``events/`` endpoint's whole job: read and renew the snapshot, decide consent
    (``consent.may_track``), count the per-visitor and per-IP rate limits (``EVENTS_RATE_PER_VISITOR``,
    ``EVENTS_RATE_PER_IP`` per ``RATE_WINDOW``), append the events. ``None`` means only that its backend is
    unreachable; the caller then decides from the DB and spools the events (rate limits can't be counted then).
    ``update_segments`` rewrites the tracked part of stored snapshots after a recompute.
    """

    @abstractmethod
    def get(self, visitor_id: str) -> Snapshot | None: ...

    def get_and_capture(self, visitor_id: str, page_view: Any) -> tuple[Snapshot | None, bool]:
        """The snapshot, and whether ``page_view`` (a ``tracking.TrackedEvent``) was appended (here: never; the
        caller sends it)."""
        return self.get(visitor_id), False

    @abstractmethod
    def capture_events(
        self,
        visitor_id: str,
        entries: Sequence[str],
        *,
        client_ip: str,
        new_snapshot: Snapshot | None = None,
        has_session: bool = True,
    ) -> EventsCapture | None:
        """Append ``entries`` (``TrackedEvent.encode()``) if the visitor may be tracked and is within the rate limits.

        ``new_snapshot``: a visitor the store can't know yet (made up for implied consent, or just read from the
        DB), stored first. ``has_session``: whether the request has a session cookie (without one, a signed-in
        user's visitor is not this visitor).
        """

    @abstractmethod
    def set(self, snapshot: Snapshot) -> bool: ...

    @abstractmethod
    def update_segments(self, tracked: Mapping[str, str], client: redis.Redis | None = None) -> int:
        """Replace ``Snapshot.TRACKED_FIELDS`` of the stored snapshots of these visitors (visitor id -> JSON of
        those fields) and leave everything else, and visitors with nothing stored, alone. Returns how many were
        updated. Called by Celery after it recomputed segments (``client``: the worker's Redis client, which
        may raise ``redis.RedisError``)."""

    @abstractmethod
    def delete(self, visitor_id: str) -> bool: ...


RATE_WINDOW = 60  # seconds: the rate limits count events per fixed window of this length


def _snapshot_part(visit: round_trip.Visit) -> round_trip.Part:
    # Sec-GPC and DNT are checked before any trip is sent (no I/O for them): the decisions here are the others.
    return round_trip.Part(
        [connection.key("snap", visit.visitor_id)],
        [tailored_settings.SNAPSHOT_TTL, decisions(), visit.new_snapshot, "0" if visit.has_session else "1"],
    )


# The head of both round trips (``tailored_cms.round_trip``): the snapshot, renewed, and the consent decision.
SNAPSHOT = round_trip.Piece("snapshot", redis_scripts.load("snapshot"), _snapshot_part)
_UPDATE_TRACKED_LUA = redis_scripts.load("update_tracked")
UPDATE_SLICE = 500  # snapshots per script call: Redis runs a script alone, so keep each one short


class RedisSnapshotStore(SnapshotStore):
    """One JSON string per visitor, its expiry renewed by each read; reads are ``tailored_cms.round_trip``'s."""

    def get(self, visitor_id: str) -> Snapshot | None:
        """One round trip: the page trip, without a page view."""
        return self.get_and_capture(visitor_id, None)[0]

    def get_and_capture(self, visitor_id: str, page_view: Any) -> tuple[Snapshot | None, bool]:
        """One round trip (``round_trip.PAGE``): the snapshot and, if it says the visitor may be tracked, the page
        view appended; the pieces registered with the trip (active segments, cache budget) ride along."""
        visit = round_trip.Visit(visitor_id, page_view=page_view)
        replies = connection.call(lambda r: round_trip.PAGE.send(r, SNAPSHOT, visit), None)
        if not replies or not replies["snapshot"]:
            return None, False
        return Snapshot.from_json(replies["snapshot"]), bool(replies.get("page_view"))

    def capture_events(
        self,
        visitor_id: str,
        entries: Sequence[str],
        *,
        client_ip: str,
        new_snapshot: Snapshot | None = None,
        has_session: bool = True,
    ) -> EventsCapture | None:
        """One round trip (``round_trip.EVENTS``): snapshot, consent, rate limits, one XADD per entry.
        ``None``: Redis down."""
        visit = round_trip.Visit(
            visitor_id,
            entries=entries,
            client_ip=client_ip,
            new_snapshot=new_snapshot.to_json() if new_snapshot is not None else "",
            has_session=has_session,
        )
        replies = connection.call(lambda r: round_trip.EVENTS.send(r, SNAPSHOT, visit), None)
        if replies is None:
            return None
        capture: EventsCapture = replies["events"]  # KeyError: the app's ready() registers the events piece
        if tailored_settings.EDGE_MODE and replies["snapshot"]:
            capture = capture._replace(snapshot=Snapshot.from_json(replies["snapshot"]))
        return capture

    def set(self, snapshot: Snapshot) -> bool:
        """``False`` if Redis was unreachable: the DB holds the truth; the caller marks the copy stale."""
        assert snapshot.visitor_id
        name = connection.key("snap", snapshot.visitor_id)
        return connection.call(
            lambda r: bool(r.set(name, snapshot.to_json(), ex=tailored_settings.SNAPSHOT_TTL)), False
        )

    def delete(self, visitor_id: str) -> bool:
        """``False`` if Redis was unreachable (whether a copy was there or not: ``True``)."""
        return connection.call(lambda r: r.delete(connection.key("snap", visitor_id)) >= 0, False)

    def update_segments(self, tracked: Mapping[str, str], client: redis.Redis | None = None) -> int:
        """Rewrite the tracked part of stored snapshots in place (Lua: only what is there; choices untouched).

        Cost: one round trip for any number of visitors (a pipeline of scripts of ``UPDATE_SLICE`` keys each).
        """
        if not tracked:
            return 0
        items = list(tracked.items())

        def update(r: redis.Redis) -> int:
            pipeline = r.pipeline(transaction=False)
            for start in range(0, len(items), UPDATE_SLICE):
                chunk = items[start : start + UPDATE_SLICE]
                keys = [connection.key("snap", visitor_id) for visitor_id, _json in chunk]
                pipeline.eval(_UPDATE_TRACKED_LUA, len(keys), *keys, FORMAT, *(value for _id, value in chunk))
            return sum(int(n) for n in pipeline.execute())

        if client is not None:
            return update(client)
        return connection.call(update, 0)


def get_store() -> SnapshotStore:
    return tailored_settings.SNAPSHOT_STORE()


def snapshot_from_db(visitor_id: str) -> Snapshot | None:
    """After a store miss: two DB queries (the visitor, their segment memberships), and the snapshot written back."""
    visitor = Visitor.objects.filter(pk=visitor_id).first()
    if visitor is None:
        return None
    snapshot = Snapshot.from_visitor(visitor)
    get_store().set(snapshot)
    return snapshot
