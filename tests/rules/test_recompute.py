"""Recompute: memberships with history, chunks, constant queries, the lock, snapshots mirrored, the command."""

from __future__ import annotations

import gc
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tailored_cms import api
from tailored_cms import connection as tailored_connection
from tailored_cms.rules.models import Membership, Segment
from tailored_cms.rules.recompute import (
    LOCK_SECONDS,
    RecomputeRunning,
    recompute_lock,
    recompute_segments,
    recompute_visitors,
)
from tailored_cms.rules.tasks import recompute_all
from tailored_cms.tracking import TrackedEvent, drain
from tailored_cms.tracking.models import TopicViews
from tailored_cms.visitors.snapshot import Snapshot
from tailored_cms.visitors.store import get_store

from .conftest import NOW, TODAY

pytestmark = pytest.mark.django_db

FANS = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}


def current() -> set[tuple[str, str]]:
    return {
        (str(v), s)
        for v, s in Membership.objects.filter(left_at__isnull=True).values_list("visitor_id", "segment__slug")
    }


def test_joins_and_leaves_keep_their_history(make_visitor):
    fan = make_visitor(views={"sports": [(0, 3)]})
    casual = make_visitor(views={"sports": [(0, 1)]})
    api.create_segment("sports-fans", rules=FANS)

    first = recompute_segments(now=NOW)
    assert (first.visitors, first.joins, first.leaves) == (2, 1, 0)
    assert current() == {(str(fan.pk), "sports-fans")}
    assert recompute_segments(now=NOW).joins == 0  # nothing changed, nothing written

    # 30 days later the views are out of the window: the fan leaves; the row stays, with left_at.
    later = NOW + timedelta(days=30)
    summary = recompute_segments(now=later)
    assert (summary.joins, summary.leaves) == (0, 1)
    [row] = Membership.objects.all()
    assert (row.joined_at, row.left_at) == (NOW, later)

    # New views: the casual visitor joins, and so does the fan again, in a new row.
    TopicViews.objects.create(visitor=casual, topic="sports", day=TODAY + timedelta(days=30), count=3)
    TopicViews.objects.create(visitor=fan, topic="sports", day=TODAY + timedelta(days=30), count=3)
    assert recompute_segments(now=later).joins == 2
    assert Membership.objects.filter(visitor=fan).count() == 2
    assert current() == {(str(fan.pk), "sports-fans"), (str(casual.pk), "sports-fans")}
    segment = Segment.objects.get()
    assert (segment.size, segment.computed_at, segment.recompute_started_at) == (2, later, None)


def test_a_deleted_visitor_or_segment_takes_its_memberships_with_it(make_visitor):
    """Memberships have no foreign-key constraint in the database: Django deletes them with their visitor and
    their segment, so none is left naming either."""
    fan, other_fan = make_visitor(views={"sports": [(0, 3)]}), make_visitor(views={"sports": [(0, 4)]})
    api.create_segment("sports-fans", rules=FANS)
    api.create_segment("returning", rules={"rule": "visit_count", "min": 0})
    recompute_segments(now=NOW)
    assert Membership.objects.filter(visitor=fan).count() == 2
    fan.delete()
    assert not Membership.objects.filter(visitor_id=fan.pk).exists()
    Segment.objects.get(slug="returning").delete()
    assert set(Membership.objects.values_list("visitor_id", "segment__slug")) == {(other_fan.pk, "sports-fans")}


def test_a_condition_change_updates_the_row_without_a_leave(make_visitor):
    fan = make_visitor(views={"sports": [(0, 3)]})
    api.create_segment("x", rules={"all": [FANS, {"rule": "device", "is": "mobile"}]})
    recompute_segments(now=NOW)
    api.create_segment("x", rules={"all": [FANS, {"rule": "device", "is": "tablet"}]})
    summary = recompute_segments(now=NOW)
    assert (summary.joins, summary.leaves, summary.changed) == (0, 0, 1)
    assert Membership.objects.get(visitor=fan).condition == {"rule": "device", "is": ["tablet"]}


def test_a_condition_that_stays_the_same_is_not_written_again(make_visitor, tailored_redis):
    fan = make_visitor(views={"sports": [(0, 3)]})
    api.create_segment("x", rules={"all": [FANS, {"rule": "device", "is": "mobile"}]})
    recompute_segments(now=NOW)
    get_store().set(Snapshot.from_visitor(fan))
    summary = recompute_segments(now=NOW)
    assert (summary.joins, summary.leaves, summary.changed, summary.snapshots) == (0, 0, 0, 0)


