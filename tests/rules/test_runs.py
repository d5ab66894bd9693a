"""A recompute across workers (rules/runs.py): chunks as tasks give the memberships a recompute in one process
gives; a chunk redone after its worker died changes nothing and is counted once; progress is readable meanwhile."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from tailored_cms import api
from tailored_cms.rules import BehaviouralRule, register, unregister
from tailored_cms.rules import recompute as recompute_module
from tailored_cms.rules.models import Membership, Segment
from tailored_cms.rules.recompute import RecomputeRunning, recompute_lock, recompute_segments
from tailored_cms.rules.runs import FULL_EVERY_DAYS, Chunk, RunProgress, progress, run_chunk, run_here, start_run
from tailored_cms.rules.tasks import recompute_all, recompute_chunk, start_recompute
from tailored_cms.signals import visitors_touched
from tailored_cms.tracking import TrackedEvent
from tailored_cms.tracking.retention import purge
from tailored_cms.visitors.models import Visitor

from ..tracking.conftest import add_events
from .conftest import NOW, TODAY
from .test_evaluation import Rollback, leaves, people
from .test_evaluation import _store as store_people

pytestmark = pytest.mark.django_db

FANS = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}


def current() -> set[tuple[str, str, str]]:
    return {
        (str(v), s, repr(c))
        for v, s, c in Membership.objects.filter(left_at__isnull=True).values_list(
            "visitor_id", "segment__slug", "condition"
        )
    }


@pytest.fixture
def visitors(make_visitor, tailored_redis) -> None:
    for n in range(23):
        make_visitor(views={"sports": [(0, n % 5)]} if n % 5 else {}, visits=n % 4)
    api.create_segment("fans", rules=FANS)
    api.create_segment("returning", rules={"rule": "visit_count", "min": 2})
    api.create_segment(
        "mobile-fans", rules={"all": [{"rule": "segment", "slug": "fans"}, {"rule": "device", "is": "mobile"}]}
    )


def clean_run() -> tuple[set[tuple[str, str, str]], int]:
    """The memberships and joins of a recompute in one process; memberships are emptied again after it."""
    summary = recompute_segments(now=NOW)
    found = current()
    Membership.objects.all().delete()
    Segment.objects.update(size=None, computed_at=None)
    return found, summary.joins


def test_a_run_across_workers_gives_the_memberships_of_one_process(visitors, eager):
    whole, joins = clean_run()
    assert joins > 0
    run = start_run(send=recompute_chunk.apply_async, chunk_size=4, now=NOW)
    assert current() == whole
    done = progress(run)
    assert done is not None and done.finished
    assert (done.chunks, done.chunks_done, done.visitors_total, done.visitors, done.joins) == (6, 6, 23, 23, joins)
    assert Segment.objects.get(slug="fans").size == len({v for v, s, _c in whole if s == "fans"})
    assert progress() == done  # the latest run


def test_a_chunk_redone_after_its_worker_died_writes_the_same_memberships_and_counts_once(visitors, monkeypatch):
    whole, joins = clean_run()
    sent: list[Chunk] = []
    run = start_run(send=sent.append, chunk_size=4, now=NOW)
    assert len(sent) == 6 and not current()
    assert not progress(run).finished  # type: ignore[union-attr]

    # The first chunk's worker dies inside its transaction, its rows written: none is kept, the broker gives it again.
    apply = recompute_module._apply

    def apply_then_die(*args, **kwargs):
        apply(*args, **kwargs)
        raise SystemExit("killed")

    with monkeypatch.context() as patched:
        patched.setattr(recompute_module, "_apply", apply_then_die)
        with pytest.raises(SystemExit):
            run_chunk(*sent[0])
    assert not current()
    # The second chunk is done, and its worker dies before acknowledging it: it is done twice.
    run_chunk(*sent[1])
    for chunk in sent:
        run_chunk(*chunk)
    assert current() == whole
    done = progress(run)
    assert done is not None and done.finished
    assert (done.chunks_done, done.visitors, done.joins) == (6, 23, joins)  # nothing counted twice
    assert run_chunk(*sent[1]) == {"skipped": "the run is over"}  # given back once more: nothing to do


def test_a_run_holds_the_lock_until_its_last_chunk(visitors):
    sent: list[Chunk] = []
    run = start_run(send=sent.append, chunk_size=10)
    with pytest.raises(RecomputeRunning):
        recompute_segments()
    assert recompute_all() == {"skipped": "another recompute is running"}  # what beat gets meanwhile
    assert Segment.objects.get(slug="fans").recompute_running
    for chunk in sent:
        run_chunk(*chunk)
    assert not Segment.objects.get(slug="fans").recompute_running
    with recompute_lock():  # released
        pass
    assert progress(run).finished  # type: ignore[union-attr]


def scheduled_run() -> RunProgress:
    """What beat's run does (changes only), here and now; its progress when done. (Now: the visitors' rows were
    saved now, not at the fixtures' NOW.)"""
    done = progress(start_recompute(changes_only=True))
    assert done is not None and done.finished
    return done


