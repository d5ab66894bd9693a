"""``request.tailored``: the visitor of this request, resolved once by the middleware.

It composes the layers below for one request: the visitor (cookie, snapshot, consent), the page view tracking
captures, the segments rules say the visitor is in on this request, and the events sent when the response is done.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone
from django.utils.cache import has_vary_header, patch_cache_control, patch_vary_headers

from .areas.page_cache import page_expires_in, page_vary_headers
from .conf import tailored_settings
from .edge import responses as edge
from .rules import request_time
from .rules.active import refresh_active_segments
from .tracking.capture import is_page_view, page_view, page_views_from_beacon
from .tracking.delivery import enqueue
from .tracking.stream import TrackedEvent
from .visitors.accessibility import ACCEPT_CH, HINT_HEADERS, MOTIONS, browser_preferences
from .visitors.buckets import holdout_bucket, in_holdout
from .visitors.consent import consent_state, opted_out_by_browser, tracking_allowed
from .visitors.identity import delete_visitor_cookie, read_visitor_id, set_visitor_cookie
from .visitors.snapshot import Snapshot
from .visitors.store import get_store, snapshot_from_db

logger = logging.getLogger(__name__)
_KEEP = object()


class VisitorContext:
    """Who the visitor is and what they chose. Reading ``snapshot`` marks the response as visitor-dependent."""

    # An editor previewing as another visitor (``editors.preview.PreviewContext``): vary keys unique to the
    # request, so nothing rendered for it is ever cached or counted towards an area's cached copies.
    is_preview = False
    # The moment the page is shown as of, for campaign windows (``areas.windows.moment``): None is now; an editor's
    # preview may set another.
    as_on: datetime | None = None

    def __init__(
        self, snapshot: Snapshot, *, drop_cookie: bool = False, load: Callable[[], Snapshot | None] | None = None
    ) -> None:
        self._snapshot = snapshot
        # Set for the events/ endpoint, which reads the snapshot in its own round trip: ``snapshot`` then loads
        # it on first use only (``None`` from ``load``: an unknown visitor, who starts again).
        self._load = load
        self.depends_on_visitor = False
        # _KEEP: leave the cookie alone; None: delete it; a str: (re)issue it for that visitor id.
        self._cookie: object = None if drop_cookie else _KEEP
        self._minted = False  # a visitor id made up for tracking this request (no row, no snapshot yet)
        self.pending_events: list[TrackedEvent] = []  # sent in one round trip when the response is done
        self._segments: tuple[Snapshot, tuple[str, ...]] | None = None  # (for which snapshot, the slugs)
        self._consulted: set[str] = set()  # the request facts the segments' rules read (``RequestFacts``)
        self.used_browser_hints = False  # the page shows what the browser's client hints ask for

    @property
    def snapshot(self) -> Snapshot:
        self.depends_on_visitor = True
        if self._load is not None:
            load, self._load = self._load, None
            snapshot = load()
            if snapshot is None:
                self.forget()
            else:
                self._snapshot = snapshot
        return self._snapshot

    @property
    def visitor_id(self) -> str | None:
        """The visitor's id (before ``snapshot`` was loaded: the cookie's, not yet checked against the store)."""
        return self._snapshot.visitor_id

    def variant_key(self, request: HttpRequest) -> str:
        """What tailored areas vary on: the snapshot's choices and this request's segments (no SQL).

        Visitors in no segment keep the snapshot's key, so customization alone costs no extra cache copies.
        """
        if self._load is not None:
            return self._snapshot.variant_key  # events/: renders nothing tailored, and must not load here
        segments = self._request_segments(request)
        if not segments:
            return self._snapshot.variant_key
        digest = hashlib.blake2b(" ".join(segments).encode(), digest_size=8).hexdigest()
        return f"{self._snapshot.variant_key}-{digest}"

    @property
    def widgets_key(self) -> str:
        return self._snapshot.widgets_key

    @property
    def holdout_key(self) -> str:
        """What areas with a holdout vary on: the visitor's bucket, ``"0"``–``"99"``; ``""`` without an id.

        No I/O (a hash of the id). See ``selection.in_holdout`` for why the bucket alone is enough.
        """
        visitor_id = self._snapshot.visitor_id
        return str(holdout_bucket(visitor_id)) if visitor_id else ""

    def in_holdout(self, area_key: str, percent: int) -> bool:
        """``True`` if the visitor is in that area's holdout (no I/O)."""
        return in_holdout(self._snapshot.visitor_id, area_key, percent)

    def browser_preferences(self, request: HttpRequest) -> tuple[str, str]:
        """(theme, motion) the browser's client hints ask for where the visitor chose none (no I/O)."""
        if self._load is not None:
            return "", ""  # events/: renders no page
        snapshot = self._snapshot
        return browser_preferences(
            request, theme_chosen=snapshot.theme in tailored_settings.THEMES, motion_chosen=snapshot.motion in MOTIONS
        )

    def prefers_key(self, request: HttpRequest) -> str:
        """What the page varies on for the browser's preferences: e.g. ``"dark reduced"``, ``""`` (no I/O)."""
        return " ".join(value for value in self.browser_preferences(request) if value)

    def consent_state(self, request: HttpRequest) -> str:
        """``consent.TRACKED``, ``ASK`` or ``NOT_TRACKED``, for the caches' vary header (no I/O)."""
        return consent_state(request, self._snapshot)

    def segments(self, request: HttpRequest) -> tuple[str, ...]:
        """Slugs of the active segments the visitor is in on this request (request-time rules checked), once.

        Cost: no SQL. No Redis either when the snapshot's round trip brought the active segments (every visitor
        with a cookie); otherwise (no cookie) one round trip if this process's copy is over a second old.
        """
        segments = self._request_segments(request)
        self.depends_on_visitor = True
        return segments

    def _request_segments(self, request: HttpRequest) -> tuple[str, ...]:
        """``segments`` without marking the response as the visitor's (the middleware's vary key needs them)."""
        if self._load is not None:
            self.snapshot  # noqa: B018 -- load it (events/ defers the load to its own round trip)
        if self._segments is None or self._segments[0] is not self._snapshot:
            # Visitors with a cookie got the active segments with their snapshot; others refresh this process's
            # copy at most once a second, on requests that render pages (not on POSTs such as events/).
            if request.method in ("GET", "HEAD") and request_time.is_stale():
                refresh_active_segments()
            facts = request_time.RequestFacts(request, self._snapshot)
            self._segments = (self._snapshot, request_time.segments_for(self._snapshot, request, facts=facts))
            self._consulted = facts.consulted
        return self._segments[1]

    def edge_key(self) -> tuple[str, str]:
        """(key, holdout bucket) of the visitor for an edge cache (``edge.responses.edge_key``). No I/O."""
        return edge.edge_key(self._snapshot, request_time.active_segments().computed), self.holdout_key

    def switch(self, snapshot: Snapshot) -> None:
        """From now on this request (and the visitor's next ones, via the cookie) is ``snapshot``'s visitor."""
        if snapshot.visitor_id != self._snapshot.visitor_id:
            self._cookie = snapshot.visitor_id
        self._snapshot = snapshot
        self._load = None

    def tracked_visitor_id(self) -> str:
        """The visitor's id; a visitor without one gets a new id (and cookie) to be tracked under."""
        if self._snapshot.visitor_id is None:
            self._snapshot = Snapshot(visitor_id=str(uuid.uuid4()))
            self._cookie = self._snapshot.visitor_id
            self._minted = True
            self._load = None
        return self._snapshot.visitor_id  # type: ignore[return-value]  # given one just above when it had none

    def mark_stored(self) -> None:
        """The store already holds a new visitor's snapshot (the events/ script wrote it): don't write it again."""
        self._minted = False

    def forget(self) -> None:
        """Back to a fresh anonymous visitor (logout, erase)."""
        self._snapshot = Snapshot()
        self._cookie = None
        self._load = None

    def finish(self, request: HttpRequest, response: HttpResponse) -> None:
        self._send_events()
        if response.get("Content-Type", "").startswith("text/html") and not response.has_header("Accept-CH"):
            # Browsers that support them send these on their next requests (over HTTPS): the page then follows
            # the visitor's colour scheme and motion preferences from the server too (CSS media queries meanwhile).
            response["Accept-CH"] = ACCEPT_CH
        if self.used_browser_hints or has_vary_header(response, tailored_settings.PREFERS_VARY_HEADER):
            patch_vary_headers(response, HINT_HEADERS)
        if self._cookie is None:
            delete_visitor_cookie(response)
        elif self._cookie is not _KEEP:
            set_visitor_cookie(response, str(self._cookie))
        tailored = self.depends_on_visitor or _varies_on_tailoring(response)
        if tailored_settings.EDGE_MODE and self._load is None:
            key, bucket = self.edge_key()
            shared = edge.share(
                request,
                response,
                tailored=tailored,
                key=key,
                bucket=bucket,
                page_headers=page_vary_headers(request),
                consulted=self._consulted,
                own_cookies=self._cookie is not _KEEP or edge.stale_cookie(request, key, bucket),
                expires_in=page_expires_in(request, response, timezone.now()),
            )
            edge.keep_key_cookie(request, response, key, bucket)
            if shared:
                return
            if tailored:
                patch_cache_control(response, private=True, no_store=True)
        if tailored:
            # Downstream caches can't see our internal vary headers: the response is this visitor's.
            patch_vary_headers(response, ["Cookie"])
            patch_cache_control(response, private=True, no_cache=True, max_age=0)
            # The CMS page cache sets Expires for its own lifetime; a browser must not reuse this copy either.
            if response.has_header("Expires"):
                del response["Expires"]

    def _send_events(self) -> None:
        """Cost: nothing, or one round trip for the events (plus one to store a new visitor's snapshot)."""
        if self._minted and self._snapshot.visitor_id:
            get_store().set(self._snapshot)  # so the visitor's next request knows the new id
        if not self.pending_events:
            return
        try:
            enqueue(self.pending_events)  # Redis, or the database when Redis is down
        except DatabaseError:
            logger.exception("Neither Redis nor the database took %d events: dropped", len(self.pending_events))
        self.pending_events = []


