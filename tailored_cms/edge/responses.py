"""What a response tells a shared cache under ``EDGE_MODE``, and the edge key cookie that keeps it right.

A response is stored at the edge (``Cache-Control: public, s-maxage``) only when all of this holds, else it is the
visitor's own (``private, no-store``):

- a GET or HEAD answered 200, for an anonymous visitor, not an editor's preview, with nothing of the visitor's
  in its cookies (no visitor cookie issued or deleted, no CSRF token, no cookie but django CMS's language one,
  which is dropped: the language is in the URL) and nothing that made the view itself say ``private``;
- for a tailored page: the key the request presented is the one the origin computes for this visitor now, and
  so is the holdout bucket if the page varies on it. A stale or forged key gets the visitor's own page,
  ``private``, and the current key in the cookie: a forged key can select only a copy stored for a visitor who
  had that key, never be given another visitor's page to store;
- no area on the page is marked "never from a shared cache" (``never_shared``);
- no campaign window of an area or variant on the page starts or ends within the second; the copy is kept
  until the first such start or end at the latest (``s-maxage``);
- the visitor's segments needed nothing of the request but what the edge varies on (``EDGE_VISIBLE``: the
  device class the VCL derives, the CDN's country header, the URL's language).

Cost: no I/O; a keyed digest per request of a visitor with a cookie.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header, patch_cache_control, patch_vary_headers

from ..areas.page_cache import NEVER_SHARED_HEADER
from ..conf import tailored_settings
from ..rules.request_time import DEVICE_HEADER, EDGE_VISIBLE
from . import BUCKET_HEADER, KEY_COOKIE, KEY_HEADER, MARK_HEADER

if TYPE_CHECKING:
    from ..visitors.snapshot import Snapshot

__all__ = ["cookie_value", "edge_key", "keep_key_cookie", "presented", "share", "stale_cookie"]

TAILORED, PLAIN = "tailored", "plain"


def edge_key(snapshot: Snapshot, computed: Collection[str]) -> str:
    """The digest of what of the visitor tailors a page; ``""`` for a visitor with nothing (a first visit).

    ``computed``: the active segments Celery computes (a membership in a switched-off one counts for nothing).
    Keyed with ``SECRET_KEY``: nobody can work out the key of a segment they are not in.
    """
    segments = sorted(slug for slug in snapshot.segments if slug in computed)
    conditional = {slug: tree for slug, tree in snapshot.conditional_segments.items() if slug in computed}
    if not (snapshot.has_choices or segments or conditional or snapshot.tracking_consent is not None):
        return ""
    parts = [snapshot.variant_key, snapshot.widgets_key, segments, conditional, snapshot.tracking_consent]
    secret = hashlib.blake2b(settings.SECRET_KEY.encode(), digest_size=32).digest()
    message = json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.blake2b(message, key=secret, digest_size=12).hexdigest()


def cookie_value(key: str, bucket: str) -> str:
    """``<key>.<bucket>``, ``<key>`` without a bucket; ``""``: no cookie needed."""
    return f"{key}.{bucket}" if bucket else key


def presented(request: HttpRequest) -> tuple[str, str]:
    """(key, bucket) the request was looked up under: the edge's headers, else the cookie (no edge in between)."""
    key = request.headers.get(KEY_HEADER)
    if key is not None:
        return key.strip(), request.headers.get(BUCKET_HEADER, "").strip()
    value = request.COOKIES.get(KEY_COOKIE, "")
    key, _, bucket = value.partition(".")
    return key, bucket


def stale_cookie(request: HttpRequest, key: str, bucket: str) -> bool:
    """The key cookie the visitor sent is not (or no longer) their current key."""
    return request.COOKIES.get(KEY_COOKIE, "") != cookie_value(key, bucket)


