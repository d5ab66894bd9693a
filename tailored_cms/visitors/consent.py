"""Whether a visitor's behaviour may be tracked: their consent, the site's CONSENT setting, Sec-GPC and DNT."""

from __future__ import annotations

from django.http import HttpRequest

from ..conf import tailored_settings
from .snapshot import Snapshot


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
