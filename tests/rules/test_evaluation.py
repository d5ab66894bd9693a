"""Tree logic and partial evaluation, and the property that every way of evaluating agrees with the truth."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tailored_cms import api
from tailored_cms.rules.evaluation import FALSE, TRUE, evaluate_visitors, members, partial
from tailored_cms.rules.models import Membership
from tailored_cms.rules.recompute import recompute_segments, recompute_visitors
from tailored_cms.rules.request_time import RequestFacts, matches
from tailored_cms.tracking.models import EventCounts, TopicViews
from tailored_cms.visitors.models import Visitor

from .conftest import NOW, TODAY, evaluate_three_ways

SPORTS = {"rule": "topic_views", "topic": "sports", "min": 3}
MOBILE = {"rule": "device", "is": ["mobile"]}
FR = {"rule": "country", "is": ["FR"]}


def test_partial_evaluation_keeps_only_the_request_time_part():
    key = '{"min":3,"rule":"topic_views","topic":"sports"}'
    fan, other = {key: True}, {key: False}
    assert partial({"all": [SPORTS, MOBILE]}, fan) == MOBILE
    assert partial({"all": [SPORTS, MOBILE]}, other) is False
    assert partial({"any": [SPORTS, MOBILE]}, fan) is True
    assert partial({"any": [SPORTS, MOBILE]}, other) == MOBILE
    assert partial({"not": {"all": [SPORTS, MOBILE]}}, fan) == {"not": MOBILE}
    assert partial({"not": {"all": [SPORTS, MOBILE]}}, other) is True
    assert partial({"any": [{"all": [SPORTS, MOBILE]}, FR]}, fan) == {"any": [MOBILE, FR]}
    assert partial({"all": [{"not": SPORTS}, {"any": [MOBILE, FR]}]}, other) == {"any": [MOBILE, FR]}
    assert partial(TRUE, {}) is True and partial(FALSE, {}) is False
    assert partial({"rule": "no_longer_registered"}, {}) is False


@pytest.mark.django_db
def test_nested_trees_with_not(make_visitor):
    visitors = {
        "fan-returning": make_visitor(views={"sports": [(0, 3)]}, visits=5),
        "fan-new": make_visitor(views={"sports": [(0, 3)]}, visits=1),
        "returning": make_visitor(visits=5),
        "new": make_visitor(visits=1),
    }
    returning = {"rule": "visit_count", "min": 2}
    tree = {"any": [{"all": [SPORTS, {"not": returning}]}, {"all": [{"not": SPORTS}, returning]}]}  # xor
    assert evaluate_three_ways(tree, visitors) == {"fan-new": True, "returning": True}
    tree = {"all": [{"not": {"any": [SPORTS, returning]}}, {"not": MOBILE}]}
    assert evaluate_three_ways(tree, visitors) == {"new": {"not": MOBILE}}


@pytest.mark.django_db
def test_members_certain_and_possible(make_visitor):
    fan = make_visitor(views={"sports": [(0, 3)]})
    make_visitor()
    api.create_segment("mobile-fans", rules={"all": [SPORTS, MOBILE]})
    api.create_segment("fans", rules=SPORTS)
    assert {row["pk"] for row in members("mobile-fans", now=NOW)} == {fan.pk}
    assert not members("mobile-fans", certain=True, now=NOW).exists()
    assert {row["pk"] for row in members("fans", certain=True, now=NOW)} == {fan.pk}
    assert {row["pk"] for row in members({"not": {"rule": "segment", "slug": "fans"}}, now=NOW)} != {fan.pk}
    assert evaluate_visitors([fan.pk], now=NOW) == {str(fan.pk): {"mobile-fans": MOBILE, "fans": True}}


# --- the property: incremental == full == one SQL filter == the truth ---------------------------------------------

TOPICS = ("a", "b")
DEVICES = ("mobile", "desktop")


def _range(low: int, high: int) -> st.SearchStrategy[dict[str, int]]:
    bounds = st.tuples(st.none() | st.integers(low, high), st.none() | st.integers(low, high))
    return bounds.filter(lambda b: b != (None, None) and (None in b or b[0] <= b[1])).map(
        lambda b: {name: value for name, value in zip(("min", "max"), b, strict=True) if value is not None}
    )


def _window(max_days: int) -> st.SearchStrategy[dict[str, int]]:
    return st.one_of(st.just({}), st.integers(1, max_days).map(lambda d: {"days": d}))


leaves = st.one_of(
    st.builds(
        lambda t, m, w: {"rule": "topic_views", "topic": t, "min": m, **w},
        st.sampled_from(TOPICS),
        st.integers(1, 4),
        _window(5),
    ),
    st.builds(lambda m, w: {"rule": "event_count", "name": "click", "min": m, **w}, st.integers(1, 3), _window(4)),
    _range(0, 4).map(lambda r: {"rule": "visit_count", **r}),
    _range(0, 5).map(lambda r: {"rule": "days_since_last_visit", **r}),
    st.sampled_from(TOPICS).map(lambda t: {"rule": "follows_topic", "topic": t}),
    st.booleans().map(lambda b: {"rule": "logged_in", "is": b}),
    st.lists(st.sampled_from(DEVICES), min_size=1, max_size=2, unique=True).map(lambda d: {"rule": "device", "is": d}),
    st.sampled_from(("FR", "DE")).map(lambda c: {"rule": "country", "is": [c]}),
)
trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"all": c}),
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"any": c}),
        children.map(lambda c: {"not": c}),
    ),
    max_leaves=6,
)
counts = st.lists(st.tuples(st.integers(0, 6), st.integers(1, 3)), max_size=3, unique_by=lambda t: t[0])
people = st.fixed_dictionaries(
    {
        "views": st.fixed_dictionaries({topic: counts for topic in TOPICS}),
        "clicks": counts,
        "visits": st.integers(0, 5),
        "seen": st.none() | st.integers(0, 6),
        "follows": st.lists(st.sampled_from(TOPICS), unique=True),
        "user": st.booleans(),
    }
)
requests = st.tuples(st.sampled_from(DEVICES), st.sampled_from(("FR", "DE")))


def _count(rows: list[tuple[int, int]], params: dict[str, Any]) -> int:
    return sum(count for ago, count in rows if "days" not in params or ago < params["days"])


def truth(tree: dict[str, Any], person: dict[str, Any], device: str, country: str) -> bool:
    """The tree for a visitor and a request, straight from the generated data (no SQL, no partial evaluation)."""
    if "not" in tree:
        return not truth(tree["not"], person, device, country)
    if "all" in tree:
        return all(truth(child, person, device, country) for child in tree["all"])
    if "any" in tree:
        return any(truth(child, person, device, country) for child in tree["any"])
    rule, low, high = tree["rule"], tree.get("min", 0), tree.get("max", 10**9)
    if rule == "topic_views":
        return _count(person["views"][tree["topic"]], tree) >= tree["min"]
    if rule == "event_count":
        return _count(person["clicks"], tree) >= tree["min"]
    if rule == "visit_count":
        return low <= person["visits"] <= high
    if rule == "days_since_last_visit":
        return person["seen"] is not None and low <= person["seen"] <= high
    if rule == "follows_topic":
        return tree["topic"] in person["follows"]
    if rule == "logged_in":
        return person["user"] == tree["is"]
    if rule == "device":
        return device in tree["is"]
    return country in tree["is"]


def _store(people_: list[dict[str, Any]]) -> list[Visitor]:
    visitors = []
    for index, person in enumerate(people_):
        user = User.objects.create(username=f"u{index}") if person["user"] else None
        seen = None if person["seen"] is None else NOW - timedelta(days=person["seen"])
        visitor = Visitor.objects.create(
            id=uuid.uuid4(), user=user, visits=person["visits"], last_seen=seen, topics=person["follows"]
        )
        visitors.append(visitor)
        TopicViews.objects.bulk_create(
            TopicViews(visitor=visitor, topic=topic, day=TODAY - timedelta(days=ago), count=count)
            for topic in TOPICS
            for ago, count in person["views"][topic]
        )
        EventCounts.objects.bulk_create(
            EventCounts(visitor=visitor, name="click", day=TODAY - timedelta(days=ago), count=count)
            for ago, count in person["clicks"]
        )
    return visitors


def _memberships() -> set[tuple[str, str, str]]:
    import json

    return {
        (str(v), s, json.dumps(c, sort_keys=True))
        for v, s, c in Membership.objects.filter(left_at__isnull=True).values_list(
            "visitor_id", "segment__slug", "condition"
        )
    }


class Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tree=trees,
    other=trees,
    people_=st.lists(people, min_size=1, max_size=5),
    request_=requests,
    chunk=st.integers(1, 3),
)
def test_incremental_full_sql_and_truth_agree(tree, other, people_, request_, chunk, rf):
    device, country = request_
    note(f"tree={tree!r} other={other!r} people={people_!r}")
    ua = {
        "mobile": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
        "desktop": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
    }[device]
    facts = RequestFacts(rf.get("/", HTTP_USER_AGENT=ua, HTTP_CF_IPCOUNTRY=country), now=NOW)
    assert facts.device == device
    try:
        with transaction.atomic():
            visitors = _store(people_)
            labels = {f"v{i}": v for i, v in enumerate(visitors)}
            # Every visitor, every request: True/residual from SQL + the request gives the truth.
            results = evaluate_three_ways(tree, labels)
            for label, person in zip(labels, people_, strict=True):
                result = results.get(label, False)
                decided = result is True or (isinstance(result, dict) and matches(result, facts))
                assert decided == truth(tree, person, device, country), (label, result)

            # Full recompute (small chunks) and incremental recompute store the same memberships.
            api.create_segment("first", rules=tree)
            api.create_segment("second", rules={"any": [other, {"not": {"rule": "segment", "slug": "first"}}]})
            recompute_segments(chunk_size=chunk, now=NOW, lock=False)
            full = _memberships()
            Membership.objects.all().delete()
            recompute_visitors([v.pk for v in visitors], now=NOW)
            assert _memberships() == full
            raise Rollback
    except Rollback:
        pass
