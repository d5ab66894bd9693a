"""django CMS's fetch of a page's plugins, building for a visitor only the rows of what they are shown.

django CMS 5.1.3's ``cms.utils.plugins.assign_plugins`` reads every plugin row of the page's placeholders as
``CMSPlugin`` instances (one query), builds each into its plugin model's instance (``downcast_plugins``: one query
per plugin model) and hangs the trees on the placeholders. For an area of a hundred variants that is a hundred
variants' rows made into instances, shown or not. ``assign_plugins`` below is that function, copied from django CMS
5.1.3, with its fetch changed for a request rendered for a visitor: the same query reads the rows as tuples of
``CMSPlugin``'s columns (all of them: they are eight small ones), ``shown.shown_plugins`` drops each area's
variants the visitor isn't shown with everything in them and makes instances of the rest only, exactly those
django CMS's query makes; from there on it is django CMS's code. So a page view costs no query more than django
CMS's, and what grows with the variants is a tuple per row and the selection over the variants' settings (from
memory, see ``plugin_settings.cache``).

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
from cms.utils import get_language_from_request
from cms.utils import plugins as cms_plugins_utils
from django.http import HttpRequest

from ..plugin_settings.rendering import is_editing
from .shown import COLUMNS, shown_plugins

__all__ = ["COPIED_FROM", "COPIED_SOURCE_SHA256", "assign_plugins", "django_cms_assign_plugins", "install"]

COPIED_FROM = "django-cms 5.1.3"
# sha256 of inspect.getsource(cms.utils.plugins.assign_plugins) in that version
COPIED_SOURCE_SHA256 = "d04cffda72858b118e058281661ffecac06145f8de6f1532b5922a4de2c7d03a"

django_cms_assign_plugins = cms_plugins_utils.assign_plugins


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
    rows = list(queryset.values_list(*COLUMNS))
    if not rows:
        # Create default plugins if enabled
        plugins = cms_plugins_utils.create_default_plugins(request, placeholders, template, lang)
    else:
        shown = shown_plugins(rows, request, queryset.db)
        plugins = cms_plugins_utils.downcast_plugins(shown, placeholders, request=request)

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


def install() -> None:
    """Put ``assign_plugins`` in ``cms.utils.plugins`` in place of django CMS's (once)."""
    cms_plugins_utils.assign_plugins = assign_plugins