def full_memberships(now: datetime | None = None) -> set[tuple[str, str, str]]:
    """The memberships a full recompute gives (``now``), the stored ones left as they were."""
    with transaction.atomic():
        kept = current()
        recompute_segments(lock=False, now=now)
        found = current()
        transaction.set_rollback(True)
    assert current() == kept
    return found


def test_a_scheduled_run_with_nothing_changed_evaluates_nobody(visitors, eager):
    first = scheduled_run()  # no record of a last run: everything
    assert (first.visitors, first.joins) == (23, clean_joins := first.joins) and clean_joins > 0
    again = scheduled_run()
    assert (again.chunks, again.visitors, again.joins, again.leaves) == (0, 0, 0, 0)
    assert current() == full_memberships()
    assert not Segment.objects.filter(computed_at=None).exists()


def test_a_scheduled_run_re_evaluates_the_visitors_changed_since_the_last(visitors, eager):
    scheduled_run()
    # The ingest's activity (written without Visitor.save(), announced: marked), a choice saved: those two only.
    regular, follower = Visitor.objects.filter(visits__lt=2)[:2]
    Visitor.objects.filter(pk=regular.pk).update(visits=5)
    visitors_touched.send(sender=__name__, visitor_ids=frozenset({str(regular.pk)}))
    follower.topics = ["sports"]
    follower.save()
    run = scheduled_run()
    assert run.visitors == 2
    assert current() == full_memberships()
    assert (str(regular.pk), "returning", "None") in current()


def test_a_segment_whose_definition_changed_is_recomputed_whole(visitors, eager):
    scheduled_run()
    Segment.objects.filter(slug="returning").update(rules={"rule": "visit_count", "min": 3})  # no signal sent
    run = scheduled_run()
    assert (run.visitors, run.chunks) == (23, 1) and run.leaves > 0
    assert current() == full_memberships()
    assert scheduled_run().visitors == 0


def test_a_rule_whose_inputs_are_not_tracked_is_recomputed_at_every_run(visitors, eager):
    api.create_segment("staff", rules={"rule": "in_group", "group": "staff"})
    scheduled_run()
    assert scheduled_run().visitors == 23


def run_on(now: datetime) -> RunProgress:
    """Beat's scheduled run as if it were ``now``."""
    done = progress(start_recompute(changes_only=True, now=now))
    assert done is not None and done.finished
    return done


