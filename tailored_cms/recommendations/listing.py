"""One visitor's recommended pages for one plugin, as the ``recommendations/`` endpoint returns them.

Which list (``choose``): a visitor in the plugin's holdout gets the popular list (``holdout``); a visitor who may
be tracked and has a computed list gets it (``personalized``); a visitor who follows topics gets the shared
per-topic lists ranked by them alone, behaviour unused (``customized``); anyone else the popular list
(``fallback``). The path is what results count impressions and clicks by, so the holdout compares with everyone
else as for an area. Then ``entries`` applies the plugin's settings: pinned pages first, only pages under the
included trees, none under the excluded ones, only of its topics, old enough; the current page left out.

Cost: one Redis round trip (``store.read``) and four queries (the plugin's page lists and topics, the pages, the
titles of pages read, the topics' names); never on the page's own request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cms.models import PageContent, PageUrl
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from ..areas.matching import SelectionPath
from ..visitors.buckets import in_holdout
from ..visitors.models import Topic
from ..widgets.feed import page_url
from ..widgets.models import PageTopics
from . import store
from .models import RecommendedPages
from .ranking import POPULAR, Pick, SharedModel, recommend, topic_affinity
from .reasons import PINNED, describe, explain_list

__all__ = [
    "RECOMMENDED",
    "Entry",
    "Listing",
    "choose",
    "entries",
    "explain_recommendations",
    "listing",
    "popular_picks",
]

KEY_PREFIX = "recommended-"  # RecommendedPages.area_key
KEY = re.compile(r"recommended-[1-9][0-9]{0,9}")
RECOMMENDED = "recommended"  # the variant key results count the recommender's list under
POPULAR_LIST = "popular"  # ... and the holdout's popular list


@dataclass(frozen=True)
class Entry:
    page_id: int
    title: str
    url: str
    reason: str
    kind: str


@dataclass(frozen=True)
class Listing:
    path: str  # a SelectionPath
    variant: str  # RECOMMENDED or POPULAR_LIST
    explanation: str
    entries: list[Entry]


def popular_picks(shared: SharedModel) -> list[Pick]:
    return [Pick(pid, POPULAR) for pid in shared.popular]


def choose(
    plugin: RecommendedPages, visitor_id: str | None, tracked: bool, followed: Sequence[str]
) -> tuple[str, list[Pick], SharedModel]:
    """The path and the picks for this visitor (see the module). One Redis round trip."""
    held_out = in_holdout(visitor_id, plugin.area_key, plugin.holdout_percent)
    personal, shared = store.read(visitor_id if tracked and not held_out else None)
    if held_out:
        return SelectionPath.HOLDOUT, popular_picks(shared), shared
    if personal:  # popular unread pages are among its candidates; padding with the popular list would add read ones
        return SelectionPath.PERSONALIZED, personal, shared
    if followed:
        picks = recommend(shared, affinity=topic_affinity((), followed), followed=followed, limit=len(shared.pages))
        return SelectionPath.CUSTOMIZED, picks, shared
    return SelectionPath.FALLBACK, popular_picks(shared), shared


def entries(
    plugin: RecommendedPages,
    picks: Sequence[Pick],
    *,
    language: str,
    site_id: int,
    exclude_page_id: int | None = None,
) -> list[Entry]:
    """The plugin's pinned pages, then ``picks`` in order, as the plugin's settings allow, ``plugin.limit`` at
    most, each with its reason in the current language."""
    pinned = list(plugin.pinned.order_by("path").values_list("pk", flat=True))  # in the page tree's order
    included = list(plugin.include_trees.values_list("path", flat=True))
    excluded = list(plugin.exclude_trees.values_list("path", flat=True))
    topics = list(plugin.topics.values_list("slug", flat=True))
    wanted = {pick.page_id for pick in picks} | set(pinned)
    if exclude_page_id is not None:
        wanted.discard(exclude_page_id)
    pages = PageContent.objects.filter(
        language=language, page__site_id=site_id, page__login_required=False, page_id__in=wanted
    )
    if included:
        pages = pages.filter(_under(included))
    if excluded:
        pages = pages.exclude(_under(excluded))
    if topics:
        tagging = PageTopics.topics.through.objects.filter(
            pagetopics__extended_object=OuterRef("page_id"), topic__slug__in=topics
        )
        pages = pages.filter(Exists(tagging))
    if plugin.min_age_days:
        pages = pages.filter(creation_date__lte=timezone.now() - timedelta(days=plugin.min_age_days))
    path = PageUrl.objects.filter(page=OuterRef("page_id"), language=language).values("path")[:1]
    found = {
        row["page_id"]: row
        for row in pages.annotate(url_path=Subquery(path)).values(
            "page_id", "title", "menu_title", "url_path", "page__is_home"
        )
    }
    ordered = [Pick(pid, PINNED) for pid in pinned] + list(picks)
    chosen: dict[int, Pick] = {}
    for pick in ordered:
        if pick.page_id in found and pick.page_id not in chosen:
            chosen[pick.page_id] = pick
            if len(chosen) == plugin.limit:
                break
    return _described(list(chosen.values()), found, language)


def _under(paths: Sequence[str]) -> Q:
    """Pages at or below the pages with these tree paths (treebeard's materialized path)."""
    condition = Q()
    for tree_path in paths:
        condition |= Q(page__path__startswith=tree_path)
    return condition


def _described(picks: list[Pick], found: dict[int, dict[str, Any]], language: str) -> list[Entry]:
    read_ids = {int(pick.subject) for pick in picks if pick.subject.isdigit()}
    titles = dict(
        PageContent.objects.filter(page_id__in=read_ids, language=language).values_list("page_id", "title")
        if read_ids
        else []
    )
    slugs = {pick.subject for pick in picks if pick.subject and not pick.subject.isdigit()}
    names = Topic.objects.filter(slug__in=slugs).names() if slugs else {}
    listed = []
    for pick in picks:
        row = found[pick.page_id]
        url = page_url(row["url_path"], bool(row["page__is_home"]))
        if url is None:
            continue
        title = str(row["menu_title"] or row["title"])
        listed.append(Entry(pick.page_id, title, url, describe(pick.kind, pick.subject, titles, names), pick.kind))
    return listed


def explain_recommendations(
    keys: Sequence[str], visitor_id: str | None, tracked: bool, followed: Sequence[str]
) -> dict[str, str]:
    """How each "Recommended pages" list among area ``keys`` (``recommended-<id>``) was made for this visitor, in
    a sentence. Cost: nothing when no key is one; else one query and one Redis round trip per plugin."""
    ids = [int(key.removeprefix(KEY_PREFIX)) for key in keys if KEY.fullmatch(key)]
    if not ids:
        return {}
    explained = {}
    for plugin in RecommendedPages.objects.filter(pk__in=ids, plugin_type="RecommendedPagesPlugin"):
        path, _picks, _shared = choose(plugin, visitor_id, tracked, followed)
        explained[plugin.area_key] = explain_list(path)
    return {key: explained[key] for key in keys if key in explained}


def listing(
    plugin: RecommendedPages,
    *,
    visitor_id: str | None,
    tracked: bool,
    followed: Sequence[str],
    language: str,
    site_id: int,
    exclude_page_id: int | None = None,
) -> Listing:
    """What the endpoint answers: the path, the variant, how the list was made, and its entries."""
    path, picks, _shared = choose(plugin, visitor_id, tracked, followed)
    found = entries(plugin, picks, language=language, site_id=site_id, exclude_page_id=exclude_page_id)
    variant = POPULAR_LIST if path == SelectionPath.HOLDOUT else RECOMMENDED
    return Listing(path, variant, explain_list(path), found)
