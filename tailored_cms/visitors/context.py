"""``request.tailored``: the visitor of this request, resolved once by the middleware."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header, patch_cache_control, patch_vary_headers

from ..conf import tailored_settings
from ..tracking.capture import is_page_view, page_view
from ..tracking.stream import TrackedEvent, enqueue
from .consent import opted_out_by_browser, tracking_allowed
from .identity import delete_visitor_cookie, read_visitor_id, set_visitor_cookie
from .models import Visitor
from .snapshot import Snapshot
from .store import get_store

logger = logging.getLogger(__name__)
_KEEP = object()


class VisitorContext:
    """Who the visitor is and what they chose. Reading ``snapshot`` marks the response as visitor-dependent."""

    def __init__(self, snapshot: Snapshot, *, drop_cookie: bool = False) -> None:
        self._snapshot = snapshot
        self.depends_on_visitor = False
        # _KEEP: leave the cookie alone; None: delete it; a str: (re)issue it for that visitor id.
        self._cookie: object = None if drop_cookie else _KEEP
        self._minted = False  # a visitor id made up for tracking this request (no row, no snapshot yet)
        self.pending_events: list[TrackedEvent] = []  # sent in one round trip when the response is done

    @property
    def snapshot(self) -> Snapshot:
        self.depends_on_visitor = True
        return self._snapshot

    @property
    def visitor_id(self) -> str | None:
        return self._snapshot.visitor_id

    @property
    def variant_key(self) -> str:
        return self._snapshot.variant_key

    @property
    def widgets_key(self) -> str:
        return self._snapshot.widgets_key

    def switch(self, snapshot: Snapshot) -> None:
        """From now on this request (and the visitor's next ones, via the cookie) is ``snapshot``'s visitor."""
        if snapshot.visitor_id != self._snapshot.visitor_id:
            self._cookie = snapshot.visitor_id
        self._snapshot = snapshot

    def tracked_visitor_id(self) -> str:
        """The visitor's id; a visitor without one gets a new id (and cookie) to be tracked under."""
        if self._snapshot.visitor_id is None:
            self._snapshot = Snapshot(visitor_id=str(uuid.uuid4()))
            self._cookie = self._snapshot.visitor_id
            self._minted = True
        return self._snapshot.visitor_id

    def forget(self) -> None:
        """Back to a fresh anonymous visitor (logout, erase)."""
        self._snapshot = Snapshot()
        self._cookie = None

    def finish(self, request: HttpRequest, response: HttpResponse) -> None:
        self._send_events()
        if self._cookie is None:
            delete_visitor_cookie(response)
        elif self._cookie is not _KEEP:
            set_visitor_cookie(response, str(self._cookie))
        if self.depends_on_visitor or _varies_on_tailoring(response):
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
    return has_vary_header(response, tailored_settings.VARY_HEADER) or has_vary_header(
        response, tailored_settings.WIDGETS_VARY_HEADER
    )


def snapshot_from_db(visitor_id: str) -> Snapshot | None:
    """After a store miss: one DB query, and the snapshot written back to the store."""
    visitor = Visitor.objects.filter(pk=visitor_id).first()
    if visitor is None:
        return None
    snapshot = Snapshot.from_visitor(visitor)
    get_store().set(snapshot)
    return snapshot


def resolve_visitor(request: HttpRequest) -> VisitorContext:
    """Who is visiting, and their page view captured if they may be tracked.

    Cost: no cookie, nothing (one write if a new visitor is tracked under implied consent); with a cookie,
    one store round trip that also captures the page view. A store miss adds one DB query and two writes.
    """
    cookie_present = tailored_settings.COOKIE_NAME in request.COOKIES
    visitor_id = read_visitor_id(request) if cookie_present else None
    trackable = is_page_view(request) and not opted_out_by_browser(request)
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
    if snapshot is None:
        snapshot = snapshot_from_db(visitor_id)
    if snapshot is None:
        # Signed by us but unknown (erased, expired): start again.
        return VisitorContext(Snapshot(), drop_cookie=True)
    if snapshot.user_id is not None and not _is_user(request, snapshot.user_id):
        # A signed-in user's choices, but that user is not signed in here (session ended): don't show them.
        return VisitorContext(Snapshot(), drop_cookie=True)
    context = VisitorContext(snapshot)
    if trackable and not captured and tracking_allowed(request, snapshot):
        context.pending_events.append(page_view(request, visitor_id))  # the store couldn't (miss, Redis down)
    return context


def _is_user(request: HttpRequest, user_id: int) -> bool:
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.pk == user_id)