def test_a_new_days_first_run_evaluates_only_the_visitors_a_window_moved_for(make_visitor, tailored_redis, eager):
    """From one day to the next with nothing else changed, only the visitors on the edge of a window are evaluated,
    and the memberships are what a full recompute gives that day."""
    edge = {
        "fan-leaving": make_visitor(views={"sports": [(29, 3)]}),  # that day leaves the 30 days
        "fan-staying": make_visitor(views={"sports": [(29, 1), (3, 3)]}),  # on the edge, a fan still
        "clicker-leaving": make_visitor(events={"click": [(6, 1)]}),  # that day leaves the 7 days
        "recent-leaving": make_visitor(last_seen=NOW - timedelta(days=7)),  # 8 days ago tomorrow
        "lapsing": make_visitor(last_seen=NOW - timedelta(days=2)),  # 3 days ago tomorrow
    }
    for n in range(10):  # away from every edge
        make_visitor(
            views={"sports": [(n % 20, 3)]},
            events={"click": [(n % 5, 1)]},
            last_seen=NOW - timedelta(days=3 + n % 3),
            visits=n % 4,
        )
    api.create_segment("fans", rules=FANS)
    api.create_segment("ever-fans", rules={"rule": "topic_views", "topic": "sports", "min": 3})
    api.create_segment("clickers", rules={"rule": "event_count", "name": "click", "min": 1, "days": 7})
    api.create_segment("recent", rules={"rule": "days_since_last_visit", "max": 7})
    api.create_segment("lapsed", rules={"rule": "days_since_last_visit", "min": 3})
    api.create_segment("returning", rules={"rule": "visit_count", "min": 2})
    api.create_segment(
        "mobile-fans", rules={"all": [{"rule": "segment", "slug": "fans"}, {"rule": "device", "is": "mobile"}]}
    )
    Visitor.objects.update(updated_at=NOW - timedelta(hours=1))  # saved before the first run
    assert run_on(NOW).visitors == 15  # no record of a last run: everyone
    before = {(v, s) for v, s, _c in current()}

    tomorrow = NOW + timedelta(days=1)
    run = run_on(tomorrow)
    assert (run.visitors, run.chunks) == (5, 1)  # the edge visitors only, for every segment
    assert current() == full_memberships(tomorrow)
    ids = {str(visitor.pk): label for label, visitor in edge.items()}
    now = {(v, s) for v, s, _c in current()}
    assert sorted((ids[v], s) for v, s in before - now) == [
        ("clicker-leaving", "clickers"),
        ("fan-leaving", "fans"),
        ("fan-leaving", "mobile-fans"),
        ("recent-leaving", "recent"),
    ]
    assert sorted((ids[v], s) for v, s in now - before) == [("lapsing", "lapsed")]
    assert run_on(tomorrow).visitors == 0  # the same day again: nothing

    later = NOW + timedelta(days=5)  # days without a run: every edge crossed since
    run = run_on(later)
    assert 0 < run.visitors < 15
    assert current() == full_memberships(later)


def test_a_change_nobody_marked_is_caught_by_the_full_run_a_week_after_the_last(visitors, eager):
    """The safety net: a visits count written without its mark (a mark Redis lost) is missed by the daily runs, and
    the first scheduled run ``FULL_EVERY_DAYS`` after the last full one re-evaluates everyone and catches it."""
    Visitor.objects.update(updated_at=NOW - timedelta(hours=1))
    assert run_on(NOW).visitors == 23  # no record of a last run: everyone
    quiet = Visitor.objects.filter(visits__lt=2).first()
    Visitor.objects.filter(pk=quiet.pk).update(visits=9)  # no mark, no updated_at
    missed = (str(quiet.pk), "returning", "None")
    for day in range(1, FULL_EVERY_DAYS):
        assert run_on(NOW + timedelta(days=day)).visitors < 23
        assert missed not in current()
    week = NOW + timedelta(days=FULL_EVERY_DAYS)
    assert run_on(week).visitors == 23
    assert missed in current()
    assert current() == full_memberships(week)
    assert run_on(week + timedelta(days=1)).visitors < 23  # counted from this full run


