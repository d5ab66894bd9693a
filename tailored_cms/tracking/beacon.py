"""The ``events/`` endpoint's work: a page's batch of events (from ``navigator.sendBeacon``), checked and captured.

``parse_batch`` checks the body by hand: plain checks on the decoded JSON, since this is on the hot path and a
serializer per event costs several times more. ``capture_batch`` stores the events if the visitor may be
tracked, in ONE Redis round trip while Redis answers: the snapshot store's script reads and renews the
visitor's snapshot, decides consent, counts the per-visitor and per-IP rate limits and appends the events to
the stream. No SQL. A visitor Redis no longer holds (expired) costs one query and two more round trips, once;
with Redis down the database decides and the events are spooled to it (rate limits are then not enforced).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.http import is_same_domain

from .. import connection, redis_scripts, round_trip
from ..conf import tailored_settings
from ..visitors.consent import may_track, opted_out_by_browser, tracking_allowed
from ..visitors.request import visitor_context
from ..visitors.store import RATE_WINDOW, CaptureOutcome, EventsCapture, get_store, snapshot_from_db
from .delivery import enqueue
from .stream import (
    FIELD,
    NAME_MAX_LENGTH,
    PAGE_VIEW,
    TrackedEvent,
    encode_props,
    encode_text,
    entry_parts,
    has_nul,
    stream_key,
)

if TYPE_CHECKING:
    from ..visitors.snapshot import Snapshot

__all__ = ["BadBatch", "Batch", "BatchResult", "capture_batch", "client_ip", "cross_site_origin", "parse_batch"]

PATH_MAX_LENGTH = 500
USER_AGENT_MAX_LENGTH = 500
EVENT_FIELDS = ("id", "name", "ts", "props", "path")
_EVENT_FIELDS = frozenset(EVENT_FIELDS)
_NAME = re.compile(r"[A-Za-z0-9_.:-]+")  # the length is checked apart (NAME_MAX_LENGTH)
# An event id: a UUID in its usual form, any case (a regex: 10x faster than ``uuid.UUID``, and no other forms).
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
NAME_RULE = f"1 to {NAME_MAX_LENGTH} letters, digits and _ . : -"


class BadBatch(ValueError):
    """Why a batch is refused (400): the event (its index in ``events``) and the field, where there is one."""

    def __init__(self, message: str, event: int | None = None, field: str | None = None) -> None:
        self.message, self.event, self.field = message, event, field
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        """E.g. ``events[3].props: more than 20 properties``."""
        if self.event is not None:
            return f"events[{self.event}]{'.' + self.field if self.field else ''}: {self.message}"
        return f"{self.field}: {self.message}" if self.field else self.message

    def as_dict(self) -> dict[str, Any]:
        return {"detail": self.detail, "event": self.event, "field": self.field}


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class Batch:
    """A checked batch: its events (``visitor_id`` not set yet), and their stream entries but for the visitor id."""

    __slots__ = ("_parts", "events")

    def __init__(self, events: list[TrackedEvent], parts: list[tuple[str, str]]) -> None:
        self.events = events
        self._parts = parts  # per event: the entry's JSON before and after the visitor id (``entry_parts``)

    def __len__(self) -> int:
        return len(self.events)

    def set_visitor(self, visitor_id: str) -> None:
        for event in self.events:
            event.visitor_id = visitor_id

    def entries(self, visitor_id: str) -> list[str]:
        """The events, now ``visitor_id``'s, as stream entries: what ``TrackedEvent.encode()`` writes, put together
        from the parts made while checking (the props' JSON was made to measure them anyway). No I/O."""
        self.set_visitor(visitor_id)
        visitor = encode_text(visitor_id)
        return [head + visitor + tail for head, tail in self._parts]


def parse_batch(raw: bytes, *, now: datetime, user_agent: str = "", host: str = "") -> Batch:
    """The events of a body ``{"events": [...]}``, checked; the caller sets their visitor (``Batch.entries``).

    A time in the future or older than ``EVENT_MAX_AGE`` becomes ``now``; one without a time is ``now``.
    Raises ``BadBatch`` naming the first problem. Cost: no I/O; one ``json.loads``, and one ``json.dumps`` per
    event with props (to measure them; the stream entry reuses it).
    """
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadBatch(f"the body is not JSON ({exc})") from None
    if type(data) is not dict:
        raise BadBatch('the body must be a JSON object: {"events": [...]}')
    for key in data:
        if key != "events":
            raise BadBatch('unknown key: the body is {"events": [...]}', field=key[:100])
    items = data.get("events")
    max_batch = tailored_settings.EVENTS_MAX_BATCH
    if type(items) is not list:
        raise BadBatch("a list of events is required", field="events")
    if not 0 < len(items) <= max_batch:
        raise BadBatch(f"send 1 to {max_batch} events per request, not {len(items)}", field="events")
    max_props = tailored_settings.EVENT_MAX_PROPS
    max_prop_bytes = tailored_settings.EVENT_MAX_PROP_BYTES
    oldest = now - timedelta(seconds=tailored_settings.EVENT_MAX_AGE)
    user_agent = user_agent[:USER_AGENT_MAX_LENGTH]
    seen: dict[str, int] = {}
    events: list[TrackedEvent] = []
    parts: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise BadBatch("not an object", index)
        if not item.keys() <= _EVENT_FIELDS:
            unknown = next(key for key in item if key not in EVENT_FIELDS)
            raise BadBatch(f"unknown field (an event has {', '.join(EVENT_FIELDS)})", index, unknown[:100])

        event_id = item.get("id")
        if type(event_id) is not str or not _ID.fullmatch(event_id):
            problem = "missing" if event_id is None else "not a UUID"
            raise BadBatch(f"{problem}: each event needs a UUID of its own (the dedupe key)", index, "id")
        event_id = event_id.lower()
        if event_id in seen:
            raise BadBatch(f"the same id as events[{seen[event_id]}]", index, "id")
        seen[event_id] = index

        name = item.get("name")
        if type(name) is not str or len(name) > NAME_MAX_LENGTH or not _NAME.fullmatch(name):
            raise BadBatch(f"{'missing' if name is None else 'invalid'}: {NAME_RULE}", index, "name")
        if name == PAGE_VIEW:
            raise BadBatch(f"{PAGE_VIEW!r} is reserved: the server counts page views itself", index, "name")

        ts = item.get("ts")
        if ts is None:
            ts = now
        else:
            try:
                ts = datetime.fromisoformat(ts)
            except (TypeError, ValueError):
                raise BadBatch("not an ISO 8601 time, e.g. 2026-03-02T09:00:00Z", index, "ts") from None
            if ts.tzinfo is None:
                raise BadBatch("needs a time zone, e.g. 2026-03-02T09:00:00Z", index, "ts")
            if ts > now or ts < oldest:
                ts = now  # a wrong clock, or an event kept too long: dated when received

        props = item.get("props")
        props_json = ""
        if props is None:
            props = {}
        elif type(props) is not dict:
            raise BadBatch("must be an object", index, "props")
        elif props:
            if len(props) > max_props:
                raise BadBatch(f"more than {max_props} properties", index, "props")
            props_json = _checked_props_json(props, index, max_prop_bytes)

        path = item.get("path")
        if path is None:
            path = ""
        elif type(path) is not str or not path.startswith("/") or len(path) > PATH_MAX_LENGTH:
            raise BadBatch(f"must be a path starting with / (at most {PATH_MAX_LENGTH} characters)", index, "path")
        elif not path.isascii():
            try:
                path.encode()
            except UnicodeEncodeError:
                raise BadBatch("text that is not valid Unicode", index, "path") from None
        if "\x00" in path:
            raise BadBatch(_NUL, index, "path")

        event = TrackedEvent(
            visitor_id="", name=name, id=event_id, ts=ts, props=props, path=path, user_agent=user_agent, host=host
        )
        events.append(event)
        parts.append(entry_parts(event, props_json))
    return Batch(events, parts)


_NUL = "text with a NUL character (U+0000), which can't be stored"


def _checked_props_json(props: dict[str, Any], index: int, max_bytes: int) -> str:
    """The props' JSON (``encode_props``), if it can be stored exactly as sent; else ``BadBatch``."""
    try:
        props_json = encode_props(props)
    except ValueError:  # 1e400 and the like: Python reads them as infinite, and no database stores that
        key = next(key for key, value in props.items() if not _is_finite(value))
        raise BadBatch(f"{key[:100]!r} holds a number too large to store", index, "props") from None
    try:
        size = len(props_json.encode())
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"): JSON can say it, UTF-8 (and Redis) can't
        raise BadBatch("text that is not valid Unicode", index, "props") from None
    if size > max_bytes:
        raise BadBatch(f"{size} bytes as JSON, more than {max_bytes}", index, "props")
    if has_nul(props_json):  # PostgreSQL refuses it in jsonb: refused here rather than changed later
        raise BadBatch(_NUL, index, "props")
    return props_json


def _is_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_is_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_is_finite(item) for item in value)
    return True


