"""The ``events/`` endpoint's check of a page's batch of events (from ``navigator.sendBeacon``).

``parse_batch`` checks the body by hand: plain checks on the decoded JSON, since this is on the hot path and a
serializer per event costs several times more. ``beacon.capture_batch`` then stores the checked batch.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext, ngettext

from ..conf import tailored_settings
from .capture import is_crawler, page_views_from_beacon, untracked_path
from .stream import (
    NAME_MAX_LENGTH,
    PAGE_VIEW,
    UTM_PARAMS,
    TrackedEvent,
    encode_props,
    encode_text,
    entry_parts,
    has_nul,
)

__all__ = ["BadBatch", "Batch", "parse_batch"]

PATH_MAX_LENGTH = 500
REFERRER_MAX_LENGTH = 500
USER_AGENT_MAX_LENGTH = 500
# What a page view the beacon sends may say besides its page's path: what the middleware reads of the request.
PAGE_VIEW_PROPS = ("referrer", *UTM_PARAMS)
EVENT_FIELDS = ("id", "name", "ts", "props", "path")
_EVENT_FIELDS = frozenset(EVENT_FIELDS)
_NAME = re.compile(r"[A-Za-z0-9_.:-]+")  # the length is checked apart (NAME_MAX_LENGTH)
# An event id: a UUID in its usual form, any case (a regex: far cheaper than ``uuid.UUID``, and no other forms).
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


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


def _name_rule() -> str:
    return gettext("1 to %(count)s letters, digits and _ . : -") % {"count": NAME_MAX_LENGTH}


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

    A time in the future or older than ``EVENT_MAX_AGE`` becomes ``now``; one without a time is ``now``. A page view
    (``EDGE_MODE`` only) from a crawler's user agent or of an untracked path is left out, as the middleware would.
    Raises ``BadBatch`` naming the first problem. Cost: no I/O; one ``json.loads``, and one ``json.dumps`` per
    event with props (to measure them; the stream entry reuses it).
    """
    items = _event_items(raw)
    max_props = tailored_settings.EVENT_MAX_PROPS
    max_prop_bytes = tailored_settings.EVENT_MAX_PROP_BYTES
    oldest = now - timedelta(seconds=tailored_settings.EVENT_MAX_AGE)
    user_agent = user_agent[:USER_AGENT_MAX_LENGTH]
    crawler = is_crawler(user_agent)
    seen: dict[str, int] = {}
    events: list[TrackedEvent] = []
    parts: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise BadBatch(gettext("not an object"), index)
        if not item.keys() <= _EVENT_FIELDS:
            unknown = next(key for key in item if key not in EVENT_FIELDS)
            message = gettext("unknown field (an event has %(fields)s)") % {"fields": ", ".join(EVENT_FIELDS)}
            raise BadBatch(message, index, unknown[:100])

        event_id = item.get("id")
        if type(event_id) is not str or not _ID.fullmatch(event_id):
            problem = gettext("missing") if event_id is None else gettext("not a UUID")
            message = gettext("%(problem)s: each event needs a UUID of its own (the dedupe key)")
            raise BadBatch(message % {"problem": problem}, index, "id")
        event_id = event_id.lower()
        if event_id in seen:
            raise BadBatch(gettext("the same id as events[%(index)s]") % {"index": seen[event_id]}, index, "id")
        seen[event_id] = index

        name = item.get("name")
        if type(name) is not str or len(name) > NAME_MAX_LENGTH or not _NAME.fullmatch(name):
            problem = gettext("missing") if name is None else gettext("invalid")
            raise BadBatch(f"{problem}: {_name_rule()}", index, "name")
        if name == PAGE_VIEW and not page_views_from_beacon():
            message = gettext("%(name)r is reserved: the server counts page views itself") % {"name": PAGE_VIEW}
            raise BadBatch(message, index, "name")
        ts = _event_time(item.get("ts"), index, now, oldest)
        if name == PAGE_VIEW:
            event = _page_view(item, index, event_id, ts, user_agent, host)
            if event is not None and not crawler:  # else not counted, as the middleware counts no such view
                events.append(event)
                parts.append(entry_parts(event))
            continue
        props, props_json = _event_props(item.get("props"), index, max_props, max_prop_bytes)
        path = _event_path(item.get("path"), index)
        event = TrackedEvent(
            visitor_id="", name=name, id=event_id, ts=ts, props=props, path=path, user_agent=user_agent, host=host
        )
        events.append(event)
        parts.append(entry_parts(event, props_json))
    return Batch(events, parts)


