"""The settings of tailored plugins, kept in this process: a page renders its areas and variants without a query.

An entry is keyed by the plugin's pk and ``changed_date``, which every save of the plugin moves (``auto_now``):
a changed plugin is a new key, so nothing is ever stale and no process needs telling. An unknown key loads the
settings of every tailored plugin in the same placeholder and language in one query (the rest of the page's
area is about to ask: ``models.load_view``). At most ``MAX_ENTRIES`` entries, then the cache starts again empty.

Entries are ``SettingsView``s: read-only (lists are tuples), so every render shares them. A plugin copies its
settings into a dict of its own (``TailoredPlugin.settings``) only when it changes them or reads a list.

This module is the memory only; reading and writing the rows is ``models``' (``load_view``, ``save_settings``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import SettingsView

__all__ = ["LISTS", "MAX_ENTRIES", "get", "remember"]

MAX_ENTRIES = 50_000  # a few hundred bytes each
LISTS = ("topics", "themes", "layouts", "segments")  # the JSON lists of PluginSettings
_entries: dict[tuple[int, datetime], SettingsView] = {}


def get(pk: int, changed_date: datetime) -> SettingsView | None:
    """The settings of that version of the plugin, if this process has them."""
    return _entries.get((pk, changed_date))


def remember(pk: int, changed_date: datetime, settings: SettingsView) -> None:
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[pk, changed_date] = settings
