"""django CMS's fetch of a page's plugins, making and building for a visitor only what they are shown.

django CMS 5.1.3's ``cms.utils.plugins.assign_plugins`` reads every plugin row of the page's placeholders as
``CMSPlugin`` instances (one query), builds each into its plugin model's instance (``downcast_plugins``: one query
per plugin model) and hangs the trees on the placeholders. For an area of a hundred variants, that is every
variant's rows read in full and made instances, shown or not; with Django's PostgreSQL backend, parsing each row's
two timestamps in Python is most of it. ``assign_plugins`` below is that function, copied from django CMS 5.1.3,
with its fetch changed for a request rendered for a visitor: the same one query reads the rows as tuples of
``shown.ROW``, narrowed to what is needed before anything is made of them (``_columns``): no ``language`` (the
query's), for areas and variants the database's text of their ``changed_date`` (which keys their settings in
``plugin_settings.cache``: no timestamp parsed) and no ``creation_date`` (nothing on a visitor's page reads it),
the timestamps of the other plugins django CMS keeps the instances of (widgets, boards…), none of those it builds
anew from their own table (texts, pictures…: read there). ``shown.decide`` selects from them what the visitor is
shown of each area and keeps the rows they are shown (each area's other variants and everything in them left
out); only those are made instances (``_instance``: what django CMS's query makes, the timestamps not read
deferred, an area's or a variant's ``changed_date`` the one its text stands for) and from there on it is django
CMS's code; ``shown.keep_decided`` gives each area its selection. No query more than django CMS's. What still
grows with the variants: the rows themselves (a narrow tuple each) and, per variant, a look-up of its settings
and the selection over them.

Why a copy: django CMS has no hook between its query and the instances (its ``downcast_plugins`` gets them made).
Editors in the edit and structure modes, where every variant shows, and calls without a request run django CMS's
own function unchanged. ``install()`` (``TailoredCmsConfig.ready``) puts this one in ``cms.utils.plugins``, where
django CMS looks it up on each call (``get_plugins``; ``ContentRenderer._preload_placeholders_for_page`` imports it
when it runs), if django CMS's is still the one copied (``is_current``: the sha256 of its source is
``COPIED_SOURCE_SHA256``); else django CMS's own stays, which renders the same pages building every variant, and
system check W007 says so. ``tests/areas/test_shown.py`` fails when django CMS's function is no longer the one
copied, or its callers no longer look it up there.
"""

from __future__ import annotations

import hashlib
import inspect
from collections import defaultdict
from functools import cache
from typing import Any

from cms.models import CMSPlugin
from cms.plugin_pool import plugin_pool
from cms.utils import get_language_from_request
from cms.utils import plugins as cms_plugins_utils
from django.db import connections
from django.db.models import DateTimeField, TextField
from django.db.models.expressions import RawSQL
from django.http import HttpRequest

from ..plugin_settings.models import STAMP
from ..plugin_settings.rendering import is_editing
from .shown import ROW, STAMPED, changed_date, decide, keep_decided

__all__ = [
    "COPIED_FROM",
    "COPIED_SOURCE_SHA256",
    "assign_plugins",
    "django_cms_assign_plugins",
    "install",
    "is_current",
    "source_sha256",
]

COPIED_FROM = "django-cms 5.1.3"
# sha256 of inspect.getsource(cms.utils.plugins.assign_plugins) in that version
COPIED_SOURCE_SHA256 = "d04cffda72858b118e058281661ffecac06145f8de6f1532b5922a4de2c7d03a"

