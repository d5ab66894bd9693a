"""The event stream: the contract between the request path, which appends events, and Celery, which ingests them.

One Redis stream (``connection.key("events")``) read by one consumer group (``connection.key("ingest")``).
Each entry has exactly one field, ``e``, holding one event as compact JSON::

    {"i": "<event id, UUID>", "v": "<visitor id, UUID>", "n": "page_view", "t": 1767225600123,
     "p": {...}, "u": "/path/", "r": "https://referrer/...", "a": "<user agent>", "h": "host", "g": 42}

``t`` is milliseconds since the epoch (UTC); ``p`` (props), ``u`` (path), ``r`` (referrer), ``a`` (user agent),
``h`` (host) and ``g`` (CMS page id) are left out when empty. Ingest interprets the raw request facts (page,
topics, device class, referrer domain), so the request path does no work for them.

This module is the format's one encoder (``entry_parts``, which ``TrackedEvent.encode()`` and the ``events/``
endpoint use) and its one decoder (``TrackedEvent.decode``): to change the format, change these two.

The request path writes with ``append(pipeline, events)`` inside the pipeline it already sends (one round
trip for everything), or with ``delivery.enqueue(events)``, which sends its own pipeline and spools the events to the
database when Redis is down. Either way: no SQL while Redis answers.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

import orjson
from django.utils import timezone

from .. import connection
from ..conf import tailored_settings

if TYPE_CHECKING:
    import redis

__all__ = [
    "CLICK",
    "FIELD",
    "IMPRESSION",
    "NAME_MAX_LENGTH",
    "PAGE_VIEW",
    "TIME_ON_PAGE",
    "UTM_PARAMS",
    "InvalidEvent",
    "TrackedEvent",
    "append",
    "encode_props",
    "encode_text",
    "entry_parts",
    "group_name",
    "has_nul",
    "stream_key",
]

FIELD = "e"  # the one field of a stream entry
PAGE_VIEW = "page_view"  # the name of page view events
IMPRESSION = "impression"  # the beacon's: a tailored area shown, with its variants and their paths (results)
CLICK = "click"  # the beacon's: a click inside a variant or a widget
TIME_ON_PAGE = "time_on_page"  # the beacon's: seconds the page was visible
NAME_MAX_LENGTH = 64  # longest event name (Event.name's column)
UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign")  # query parameters a page view keeps in its props
_MAX_PAGE_ID = 2**31 - 1


class InvalidEvent(ValueError):
    """A stream entry or spooled row that does not decode to an event."""


def stream_key() -> str:
    """The Redis stream holding events not yet ingested."""
    return connection.key("events")


def group_name() -> str:
    """The consumer group Celery workers read ``stream_key()`` with."""
    return connection.key("ingest")


def new_event_id() -> str:
    return str(uuid.uuid4())


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uuid(value: Any) -> str:
    """``value`` as a canonical UUID string (a regex for the usual canonical form: far cheaper than ``uuid.UUID``)."""
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        return value
    return str(uuid.UUID(value))


# The one encoder of the format, in two parts so the events/ endpoint can measure props before it knows the
# visitor (``entry_parts``). A str as a JSON string, non-ASCII kept (as ``json.dumps(ensure_ascii=False)``):
encode_text = encode_basestring
_props_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str).encode


def encode_props(props: Mapping[str, Any]) -> str:
    """Props as an entry holds them: compact JSON, what JSON can't hold as ``str()``. Raises ``ValueError`` for a
    number JSON can't hold (infinite or not a number: ``1e400`` reads as infinite)."""
    return _props_json(props)


def entry_parts(event: TrackedEvent, props_json: str | None = None) -> tuple[str, str]:
    """The entry's JSON before and after the visitor id (a JSON string), in the format's key order.

    ``props_json``: the props already written by ``encode_props`` (``events/`` did, to measure them). Props of a
    server-side event with a number JSON can't hold are written with ``null`` for it: a page must not fail for it.
    """
    head = '{"i":' + encode_text(event.id) + ',"v":'
    tail = ',"n":' + encode_text(event.name) + ',"t":' + str(int(event.ts.timestamp() * 1000))
    if props_json is None and event.props:
        try:
            props_json = encode_props(event.props)
        except ValueError:
            props_json = encode_props(_finite(event.props))
    if props_json:
        tail += ',"p":' + props_json
    for key, value in (("u", event.path), ("r", event.referrer), ("a", event.user_agent), ("h", event.host)):
        if value:
            tail += f',"{key}":' + encode_text(value)
    if event.page_id:
        tail += ',"g":' + str(int(event.page_id))
    return head, tail + "}"


