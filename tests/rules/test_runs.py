"""A recompute across workers (rules/runs.py): chunks as tasks give the memberships a recompute in one process
gives; a chunk redone after its worker died changes nothing and is counted once; progress is readable meanwhile."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tailored_cms import api
from tailored_cms.rules import recompute as recompute_module
from tailored_cms.rules.models import Membership, Segment
from tailored_cms.rules.recompute import RecomputeRunning, recompute_lock, recompute_segments
from tailored_cms.rules.runs import Chunk, RunProgress, progress, run_chunk, start_run
from tailored_cms.rules.tasks import recompute_all, recompute_chunk, start_recompute
from tailored_cms.signals import visitors_touched
from tailored_cms.tracking import TrackedEvent
from tailored_cms.visitors.models import Visitor

from ..tracking.conftest import add_events
from .conftest import NOW

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


def full_memberships() -> set[tuple[str, str, str]]:
    """The memberships a full recompute gives, the stored ones left as they were."""
    with transaction.atomic():
        kept = current()
        recompute_segments(lock=False)
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


def test_a_new_days_first_run_recomputes_everything(visitors, eager):
    scheduled_run()
    Membership.objects.all().delete()  # what moved windows would change, for every visitor
    run = progress(start_recompute(changes_only=True, now=timezone.now() + timedelta(days=1)))
    assert run is not None and run.visitors == 23 and run.joins > 0


def test_tailored_recompute_across_the_workers_follows_their_progress(visitors, eager):
    out = io.StringIO()
    call_command("tailored_recompute", "--workers", "--chunk", "5", "--progress", stdout=out)
    text = out.getvalue()
    assert "23/23 visitors" in text
    assert "Recomputed 3 segments: visitors 23, joins " in text
    assert progress().finished  # type: ignore[union-attr]


def test_the_segment_list_says_how_far_a_running_recompute_is(visitors, admin_client):
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