def keep_key_cookie(request: HttpRequest, response: HttpResponse, key: str, bucket: str) -> None:
    """Set the key cookie to the visitor's current key, or delete it, when the one they sent is another."""
    if not stale_cookie(request, key, bucket):
        return
    value = cookie_value(key, bucket)
    if value:
        # Short-lived: the VCL sends a known visitor without it to the site, which gives their key anew.
        response.set_cookie(
            KEY_COOKIE,
            value,
            max_age=tailored_settings.EDGE_KEY_MAX_AGE,
            secure=tailored_settings.COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(KEY_COOKIE, samesite="Lax")


def share(
    request: HttpRequest,
    response: HttpResponse,
    *,
    tailored: bool,
    key: str,
    bucket: str,
    page_headers: Collection[str],
    consulted: Collection[str],
    own_cookies: bool,
    expires_in: int,
) -> bool:
    """Mark ``response`` for the edge and return True if a shared cache may keep it (see the module); else
    change nothing and return False (the caller makes it private).

    ``tailored``: the page depends on the visitor; ``page_headers``: the tailoring headers the page declared to
    django CMS's page cache (lower case); ``consulted``: the request facts the segments read; ``own_cookies``:
    the response sets or deletes a cookie of the visitor's (theirs, or their key's); ``expires_in``: seconds until
    a campaign window changes what the page shows (``s-maxage`` ends there at the latest).
    """
    if not _shareable_request(request, response, own_cookies) or expires_in < 1:
        return False  # (a campaign window starts or ends within the second: any copy would outlive it)
    vary = []
    if NEVER_SHARED_HEADER.lower() in page_headers or has_vary_header(response, NEVER_SHARED_HEADER):
        return False  # an area marked "never from a shared cache"
    if tailored:
        if not EDGE_VISIBLE.issuperset(consulted):
            return False
        shown_key, shown_bucket = presented(request)
        if shown_key != key:
            return False
        holdout = tailored_settings.HOLDOUT_VARY_HEADER
        # Declared while rendering, or, for a page django CMS served from its page cache, in the Vary it kept.
        if holdout.lower() in page_headers or has_vary_header(response, holdout):
            if shown_bucket != bucket:
                return False
            vary.append(BUCKET_HEADER)
        vary += [KEY_HEADER, "Sec-GPC", "DNT"]  # the consent state: the key's answer and the browser's opt-out
        if "device" in consulted:
            vary.append(DEVICE_HEADER)
        if "country" in consulted and tailored_settings.COUNTRY_HEADER:
            vary.append(tailored_settings.COUNTRY_HEADER)
    _drop_language_cookie(response)
    _drop_internal_vary(response)
    patch_vary_headers(response, vary)
    # Not the response's max-age: that is django CMS's own caches' (CMS_CACHE_DURATIONS), purged when it publishes.
    s_maxage = min(tailored_settings.EDGE_MAX_AGE, expires_in)
    # Browsers revalidate (max-age=0): a visitor's next page after a change must reach the edge with their new key.
    response.headers.pop("Cache-Control", None)
    patch_cache_control(response, public=True, max_age=0, s_maxage=s_maxage)
    if s_maxage < tailored_settings.EDGE_MAX_AGE:
        # The copy ends when a campaign starts or ends: no stale copy after it (Varnish's grace) either.
        patch_cache_control(response, stale_while_revalidate=0)
    response.headers.pop("Expires", None)
    response[MARK_HEADER] = TAILORED if tailored else PLAIN
    return True


def _shareable_request(request: HttpRequest, response: HttpResponse, own_cookies: bool) -> bool:
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or own_cookies:
        return False
    if getattr(request, "tailored", None) is not None and request.tailored.is_preview:  # type: ignore[attr-defined]
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False  # the page holds a CSRF token: the visitor's own
    control = _cache_control(response)
    if "private" in control or "no-store" in control or "no-cache" in control:
        return False
    language_cookie = settings.LANGUAGE_COOKIE_NAME
    return all(name == language_cookie for name in response.cookies)


def _drop_language_cookie(response: HttpResponse) -> None:
    # django CMS's LanguageCookieMiddleware remembers the page's language; the URL already says it, and a
    # response that sets a cookie is not one a shared cache stores.
    response.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)


def _drop_internal_vary(response: HttpResponse) -> None:
    # django CMS's page cache names the middleware's request headers in Vary; no edge sees them, and what they
    # stand for is in the key (or, for the browser's hints, their own headers).
    internal = {
        header.lower()
        for header in (
            tailored_settings.VARY_HEADER,
            tailored_settings.WIDGETS_VARY_HEADER,
            tailored_settings.CONSENT_VARY_HEADER,
            tailored_settings.HOLDOUT_VARY_HEADER,
            tailored_settings.PREFERS_VARY_HEADER,
            NEVER_SHARED_HEADER,
        )
    }
    kept = [part.strip() for part in response.get("Vary", "").split(",") if part.strip()]
    kept = [header for header in kept if header.lower() not in internal]
    if kept:
        response["Vary"] = ", ".join(kept)
    else:
        response.headers.pop("Vary", None)


def _cache_control(response: HttpResponse) -> Mapping[str, Any]:
    directives: dict[str, Any] = {}
    for part in response.get("Cache-Control", "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives[name.lower()] = value
    return directives
