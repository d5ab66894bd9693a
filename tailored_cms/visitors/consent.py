"""Whether a visitor's behaviour may be tracked: their consent, the site's CONSENT setting, Sec-GPC and DNT."""

from __future__ import annotations

from django.http import HttpRequest

from ..conf import tailored_settings
from .snapshot import Snapshot

# What a page shows about tracking, and what django CMS's caches vary on (the CONSENT_VARY_HEADER's value):
TRACKED = "tracked"  # the beacon runs
ASK = "ask"  # the site needs an answer first: the consent banner asks
NOT_TRACKED = "not-tracked"  # refused, or the browser opted out: neither beacon nor banner
CONSENT_STATES = (TRACKED, ASK, NOT_TRACKED)


def opted_out_by_browser(request: HttpRequest) -> bool:
    """``Sec-GPC: 1`` (Global Privacy Control) or ``DNT: 1``: no tracking, whatever else was said."""
    return request.headers.get("Sec-GPC", "").strip() == "1" or request.headers.get("DNT", "").strip() == "1"


def tracking_allowed(request: HttpRequest, snapshot: Snapshot) -> bool:
    """Cost: no I/O. The visitor's own answer wins over the site's default; the browser's opt-out wins over both."""
    if opted_out_by_browser(request):
        return False
    if snapshot.tracking_consent is not None:
        return snapshot.tracking_consent
    return tailored_settings.CONSENT == "implied"


def consent_state(request: HttpRequest, snapshot: Snapshot) -> str:
    """``TRACKED``, ``ASK`` or ``NOT_TRACKED`` (see above). Cost: no I/O.

    Three values only, so a page that depends on consent is cached at most three times per tailoring.
    """
    if tracking_allowed(request, snapshot):
        return TRACKED
    if snapshot.tracking_consent is None and not opted_out_by_browser(request):
        return ASK  # not allowed, not refused, no opt-out: CONSENT is "required" and nobody asked yet
    return NOT_TRACKED
