"""``TailoredMiddleware``: resolves the visitor and tells django CMS's caches which tailoring this request gets."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .conf import tailored_settings
from .context import resolve_visitor
from .editors.preview import preview_context
from .headers import meta_key

__all__ = ["TailoredMiddleware"]


class TailoredMiddleware:
    """Sets ``request.tailored``. Cost per request: no SQL; one Redis round trip when the visitor has a cookie.

    A tracked visitor's page view rides on that round trip; under ``EDGE_MODE`` the page's beacon sends it
    instead (a page the edge serves never reaches the site), and none is captured here.

    Except for ``events/``: its view reads the snapshot in the one round trip that also stores the events, so
    here the snapshot is left unloaded (``resolve_visitor`` recognises the path, reversed once per urlconf).

    The variant keys, the consent state, the holdout bucket and what the browser's client hints ask for (where
    the visitor chose nothing) go into request headers (``VARY_HEADER``, ``WIDGETS_VARY_HEADER``,
    ``CONSENT_VARY_HEADER``, ``HOLDOUT_VARY_HEADER``, ``PREFERS_VARY_HEADER``) that tailored plugins and tags
    name in ``get_vary_cache_on``, so the placeholder and page caches keep one copy per tailoring. Values a
    client sends for those headers are overwritten, never trusted.

    An editor previewing as another visitor (``editors.preview``) gets that visitor instead: no Redis, no
    page view tracked, vary keys unique to the request. Finding out costs nothing without a session cookie,
    and no extra query with one (the session is read on a page view anyway).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = preview_context(request) or resolve_visitor(request)
        request.tailored = context  # type: ignore[attr-defined]
        request.META[meta_key(tailored_settings.VARY_HEADER)] = context.variant_key(request)
        request.META[meta_key(tailored_settings.WIDGETS_VARY_HEADER)] = context.widgets_key
        request.META[meta_key(tailored_settings.CONSENT_VARY_HEADER)] = context.consent_state(request)
        request.META[meta_key(tailored_settings.HOLDOUT_VARY_HEADER)] = context.holdout_key
        request.META[meta_key(tailored_settings.PREFERS_VARY_HEADER)] = context.prefers_key(request)
        response = self.get_response(request)
        context.finish(request, response)
        return response
