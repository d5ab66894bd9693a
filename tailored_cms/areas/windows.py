"""Campaign windows: an area or variant with ``starts_at``/``ends_at`` is shown from its start until its end only.

Pure functions of the settings and a moment (no SQL, no Redis). The moment is the request's: now, or the date an
editor previews the page "as on" (``request.tailored.as_on``, see ``editors.preview``). Selection leaves out what
is outside its window before the strategy picks (``shown.select_for``); an area outside its window renders nothing,
as if it weren't on the page. ``next_change`` is when what an area shows may change next, which its plugin tells
django CMS's caches (``TailoredAreaPlugin.get_cache_expiration``); ``edges`` and ``next_edge`` are the same in two
steps, for an area whose edges are kept (``shown.Layout``).

A window is half-open: shown from ``starts_at`` (included) until ``ends_at`` (excluded).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

__all__ = [
    "Windowed",
    "edges",
    "is_live",
    "live",
    "moment",
    "next_change",
    "next_edge",
    "seconds_until",
    "window_label",
]


class Windowed(Protocol):
    """What windows read from an area or variant (the plugins and their ``settings_view`` satisfy it)."""

    @property
    def starts_at(self) -> datetime | None: ...
    @property
    def ends_at(self) -> datetime | None: ...


W = TypeVar("W", bound=Windowed)


def moment(request: HttpRequest | None) -> datetime:
    """The moment the request's page is shown as of: the preview's "as on" date, else now."""
    as_on = getattr(getattr(request, "tailored", None), "as_on", None)
    return as_on if as_on is not None else timezone.now()


def is_live(item: Windowed, at: datetime) -> bool:
    """``True`` if ``item`` is shown at ``at``: from its start (included) until its end (excluded)."""
    starts_at, ends_at = item.starts_at, item.ends_at
    return (starts_at is None or starts_at <= at) and (ends_at is None or at < ends_at)


def live(items: Sequence[W], at: datetime) -> Sequence[W]:
    """``items`` shown at ``at``, in their order (``items`` itself when none has a window: no copy)."""
    if all(item.starts_at is None and item.ends_at is None for item in items):
        return items
    return [item for item in items if is_live(item, at)]


def next_change(items: Iterable[Windowed], at: datetime) -> datetime | None:
    """The first start or end of any of ``items`` after ``at`` (``None``: nothing changes with time)."""
    return next_edge(edges(items), at)


def edges(items: Iterable[Windowed]) -> tuple[datetime, ...]:
    """Every start and end of the windows of ``items``, in order: kept, they answer ``next_edge`` at any moment."""
    return tuple(sorted(edge for item in items for edge in (item.starts_at, item.ends_at) if edge is not None))


def next_edge(edges: Sequence[datetime], at: datetime) -> datetime | None:
    """The first of ``edges`` (in order, see ``edges``) after ``at``: ``next_change`` of the items they are of."""
    later = bisect_right(edges, at)
    return edges[later] if later < len(edges) else None


def window_label(item: Windowed, at: datetime) -> str:
    """ "from 20 November", "until 30 November", "ended 30 November" (``""`` without a window): for editors, in
    their language and the site's time zone; the year when it isn't ``at``'s, the time unless it is midnight."""
    starts_at, ends_at = item.starts_at, item.ends_at
    if ends_at is not None and ends_at <= at:
        return _("ended %(date)s") % {"date": _when(ends_at, at)}
    if starts_at is not None and starts_at > at:
        text = _("from %(date)s") % {"date": _when(starts_at, at)}
        if ends_at is not None:
            text += " " + _("until %(date)s") % {"date": _when(ends_at, at)}
        return text
    if ends_at is not None:
        return _("until %(date)s") % {"date": _when(ends_at, at)}
    return ""


def _when(value: datetime, at: datetime) -> str:
    local, now = timezone.localtime(value), timezone.localtime(at)
    text = date_format(local, "MONTH_DAY_FORMAT" if local.year == now.year else "DATE_FORMAT")
    if (local.hour, local.minute) != (0, 0):
        text += " " + date_format(local, "TIME_FORMAT")
    return text


def seconds_until(change: datetime | None, at: datetime) -> int | None:
    """Whole seconds from ``at`` until ``change``, rounded down (a copy cached that long expires by the change; 0
    under a second before it: not cached at all); ``None`` without a change."""
    if change is None:
        return None
    return max(0, int((change - at).total_seconds()))