def test_a_visitor_leaves_one_segment_keeps_another_and_joins_a_third_at_once(make_visitor):
    reader = make_visitor(views={"sports": [(20, 3)]})
    api.create_segment("fans", rules=FANS)
    api.create_segment("readers", rules={"rule": "topic_views", "topic": "sports", "min": 1})
    api.create_segment("tennis", rules={"rule": "topic_views", "topic": "tennis", "min": 1})
    recompute_segments(now=NOW)
    kept = Membership.objects.get(segment__slug="readers")
    TopicViews.objects.create(visitor=reader, topic="tennis", day=TODAY, count=1)

    later = NOW + timedelta(days=15)  # the sports views are 35 days old: out of the fans' window
    summary = recompute_segments(now=later)
    assert (summary.joins, summary.leaves, summary.changed) == (1, 1, 0)
    assert current() == {(str(reader.pk), "readers"), (str(reader.pk), "tennis")}
    assert Membership.objects.get(segment__slug="readers", left_at__isnull=True).pk == kept.pk  # not left and rejoined
    assert Membership.objects.get(segment__slug="fans").left_at == later


def test_a_recompute_leaves_pythons_cycle_collector_as_it_found_it(make_visitor):
    # A chunk pauses it; left off, every reference cycle the process made afterwards would stay in memory.
    make_visitor(views={"sports": [(0, 3)]})
    api.create_segment("sports-fans", rules=FANS)
    recompute_segments(now=NOW)
    assert gc.isenabled()
    gc.disable()
    try:
        recompute_segments(now=NOW)
        assert not gc.isenabled()  # someone else turned it off: not turned on behind their back
    finally:
        gc.enable()


def test_small_chunks_give_the_same_memberships(make_visitor):
    for n in range(23):
        make_visitor(views={"sports": [(0, n % 5)]} if n % 5 else {}, visits=n % 4)
    api.create_segment("fans", rules=FANS)
    api.create_segment("returning", rules={"rule": "visit_count", "min": 2})
    api.create_segment(
        "either", rules={"any": [{"rule": "segment", "slug": "fans"}, {"rule": "device", "is": "mobile"}]}
    )
    progress: list[tuple[int, int]] = []
    recompute_segments(now=NOW, chunk_size=1000)
    whole = current()
    Membership.objects.all().delete()
    summary = recompute_segments(now=NOW, chunk_size=4, progress=lambda done, total: progress.append((done, total)))
    assert current() == whole and summary.visitors == 23
    assert progress[-1] == (23, 23) and len(progress) == 6  # 4+4+4+4+4+3


def test_disabling_or_making_a_segment_request_time_ends_its_memberships(make_visitor):
    make_visitor(views={"sports": [(0, 3)]})
    api.create_segment("fans", rules=FANS)
    api.create_segment("mobile", rules={"rule": "device", "is": "mobile"})
    recompute_segments(now=NOW)
    assert Membership.objects.filter(left_at__isnull=True).count() == 1
    assert Segment.objects.get(slug="mobile").size is None  # decided per request: no size
    Segment.objects.filter(slug="fans").update(enabled=False)
    assert recompute_segments(["fans"], now=NOW).leaves == 1
    assert Segment.objects.get(slug="fans").size == 0


def test_recompute_of_one_segment_and_an_unknown_one(make_visitor):
    make_visitor(views={"sports": [(0, 3)]}, visits=3)
    api.create_segment("fans", rules=FANS)
    api.create_segment("returning", rules={"rule": "visit_count", "min": 2})
    recompute_segments(["fans"], now=NOW)
    assert {slug for _v, slug in current()} == {"fans"}
    with pytest.raises(Segment.DoesNotExist, match="nope"):
        recompute_segments(["fans", "nope"])


def _queries(function) -> int:
    with CaptureQueriesContext(connection) as queries:
        function()
    return len(queries)


def test_queries_do_not_grow_with_the_visitors_of_a_chunk(make_visitor):
    api.create_segment("fans", rules=FANS)
    api.create_segment(
        "mobile-fans", rules={"all": [{"rule": "segment", "slug": "fans"}, {"rule": "device", "is": "mobile"}]}
    )
    api.create_segment("returning", rules={"rule": "visit_count", "min": 2})

    def run(n: int) -> tuple[int, int]:
        Membership.objects.all().delete()
        ids = [make_visitor(views={"sports": [(0, 3)]}, visits=i % 3).pk for i in range(n)]
        full = _queries(lambda: recompute_segments(now=NOW + timedelta(days=n), chunk_size=200))
        Membership.objects.all().delete()
        incremental = _queries(lambda: recompute_visitors(ids, now=NOW))
        return full, incremental

    assert run(5) == run(150)