def test_a_rule_that_cant_say_whom_a_new_day_changes_has_its_segments_recomputed_whole(visitors, eager):
    @register
    class EvenDays(BehaviouralRule):  # a site's rule: tracked, no day_moved
        name = "test_even_days"
        changes_tracked = True

        def visitors(self, params, scope):
            return Q(pk__isnull=scope.today.day % 2 == 1)

    try:
        api.create_segment("even-days", rules={"rule": "test_even_days"})
        Visitor.objects.update(updated_at=NOW - timedelta(hours=1))
        run_on(NOW)
        assert run_on(NOW).visitors == 0
        assert Segment.objects.get(slug="even-days").size == 23  # the 10th
        run = run_on(NOW + timedelta(days=1))
        assert (run.visitors, run.chunks, run.leaves) == (23, 1, 23)  # everyone, for that segment
        assert current() == full_memberships(NOW + timedelta(days=1))
        assert Segment.objects.get(slug="even-days").size == 0  # the 11th
    finally:
        unregister("test_even_days")


def test_visitors_whose_counters_the_purge_removed_are_re_evaluated(make_visitor, tailored_redis, eager, settings):
    """Counting every day retained, a rule changes when the purge removes a day: the purge names those visitors."""
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "RETENTION_DAYS": 30}
    old_fan = make_visitor(views={"sports": [(35, 3)]})
    make_visitor(views={"sports": [(3, 3)]})
    api.create_segment("ever-fans", rules={"rule": "topic_views", "topic": "sports", "min": 3})
    Visitor.objects.update(updated_at=NOW - timedelta(hours=1))
    run_on(NOW)
    assert Membership.objects.filter(visitor=old_fan, left_at=None).exists()
    purge(NOW)
    run = run_on(NOW)
    assert run.visitors == 1
    assert not Membership.objects.filter(visitor=old_fan, left_at=None).exists()
    assert current() == full_memberships(NOW)


def test_tailored_recompute_across_the_workers_follows_their_progress(visitors, eager):
    out = io.StringIO()
    call_command("tailored_recompute", "--workers", "--chunk", "5", "--progress", stdout=out)
    text = out.getvalue()
    assert "23/23 visitors" in text
    assert "Recomputed 3 segments: visitors 23, joins " in text
    assert progress().finished  # type: ignore[union-attr]


def test_tailored_recompute_in_its_own_process_records_its_run(visitors, admin_client):
    """The scheduled run after it finds nothing to do; the admin follows it as it goes (``run_here``, the
    command's way)."""
    out = io.StringIO()
    call_command("tailored_recompute", "--chunk", "10", stdout=out)
    assert out.getvalue().startswith("Recomputed 3 segments: visitors 23, joins ")
    done = progress()
    assert done is not None and done.finished and (done.chunks, done.visitors) == (3, 23)
    assert scheduled_run().visitors == 0  # the next scheduled run starts from it

    changelist = reverse("admin:tailored_cms_segment_changelist")
    told: list[list[str]] = []
    run_here(
        chunk_size=10,
        report=lambda found: told.append([str(m) for m in admin_client.get(changelist).context["messages"]]),
    )
    assert told[0] == [  # not the workers': this process does every chunk
        "A segment recompute is running: 43% done (10 of 23 visitors, 1 of 3 chunks, done by one process on the "
        "server). Reload this page to follow it."
    ]
    assert told[-1] == []  # its last chunk finished it


def test_tailored_recompute_interrupted_releases_the_lock(visitors, monkeypatch):
    chunks = 0
    apply = recompute_module._apply

    def apply_then_stop(*args, **kwargs):
        nonlocal chunks
        chunks += 1
        if chunks == 2:
            raise KeyboardInterrupt
        return apply(*args, **kwargs)

    monkeypatch.setattr(recompute_module, "_apply", apply_then_stop)
    with pytest.raises(KeyboardInterrupt):
        call_command("tailored_recompute", "--chunk", "10", stdout=io.StringIO())
    assert progress() is None  # the admin shows no run
    assert not Segment.objects.exclude(recompute_started_at=None).exists()
    with recompute_lock():  # released
        pass