def _finite(value: Any) -> Any:
    """``value`` with every infinite or not-a-number float as ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


@dataclass(slots=True)
class TrackedEvent:
    """One thing a visitor did. ``id`` is the dedupe key: an event sent twice with one id is counted once."""

    visitor_id: str
    name: str
    id: str = field(default_factory=new_event_id)
    ts: datetime = field(default_factory=timezone.now)
    props: dict[str, Any] = field(default_factory=dict)
    # Raw facts of the request (page views), interpreted at ingest:
    path: str = ""
    referrer: str = ""
    user_agent: str = ""
    host: str = ""  # the request's Host: a referrer on the same host is internal navigation
    page_id: int | None = None  # when the request already knows its CMS page; else ingest resolves ``path``

    @classmethod
    def page_view(
        cls,
        visitor_id: str,
        path: str,
        *,
        referrer: str = "",
        user_agent: str = "",
        host: str = "",
        params: Mapping[str, str] | None = None,
        page_id: int | None = None,
        **kwargs: Any,
    ) -> TrackedEvent:
        """A page view from request facts; the UTM parameters found in ``params`` (e.g. ``request.GET``) go to props."""
        props = {name: str(params[name])[:200] for name in UTM_PARAMS if params and params.get(name)}
        return cls(
            visitor_id=str(visitor_id),
            name=PAGE_VIEW,
            path=path,
            referrer=referrer,
            user_agent=user_agent,
            host=host,
            page_id=page_id,
            props=props,
            **kwargs,
        )

    @property
    def is_page_view(self) -> bool:
        return self.name == PAGE_VIEW

    def encode(self) -> str:
        """The entry's JSON (``entry_parts`` around the visitor id)."""
        head, tail = entry_parts(self)
        return head + encode_text(self.visitor_id) + tail

    @classmethod
    def decode(cls, raw: bytes | str) -> TrackedEvent:
        """Parse and validate an entry's JSON; anything malformed raises ``InvalidEvent``."""
        try:
            data = _loads(raw)
            if not isinstance(data, dict):
                raise InvalidEvent("not a JSON object")
            name = data["n"]
            if not isinstance(name, str) or not 0 < len(name) <= NAME_MAX_LENGTH:
                raise InvalidEvent(f"bad name {name!r}")
            props = data.get("p") or {}
            if not isinstance(props, dict):
                raise InvalidEvent("props is not an object")
            page_id = data.get("g")
            if page_id is not None and (type(page_id) is not int or not 0 < page_id <= _MAX_PAGE_ID):
                raise InvalidEvent(f"bad page id {page_id!r}")
            millis = data["t"]
            if type(millis) not in (int, float):
                raise InvalidEvent(f"bad time {millis!r}")
            event_id, visitor_id = data["i"], data["v"]
            # The canonical form needs no parsing (checked inline: two calls per event add up in a batch).
            if type(event_id) is not str or not _CANONICAL_UUID.fullmatch(event_id):
                event_id = _uuid(event_id)
            if type(visitor_id) is not str or not _CANONICAL_UUID.fullmatch(visitor_id):
                visitor_id = _uuid(visitor_id)
            return cls(
                id=event_id,
                visitor_id=visitor_id,
                name=name,
                ts=datetime.fromtimestamp(millis / 1000, tz=UTC),
                props=props,
                path=_text(data.get("u")),
                referrer=_text(data.get("r")),
                user_agent=_text(data.get("a")),
                host=_text(data.get("h")),
                page_id=page_id,
            )
        except InvalidEvent:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, OSError) as exc:
            raise InvalidEvent(f"{type(exc).__name__}: {exc}") from exc


def _loads(raw: bytes | str) -> Any:
    """An entry's JSON, by orjson (decoding is the ingest's largest Python cost, and orjson's is far smaller), or by
    the standard library where orjson would change or refuse what the request path accepted: orjson reads an
    integer past 64 bits as a float (so props holding a float are read again, exactly) and refuses lone surrogates."""
    data = raw.encode() if isinstance(raw, str) else raw
    if b"\\u0000" in data:
        data = without_nul(data)
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
    props = parsed.get("p") if type(parsed) is dict else None
    if props and type(props) is dict and _holds_float(props.values()):
        return json.loads(data)
    return parsed


def _holds_float(values: Iterable[Any]) -> bool:
    for value in values:
        kind = type(value)
        if kind is float:
            return True
        if (kind is dict and _holds_float(value.values())) or (kind is list and _holds_float(value)):
            return True
    return False


# A JSON escape of U+0000: ``\u0000`` after an even number of backslashes (an odd number escapes the first one, and
# the text is a backslash followed by "u0000"). Strings hold no raw control characters in JSON, so this is all.
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def without_nul(data: bytes) -> bytes:
    """The entry's JSON with every NUL character taken out of its strings: PostgreSQL refuses NUL in text and
    jsonb, and one such event must not fail a whole batch. Only events the server made can hold one (a page
    view's path or UTM parameters, a server-side event's props): ``events/`` refuses them (``has_nul``)."""
    return _NUL_ESCAPE.sub(rb"\1", data)


def has_nul(json_text: str) -> bool:
    """Whether JSON written by ``encode_props`` holds a NUL character in a string (as data, not as text)."""
    return "\\u0000" in json_text and _NUL_ESCAPE.search(json_text.encode()) is not None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidEvent(f"not a string: {value!r}")
    return value


def append(pipeline: redis.client.Pipeline, events: Iterable[TrackedEvent]) -> int:
    """Queue one ``XADD`` per event on the caller's pipeline and return how many; the caller executes it.

    The stream is trimmed to about ``STREAM_MAXLEN`` entries (``MAXLEN ~``: cheap, whole nodes at a time).
    Cost: no I/O here; the caller's ``execute()`` is the one round trip.
    """
    key = stream_key()
    maxlen = tailored_settings.STREAM_MAXLEN
    count = 0
    for event in events:
        pipeline.xadd(key, {FIELD: event.encode()}, maxlen=maxlen, approximate=True)
        count += 1
    return count
