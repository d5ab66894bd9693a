"""Whether a visitor's behaviour may be tracked: their consent, the site's CONSENT setting, Sec-GPC and DNT.

The one place that decides it: ``may_track``. The snapshot store's Lua (``redis_scripts/snapshot.lua``), which must
decide inside Redis whether to append a page view or a batch, does not decide for itself: it receives
``decisions()`` — ``may_track`` for each answer a visitor may have given — and looks up the answer it reads from
the snapshot. To change what consent allows, change ``may_track``.
"""

from __future__ import annotations

from enum import StrEnum

from django.http import HttpRequest

from ..conf import tailored_settings
from .snapshot import Snapshot

__all__ = [
    "ANSWERS",
    "ASK",
    "CONSENT_STATES",
    "NOT_TRACKED",
    "TRACKED",
    "ConsentSource",
    "ConsentState",
    "bridged_consent",
    "consent_state",
    "decisions",
    "may_track",
    "opted_out_by_browser",
    "tracking_allowed",
]


class ConsentState(StrEnum):
    """What a page shows about tracking, and what django CMS's caches vary on (the CONSENT_VARY_HEADER's value)."""

    TRACKED = "tracked"  # the beacon runs
    ASK = "ask"  # the site needs an answer first: the consent banner asks
    NOT_TRACKED = "not-tracked"  # refused, or the browser opted out: neither beacon nor banner


class ConsentSource(StrEnum):
    """Who asks the visitor for consent (the CONSENT_SOURCE setting): the built-in banner, or the site's own consent
    tool, which ``consent_bridges.js`` follows (it reports each decision to ``consent/``)."""

    BUILTIN = "builtin"
    TCF = "tcf"  # an IAB TCF v2.2 CMP (__tcfapi)
    CONSENT_MODE = "consent-mode"  # Google Consent Mode v2 (gtag's consent state in window.dataLayer)
    KLARO = "klaro"
    COOKIECONSENT = "cookieconsent"  # CookieConsent v3 by orestbida


TRACKED = ConsentState.TRACKED
ASK = ConsentState.ASK
NOT_TRACKED = ConsentState.NOT_TRACKED
CONSENT_STATES = tuple(ConsentState)

# The answers a visitor may have given (``Snapshot.tracking_consent``), in the order ``decisions()`` lists them.
ANSWERS: tuple[bool | None, ...] = (True, False, None)


def may_track(answer: bool | None, *, opted_out: bool = False) -> bool:
    """The decision. The browser's opt-out wins over everything; the visitor's own answer over the site's default."""
    if opted_out:
        return False
    if answer is not None:
        return answer
    return tailored_settings.CONSENT == "implied"


def decisions(*, opted_out: bool = False) -> str:
    """``may_track`` for each of ``ANSWERS``, one character each ("1" yes, "0" no): what the snapshot script looks
    the visitor's answer up in. Cost: no I/O."""
    return "".join("1" if may_track(answer, opted_out=opted_out) else "0" for answer in ANSWERS)


def opted_out_by_browser(request: HttpRequest) -> bool:
    """``Sec-GPC: 1`` (Global Privacy Control) or ``DNT: 1``: no tracking, whatever else was said."""
    return request.headers.get("Sec-GPC", "").strip() == "1" or request.headers.get("DNT", "").strip() == "1"


def tracking_allowed(request: HttpRequest, snapshot: Snapshot) -> bool:
    """``may_track`` for this request's visitor. Cost: no I/O."""
    return may_track(snapshot.tracking_consent, opted_out=opted_out_by_browser(request))


def consent_state(request: HttpRequest, snapshot: Snapshot) -> ConsentState:
    """``TRACKED``, ``ASK`` or ``NOT_TRACKED`` (see ``ConsentState``). Cost: no I/O.

    Three values only, so a page that depends on consent is cached at most three times per tailoring.
    """
    if tracking_allowed(request, snapshot):
        return TRACKED
    if snapshot.tracking_consent is None and not opted_out_by_browser(request):
        return ASK  # not allowed, not refused, no opt-out: CONSENT is "required" and nobody asked yet
    return NOT_TRACKED


def bridged_consent() -> bool:
    """The site's own consent tool asks (CONSENT_SOURCE is not "builtin"): the built-in banner stays away."""
    return tailored_settings.CONSENT_SOURCE != ConsentSource.BUILTIN