def _varies_on_tailoring(response: HttpResponse) -> bool:
    headers = (
        tailored_settings.VARY_HEADER,
        tailored_settings.WIDGETS_VARY_HEADER,
        tailored_settings.CONSENT_VARY_HEADER,
    )
    return any(has_vary_header(response, header) for header in headers)


def resolve_visitor(request: HttpRequest) -> VisitorContext:
    """Who is visiting, and their page view captured if they may be tracked (not under ``EDGE_MODE``: the beacon).

    Cost: no cookie, nothing (one write if a new visitor is tracked under implied consent); with a cookie,
    one store round trip that also captures the page view. A store miss adds two DB queries and two writes.
    For events/, nothing: its view reads the snapshot in the one round trip that also stores the events.
    """
    cookie_present = tailored_settings.COOKIE_NAME in request.COOKIES
    visitor_id = read_visitor_id(request) if cookie_present else None
    if visitor_id is not None and request.path == _events_path(request):
        # Loaded only if something asks for it (the view doesn't). The snapshot's vary keys stay the defaults:
        # events/ renders nothing tailored.
        return VisitorContext(
            Snapshot(visitor_id=visitor_id),
            load=lambda: _checked(request, get_store().get(visitor_id) or snapshot_from_db(visitor_id)),
        )
    # Under EDGE_MODE the page's beacon sends its view (a page the edge serves never reaches the site): captured
    # here too, a page that does reach the site would count twice.
    trackable = not page_views_from_beacon() and is_page_view(request) and not opted_out_by_browser(request)
    if visitor_id is None:
        # No cookie, or a tampered one: a fresh anonymous visitor.
        context = VisitorContext(Snapshot(), drop_cookie=cookie_present)
        if trackable and tailored_settings.CONSENT == "implied":
            context.pending_events.append(page_view(request, context.tracked_visitor_id()))
        return context
    store = get_store()
    if trackable:
        snapshot, captured = store.get_and_capture(visitor_id, page_view(request, visitor_id))
    else:
        snapshot, captured = store.get(visitor_id), False
    snapshot = _checked(request, snapshot or snapshot_from_db(visitor_id))
    if snapshot is None:
        return VisitorContext(Snapshot(), drop_cookie=True)
    context = VisitorContext(snapshot)
    if trackable and not captured and tracking_allowed(request, snapshot):
        context.pending_events.append(page_view(request, visitor_id))  # the store couldn't (miss, Redis down)
    return context


def _checked(request: HttpRequest, snapshot: Snapshot | None) -> Snapshot | None:
    """``snapshot`` if it is this request's visitor; ``None`` if the visitor must start again."""
    if snapshot is None:
        return None  # signed by us but unknown (erased, expired)
    if snapshot.user_id is not None and not _is_user(request, snapshot.user_id):
        # A signed-in user's choices, but that user is not signed in here (session ended): don't show them.
        return None
    return snapshot


# The events/ endpoint's path per (urlconf, script prefix): reversed once, then a dict lookup per request.
_events_paths: dict[tuple[str, str], str | None] = {}


def _events_path(request: HttpRequest) -> str | None:
    """Where events/ is served for this request's urlconf (``None`` if the site doesn't route it)."""
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    cache_key = (urlconf, get_script_prefix())
    try:
        return _events_paths[cache_key]
    except KeyError:
        pass
    try:
        path: str | None = reverse("tailored_cms:api:events", urlconf=urlconf)
    except NoReverseMatch:
        path = None
    _events_paths[cache_key] = path
    return path


def _forget_events_paths(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _events_paths.clear()


setting_changed.connect(_forget_events_paths)


def _is_user(request: HttpRequest, user_id: int) -> bool:
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.pk == user_id)
