"""Pages tagged with topics, for ``TopicFeedPlugin``: the visitor's followed topics first.

Cost: 2 queries whatever the limit and the number of topics: one for the pages (with their URL path and
how many of the followed topics each has, as subqueries), one for the topics of the pages shown, named in the
page's language (else the site's default).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from cms.models import PageContent, PageUrl
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils.translation import override

from ..translations import pick_translations
from .models import PageTopics

Tagging = PageTopics.topics.through


@dataclass(frozen=True)
class FeedEntry:
    page_id: int
    title: str
    url: str
    followed: int  # how many of the visitor's topics the page has
    topics: list[tuple[str, str]] = field(default_factory=list)  # (slug, name)


def feed_entries(
    *,
    language: str,
    site_id: int,
    followed: Sequence[str],
    limit: int,
    followed_only: bool = False,
    exclude_page_id: int | None = None,
) -> list[FeedEntry]:
    """Public pages of the site with any topic (or only ``followed`` ones), most followed topics first."""
    if followed_only and not followed:
        return []
    tags = Tagging.objects.filter(pagetopics__extended_object=OuterRef("page_id"))
    followed_tags = tags.filter(topic__slug__in=list(followed))
    followed_count = followed_tags.order_by().values("pagetopics").annotate(n=Count("pk")).values("n")[:1]
    pages = (
        PageContent.objects.filter(language=language, page__site_id=site_id, page__login_required=False)
        .filter(Exists(followed_tags if followed_only else tags))
        .annotate(
            followed=Coalesce(Subquery(followed_count, output_field=IntegerField()), Value(0)),
            path=Subquery(PageUrl.objects.filter(page=OuterRef("page_id"), language=language).values("path")[:1]),
        )
        .order_by("-followed", "-creation_date", "-pk")
    )
    if exclude_page_id is not None:
        pages = pages.exclude(page_id=exclude_page_id)
    rows = list(pages.values("page_id", "title", "menu_title", "path", "followed", "page__is_home")[:limit])
    if not rows:
        return []

    topics: dict[int, list[tuple[str, str]]] = defaultdict(list)
    tagged = (
        Tagging.objects.filter(pagetopics__extended_object__in=[row["page_id"] for row in rows])
        .order_by("topic__position", "topic__slug")
        .values_list(
            "pagetopics__extended_object",
            "topic__slug",
            "topic__translations__language_code",
            "topic__translations__name",
        )
    )
    names = pick_translations((((page_id, slug), code, name) for page_id, slug, code, name in tagged), language)
    for (page_id, slug), name in names.items():
        topics[page_id].append((slug, name or slug))

    entries = []
    with override(language):
        for row in rows:
            url = page_url(row["path"], row["page__is_home"])
            if url is not None:
                title = row["menu_title"] or row["title"]
                entries.append(FeedEntry(row["page_id"], title, url, row["followed"], topics[row["page_id"]]))
    return entries


def page_url(path: str | None, is_home: bool) -> str | None:
    """What ``Page.get_absolute_url`` returns, without its queries."""
    try:
        if is_home:
            return reverse("pages-root")
        return reverse("pages-details-by-slug", kwargs={"slug": path}) if path else None
    except NoReverseMatch:
        return None