def cross_site_origin(request: HttpRequest) -> str:
    """The request's origin if it is another site's (refuse it); ``""`` if it is this site's or unknown.

    ``Origin``, or the origin of ``Referer`` when there is no Origin, must be the request's own scheme and host or
    one of ``CSRF_TRUSTED_ORIGINS`` (wildcards as Django's CSRF check reads them). No I/O.
    """
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        referer = request.META.get("HTTP_REFERER")
        if not referer:
            return ""  # neither: not a browser (browsers send Origin with every POST)
        try:
            parts = urlsplit(referer)
        except ValueError:
            return referer[:200]
        origin = f"{parts.scheme}://{parts.netloc}"
    try:
        own = f"{'https' if request.is_secure() else 'http'}://{request.get_host()}"
    except DisallowedHost:
        own = ""
    if origin == own or origin in settings.CSRF_TRUSTED_ORIGINS:
        return ""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return origin[:200]
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if "*" in trusted:
            allowed = urlsplit(trusted)
            if allowed.scheme == parts.scheme and is_same_domain(parts.netloc, allowed.netloc.lstrip("*")):
                return ""
    return origin[:200]


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or the right-most address of ``CLIENT_IP_HEADER`` when set.

    Right-most: that is the address your proxy saw and added; any to its left came from the client and may be forged.
    """
    header = tailored_settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get(header, "")
        if value:
            return value.rsplit(",", 1)[-1].strip()[:64]
    return request.META.get("REMOTE_ADDR") or "unknown"


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What became of a batch."""

    accepted: int = 0  # events stored (appended to the stream, or spooled)
    tracking: bool = False  # whether the visitor may be tracked (False: nothing stored, and nothing will be)
    limit: str = ""  # a rate limit refused the batch: "visitor" or "ip"
    retry_after: int = 0  # with ``limit``: seconds until it resets


