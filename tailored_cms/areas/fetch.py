"""django CMS's fetch of a page's plugins, reading, making and building for a visitor only what they are shown.

django CMS 5.1.3's ``cms.utils.plugins.assign_plugins`` reads every plugin row of the page's placeholders as
``CMSPlugin`` instances (one query), builds each into its plugin model's instance (``downcast_plugins``: one query
per plugin model) and hangs the trees on the placeholders. For an area of a hundred variants, that is every
variant's rows read in full and made instances, shown or not; with Django's PostgreSQL backend, parsing each row's
two timestamps in Python is most of it. ``assign_plugins`` below is that function, copied from django CMS 5.1.3,
with its fetch changed for a request rendered for a visitor (``shown``'s docstring says how it decides):

- the same one query (``_rows``), but without the variants ``shown.predict`` expects hidden (their rows and
  content; each area's last variant is read), reads the rows as tuples of ``shown.ROW``, narrowed to what is needed
  before anything is made of them: no ``language``
  (the query's), for areas and variants the database's text of their ``changed_date`` (which keys their settings
  in ``plugin_settings.cache``: no timestamp parsed) and no ``creation_date`` (nothing on a visitor's page reads
  it), the timestamps of the other plugins django CMS keeps the instances of (widgets, boards…), none of those it
  builds anew from their own table (texts, pictures…: read there). Its SQL is written once a process
  (``_select``): compiling it with Django's ORM cost about as much as running it;
- ``shown.decide`` keeps the rows the visitor is shown; only those are made instances (``_made``: what django
  CMS's query makes, the timestamps not read deferred, an area's or a variant's ``changed_date`` the one its text
  stands for; ``_instance``: a copy of the first instance made of the same row) and from there on it is django
  CMS's code; ``shown.keep_decided`` gives each area what it shows.

No query more than django CMS's, but once after an edit to an area some of whose variants were left out (the rows
read again, all of them). What still grows with the variants: the database's look at the rows it leaves out, and
per variant, the selection's look at its settings.

Why a copy: django CMS has no hook between its query and the instances (its ``downcast_plugins`` gets them made).
Editors in the edit and structure modes, where every variant shows, and calls without a request run django CMS's
own function unchanged. ``install()`` (``TailoredCmsConfig.ready``) puts this one in ``cms.utils.plugins``, where
django CMS looks it up on each call (``get_plugins``; ``ContentRenderer._preload_placeholders_for_page`` imports it
when it runs), if django CMS's is still the one copied (``is_current``: the sha256 of its source is
``COPIED_SOURCE_SHA256``); else django CMS's own stays, which renders the same pages building every variant, and
system check W007 says so. ``tests/areas/test_shown.py`` fails when django CMS's function is no longer the one
copied, or its callers no longer look it up there, or its query no longer reads the rows ``_rows`` reads.
"""

from __future__ import annotations

import hashlib
import inspect
from collections import defaultdict
from dataclasses import replace
from functools import cache, lru_cache
from typing import Any

from cms.models import CMSPlugin
from cms.plugin_pool import plugin_pool
from cms.utils import get_language_from_request
from cms.utils import plugins as cms_plugins_utils
from django.db import connections, router
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.http import HttpRequest

from ..plugin_settings.models import STAMP
from ..plugin_settings.rendering import is_editing
from .shown import ROW, STAMPED, changed_date, decide, keep_decided, predict

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
MAX_PROTOTYPES = 20_000  # rows whose instance's fields are kept (``_instance``; a few hundred bytes each), then none
_prototypes: dict[tuple[Any, ...], dict[str, Any]] = {}  # by row, language and database


def assign_plugins(
    request: HttpRequest | None, placeholders: Any, template: Any = None, lang: str | None = None
) -> None:
    """django CMS's ``assign_plugins`` (same signature, same result on the placeholders): for a request rendered for
    a visitor, only the plugins they are shown are made and built (see the module's docstring)."""
    if not placeholders or request is None or is_editing(request):
        return django_cms_assign_plugins(request, placeholders, template, lang)
    placeholders = tuple(placeholders)  # Trigger db hit
    lang = lang or get_language_from_request(request)
    db = router.db_for_read(CMSPlugin)
    unbuilt = _unbuilt_types()
    timestamped = tuple(plugin_type for plugin_type in unbuilt if plugin_type not in STAMPED)
    ids = [placeholder.pk for placeholder in placeholders]
    predicted = predict(ids, request, lang)
    rows = _rows(db, ids, lang, timestamped, predicted.left_out)
    if not rows:
        # Create default plugins if enabled
        plugins = cms_plugins_utils.create_default_plugins(request, placeholders, template, lang)
    else:
        outcome = decide(rows, request, lang, db, predicted)
        if outcome is None:  # an area some of whose variants were left out changed since: all of it read
            predicted = replace(predicted, decided={}, left_out=frozenset())
            outcome = decide(_rows(db, ids, lang, timestamped, predicted.left_out), request, lang, db, predicted)
        decided, kept = outcome  # type: ignore[misc]  # nothing left out: never None
        make = _made if pre_init.has_listeners(CMSPlugin) or post_init.has_listeners(CMSPlugin) else _instance
        made = [make(row, lang, unbuilt, db) for row in kept]
        plugins = list(cms_plugins_utils.downcast_plugins(made, placeholders, request=request))
        keep_decided(plugins, decided, predicted.at)

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


