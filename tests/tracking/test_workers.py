"""Real workers: a process killed with SIGKILL mid-batch, two processes draining one stream, a Celery worker."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from tailored_cms.tracking import TrackedEvent, drain, stream_key
from tailored_cms.tracking.models import Event, EventCounts, TopicViews
from tailored_cms.tracking.stream import group_name
from tailored_cms.tracking.tasks import ingest_events
from tailored_cms.visitors.models import Visitor

from .conftest import DESKTOP_UA, add_events, stream_length

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOPICS = {"sports": ["sports"], "news": ["news", "politics"], "about": []}


def make_events(n: int, visitors: int, seed: int = 1) -> list[TrackedEvent]:
    """``n`` events of ``visitors`` visitors: page views of the tagged pages and clicks, all in one visit each."""
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(visitors)]
    events = []
    for i in range(n):
        visitor = ids[i % visitors]
        ts = T0 + timedelta(seconds=i % 600)
        if rng.random() < 0.7:
            slug = rng.choice(list(TOPICS))
            events.append(TrackedEvent.page_view(visitor, f"/{slug}/", ts=ts, user_agent=DESKTOP_UA))
        else:
            events.append(TrackedEvent(visitor, "click", ts=ts, props={"i": i}))
    return events


def expected_counts(events: list[TrackedEvent]) -> tuple[Counter, Counter]:
    topics: Counter = Counter()
    names: Counter = Counter()
    for event in {e.id: e for e in events}.values():
        names[(event.visitor_id, event.name)] += 1
        if event.is_page_view:
            for topic in TOPICS[event.path.strip("/")]:
                topics[(event.visitor_id, topic)] += 1
    return topics, names


def assert_counted_exactly_once(events: list[TrackedEvent]) -> None:
    topics, names = expected_counts(events)
    unique = {e.id for e in events}
    assert Event.objects.count() == len(unique)
    assert {str(pk) for pk in Event.objects.values_list("pk", flat=True)} == unique
    stored_topics = TopicViews.objects.values_list("visitor_id", "topic").annotate(n=Sum("count"))
    assert Counter({(str(v), t): n for v, t, n in stored_topics}) == topics
    stored_names = EventCounts.objects.values_list("visitor_id", "name").annotate(n=Sum("count"))
    assert Counter({(str(v), name): n for v, name, n in stored_names}) == names
    first_last: dict[str, tuple[datetime, datetime]] = {}
    for event in events:
        first, last = first_last.get(event.visitor_id, (event.ts, event.ts))
        first_last[event.visitor_id] = (min(first, event.ts), max(last, event.ts))
    visitors = {str(v.pk): v for v in Visitor.objects.all()}
    assert set(visitors) == set(first_last)
    for visitor_id, (first, last) in first_last.items():
        v = visitors[visitor_id]
        assert (v.visits, v.first_seen, v.last_seen) == (1, first, last), visitor_id


@pytest.fixture
def tagged_pages(tagged_page, shared_db):
    return {slug: tagged_page(slug, topics=topics) for slug, topics in TOPICS.items()}


@pytest.mark.parametrize("pause", ["--pause-before-ack", "--pause-before-commit"])
def test_a_worker_killed_mid_batch_loses_nothing_and_counts_nothing_twice(
    pause, tagged_pages, tailored_redis, worker_process, settings
):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_BATCH": 100, "INGEST_CLAIM_IDLE_SECONDS": 0.5}
    events = make_events(300, visitors=20)
    add_events(tailored_redis, events)

    worker = worker_process(pause)
    worker.wait_for("paused")
    worker.kill()  # SIGKILL: no cleanup of any kind

    committed = 100 if pause == "--pause-before-ack" else 0
    assert Event.objects.count() == committed
    assert stream_length(tailored_redis) == 300  # nothing acknowledged
    # Its batch, and the next one if its helper thread had read it already (drain reads ahead).
    held = int(tailored_redis.xpending(stream_key(), group_name())["pending"])
    assert held in (100, 200)

    time.sleep(0.6)  # the dead worker's entries are now idle long enough to be claimed
    stats = drain(30)
    assert (stats.read, stats.claimed, stats.new, stats.duplicates) == (300, held, 300 - committed, committed)
    assert stream_length(tailored_redis) == 0
    assert_counted_exactly_once(events)


def test_two_worker_processes_draining_one_stream_count_every_event_once(
    tagged_pages, tailored_redis, worker_process, settings, tmp_path
):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_BATCH": 250}
    events = make_events(5000, visitors=300)
    resent = events[::50]  # 100 events sent twice (a beacon retried), in other batches
    add_events(tailored_redis, events + resent)

    go = tmp_path / "go"
    workers = [worker_process("--go", str(go)) for _ in range(2)]
    for worker in workers:
        worker.wait_for("ready")
    go.touch()
    results = [worker.result() for worker in workers]

    assert all(r["new"] > 0 for r in results), results  # both did their share
    assert sum(r["read"] for r in results) == 5100
    assert sum(r["new"] for r in results) == 5000
    assert sum(r["duplicates"] for r in results) == 100
    assert stream_length(tailored_redis) == 0
    assert_counted_exactly_once(events)


def test_the_beat_scheduled_task_on_a_real_worker_turns_a_page_view_into_a_counter(
    tagged_pages, tailored_redis, celery_worker
):
    visitor = str(uuid.uuid4())
    add_events(tailored_redis, [TrackedEvent.page_view(visitor, "/sports/", user_agent=DESKTOP_UA)])
    deadline = time.monotonic() + 15
    # Stored, then acknowledged (the commit comes first: a moment may pass between the two).
    while time.monotonic() < deadline and (
        not TopicViews.objects.filter(visitor_id=visitor).exists() or stream_length(tailored_redis)
    ):
        time.sleep(0.1)
    assert TopicViews.objects.get(visitor_id=visitor).count == 1
    assert stream_length(tailored_redis) == 0


def test_the_task_sent_with_delay_runs_on_a_real_worker(tagged_pages, tailored_redis, celery_app, shared_db):
    from celery.contrib.testing.worker import start_worker

    visitor = str(uuid.uuid4())
    add_events(tailored_redis, [TrackedEvent(visitor, "signup", props={"plan": "pro"})])
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        ingest_events.delay(max_seconds=1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not EventCounts.objects.filter(visitor_id=visitor).exists():
            time.sleep(0.1)
    assert EventCounts.objects.get(visitor_id=visitor, name="signup").count == 1
