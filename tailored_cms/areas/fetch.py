"""django CMS's fetch of a page's plugins, reading in full and building for a visitor only what they are shown.

django CMS 5.1.3's ``cms.utils.plugins.assign_plugins`` reads every plugin row of the page's placeholders as
``CMSPlugin`` instances (one query), builds each into its plugin model's instance (``downcast_plugins``: one query
per plugin model) and hangs the trees on the placeholders. For an area of a hundred variants, that is every
variant's rows read and made instances, shown or not: with Django's PostgreSQL backend, parsing the rows'
two timestamps is most of it. ``assign_plugins`` below is that function, copied from django CMS 5.1.3, with its
fetch in two steps for a request rendered for a visitor:

1. a narrow read of the rows (``shown.ROW``: ids, types, and ``changed_date`` of areas and variants only, which
   keys their settings in memory), from which ``shown.decide`` selects what the visitor is shown of each area;
2. django CMS's query for the rows kept: the variants not shown and everything in them are left out. From there
   on it is django CMS's code; each area gets its selection (``shown.keep_decided``).

What grows with the variants: a narrow tuple per row, a timestamp per variant, and the selection over the
variants' settings (from memory, see ``plugin_settings.cache``). The price: one query more a page view, on pages
with areas only: this process remembers the placeholders seen holding none (by id and language, at most
``MAX_REMEMBERED``), and reads those with django CMS's own fetch. One that gains an area is read that way once
more (every variant built; its render selects among them), then in two steps.

Why a copy: django CMS has no hook between its query and the instances (its ``downcast_plugins`` gets them made).
Editors in the edit and structure modes, where every variant shows, and calls without a request run django CMS's
own function unchanged. ``install()`` (``TailoredCmsConfig.ready``) puts this one in ``cms.utils.plugins``, where
django CMS looks it up on each call (``get_plugins``; ``ContentRenderer._preload_placeholders_for_page`` imports it
when it runs). ``tests/areas/test_shown.py`` fails when django CMS's function is no longer the one copied
(``COPIED_SOURCE_SHA256``), or its callers no longer look it up there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from cms.models import CMSPlugin
from cms.utils import get_language_from_request
from cms.utils import plugins as cms_plugins_utils
from django.db.models import Case, DateTimeField, F, Q, When
from django.http import HttpRequest

from ..plugin_settings.rendering import is_editing
from .shown import AREA, ROW, VARIANT, decide, keep_decided

__all__ = [
    "COPIED_FROM",
    "COPIED_SOURCE_SHA256",
    "MAX_REMEMBERED",
    "assign_plugins",
    "django_cms_assign_plugins",
    "forget",
    "install",
]

COPIED_FROM = "django-cms 5.1.3"
# sha256 of inspect.getsource(cms.utils.plugins.assign_plugins) in that version
COPIED_SOURCE_SHA256 = "d04cffda72858b118e058281661ffecac06145f8de6f1532b5922a4de2c7d03a"
MAX_REMEMBERED = 50_000  # placeholders remembered as holding no area, then the memory starts again empty

django_cms_assign_plugins = cms_plugins_utils.assign_plugins
# The narrow read's columns (shown.ROW): changed_date of areas and variants only (NULL for the other rows).
_CHANGED_IF_TAILORED = Case(
    When(Q(plugin_type__in=(AREA, VARIANT)), then=F("changed_date")), default=None, output_field=DateTimeField()
)
_NARROW = tuple(_CHANGED_IF_TAILORED if name == "changed_date" else name for name in ROW)
_ID, _PLACEHOLDER, _TYPE = (ROW.index(name) for name in ("id", "placeholder_id", "plugin_type"))
# (placeholder id, language) of the placeholders seen holding no area: django CMS's own fetch serves them.
_without_areas: set[tuple[int, str]] = set()


def assign_plugins(
    request: HttpRequest | None, placeholders: Any, template: Any = None, lang: str | None = None
) -> None:
    """django CMS's ``assign_plugins`` (same signature, same result on the placeholders): for a request rendered for
    a visitor, only the plugins they are shown are read in full and built (see the module's docstring)."""
    if not placeholders or request is None or is_editing(request):
        return django_cms_assign_plugins(request, placeholders, template, lang)
    placeholders = tuple(placeholders)  # Trigger db hit
    lang = lang or get_language_from_request(request)
    if all((placeholder.pk, lang) in _without_areas for placeholder in placeholders):
        django_cms_assign_plugins(request, placeholders, template, lang)
        _remember(placeholders, lang, (plugin.placeholder_id for plugin in _areas_among(placeholders)))
        return None
    queryset = CMSPlugin.objects.filter(placeholder__in=placeholders, language=lang)
    rows = list(queryset.values_list(*_NARROW))
    _remember(placeholders, lang, (row[_PLACEHOLDER] for row in rows if row[_TYPE] == AREA))
    if not rows:
        # Create default plugins if enabled
        plugins = cms_plugins_utils.create_default_plugins(request, placeholders, template, lang)
    else:
        decided, hidden = decide(rows, request, lang, queryset.db)
        kept = [row[_ID] for row in rows if row[_ID] not in hidden]
        full = list(CMSPlugin.objects.filter(pk__in=kept) if hidden else queryset)
        plugins = list(cms_plugins_utils.downcast_plugins(full, placeholders, request=request))
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


def _remember(placeholders: tuple[Any, ...], language: str, with_areas: Iterable[int]) -> None:
    """Note which of ``placeholders`` hold no area in ``language`` (``with_areas``: the ids of those that do)."""
    holding = set(with_areas)
    if len(_without_areas) >= MAX_REMEMBERED:
        _without_areas.clear()
    for placeholder in placeholders:
        if placeholder.pk in holding:
            _without_areas.discard((placeholder.pk, language))
        else:
            _without_areas.add((placeholder.pk, language))


def _areas_among(placeholders: tuple[Any, ...]) -> list[Any]:
    """The areas django CMS loaded into ``placeholders``."""
    return [
        plugin
        for placeholder in placeholders
        for plugin in placeholder._all_plugins_cache
        if plugin.plugin_type == AREA
    ]


def forget() -> None:
    """Forget which placeholders hold no area: each is read in two steps again, once (tests start with this)."""
    _without_areas.clear()


def install() -> None:
    """Put ``assign_plugins`` in ``cms.utils.plugins`` in place of django CMS's (once)."""
    cms_plugins_utils.assign_plugins = assign_plugins
