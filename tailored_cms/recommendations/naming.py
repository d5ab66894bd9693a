"""What results call a *Recommended pages* list, whose figures are counted under ``recommended-<id>``: the plugin's
page, a label saying so, and its two lists' names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext

from .listing import KEY, KEY_PREFIX, POPULAR_LIST, RECOMMENDED
from .models import RecommendedPages

__all__ = ["ListName", "list_names"]


@dataclass(frozen=True)
class ListName:
    label: str
    page: str
    holdout_percent: int
    variants: dict[str, str] = field(default_factory=dict)  # variant key -> label


def list_names(keys: Iterable[str]) -> dict[str, ListName]:
    """The names of the plugins among area ``keys`` that still exist, by key, in the current language.

    Cost: nothing when no key is one; else two queries (the plugins, their pages' contents)."""
    ids = [int(key.removeprefix(KEY_PREFIX)) for key in keys if KEY.fullmatch(key)]
    if not ids:
        return {}
    plugins = (
        RecommendedPages.objects.filter(pk__in=ids, plugin_type="RecommendedPagesPlugin")
        .select_related("placeholder")
        .prefetch_related("placeholder__source")
    )
    variants = {RECOMMENDED: gettext("Recommendations"), POPULAR_LIST: gettext("Most read pages (the holdout's)")}
    names = {}
    for plugin in plugins:
        source = plugin.placeholder.source if plugin.placeholder else None
        page = str(getattr(source, "title", "") or "")
        label = gettext("Recommended pages on “%(page)s”") % {"page": page} if page else str(plugin)
        names[plugin.area_key] = ListName(label, page, plugin.holdout_percent, variants)
    return names
