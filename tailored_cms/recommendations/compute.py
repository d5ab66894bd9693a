"""Celery's half: read visitors' page views and topic views, rank (``ranking``), store the lists (``store``).

- ``compute_all()`` (beat, hourly): learns the model from every page view of the last ``RECOMMENDATIONS_DAYS``
  days and writes every visitor's list who read something then, ``CHUNK`` visitors at a time.
- ``compute_visitors(ids)`` (after the ingest, batched): the lists of the visitors the ingest gave new page
  views, with the last model (learnt anew when there is none).

Only visitors who may be tracked have page views stored (the ingest drops the others'), so only their lists are
computed; the endpoint still checks consent at every request, so a visitor who withdrew it meanwhile gets the
lists that name no behaviour.

Cost: ``compute_all``: two queries for the pages, one for the page views, two per chunk (topic views, followed
topics) and one Redis round trip per chunk; ``compute_visitors``: the same for those visitors, one chunk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cms.models import PageContent
from django.db.models import Max, Min
from django.utils import timezone

from ..conf import tailored_settings
from ..tracking.models import Event, TopicViews
from ..tracking.stream import PAGE_VIEW
from ..visitors.models import Visitor
from ..widgets.models import PageTopics
from . import store
from .ranking import PER_TOPIC, Model, PageFacts, Pick, fit, recommend, topic_affinity

__all__ = ["CHUNK", "ComputeResult", "compute_all", "compute_visitors", "page_facts"]

CHUNK = 2000  # visitors ranked and written together
KEPT = PER_TOPIC  # picks stored per visitor: enough for a plugin's filters to leave its limit


@dataclass(frozen=True)
class ComputeResult:
    visitors: int
    pages: int

    def as_dict(self) -> dict[str, int]:
        return {"visitors": self.visitors, "pages": self.pages}


def page_facts(now: datetime) -> dict[int, PageFacts]:
    """Every page visitors may read (published in some language, no login needed): its topics and age."""
    published = (
        PageContent.objects.filter(page__login_required=False, page__is_page_type=False)
        .values("page_id")
        .annotate(first=Min("creation_date"))
        .values_list("page_id", "first")
    )
    ages = {pid: max((now - first).total_seconds() / 86400, 0.0) for pid, first in published}
    topics: dict[int, list[str]] = defaultdict(list)
    through = PageTopics.topics.through
    for pid, slug in through.objects.filter(pagetopics__extended_object_id__in=list(ages)).values_list(
        "pagetopics__extended_object_id", "topic__slug"
    ):
        topics[pid].append(slug)
    return {pid: PageFacts(tuple(sorted(topics[pid])), age) for pid, age in ages.items()}


def _reads(now: datetime, visitor_ids: Sequence[str] | None = None) -> dict[str, dict[int, float]]:
    """Per visitor, the pages they viewed in the window and how many days ago last."""
    views = Event.objects.filter(
        name=PAGE_VIEW, page_id__isnull=False, ts__gte=now - timedelta(days=tailored_settings.RECOMMENDATIONS_DAYS)
    )
    if visitor_ids is not None:
        views = views.filter(visitor_id__in=visitor_ids)
    reads: dict[str, dict[int, float]] = defaultdict(dict)
    for vid, pid, last in (
        views.values("visitor_id", "page_id").annotate(last=Max("ts")).values_list("visitor_id", "page_id", "last")
    ):
        reads[str(vid)][pid] = max((now - last).total_seconds() / 86400, 0.0)
    return reads


def _lists(
    model: Model, reads: dict[str, dict[int, float]], visitor_ids: Sequence[str], now: datetime
) -> dict[str, list[Pick]]:
    """The lists of ``visitor_ids``: their reads, their topic views (decayed) and followed topics."""
    today = timezone.localtime(now).date()
    since = today - timedelta(days=tailored_settings.RECOMMENDATIONS_DAYS)
    views: dict[str, list[tuple[str, float, int]]] = defaultdict(list)
    for viewer, slug, day, count in TopicViews.objects.filter(visitor_id__in=visitor_ids, day__gte=since).values_list(
        "visitor_id", "topic", "day", "count"
    ):
        views[str(viewer)].append((slug, float((today - day).days), count))
    lists: dict[str, list[Pick]] = {}
    for pk, followed in Visitor.objects.filter(pk__in=visitor_ids).values_list("pk", "topics"):  # not the erased
        vid = str(pk)
        topics = [slug for slug in followed or [] if isinstance(slug, str)]
        affinity = topic_affinity(views.get(vid, ()), topics)
        lists[vid] = recommend(model, read=reads.get(vid, {}), affinity=affinity, followed=topics, limit=KEPT)
    return lists


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def compute_all(now: datetime | None = None) -> ComputeResult:
    """Learn the model from every visitor's page views and write every such visitor's list."""
    now = now or timezone.now()
    pages = page_facts(now)
    reads = _reads(now)
    model = fit(reads, pages)
    store.write_model(model)
    ids = sorted(reads)
    for chunk in _chunks(ids):
        store.write_lists(_lists(model, reads, chunk, now))
    return ComputeResult(visitors=len(ids), pages=len(pages))


def compute_visitors(visitor_ids: Iterable[str], now: datetime | None = None) -> ComputeResult:
    """The lists of these visitors, with the last model; learnt anew (``compute_all``) when there is none."""
    now = now or timezone.now()
    model = store.read_model()
    if model is None:
        return compute_all(now)
    ids = sorted(set(visitor_ids))
    reads = _reads(now, ids)
    store.write_lists(_lists(model, reads, ids, now))
    return ComputeResult(visitors=len(ids), pages=len(model.pages))