def capture_batch(request: HttpRequest, batch: Batch) -> BatchResult:
    """Store the batch for the request's visitor if they may be tracked; see the module docstring for the cost.

    Under implied consent a visitor without a cookie gets a new id (and the cookie, with the response).
    """
    if opted_out_by_browser(request):
        return BatchResult()  # Sec-GPC / DNT: no I/O at all
    state = _Capture(request, batch)
    capture = state.send()
    if capture is not None and capture.outcome == CaptureOutcome.NO_SNAPSHOT:
        # Redis no longer holds this visitor (expired, evicted): the database does (one query; the snapshot is
        # written back), and the script runs again. An unknown visitor (erased) starts again as a new one.
        state.read_db()
        capture = state.send()
    if capture is not None and capture.outcome == CaptureOutcome.SIGNED_OUT:
        # A signed-in user's visitor, and no session: as the middleware does for pages, this device's visitor is
        # not that user's any more.
        state.context.forget()
        capture = state.send()
    if capture is None or capture.outcome == CaptureOutcome.NO_SNAPSHOT:
        return state.without_script()
    if capture.outcome == CaptureOutcome.OVER_LIMIT:
        return BatchResult(tracking=True, limit=capture.limit, retry_after=max(1, capture.retry_after))
    if capture.outcome == CaptureOutcome.CAPTURED:
        return BatchResult(accepted=capture.appended, tracking=True)
    return BatchResult()  # NOT_TRACKED


