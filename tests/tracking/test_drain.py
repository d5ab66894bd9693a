"""``drain`` through a backlog: segments of the touched visitors re-evaluated once a second, not after each batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError

from tailored_cms import api
from tailored_cms.rules.active import active_key
from tailored_cms.rules.models import Membership
from tailored_cms.signals import visitors_touched
from tailored_cms.tracking import ingest
from tailored_cms.tracking.ingest import loop
from tailored_cms.tracking.models import Event

from .conftest import add_events, stream_length
from .test_workers import TOPICS, make_events

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def touched_visitors(record: Callable[[frozenset[str]], None]) -> Iterator[None]:
    """Hear ``visitors_touched`` too (the segments' own receiver still runs)."""

    def receiver(sender: Any, visitor_ids: frozenset[str], **kwargs: Any) -> None:
        record(visitor_ids)

    visitors_touched.connect(receiver)
    try:
        yield
    finally:
        visitors_touched.disconnect(receiver)


def test_a_backlog_is_drained_exactly_once_with_one_segment_recompute_for_all_its_batches(
    tagged_page, tailored_redis, settings, monkeypatch
):
    for slug, topics in TOPICS.items():
        tagged_page(slug, topics=topics)
    api.create_segment("clickers", rules={"rule": "event_count", "name": "click", "min": 1})
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_BATCH": 50}
    events = make_events(500, visitors=40)
    add_events(tailored_redis, events)
    recomputed: list[set[str]] = []
    monkeypatch.setattr(loop, "TOUCHED_EVERY", 60.0)  # the whole backlog within one interval

    with touched_visitors(lambda visitor_ids: recomputed.append(set(visitor_ids))):
        stats = ingest.drain(max_seconds=60)

    assert stats.batches == 10 and stats.new + stats.not_pages == 500 and stats.duplicates == 0
    assert Event.objects.count() == stats.new and stream_length(tailored_redis) == 0
    assert len(recomputed) == 1  # once, when the drain ended, instead of ten times
    assert recomputed[0] == {event.visitor_id for event in events}
    clickers = {event.visitor_id for event in events if event.name == "click"}
    in_segment = set(
        Membership.objects.filter(segment__slug="clickers", left_at=None).values_list("visitor_id", flat=True)
    )
    assert {str(visitor_id) for visitor_id in in_segment} == clickers


def test_a_long_drain_re_evaluates_segments_as_it_goes(tagged_page, tailored_redis, settings, monkeypatch):
    for slug, topics in TOPICS.items():
        tagged_page(slug, topics=topics)
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_BATCH": 50}
    add_events(tailored_redis, make_events(200, visitors=20))
    calls: list[int] = []
    monkeypatch.setattr(loop, "TOUCHED_EVERY", 0.0)  # every batch is "a second later"

    with touched_visitors(lambda visitor_ids: calls.append(len(visitor_ids))):
        ingest.drain(max_seconds=60)

    assert len([n for n in calls if n]) == 4  # after each of the four batches: segments never wait long


def test_a_redis_that_came_back_empty_gets_the_active_segments_on_the_next_run_without_events(
    tailored_redis, django_capture_on_commit_callbacks
):
    """Without them, areas for segments show their fallback to everyone until the next full recompute."""
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("regulars", "Regulars", rules={"rule": "visit_count", "min": 3})
        api.create_segment("phones", "Phones", rules={"rule": "device", "is": "mobile"})
    key = active_key()
    assert set(tailored_redis.hkeys(key)) >= {b"regulars", b"phones"}
    tailored_redis.flushdb()  # a restart without persistence

    assert ingest.drain(max_seconds=1).read == 0
    assert set(tailored_redis.hkeys(key)) >= {b"regulars", b"phones", b"#v"}
    version = tailored_redis.hget(key, "#v")
    ingest.drain(max_seconds=1)
    assert tailored_redis.hget(key, "#v") == version  # published once, not on every run


def test_a_batch_that_failed_is_stored_by_the_same_worker_on_its_next_run_not_a_minute_later(
    tagged_page, tailored_redis, settings
):
    """The database was away: the entries the failed run read stay pending. The worker's next run takes them
    first (in order, so visits are counted right), without waiting INGEST_CLAIM_IDLE_SECONDS (60 s here)."""
    for slug, topics in TOPICS.items():
        tagged_page(slug, topics=topics)
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_BATCH": 50, "INGEST_CLAIM_IDLE_SECONDS": 60}
    first, later = make_events(50, visitors=5), make_events(30, visitors=5)
    add_events(tailored_redis, first)

    def database_away() -> None:
        raise OperationalError("the database went away")

    with pytest.raises(OperationalError):
        ingest.drain(max_seconds=5, consumer="worker-1", before_commit=database_away)
    assert Event.objects.count() == 0 and stream_length(tailored_redis) == 50  # nothing stored, nothing acked
    add_events(tailored_redis, later)

    stats = ingest.drain(max_seconds=5, consumer="worker-1")

    assert (stats.claimed, stats.duplicates) == (50, 0)
    assert stats.new + stats.not_pages == 80 and stream_length(tailored_redis) == 0
    assert Event.objects.count() == stats.new