def _page_view(
    item: dict[str, Any], index: int, event_id: str, ts: datetime, user_agent: str, host: str
) -> TrackedEvent | None:
    """A page view the beacon sent (``EDGE_MODE``), ``None`` for an untracked path; ``BadBatch`` unless it names the
    page's path and, in its props, nothing but what the middleware would read of the request (``PAGE_VIEW_PROPS``).

    Its topics are never the client's to say: ingest finds them from the path's CMS page, so a path that is no CMS
    page counts nothing, and a forged view of a real page counts what viewing that page counts.
    """
    path = _event_path(item.get("path"), index)
    if not path:
        raise BadBatch(gettext("a page view needs the page's path"), index, "path")
    props = item.get("props")
    if props is None:
        props = {}
    if type(props) is not dict:
        raise BadBatch(gettext("must be an object"), index, "props")
    for key, value in props.items():
        if key not in PAGE_VIEW_PROPS or type(value) is not str:
            message = gettext("a page view's props are %(names)s, as text, and nothing else")
            raise BadBatch(message % {"names": ", ".join(PAGE_VIEW_PROPS)}, index, "props")
        _checked_text(value, index, "props")
    if untracked_path(path):
        return None
    referrer = props.get("referrer", "")[:REFERRER_MAX_LENGTH]
    return TrackedEvent.page_view(
        "", path, referrer=referrer, user_agent=user_agent, host=host, params=props, id=event_id, ts=ts
    )


def _event_items(raw: bytes) -> list[Any]:
    """The list of a body ``{"events": [...]}``, of 1 to ``EVENTS_MAX_BATCH`` items; else ``BadBatch``."""
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadBatch(gettext("the body is not JSON (%(error)s)") % {"error": exc}) from None
    if type(data) is not dict:
        raise BadBatch(gettext('the body must be a JSON object: {"events": [...]}'))
    for key in data:
        if key != "events":
            raise BadBatch(gettext('unknown key: the body is {"events": [...]}'), field=key[:100])
    items = data.get("events")
    max_batch = tailored_settings.EVENTS_MAX_BATCH
    if type(items) is not list:
        raise BadBatch(gettext("a list of events is required"), field="events")
    if not 0 < len(items) <= max_batch:
        message = ngettext(
            "send 1 to %(count)s event per request, not %(sent)s",
            "send 1 to %(count)s events per request, not %(sent)s",
            max_batch,
        )
        raise BadBatch(message % {"count": max_batch, "sent": len(items)}, field="events")
    return items


def _event_time(ts: Any, index: int, now: datetime, oldest: datetime) -> datetime:
    """An event's ``ts``: ``now`` if absent, in the future or older than ``oldest``; ``BadBatch`` if unreadable."""
    if ts is None:
        return now
    try:
        ts = datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        raise BadBatch(gettext("not an ISO 8601 time, e.g. 2026-03-02T09:00:00Z"), index, "ts") from None
    if ts.tzinfo is None:
        raise BadBatch(gettext("needs a time zone, e.g. 2026-03-02T09:00:00Z"), index, "ts")
    if ts > now or ts < oldest:
        return now  # a wrong clock, or an event kept too long: dated when received
    return ts


def _event_props(props: Any, index: int, max_props: int, max_bytes: int) -> tuple[dict[str, Any], str]:
    """An event's ``props`` and their JSON (``""`` for none); ``BadBatch`` if they can't be stored as sent."""
    if props is None:
        return {}, ""
    if type(props) is not dict:
        raise BadBatch(gettext("must be an object"), index, "props")
    if not props:
        return props, ""
    if len(props) > max_props:
        message = ngettext("more than %(count)s property", "more than %(count)s properties", max_props)
        raise BadBatch(message % {"count": max_props}, index, "props")
    return props, _checked_props_json(props, index, max_bytes)


def _event_path(path: Any, index: int) -> str:
    """An event's ``path`` (``""`` if absent); ``BadBatch`` unless a storable path starting with /."""
    if path is None:
        return ""
    if type(path) is not str or not path.startswith("/") or len(path) > PATH_MAX_LENGTH:
        message = gettext("must be a path starting with / (at most %(count)s characters)")
        raise BadBatch(message % {"count": PATH_MAX_LENGTH}, index, "path")
    _checked_text(path, index, "path")
    return path


def _checked_text(text: str, index: int, field: str) -> None:
    """``BadBatch`` unless ``text`` can be stored as sent: valid Unicode, no NUL character."""
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise BadBatch(gettext("text that is not valid Unicode"), index, field) from None
    if "\x00" in text:
        raise BadBatch(_nul(), index, field)


def _nul() -> str:
    return gettext("text with a NUL character (U+0000), which can't be stored")


def _checked_props_json(props: dict[str, Any], index: int, max_bytes: int) -> str:
    """The props' JSON (``encode_props``), if it can be stored exactly as sent; else ``BadBatch``."""
    try:
        props_json = encode_props(props)
    except ValueError:  # 1e400 and the like: Python reads them as infinite, and no database stores that
        key = next(key for key, value in props.items() if not _is_finite(value))
        message = gettext("%(key)r holds a number too large to store") % {"key": key[:100]}
        raise BadBatch(message, index, "props") from None
    try:
        size = len(props_json.encode())
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"): JSON can say it, UTF-8 (and Redis) can't
        raise BadBatch(gettext("text that is not valid Unicode"), index, "props") from None
    if size > max_bytes:
        message = ngettext(
            "%(size)s byte as JSON, more than %(most)s", "%(size)s bytes as JSON, more than %(most)s", size
        )
        raise BadBatch(message % {"size": size, "most": max_bytes}, index, "props")
    if has_nul(props_json):  # PostgreSQL refuses it in jsonb: refused here rather than changed later
        raise BadBatch(_nul(), index, "props")
    return props_json


def _is_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_is_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_is_finite(item) for item in value)
    return True
