"""Make django CMS's page cache vary on a header for markup rendered outside any plugin.

Why: ``cms.cache.page.set_page_cache`` keys a cached page only on the headers that the *rendered
placeholders* declare (``toolbar.content_renderer.get_rendered_placeholders()`` → each one's
``get_vary_cache_on(request)`` and ``get_cache_expiration(request, timestamp)``).
``{% tailored_body_attrs %}`` writes the visitor's theme and layout into ``<body>`` outside any placeholder,
so a page with the tag and no tailored plugin would be cached once and served with one visitor's theme to
everybody.

Also: a placeholder that django CMS 5.1 serves from its placeholder cache is left out of
``get_rendered_placeholders()`` (``render_placeholder`` returns before recording it), so the vary headers of
the plugins in it (a widget board's) would be lost; the template tags, which run on every request, declare
the tailoring headers through this hook too.

And: a plugin whose own vary header no template tag declares on every page (a tailored area with a holdout
varies on ``HOLDOUT_VARY_HEADER``; declaring it on every page would split every page's cache 100 ways) calls
``vary_page_cache_from_plugin``. Besides declaring the header, that writes it into a sekizai namespace of its
own, which django CMS records with the placeholder's cached content and replays into the page's sekizai data
on a placeholder-cache hit (as it does for the CSS and JS plugins add). The stand-in reads the namespace when
``set_page_cache`` asks: the template tags hand it the page's sekizai data (``context=``) when they run.

Likewise for time: a tailored area whose window or variants start or end later tells the caches when its content
expires (``TailoredAreaPlugin.get_cache_expiration``), which django CMS asks of the placeholders it rendered; on a
placeholder-cache hit it can't, so the area also writes the moment into a sekizai namespace
(``expire_page_cache_from_plugin``), and the stand-in's ``get_cache_expiration`` keeps the page no longer than that.

How: for this request only, ``get_rendered_placeholders()`` of the content renderer also returns a stand-in
that declares the header and never shortens the TTL. This is the narrowest hook: it relies only on the
method and the two per-placeholder calls ``set_page_cache`` makes, not on private state.
``tests/areas/test_page_cache_hook.py`` fails if django CMS stops honouring it.

Cost: no SQL, no cache access; a few attribute look-ups per call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cms.constants import MAX_EXPIRATION_TTL
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils.cache import get_max_age
from sekizai.helpers import get_varname

_ATTRIBUTE = "_tailored_page_vary"
# Declared by an area marked "never from a shared cache" under EDGE_MODE: no request carries it (django CMS's page
# cache keys on its absence, a constant), but it reaches the response's Vary, so the middleware knows the page holds
# such an area also when django CMS served it from its page cache (``edge.responses.share``).
NEVER_SHARED_HEADER = "X-Tailored-Never-Shared"
# A sekizai namespace no template renders: entries "<header> <plugin's key>" (the key keeps each placeholder's
# entry its own, so django CMS records it with every placeholder that holds such a plugin, not the first only).
SEKIZAI_NAMESPACE = "tailored_cms_page_vary"
# Another: entries "<ISO 8601 moment> <plugin's key>", when the content of that plugin's placeholder changes next.
SEKIZAI_EXPIRY_NAMESPACE = "tailored_cms_page_expires"


class PageVary:
    """Stands in for a placeholder in ``set_page_cache``'s loop: adds vary headers, nothing else."""

    pk = None
    slot = "tailored_cms:page-vary"
    cache_placeholder = True

    def __init__(self) -> None:
        self.headers: set[str] = set()
        self.sekizai_data: list[Any] = []  # the page's sekizai data, read when set_page_cache asks

    def get_vary_cache_on(self, request: HttpRequest) -> list[str]:
        headers = set(self.headers)
        for data in self.sekizai_data:
            headers.update(entry.split(" ", 1)[0] for entry in data.get(SEKIZAI_NAMESPACE, ()))
        return sorted(headers)

    def get_cache_expiration(self, request: HttpRequest, response_timestamp: datetime) -> int:
        """The seconds until the first change plugins noted (``expire_page_cache_from_plugin``), else the most
        django CMS allows: never shorter than the placeholders' own unless they noted a change."""
        ttl = MAX_EXPIRATION_TTL
        for data in self.sekizai_data:
            for entry in data.get(SEKIZAI_EXPIRY_NAMESPACE, ()):
                change = datetime.fromisoformat(entry.split(" ", 1)[0])
                ttl = min(ttl, max(0, int((change - response_timestamp).total_seconds())))
        return ttl

    def has_change_permission(self, user: Any) -> bool:
        # The CMS toolbar asks rendered placeholders this; the stand-in is nothing an editor can change.
        return False


