"""The ``events/`` endpoint's work: a page's batch of events (from ``navigator.sendBeacon``), checked and captured.

``parse_batch`` (``beacon_batch``) checks the body. ``capture_batch`` stores the events if the visitor may be
tracked, in ONE Redis round trip while Redis answers: the snapshot store's script reads and renews the
visitor's snapshot, decides consent, counts the per-visitor and per-IP rate limits and appends the events to
the stream. No SQL. A visitor Redis no longer holds (expired) costs one query and two more round trips, once;
with Redis down the database decides and the events are spooled to it (rate limits are then not enforced).
"""

from __future__ import annotations

from dataclasses import dataclass
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
from .beacon_batch import Batch
from .delivery import enqueue
from .stream import FIELD, stream_key

if TYPE_CHECKING:
    from ..visitors.snapshot import Snapshot

__all__ = ["BatchResult", "capture_batch", "client_ip", "cross_site_origin"]


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
    if capture.snapshot is not None and capture.outcome != CaptureOutcome.SIGNED_OUT:
        # EDGE_MODE: the response gives the visitor their current edge key (a segment the worker put them in since
        # their last page from the site shows on their next pages, not only when the key cookie ends).
        state.context.switch(capture.snapshot)
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
