"""Topic views: each new page view of a page tagged with topics adds one to the visitor's count of that topic for
the day (``tracking.models.TopicViews``, what topic rules and the topic feed read). Counted by a receiver of
``events_stored``, in the ingest's transaction: exactly once, like the ingest's own counters."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from django.utils import timezone

from .. import bulk_sql as sql
from ..tracking.ingest import StoredEvent
from ..tracking.models import TopicViews
from .models import PageTopics

__all__ = ["count_topic_views", "page_topics"]


def page_topics(page_ids: Iterable[int]) -> dict[int, list[str]]:
    """The topics' slugs of each page. Cost: one query."""
    topics: dict[int, list[str]] = defaultdict(list)
    through = PageTopics.topics.through
    for page_id, slug in through.objects.filter(pagetopics__extended_object_id__in=page_ids).values_list(
        "pagetopics__extended_object_id", "topic__slug"
    ):
        topics[page_id].append(slug)
    return topics


def count_topic_views(events: Sequence[StoredEvent]) -> None:
    """Add the page views among ``events`` to their visitors' daily topic views. Cost: no query when none is of a
    CMS page; else one for the pages' topics and, when they have some, one upsert (rows in key order, so
    concurrent batches lock alike)."""
    page_ids = {stored.page_id for stored in events if stored.page_id is not None}
    if not page_ids:
        return
    topics = page_topics(page_ids)
    zone = timezone.get_current_timezone()
    counts: Counter[tuple[str, str, date]] = Counter()
    for stored in events:
        for slug in topics.get(stored.page_id, ()) if stored.page_id is not None else ():
            counts[(stored.event.visitor_id, slug, stored.ts.astimezone(zone).date())] += 1
    sql.insert(
        TopicViews,
        ("visitor", "topic", "day", "count"),
        [(*key, count) for key, count in sorted(counts.items())],
        conflict=("visitor", "topic", "day"),
        action=sql.increment(TopicViews),
    )
