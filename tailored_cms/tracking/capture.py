"""Capture on the request path: page views (by the middleware) and server-side events (``record_event``).

No SQL while Redis answers. A page view rides on the snapshot read (``SnapshotStore.get_and_capture``), so a
tracked page view costs the same single Redis round trip as an untracked one. Server-side events wait in
``request.tailored`` and go out in one pipelined call when the response is done.

Under ``EDGE_MODE`` the beacon sends the page views instead (``page_views_from_beacon``): a page a shared cache
serves never reaches the site, so only the page itself can say it was viewed, and the middleware captures none, so
that a page that does reach the site (a miss) is counted once too.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

from .. import redis_scripts, round_trip
from ..conf import tailored_settings
from ..visitors.consent import tracking_allowed
from ..visitors.request import visitor_context
from .stream import FIELD, TrackedEvent, stream_key

# Cheap first filter for crawlers on the request path; ingest drops the rest with ua-parser's full list.
_BOT = re.compile(r"bot|crawl|spider|slurp|scrap|fetch|preview|monitor|curl|wget|python-|headless", re.IGNORECASE)
# Query parameters of django CMS's editing views: editors at work are not visitors.
_EDITING = ("edit", "structure", "preview", "toolbar_on", "toolbar_off")


def page_views_from_beacon() -> bool:
    """Whether the beacon sends the page views (``EDGE_MODE``) rather than the middleware capturing them. No I/O."""
    return bool(tailored_settings.EDGE_MODE)


def is_page_view(request: HttpRequest) -> bool:
    """Whether this request would count as a page view (no I/O): a browser navigating to a page."""
    if request.method != "GET":
        return False
    # Fetches (our own customize.js refresh included), iframes and prefetches are not views of a page.
    if request.headers.get("Sec-Fetch-Dest", "document") != "document" or request.headers.get("Sec-Purpose"):
        return False
    if any(name in request.GET for name in _EDITING):
        return False
    if untracked_path(request.path_info):
        return False
    return not is_crawler(request.headers.get("User-Agent", ""))


def untracked_path(path: str) -> bool:
    """A path whose views are never counted: static files, media, ``UNTRACKED_PATHS``. No I/O."""
    return path.startswith(_excluded_prefixes())


def is_crawler(user_agent: str) -> bool:
    """A user agent whose page views are not counted (a cheap first filter; ingest drops the rest). No I/O."""
    return _BOT.search(user_agent) is not None


def _excluded_prefixes() -> tuple[str, ...]:
    prefixes = [settings.STATIC_URL or "", settings.MEDIA_URL or "", *tailored_settings.UNTRACKED_PATHS]
    return tuple(p if p.startswith("/") else "/" + p for p in prefixes if p and p != "/")


def page_view(request: HttpRequest, visitor_id: str) -> TrackedEvent:
    """The page view event of ``request``: raw facts only, ingest interprets them."""
    return TrackedEvent.page_view(
        visitor_id,
        request.path,
        referrer=request.headers.get("Referer", "")[:500],
        user_agent=request.headers.get("User-Agent", "")[:500],
        host=_host(request),
        params=request.GET,
    )


def _host(request: HttpRequest) -> str:
    try:
        return request.get_host()
    except DisallowedHost:  # the page itself will answer 400
        return ""


def _page_view_part(visit: round_trip.Visit) -> round_trip.Part:
    event: TrackedEvent | None = visit.page_view
    return round_trip.Part(
        [stream_key()], [tailored_settings.STREAM_MAXLEN, FIELD, event.encode() if event is not None else ""]
    )


# A piece of the page trip (``round_trip.PAGE``): the page view, appended if the snapshot says the visitor may be
# tracked; its reply says whether it was (the store's ``get_and_capture``).
PAGE_VIEW = round_trip.Piece("page_view", redis_scripts.load("page_view"), _page_view_part, read=bool)


def record_event(request: HttpRequest, name: str, **props: Any) -> TrackedEvent | None:
    """A server-side event (a sign-up, a purchase: a goal), sent when the response is done.

    Nothing is recorded if the visitor may not be tracked; then ``None``.
    """
    context = visitor_context(request)
    if not tracking_allowed(request, context.snapshot):
        return None
    event = TrackedEvent(visitor_id=context.tracked_visitor_id(), name=name, props=props)
    context.pending_events.append(event)
    return event