django_cms_assign_plugins = cms_plugins_utils.assign_plugins
_ID, _PLACEHOLDER, _PARENT, _POSITION, _TYPE, _STAMP, _CHANGED, _CREATED = (
    ROW.index(name)
    for name in (
        "id",
        "placeholder_id",
        "parent_id",
        "position",
        "plugin_type",
        "stamp",
        "changed_date",
        "creation_date",
    )
)
# The fields of the instances made of the rows kept (``Model.from_db``'s order), by what django CMS does with them:
# every one for the plugins it keeps the instances of (widgets, boards…), but the creation_date of areas and
# variants, which nothing on a visitor's page reads; no timestamp for those it builds anew from their model's table
# (texts, pictures…: read there).
_FIELDS = tuple(field.attname for field in CMSPlugin._meta.concrete_fields)
_STAMPED_FIELDS = tuple(name for name in _FIELDS if name != "creation_date")
_BUILT_ANEW_FIELDS = tuple(name for name in _FIELDS if name not in ("creation_date", "changed_date"))


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
    rows = list(queryset.values_list(*_columns(queryset.db, tuple(t for t in unbuilt if t not in STAMPED))))
    if not rows:
        # Create default plugins if enabled
        plugins = cms_plugins_utils.create_default_plugins(request, placeholders, template, lang)
    else:
        decided, kept = decide(rows, request, lang, queryset.db)
        made = [_instance(row, lang, unbuilt, queryset.db) for row in kept]
        plugins = list(cms_plugins_utils.downcast_plugins(made, placeholders, request=request))
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


def _columns(db: str, timestamped: tuple[str, ...]) -> tuple[Any, ...]:
    """``ROW``: ``stamp`` of the ``STAMPED`` types only, the timestamps of the types ``timestamped`` only (NULL for
    the others): parsing a timestamp is most of what reading a row costs (Django's PostgreSQL backend parses them
    in Python), its text next to nothing. Raw SQL: Django's ``Case`` costs more to compile than it saves."""
    quote = connections[db].ops.quote_name

    def of(types: tuple[str, ...], sql: str, output_field: Any) -> RawSQL:
        listed = ", ".join(["%s"] * len(types)) or "NULL"
        return RawSQL(f"CASE WHEN {quote('plugin_type')} IN ({listed}) THEN {sql} END", types, output_field)

    return (
        "id",
        "placeholder_id",
        "parent_id",
        "position",
        "plugin_type",
        of(STAMPED, _stamp_sql(db), TextField()),
        of(timestamped, quote("changed_date"), DateTimeField()),
        of(timestamped, quote("creation_date"), DateTimeField()),
    )


@cache
def _stamp_sql(db: str) -> str:
    """``STAMP``'s SQL on ``db``: the same text of a changed_date as ``plugin_settings.models.load`` reads."""
    query = CMSPlugin.objects.using(db).all().query
    sql, _params = STAMP.resolve_expression(query).as_sql(query.get_compiler(db), connections[db])  # a cast: none
    return sql


def _instance(row: tuple[Any, ...], language: str, unbuilt: tuple[str, ...], db: str) -> CMSPlugin:
    """The ``CMSPlugin`` instance of ``row`` as django CMS's query makes it, but for the timestamps not read
    (deferred: see ``_FIELDS``)."""
    plugin_type = row[_TYPE]
    base = (row[_ID], row[_PLACEHOLDER], row[_PARENT], row[_POSITION], language, plugin_type)
    if plugin_type in STAMPED:
        changed = changed_date(row)  # None: its area was left to decide itself (read if asked)
        if changed is None:
            return CMSPlugin.from_db(db, _BUILT_ANEW_FIELDS, base)
        return CMSPlugin.from_db(db, _STAMPED_FIELDS, (*base, changed))
    if plugin_type in unbuilt:
        return CMSPlugin.from_db(db, _FIELDS, (*base, row[_CREATED], row[_CHANGED]))
    return CMSPlugin.from_db(db, _BUILT_ANEW_FIELDS, base)


@cache
def source_sha256() -> str | None:
    """sha256 of the installed django CMS's ``assign_plugins`` source (``None``: its source can't be read)."""
    try:
        return hashlib.sha256(inspect.getsource(django_cms_assign_plugins).encode()).hexdigest()
    except (OSError, TypeError):
        return None


def is_current() -> bool:
    """``True`` if the installed django CMS's ``assign_plugins`` is the one ``assign_plugins`` was copied from."""
    return source_sha256() == COPIED_SOURCE_SHA256


def install() -> bool:
    """Put ``assign_plugins`` in ``cms.utils.plugins`` in place of django CMS's if django CMS's is the one copied
    (``is_current``); else django CMS's own stays, which builds every variant (system check W007 says so).
    Returns whether ours is in place."""
    current = is_current()
    cms_plugins_utils.assign_plugins = assign_plugins if current else django_cms_assign_plugins
    return current
