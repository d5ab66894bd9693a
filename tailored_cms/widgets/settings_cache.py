"""The settings of tailored plugins, kept in this process: a page renders its areas and variants without a query.

An entry is keyed by the plugin's pk and ``changed_date``, which every save of the plugin moves (``auto_now``):
a changed plugin is a new key, so nothing is ever stale and no process needs telling. An unknown key loads the
settings of every tailored plugin in the same placeholder and language in one query (the rest of the page's
area is about to ask). At most ``MAX_ENTRIES`` entries, then the cache starts again empty.

Entries are ``SettingsView``s: read-only (lists are tuples), so every render shares them. A plugin copies its
settings into a dict of its own (``TailoredPlugin.settings``) only when it changes them or reads a list.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    from .models import SettingsView, TailoredPlugin

MAX_ENTRIES = 50_000  # a few hundred bytes each
LISTS = ("topics", "themes", "layouts", "segments")  # the JSON lists of PluginSettings
_entries: dict[tuple[int, datetime], SettingsView] = {}


def view(plugin: TailoredPlugin) -> SettingsView:
    """``plugin``'s settings as saved, read-only and shared."""
    if plugin.pk is None:
        return defaults()
    found = _entries.get((plugin.pk, plugin.changed_date))
    if found is None:
        found = _load(plugin)
    return found


def defaults() -> SettingsView:
    from .models import SETTINGS, PluginSettings, SettingsView

    return SettingsView.of({name: PluginSettings._meta.get_field(name).get_default() for name in SETTINGS})


def save(plugin: TailoredPlugin, new: bool) -> None:
    """Write ``plugin.settings`` (a new row if ``new``) and keep them under the plugin's new ``changed_date``."""
    from .models import PluginSettings, SettingsView

    PluginSettings(plugin_id=plugin.pk, **plugin.settings).save(force_insert=new)
    _remember(plugin.pk, plugin.changed_date, SettingsView.of(plugin.settings))


def _load(plugin: TailoredPlugin) -> SettingsView:
    from .models import SETTINGS, PluginSettings, SettingsView

    same_area = Q(pk=plugin.pk)
    if plugin.placeholder_id is not None:
        same_area |= Q(plugin__placeholder_id=plugin.placeholder_id, plugin__language=plugin.language)
    found = None
    for pk, changed_date, *values in PluginSettings.objects.filter(same_area).values_list(
        "pk", "plugin__changed_date", *SETTINGS
    ):
        settings = SettingsView.of(dict(zip(SETTINGS, values, strict=True)))
        _remember(pk, changed_date, settings)
        if pk == plugin.pk:
            found = settings  # changed since ``plugin`` was read, perhaps: the newer settings all the same
    if found is None:  # no row: a plugin saved without its settings (never by this app)
        found = defaults()
        _remember(plugin.pk, plugin.changed_date, found)
    return found


def _remember(pk: int, changed_date: datetime, settings: SettingsView) -> None:
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[pk, changed_date] = settings
