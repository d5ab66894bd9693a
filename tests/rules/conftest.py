"""Fixtures of the segments tests: visitors with activity and daily counters, made directly in the DB."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tailored_cms.tracking.models import EventCounts, TopicViews
from tailored_cms.visitors.models import Visitor

# A fixed "now" for rules with time windows (the test settings' TIME_ZONE is UTC).
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def eager() -> Iterator[None]:
    """Celery tasks run where they are sent (``CELERY_TASK_ALWAYS_EAGER``, as in the demo without Redis): a full
    recompute's chunks too."""
    from tailored_cms.celery_app import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


@pytest.fixture
def make_visitor(db) -> Callable[..., Visitor]:
    """A visitor with the given fields, ``views={topic: [(days_ago, count), ...]}`` and ``events={name: [...]}``."""

    def make(
        *,
        views: dict[str, list[tuple[int, int]]] | None = None,
        events: dict[str, list[tuple[int, int]]] | None = None,
        **fields: Any,
    ) -> Visitor:
        fields.setdefault("id", uuid.uuid4())
        visitor = Visitor.objects.create(**fields)
        TopicViews.objects.bulk_create(
            TopicViews(visitor=visitor, topic=topic, day=days_ago(ago), count=count)
            for topic, counts in (views or {}).items()
            for ago, count in counts
        )
        EventCounts.objects.bulk_create(
            EventCounts(visitor=visitor, name=name, day=days_ago(ago), count=count)
            for name, counts in (events or {}).items()
            for ago, count in counts
        )
        return visitor

    return make


def evaluate_three_ways(tree: dict[str, Any], visitors: dict[str, Visitor], now: datetime = NOW) -> dict[str, Any]:
    """``{label: True or residual}`` for the visitors ``tree`` holds (or may hold) for; computed by the incremental
    path (correlated EXISTS), the full recompute's (IN over an id range) and ``members`` (one SQL filter), which
    must agree."""
    from tailored_cms.rules.evaluation import Scope, evaluate_range, evaluate_rows, expand, kleene, plan_segments
    from tailored_cms.rules.models import Segment
    from tailored_cms.rules.trees import validate_tree

    tree = validate_tree(tree, definitions=dict(Segment.objects.values_list("slug", "rules")))
    rows = [*Segment.objects.values_list("pk", "slug", "enabled", "rules"), (0, "under-test", True, tree)]
    plans = plan_segments(rows, ["under-test"])
    label = {str(v.pk): name for name, v in visitors.items()}
    if plans.plans[0].request_time:
        # Only request-time rules: not computed per visitor; everyone has the whole tree as their residual.
        incremental = full = {name: plans.plans[0].tree for name in visitors}
        certain, possible = kleene(plans.plans[0].tree, Scope(now=now))
        assert set(Visitor.objects.filter(possible).values_list("pk", flat=True)) >= {v.pk for v in visitors.values()}
        assert not Visitor.objects.filter(certain).exists()
        return incremental
    incremental = {
        label[row.visitor_id]: row.results["under-test"]
        for row in evaluate_rows([v.pk for v in visitors.values()], plans, now=now)
        if "under-test" in row.results
    }
    full = {
        label[row.visitor_id]: row.results["under-test"]
        for row in evaluate_range(None, None, plans, now=now)
        if "under-test" in row.results and row.visitor_id in label
    }
    assert incremental == full
    certain, possible = kleene(expand(tree, dict(Segment.objects.values_list("slug", "rules"))), Scope(now=now))
    ids = {str(pk) for pk in Visitor.objects.filter(possible).values_list("pk", flat=True)}
    assert {label[i] for i in ids if i in label} == set(incremental)
    sure = {str(pk) for pk in Visitor.objects.filter(certain).values_list("pk", flat=True)}
    assert {label[i] for i in sure if i in label} == {name for name, r in incremental.items() if r is True}
    return incremental


# Shared with the tracking tests: CMS pages tagged with topics, a database worker threads see, a real worker (in a
# thread, or in processes of its own).
from tests.tracking.conftest import (  # noqa: E402, F401
    celery_app,
    celery_worker,
    celery_worker_process,
    shared_db,
    tagged_page,
)