def _rows(
    db: str, placeholders: list[int], language: str, timestamped: tuple[str, ...], left_out: frozenset[int]
) -> list[tuple[Any, ...]]:
    """django CMS's query (the plugins of the ``placeholders``, their ids, in ``language``, by position) as rows of
    ``ROW`` (``_select``), but the variants ``left_out`` (their ids) and their children."""
    select, order_by = _select(db, len(placeholders), timestamped)
    if left_out:
        select = f"{select} AND {_not_in_variants(db, left_out)}"
    with connections[db].cursor() as cursor:
        cursor.execute(f"{select} {order_by}", (*STAMPED, *timestamped, *timestamped, *placeholders, language))
        rows = cursor.fetchall()
    converters = _timestamp_converters(db)
    if converters[0]:  # not on PostgreSQL, whose driver reads timestamps as Django keeps them
        rows = [_converted(row, converters, db) if row[_CHANGED] is not None else row for row in rows]
    return rows


@cache
def _timestamp_converters(db: str) -> tuple[tuple[Any, ...], Any]:
    """What the backend of ``db`` does to a timestamp it read (SQLite's text made an aware datetime…), and the
    column it does it for; no converter: nothing to do."""
    field = CMSPlugin._meta.get_field("changed_date")
    column = field.get_col(CMSPlugin._meta.db_table)
    return tuple(connections[db].ops.get_db_converters(column) + field.get_db_converters(connections[db])), column


def _converted(row: tuple[Any, ...], converters: tuple[tuple[Any, ...], Any], db: str) -> tuple[Any, ...]:
    """``row`` with its timestamps as Django's query would give them (``_timestamp_converters``)."""
    functions, column = converters
    values = list(row)
    for index in (_CHANGED, _CREATED):
        for function in functions:
            values[index] = function(values[index], column, connections[db])
    return tuple(values)


@lru_cache(maxsize=1024)  # a visitor's left-out variants are most often another's
def _not_in_variants(db: str, variants: frozenset[int]) -> str:
    """SQL: the plugin is none of ``variants`` (ids, written in: no parameter to adapt), nor a child of one.
    PostgreSQL reads them as one array literal, faster than a list of as many constants; the parent compared
    with ``COALESCE(parent_id, 0)`` (no id is 0): its planner then estimates the condition without looking up the
    column's statistics for each id, which cost more than running the query's filter."""
    quote = connections[db].ops.quote_name
    listed = ",".join(map(str, variants))  # the database's own ids: ints
    if connections[db].vendor == "postgresql":
        array = f"'{{{listed}}}'::integer[]"
        return f"{quote('id')} <> ALL({array}) AND COALESCE({quote('parent_id')}, 0) <> ALL({array})"
    return (
        f"{quote('id')} NOT IN ({listed}) AND ({quote('parent_id')} IS NULL OR {quote('parent_id')} NOT IN ({listed}))"
    )


@cache
def _select(db: str, placeholders: int, timestamped: tuple[str, ...]) -> tuple[str, str]:
    """The SQL of ``_rows`` for that many placeholders, without and with its ``ORDER BY``: ``ROW``'s columns, with
    ``stamp`` for the ``STAMPED`` types only and the timestamps for the types ``timestamped`` only (NULL for the
    others): parsing a timestamp is most of what reading a row costs (Django's PostgreSQL backend parses them in
    Python), its text next to nothing. Written once a process: compiling the query with Django's ORM costs about
    as much as running it."""
    quote = connections[db].ops.quote_name

    def of(types: tuple[str, ...], sql: str) -> str:
        return f"CASE WHEN {quote('plugin_type')} IN ({', '.join(['%s'] * len(types)) or 'NULL'}) THEN {sql} END"

    columns = [quote(name) for name in ROW[: ROW.index("stamp")]]
    columns += [
        of(STAMPED, _stamp_sql(db)),
        of(timestamped, quote("changed_date")),
        of(timestamped, quote("creation_date")),
    ]
    where = f"{quote('placeholder_id')} IN ({', '.join(['%s'] * placeholders)}) AND {quote('language')} = %s"
    order = ", ".join(
        f"{quote(field.lstrip('-'))} {'DESC' if field.startswith('-') else 'ASC'}" for field in CMSPlugin._meta.ordering
    )
    return f"SELECT {', '.join(columns)} FROM {quote(CMSPlugin._meta.db_table)} WHERE {where}", f"ORDER BY {order}"


@cache
def _stamp_sql(db: str) -> str:
    """``STAMP``'s SQL on ``db``: the same text of a changed_date as ``plugin_settings.models.load`` reads."""
    query = CMSPlugin.objects.using(db).all().query
    sql, _params = STAMP.resolve_expression(query).as_sql(query.get_compiler(db), connections[db])  # a cast: none
    return sql


def _instance(row: tuple[Any, ...], language: str, unbuilt: tuple[str, ...], db: str) -> CMSPlugin:
    """``_made`` of ``row``, as a copy of the first instance made of the same row (``_prototypes``): a tenth of the
    cost of Django's constructor, whose signals (``pre_init``, ``post_init``) nothing listens to for ``CMSPlugin``
    (else ``assign_plugins`` calls ``_made``). So Django itself makes an instance it unpickles."""
    key = (row, language, db)
    fields = _prototypes.get(key)
    if fields is None:
        made = _made(row, language, unbuilt, db)
        if row[_TYPE] not in STAMPED or "changed_date" in made.__dict__:  # else its settings aren't known yet
            if len(_prototypes) >= MAX_PROTOTYPES:
                _prototypes.clear()
            _prototypes[key] = {name: value for name, value in made.__dict__.items() if name != "_state"}
        return made
    instance = CMSPlugin.__new__(CMSPlugin)
    instance.__dict__.update(fields)
    state = instance._state = ModelState()
    state.adding, state.db = False, db
    return instance


def _made(row: tuple[Any, ...], language: str, unbuilt: tuple[str, ...], db: str) -> CMSPlugin:
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
