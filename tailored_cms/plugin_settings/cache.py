"""The settings of tailored plugins, kept in this process: a page renders its areas and variants without a query.

An entry is keyed by the plugin's pk and ``changed_date``, which every save of the plugin moves (``auto_now``):
a changed plugin is a new key, so nothing is ever stale and no process needs telling. An unknown key loads the
settings of every tailored plugin in the same placeholder and language in one query (the rest of the page's
area is about to ask: ``models.load_view``). At most ``MAX_ENTRIES`` entries, then the cache starts again empty.

Entries are ``SettingsView``s: read-only (lists are tuples), so every render shares them. A plugin copies its
settings into a dict of its own (``TailoredPlugin.settings``) only when it changes them or reads a list.

A query can read a ``changed_date`` as the database's text of it (``models.STAMP``) instead of a timestamp, which
Django's PostgreSQL backend parses in Python (about 3 µs each): ``changed_date_of`` gives the timestamp that text
stands for, as loaded with the entries (``models.load``), else read as ISO 8601, which is how PostgreSQL, SQLite
and MySQL write them (a backend that writes them otherwise costs a load, which then remembers the text). That is
how a visitor's page reads its areas' and variants' rows (``areas.fetch``): a hundred variants, no timestamp
parsed by the backend.

This module is the memory only; reading and writing the rows is ``models``' (``load_view``, ``save_settings``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from .models import SettingsView

__all__ = ["LISTS", "MAX_ENTRIES", "changed_date_of", "get", "get_stamped", "remember"]

MAX_ENTRIES = 50_000  # a few hundred bytes each
LISTS = ("topics", "themes", "layouts", "segments")  # the JSON lists of PluginSettings
_entries: dict[tuple[int, datetime], SettingsView] = {}
_changed_dates: dict[str, datetime] = {}  # the database's text of a changed_date: the changed_date


def get(pk: int, changed_date: datetime) -> SettingsView | None:
    """The settings of that version of the plugin, if this process has them."""
    return _entries.get((pk, changed_date))


def changed_date_of(stamp: str) -> datetime | None:
    """The ``changed_date`` whose text the database gave as ``stamp`` (``models.STAMP``): as loaded, else read as
    ISO 8601 (in UTC without an offset, as Django stores them; ``None`` if it isn't ISO 8601)."""
    found = _changed_dates.get(stamp)
    if found is None:
        try:
            found = datetime.fromisoformat(stamp)
        except ValueError:
            return None
        if found.tzinfo is None and settings.USE_TZ:
            found = found.replace(tzinfo=UTC)
        if len(_changed_dates) >= MAX_ENTRIES:
            _changed_dates.clear()
        _changed_dates[stamp] = found  # a load that reads it otherwise puts it right (``remember``)
    return found


def get_stamped(pk: int, stamp: str) -> SettingsView | None:
    """``get`` by the database's text of the ``changed_date`` (``changed_date_of``)."""
    changed_date = _changed_dates.get(stamp) or changed_date_of(stamp)
    return _entries.get((pk, changed_date)) if changed_date is not None else None


def remember(pk: int, changed_date: datetime, settings: SettingsView, stamp: str | None = None) -> None:
    """Keep ``settings`` as that version's; ``stamp``: the database's text of ``changed_date``, if it was read."""
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
        _changed_dates.clear()
    _entries[pk, changed_date] = settings
    if stamp is not None:
        _changed_dates[stamp] = changed_date
