"""``request.tailored``: the visitor of this request, resolved once by the middleware."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header, patch_cache_control, patch_vary_headers

from ..conf import tailored_settings
from .identity import delete_visitor_cookie, read_visitor_id, set_visitor_cookie
from .models import Visitor
from .snapshot import Snapshot
from .store import get_store

_KEEP = object()


class VisitorContext:
    """Who the visitor is and what they chose. Reading ``snapshot`` marks the response as visitor-dependent."""

    def __init__(self, snapshot: Snapshot, *, drop_cookie: bool = False) -> None:
        self._snapshot = snapshot
        self.depends_on_visitor = False
        # _KEEP: leave the cookie alone; None: delete it; a str: (re)issue it for that visitor id.
        self._cookie: object = None if drop_cookie else _KEEP

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

    def forget(self) -> None:
        """Back to a fresh anonymous visitor (logout, erase)."""
        self._snapshot = Snapshot()
        self._cookie = None

    def finish(self, request: HttpRequest, response: HttpResponse) -> None:
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


def _varies_on_tailoring(response: HttpResponse) -> bool:
    return has_vary_header(response, tailored_settings.VARY_HEADER) or has_vary_header(
        response, tailored_settings.WIDGETS_VARY_HEADER
    )


def load_snapshot(visitor_id: str) -> Snapshot | None:
    """The visitor's snapshot: one store round trip; on a miss one DB query and a store write."""
    store = get_store()
    snapshot = store.get(visitor_id)
    if snapshot is not None:
        return snapshot
    visitor = Visitor.objects.filter(pk=visitor_id).first()
    if visitor is None:
        return None
    snapshot = Snapshot.from_visitor(visitor)
    store.set(snapshot)
    return snapshot


def resolve_visitor(request: HttpRequest) -> VisitorContext:
    """Cost: no cookie, nothing; with a cookie, one store round trip (a DB query only on a store miss)."""
    cookie_present = tailored_settings.COOKIE_NAME in request.COOKIES
    visitor_id = read_visitor_id(request) if cookie_present else None
    if visitor_id is None:
        # No cookie, or a tampered one: a fresh anonymous visitor.
        return VisitorContext(Snapshot(), drop_cookie=cookie_present)
    snapshot = load_snapshot(visitor_id)
    if snapshot is None:
        # Signed by us but unknown (erased, expired): start again.
        return VisitorContext(Snapshot(), drop_cookie=True)
    if snapshot.user_id is not None and not _is_user(request, snapshot.user_id):
        # A signed-in user's choices, but that user is not signed in here (session ended): don't show them.
        return VisitorContext(Snapshot(), drop_cookie=True)
    return VisitorContext(snapshot)


def _is_user(request: HttpRequest, user_id: int) -> bool:
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.pk == user_id)
