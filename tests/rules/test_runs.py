"""A recompute across workers (rules/runs.py): chunks as tasks give the memberships a recompute in one process
gives; a chunk redone after its worker died changes nothing and is counted once; progress is readable meanwhile."""

from __future__ import annotations

import pytest

from tailored_cms import api
from tailored_cms.rules import recompute as recompute_module
from tailored_cms.rules.models import Membership, Segment
from tailored_cms.rules.recompute import RecomputeRunning, recompute_lock, recompute_segments
from tailored_cms.rules.runs import Chunk, progress, run_chunk, start_run
from tailored_cms.rules.tasks import recompute_all, recompute_chunk

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