def test_the_lock_lets_one_recompute_run_at_a_time(make_visitor, tailored_redis, eager):
    make_visitor(visits=2)
    api.create_segment("returning", rules={"rule": "visit_count", "min": 2})  # whatever the date: beat uses now
    with recompute_lock():
        key = tailored_connection.key("recompute", "lock")
        assert 0 < tailored_redis.ttl(key) <= LOCK_SECONDS  # a killed worker's lock expires
        with pytest.raises(RecomputeRunning):
            recompute_segments()
        assert recompute_all() == {"skipped": "another recompute is running"}  # what beat gets
        with pytest.raises(CommandError, match="already running"):
            call_command("tailored_recompute", stdout=io.StringIO())
        assert not Membership.objects.exists()
        assert Segment.objects.get().recompute_started_at is None
    assert recompute_all()["joins"] == 1  # released: the next run goes ahead
    assert not tailored_redis.exists(key)


def test_changed_visitors_snapshots_are_rewritten_in_place(make_visitor, tailored_redis):
    fan = make_visitor(views={"sports": [(0, 3)]}, theme="light", referrer_domain="google.com")
    idle = make_visitor(views={"sports": [(0, 3)]})
    api.create_segment("fans", rules=FANS)
    api.create_segment("mobile-fans", rules={"all": [FANS, {"rule": "device", "is": "mobile"}]})
    # The fan's stored snapshot says "dark": a choice saved after the recompute read the DB must survive.
    store = get_store()
    store.set(Snapshot(visitor_id=str(fan.pk), theme="dark", topics=("news",)))

    summary = recompute_segments(now=NOW)

    assert summary.snapshots == 1
    stored = Snapshot.from_json(tailored_redis.get(tailored_connection.key("snap", str(fan.pk))))
    assert stored.segments == ("fans",)
    assert stored.conditional_segments == {"mobile-fans": {"rule": "device", "is": ["mobile"]}}
    assert (stored.theme, stored.topics, stored.referrer_domain) == ("dark", ("news",), "google.com")
    assert tailored_redis.ttl(tailored_connection.key("snap", str(fan.pk))) > 0  # expiry kept
    assert not tailored_redis.exists(tailored_connection.key("snap", str(idle.pk)))  # nothing stored: none made


def test_an_ingested_batch_recomputes_the_visitors_it_touched(tagged_page, tailored_redis, make_visitor):
    for n in range(3):
        tagged_page(f"sports-{n}", topics=["sports"])
    api.create_segment("sports-fans", rules=FANS)
    bystander = make_visitor(views={"sports": [(0, 5)]})  # not in the batch: left for the full recompute
    visitor = str(uuid.uuid4())
    pipeline = tailored_redis.pipeline()
    from tailored_cms.tracking import append

    append(pipeline, [TrackedEvent.page_view(visitor, f"/sports-{n}/", user_agent="Mozilla/5.0") for n in range(3)])
    pipeline.execute()
    drain(5)
    assert current() == {(visitor, "sports-fans")}
    assert not Membership.objects.filter(visitor=bystander).exists()


def test_tailored_recompute_prints_a_summary_and_a_progress_bar(make_visitor):
    for _ in range(3):
        make_visitor(views={"sports": [(0, 3)]})
    api.create_segment("fans", rules={"rule": "topic_views", "topic": "sports", "min": 3})  # any date: no window
    out = io.StringIO()
    call_command("tailored_recompute", "--progress", "--chunk", "2", stdout=out)
    text = out.getvalue()
    assert "[" + "#" * 30 + "] 100% 3/3 visitors" in text
    assert text.strip().splitlines()[-1].startswith("Recomputed 1 segments: visitors 3, joins 3, leaves 0, ")
    assert text.strip().endswith("seconds")
    quiet = io.StringIO()
    call_command("tailored_recompute", "--segment", "fans", stdout=quiet)  # not a terminal: no bar
    assert quiet.getvalue().startswith("Recomputed 1 segments: visitors 3, joins 0, leaves 0")
    with pytest.raises(CommandError, match="No segment nope. Known segments: fans."):
        call_command("tailored_recompute", "--segment", "nope", stdout=io.StringIO())


def test_the_active_segments_are_published_by_a_recompute(make_visitor, tailored_redis):
    api.create_segment("fans", rules=FANS)
    api.create_segment("mobile", rules={"rule": "device", "is": "mobile"})
    api.create_segment("off", rules=FANS, enabled=False)
    recompute_segments(now=NOW)
    published = {k.decode(): v.decode() for k, v in tailored_redis.hgetall(tailored_connection.key("segments")).items()}
    assert published.pop("#v")
    assert published.pop("fans") == ""  # computed by Celery: membership is in snapshots
    assert {slug: json.loads(tree) for slug, tree in published.items()} == {
        "mobile": {"rule": "device", "is": ["mobile"]}
    }
