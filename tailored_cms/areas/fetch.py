"""django CMS's fetch of a page's plugins, making and building for a visitor only what they are shown.

django CMS 5.1.3's ``cms.utils.plugins.assign_plugins`` reads every plugin row of the page's placeholders as
``CMSPlugin`` instances (one query), builds each into its plugin model's instance (``downcast_plugins``: one query
per plugin model) and hangs the trees on the placeholders. For an area of a hundred variants, that is every
variant's rows read in full and made instances, shown or not; with Django's PostgreSQL backend, parsing each row's
two timestamps in Python is most of it. ``assign_plugins`` below is that function, copied from django CMS 5.1.3,
with its fetch changed for a request rendered for a visitor: the same one query reads the rows as tuples, with
their timestamps only where an instance keeps them (``_columns``: not for the plugins ``downcast_plugins`` builds
anew from their own table, nor a variant's ``creation_date``, which nothing reads on a visitor's page);
``shown.decide`` selects from them what the visitor is shown of each area and which rows they are not (each area's
other variants and everything in them); the rows kept are made instances (``_instance``: what django CMS's query
makes, the timestamps not read deferred) and from there on it is django CMS's code; ``shown.keep_decided`` gives
each area its selection. No query more than django CMS's. What still grows with the variants: a tuple per row, a
timestamp per variant (its ``changed_date``, which keys its settings in ``plugin_settings.cache``) and the
selection over their settings.

Why a copy: django CMS has no hook between its query and the instances (its ``downcast_plugins`` gets them made).
Editors in the edit and structure modes, where every variant shows, and calls without a request run django CMS's
own function unchanged. ``install()`` (``TailoredCmsConfig.ready``) puts this one in ``cms.utils.plugins``, where
django CMS looks it up on each call (``get_plugins``; ``ContentRenderer._preload_placeholders_for_page`` imports it
when it runs). ``tests/areas/test_shown.py`` fails when django CMS's function is no longer the one copied
(``COPIED_SOURCE_SHA256``), or its callers no longer look it up there.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cms.models import CMSPlugin
from cms.plugin_pool import plugin_pool
from cms.utils import get_language_from_request
from cms.utils import plugins as cms_plugins_utils
from django.db import connections
from django.db.models import DateTimeField
from django.db.models.expressions import RawSQL
from django.http import HttpRequest

from ..plugin_settings.rendering import is_editing
from .shown import ROW, VARIANT, decide, keep_decided

__all__ = ["COPIED_FROM", "COPIED_SOURCE_SHA256", "assign_plugins", "django_cms_assign_plugins", "install"]

COPIED_FROM = "django-cms 5.1.3"
# sha256 of inspect.getsource(cms.utils.plugins.assign_plugins) in that version
COPIED_SOURCE_SHA256 = "d04cffda72858b118e058281661ffecac06145f8de6f1532b5922a4de2c7d03a"

django_cms_assign_plugins = cms_plugins_utils.assign_plugins
_ID, _TYPE = ROW.index("id"), ROW.index("plugin_type")
# What is read of a row, by what django CMS does with its instance: every column of the plugins it keeps the
# instances of (areas, widgets…); a variant's ``creation_date`` is never read on a visitor's page; the timestamps of
# the plugins it builds anew from their model's table (texts, pictures…) are read there.
_KEPT = ROW
_VARIANT_COLUMNS = tuple(name for name in ROW if name != "creation_date")
_BUILT_ANEW = tuple(name for name in ROW if name not in ("creation_date", "changed_date"))


def assign_plugins(
    request: HttpRequest | None, placeholders: Any, template: Any = None, lang: str | None = None
) -> None:
    """django CMS's ``assign_plugins`` (same signature, same result on the placeholders): for a request rendered for
    a visitor, only the plugins they are shown are made and built (see the module's docstring)."""
    if not placeholders or request is None or is_editing(request):
        return django_cms_assign_plugins(request, placeholders, template, lang)
    placeholders = tuple(placeholders)  # Trigger db hit
    lang = lang or get_language_from_request(request)
    queryset = CMSPlugin.objects.filter(placeholder__in=placeholders, language=lang)
    unbuilt = _unbuilt_types()
    rows = list(queryset.values_list(*_columns(queryset.db, unbuilt, tuple(t for t in unbuilt if t != VARIANT))))
    if not rows:
        # Create default plugins if enabled
        plugins = cms_plugins_utils.create_default_plugins(request, placeholders, template, lang)
    else:
        decided, hidden = decide(rows, request, queryset.db)
        kept = [_instance(row, unbuilt, queryset.db) for row in rows if row[_ID] not in hidden]
        plugins = list(cms_plugins_utils.downcast_plugins(kept, placeholders, request=request))
        keep_decided(plugins, decided)

    # From here on as django CMS does it: the plugins split up by placeholder, each placeholder's trees.
    plugins_by_placeholder = defaultdict(list)
    for plugin in plugins:
        plugins_by_placeholder[plugin.placeholder_id].append(plugin)
    for placeholder in placeholders:
        all_plugins = plugins_by_placeholder[placeholder.pk]
        placeholder._all_plugins_cache = all_plugins  # all the plugins
        # only the root plugins
        placeholder._plugins_cache = cms_plugins_utils.get_plugins_as_layered_tree(all_plugins) if all_plugins else []
    return None


def _unbuilt_types() -> tuple[str, ...]:
    """The plugin types whose instances are ``CMSPlugin``'s own (proxies: areas, variants…): django CMS keeps the
    instances made of their rows. It builds every other plugin anew from its model's table (``downcast_plugins``)."""
    plugin_pool.discover_plugins()  # once a process (django CMS's own calls do it too)
    return tuple(name for name, plugin in plugin_pool.plugins.items() if plugin.model._meta.concrete_model is CMSPlugin)


def _columns(db: str, stamped: tuple[str, ...], born: tuple[str, ...]) -> tuple[Any, ...]:
    """``ROW``, with ``changed_date`` of the plugin types ``stamped`` only and ``creation_date`` of those ``born``
    only (NULL for the others): parsing the timestamps is most of what reading a row costs (Django's PostgreSQL
    backend parses them in Python)."""
    quote = connections[db].ops.quote_name

    def of(types: tuple[str, ...], column: str) -> RawSQL:
        listed = ", ".join(["%s"] * len(types)) or "NULL"
        sql = f"CASE WHEN {quote('plugin_type')} IN ({listed}) THEN {quote(column)} END"
        return RawSQL(sql, types, output_field=DateTimeField())

    when = {"changed_date": stamped, "creation_date": born}
    return tuple(of(when[name], name) if name in when else name for name in ROW)


def _instance(row: tuple[Any, ...], unbuilt: tuple[str, ...], db: str) -> CMSPlugin:
    """The ``CMSPlugin`` instance of ``row`` as django CMS's query makes it, but for the timestamps not read
    (deferred: see ``_columns``)."""
    plugin_type = row[_TYPE]
    if plugin_type == VARIANT:
        names = _VARIANT_COLUMNS
    elif plugin_type in unbuilt:
        return CMSPlugin.from_db(db, _KEPT, row)
    else:
        names = _BUILT_ANEW
    return CMSPlugin.from_db(db, names, tuple(value for name, value in zip(ROW, row, strict=True) if name in names))


def install() -> None:
    """Put ``assign_plugins`` in ``cms.utils.plugins`` in place of django CMS's (once)."""
    cms_plugins_utils.assign_plugins = assign_plugins
