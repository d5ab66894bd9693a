"""Accessibility as customization: the visitor's motion and text size choices, and their browser's preferences.

The choices are like a theme (explicit, no tracking consent needed): ``""`` (the default) follows the browser's
``prefers-reduced-motion`` for motion, the site's own size for text. ``<body>`` gets ``tailored-motion-<slug>``
and ``tailored-text-<slug>``, or ``tailored-motion-auto`` while the visitor has not chosen
(``{% tailored_body_attrs %}``).

While a visitor has chosen no theme (or no motion), the page follows what their browser prefers: CSS media
queries (``prefers-color-scheme``, ``prefers-contrast``, ``prefers-reduced-motion``) on ``tailored-theme-auto``
and ``tailored-motion-auto``, and, server-side, the ``Sec-CH-Prefers-Color-Scheme`` and
``Sec-CH-Prefers-Reduced-Motion`` client hints that browsers send once asked (``ACCEPT_CH``).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..conf import tailored_settings

__all__ = [
    "ACCEPT_CH",
    "HINT_HEADERS",
    "MOTIONS",
    "TEXT_SIZES",
    "browser_preferences",
]

MOTIONS = {"reduced": _("Reduced motion")}
TEXT_SIZES = {"large": _("Larger text")}

# The client hints asked for (Accept-CH) and varied on (Vary), in the order browsers document them.
HINT_HEADERS = ("Sec-CH-Prefers-Color-Scheme", "Sec-CH-Prefers-Reduced-Motion")
ACCEPT_CH = ", ".join(HINT_HEADERS)


def _hint(request: HttpRequest, name: str) -> str:
    """A client hint's value: a structured-field string (``"dark"``), unquoted and lowercased; "" if absent."""
    return request.headers.get(name, "").strip().strip('"').lower()


def browser_preferences(request: HttpRequest, theme_chosen: bool, motion_chosen: bool) -> tuple[str, str]:
    """(theme, motion) the browser's client hints ask for, where the visitor has not chosen; "" for nothing.

    The theme is ``"dark"`` for ``Sec-CH-Prefers-Color-Scheme: "dark"`` if the site has a ``dark`` theme, the
    motion ``"reduced"`` for ``Sec-CH-Prefers-Reduced-Motion: "reduce"``. Cost: two dict lookups.
    """
    theme = ""
    if not theme_chosen and _hint(request, HINT_HEADERS[0]) == "dark" and "dark" in tailored_settings.THEMES:
        theme = "dark"
    motion = "reduced" if not motion_chosen and _hint(request, HINT_HEADERS[1]) == "reduce" else ""
    return theme, motion