def test_the_segment_list_says_how_far_a_running_recompute_is_shared_by_the_workers(visitors, admin_client):
    sent: list[Chunk] = []
    start_run(send=sent.append, chunk_size=5)
    for chunk in sent[:2]:
        run_chunk(*chunk)
    changelist = reverse("admin:tailored_cms_segment_changelist")
    messages = [str(m) for m in admin_client.get(changelist).context["messages"]]
    assert messages == [
        "A segment recompute is running: 43% done (10 of 23 visitors, 2 of 5 chunks, shared by the Celery "
        "workers). Reload this page to follow it."
    ]
    for chunk in sent[2:]:
        run_chunk(*chunk)
    assert not list(admin_client.get(changelist).context["messages"])


@pytest.mark.django_db(transaction=True)  # the ingest commits durably
def test_each_chunk_first_stores_the_events_waiting_in_the_stream(visitors, tailored_redis, tagged_page):
    """Whatever queues its worker consumes, a recompute never leaves a page view waiting longer than one chunk."""
    sent: list[Chunk] = []
    start_run(send=sent.append, chunk_size=10)
    regular = Visitor.objects.filter(visits=0).first()
    Visitor.objects.filter(pk=regular.pk).update(tracking_consent=True)
    tagged_page("sports-1", topics=["sports"])
    add_events(tailored_redis, [TrackedEvent.page_view(str(regular.pk), "/sports-1/", user_agent="Mozilla/5.0")])
    run_chunk(*sent[0])
    assert Visitor.objects.get(pk=regular.pk).visits == 1  # stored, before any ingest task ran
    for chunk in sent[1:]:
        run_chunk(*chunk)


# --- the property: a new day's run gives what a full recompute that day gives -----------------------------------

since_dates = st.none() | st.integers(-3, 6).map(lambda ago: (TODAY - timedelta(days=ago)).isoformat())
ALONE = {"views": {"a": [], "b": []}, "clicks": [], "visits": 0, "seen": None, "follows": [], "user": False}
trait_leaves = st.integers(1, 4).map(lambda d: {"rule": "trait", "name": "since", "op": "within_days", "value": d})
day_trees = st.recursive(
    st.one_of(leaves, trait_leaves),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"all": c}),
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"any": c}),
        children.map(lambda c: {"not": c}),
    ),
    max_leaves=5,
)


@settings(
    max_examples=30,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(  # a date leaving the window, one coming into it
    tree={"rule": "trait", "name": "since", "op": "within_days", "value": 2},
    other={"not": {"rule": "days_since_last_visit", "max": 1}},
    people_=[(ALONE | {"seen": 1}, TODAY.isoformat()), (ALONE, (TODAY + timedelta(days=1)).isoformat())],
    days=1,
)
@given(
    tree=day_trees,
    other=day_trees,
    people_=st.lists(st.tuples(people, since_dates), min_size=1, max_size=5),
    days=st.integers(1, 6),
)
def test_a_new_days_run_gives_the_memberships_of_a_full_recompute(tree, other, people_, days, tailored_redis, eager):
    note(f"tree={tree!r} other={other!r} people={people_!r}")
    tailored_redis.flushdb()
    try:
        with transaction.atomic():
            visitors = store_people([person for person, _since in people_])
            for visitor, (_person, since) in zip(visitors, people_, strict=True):
                Visitor.objects.filter(pk=visitor.pk).update(traits={} if since is None else {"since": since})
            Visitor.objects.update(updated_at=NOW - timedelta(hours=1))
            api.create_segment("first", rules=tree)
            api.create_segment("second", rules={"any": [other, {"not": {"rule": "segment", "slug": "first"}}]})
            run_on(NOW)
            later = NOW + timedelta(days=days)
            run_on(later)
            assert current() == full_memberships(later)
            raise Rollback
    except Rollback:
        pass