def vary_page_cache_on(request: HttpRequest, *headers: str, context: Any = None) -> None:
    """Have the CMS page cache of this request's response vary on ``headers`` (request header names).

    Template tags pass their ``context``: then the headers plugins declared with ``vary_page_cache_from_plugin``
    count too, also those of placeholders served from the placeholder cache.
    """
    toolbar = getattr(request, "toolbar", None)
    user = getattr(request, "user", None)
    if toolbar is None or (user is not None and user.is_authenticated):
        return  # no page cache here: it only ever stores anonymous responses rendered with a toolbar
    renderer = toolbar.content_renderer  # the renderer set_page_cache reads
    stand_in: PageVary | None = getattr(renderer, _ATTRIBUTE, None)
    if stand_in is None:
        stand_in = PageVary()
        renderer.get_rendered_placeholders = _with(renderer.get_rendered_placeholders, stand_in)
        setattr(renderer, _ATTRIBUTE, stand_in)
    stand_in.headers.update(header.lower() for header in headers)  # as Placeholder.get_vary_cache_on does
    data = context.get(get_varname()) if context is not None else None
    if data is not None and not any(seen is data for seen in stand_in.sekizai_data):
        stand_in.sekizai_data.append(data)


def vary_page_cache_from_plugin(context: Any, request: HttpRequest, header: str, key: str) -> None:
    """For a plugin's render: the page cache varies on ``header`` wherever the plugin's placeholder is shown,
    rendered or from the placeholder cache. ``key`` names the plugin (its area key). Cost: no I/O."""
    data = context.get(get_varname())
    if data is not None:
        data[SEKIZAI_NAMESPACE].append(f"{header.lower()} {key}")
    vary_page_cache_on(request, header, context=context)


def expire_page_cache_from_plugin(context: Any, request: HttpRequest, change: datetime, key: str) -> None:
    """For a plugin's render: the page cache keeps no copy past ``change`` (a timezone-aware moment) wherever the
    plugin's placeholder is shown, rendered or from the placeholder cache. ``key`` names the plugin. No I/O."""
    data = context.get(get_varname())
    if data is not None:
        data[SEKIZAI_EXPIRY_NAMESPACE].append(f"{change.isoformat()} {key}")
    vary_page_cache_on(request, context=context)


def page_vary_headers(request: HttpRequest) -> list[str]:
    """The headers (lower case) this request's page declared to the page cache so far; [] if none. No I/O."""
    stand_in = _stand_in(request)
    return stand_in.get_vary_cache_on(request) if stand_in is not None else []


def page_expires_in(request: HttpRequest, response: HttpResponse, now: datetime) -> int:
    """Seconds from ``now`` until the first change of content the page's areas noted (a campaign window's start
    or end); ``MAX_EXPIRATION_TTL`` if none. No I/O.

    A page django CMS served from its page cache was not rendered: nothing noted a change. Its copy was kept no
    longer than until that change (``PageVary.get_cache_expiration``), so the copy's remaining life bounds it:
    django CMS answers with a plain response whose ``max-age`` it counted from the ``Expires`` it stored."""
    stand_in = _stand_in(request)
    if stand_in is not None:
        return stand_in.get_cache_expiration(request, now)
    if not isinstance(response, SimpleTemplateResponse) and response.has_header("Expires"):
        max_age = get_max_age(response)
        if max_age is not None:
            return max(0, max_age)
    return MAX_EXPIRATION_TTL


def _stand_in(request: HttpRequest) -> PageVary | None:
    toolbar = getattr(request, "toolbar", None)
    return getattr(getattr(toolbar, "content_renderer", None), _ATTRIBUTE, None)


def _with(original: Callable[[], list[Any]], stand_in: PageVary) -> Callable[[], list[Any]]:
    def get_rendered_placeholders() -> list[Any]:
        return [*original(), stand_in]

    return get_rendered_placeholders