class _Capture:
    """One request's batch on its way to the store (``capture_batch``'s state)."""

    def __init__(self, request: HttpRequest, batch: Batch) -> None:
        self.request = request
        self.batch = batch
        self.context = visitor_context(request)
        self.store = get_store()
        self.client_ip = client_ip(request)
        # Without a session cookie nobody is signed in: a signed-in user's visitor is not this request's.
        # (Checking a session's user would cost SQL; the middleware does it for pages.)
        self.has_session = settings.SESSION_COOKIE_NAME in request.COOKIES
        self.snapshot: Snapshot | None = None  # what the DB said, or a new visitor's
        self.new = False  # the visitor id was made up for this request (under implied consent)

    def _new_visitor(self) -> bool:
        """Give a visitor without an id one, if consent is implied; False if they may not be tracked."""
        if not may_track(None):
            return False
        self.context.tracked_visitor_id()
        self.snapshot = self.context.snapshot
        self.new = True
        return True

    def send(self) -> EventsCapture | None:
        """The store's script (one round trip); ``None`` if the store can't run it (Redis down)."""
        if self.context.visitor_id is None and not self._new_visitor():
            return EventsCapture(CaptureOutcome.NOT_TRACKED)  # an anonymous visitor who never agreed: no I/O at all
        visitor_id = self.context.visitor_id
        assert visitor_id is not None
        capture = self.store.capture_events(
            visitor_id,
            self.batch.entries(visitor_id),
            client_ip=self.client_ip,
            new_snapshot=self.snapshot if self.new else None,
            has_session=self.has_session,
        )
        if self.new and capture is not None:
            self.context.mark_stored()  # the script stored the new visitor's snapshot
        return capture

    def read_db(self) -> None:
        """The visitor's snapshot from the DB (one query), written back to the store; else start again."""
        visitor_id = self.context.visitor_id
        if self.new or visitor_id is None:
            return
        self.snapshot = snapshot_from_db(visitor_id)
        if self.snapshot is None or (self.snapshot.user_id is not None and not self.has_session):
            self.snapshot = None
            self.context.forget()

    def without_script(self) -> BatchResult:
        """Redis is down (or the store has no script): the DB decides, and the events are spooled to it.

        Cost: at most one query (a visitor with a cookie) and one INSERT. No rate limits.
        """
        if self.snapshot is None:
            self.read_db()
        if self.snapshot is None and not self._new_visitor():
            return BatchResult()  # unknown, or a signed-out user's, and consent is required
        assert self.snapshot is not None
        if not tracking_allowed(self.request, self.snapshot):
            return BatchResult()
        self.batch.set_visitor(self.snapshot.visitor_id or "")
        enqueue(self.batch.events)  # Redis, if it is back; else one INSERT into the spool
        return BatchResult(accepted=len(self.batch), tracking=True)


def _events_part(visit: round_trip.Visit) -> round_trip.Part:
    rate = connection.key("rate", "visitor", visit.visitor_id), connection.key("rate", "ip", visit.client_ip)
    keys = [stream_key(), *rate]
    limits = (tailored_settings.EVENTS_RATE_PER_VISITOR or 0, tailored_settings.EVENTS_RATE_PER_IP or 0)
    return round_trip.Part(keys, [tailored_settings.STREAM_MAXLEN, FIELD, *limits, RATE_WINDOW, *visit.entries])


def _read_capture(reply: Any) -> EventsCapture:
    outcome, number = reply[0].decode(), int(reply[1])
    if outcome in ("visitor", "ip"):
        return EventsCapture(CaptureOutcome.OVER_LIMIT, limit=outcome, retry_after=number)
    return EventsCapture(CaptureOutcome(outcome), appended=number)


# The piece of the events/ trip (``round_trip.EVENTS``) behind the snapshot: the batch, rate limited and appended,
# if the snapshot says the visitor may be tracked. Its reply is what the store's ``capture_events`` returns.
EVENTS = round_trip.Piece("events", redis_scripts.load("events"), _events_part, read=_read_capture)
