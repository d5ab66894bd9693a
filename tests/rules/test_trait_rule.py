"""The ``trait`` rule: every op, typed, checked three ways (incremental, full, one SQL filter) on SQLite and
PostgreSQL; wrong parameters are refused naming the rule and parameter; a change of traits reaches membership."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from tailored_cms import api
from tailored_cms.rules.models import Membership
from tailored_cms.rules.registry import RuleError
from tailored_cms.rules.trees import describe_tree, validate_tree

from .conftest import NOW, days_ago, evaluate_three_ways

pytestmark = pytest.mark.django_db

TRAITS = {
    "pro": {
        "loyalty-tier": "gold",
        "plan": "pro",
        "seats": 12,
        "score": 4.5,
        "active": True,
        "since": "2024-03-01",
        "tags": ["retail", "eu"],
    },
    "free": {
        "contains": "x",
        "plan": "free",
        "seats": 1,
        "score": 1.0,
        "active": False,
        "since": "2025-06-01",
        "tags": ["us"],
    },
    "odd": {"plan": 5, "seats": "twelve", "since": 20240301, "tags": "retail"},  # other kinds than the rest
    "recent": {"since": days_ago(3).isoformat(), "plan": "Professional"},
    "none": {},
}


@pytest.fixture
def visitors(make_visitor):
    return {label: make_visitor(traits=traits) for label, traits in TRAITS.items()}


def who(leaf: dict, visitors) -> set[str]:
    matched = evaluate_three_ways({"rule": "trait", **leaf}, visitors, NOW)
    negated = evaluate_three_ways({"not": {"rule": "trait", **leaf}}, visitors, NOW)
    assert set(matched) | set(negated) == set(visitors) and not set(matched) & set(negated)  # no NULL surprises
    return set(matched)


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        ({"name": "plan", "op": "eq", "value": "pro"}, {"pro"}),
        ({"name": "plan", "op": "ne", "value": "pro"}, {"free", "recent"}),  # needs the trait, as text
        ({"name": "plan", "op": "in", "value": ["pro", "free"]}, {"pro", "free"}),
        ({"name": "plan", "op": "not_in", "value": ["pro"]}, {"free", "recent"}),
        ({"name": "plan", "op": "contains", "value": "PRO"}, {"pro", "recent"}),  # text: words, any case
        ({"name": "tags", "op": "contains", "value": "retail"}, {"pro", "odd"}),  # a list's item; odd's is text
        ({"name": "tags", "op": "contains", "value": "ret"}, {"odd"}),  # a list's whole item, a text's words
        ({"name": "seats", "op": "gt", "value": 1}, {"pro"}),
        ({"name": "seats", "op": "gte", "value": 1}, {"pro", "free"}),
        ({"name": "score", "op": "lt", "value": 4.5}, {"free"}),
        ({"name": "score", "op": "lte", "value": 4.5}, {"pro", "free"}),
        ({"name": "seats", "op": "eq", "value": 12}, {"pro"}),
        ({"name": "seats", "op": "in", "value": [1, 12]}, {"pro", "free"}),
        ({"name": "active", "op": "eq", "value": True}, {"pro"}),
        ({"name": "active", "op": "ne", "value": True}, {"free"}),
        ({"name": "since", "op": "before", "value": "2025-01-01"}, {"pro"}),
        ({"name": "since", "op": "after", "value": "2024-03-01"}, {"free", "recent"}),
        ({"name": "since", "op": "gte", "value": "2024-03-01"}, {"pro", "free", "recent"}),
        ({"name": "since", "op": "eq", "value": "2024-03-01"}, {"pro"}),
        ({"name": "since", "op": "within_days", "value": 4}, {"recent"}),
        ({"name": "since", "op": "within_days", "value": 3}, set()),  # three days ago is day 4 of a window
        ({"name": "plan", "op": "exists"}, {"pro", "free", "odd", "recent"}),
        ({"name": "plan", "op": "not_exists"}, {"none"}),
        ({"name": "nothing", "op": "exists"}, set()),
        ({"name": "loyalty-tier", "op": "eq", "value": "gold"}, {"pro"}),
        ({"name": "contains", "op": "eq", "value": "x"}, {"free"}),  # named like a lookup, still a trait
    ],
)
def test_every_op(visitors, leaf, expected):
    assert who(leaf, visitors) == expected


@pytest.mark.parametrize(
    ("leaf", "param", "words"),
    [
        ({"name": "plan", "op": "gt", "value": "pro"}, "value", "compares numbers or dates"),
        ({"name": "since", "op": "before", "value": 5}, "value", "compares dates"),
        ({"name": "since", "op": "before", "value": "2025-02-30"}, "value", "compares dates"),
        ({"name": "plan", "op": "eq"}, "value", "needs a value"),
        ({"name": "plan", "op": "exists", "value": "x"}, "value", "takes no value"),
        ({"name": "plan", "op": "in", "value": ["a", 1]}, "value", "not a mix"),
        ({"name": "plan", "op": "in", "value": []}, "value", "a list of 1 to 50"),
        ({"name": "plan", "op": "eq", "value": {"a": 1}}, "value", "compares with text"),
        ({"name": "plan", "op": "eq", "value": float("inf")}, "value", "compares with text"),
        ({"name": "plan", "op": "gt", "value": 10**400}, "value", "compares with text"),
        ({"name": "since", "op": "within_days", "value": 0}, "value", "from 1 to 3650"),
        ({"name": "plan", "op": "contains", "value": 3}, "value", "looks for text"),
        ({"name": "plan", "op": "like", "value": "x"}, "op", "must be one of"),
        ({"name": "1plan", "op": "exists"}, "name", "starts with a letter"),
        ({"name": "plan", "op": "eq", "value": "a\x00"}, "value", "NUL"),
    ],
)
def test_wrong_parameters_name_the_rule_and_parameter(leaf, param, words):
    with pytest.raises(RuleError) as caught:
        validate_tree({"rule": "trait", **leaf})
    assert caught.value.rule == "trait" and caught.value.param == param
    assert "'trait'" in caught.value.messages[0] and words in caught.value.messages[0]


def test_a_value_of_another_kind_than_the_site_stores_is_refused():
    api.set_traits(User.objects.create_user("ada"), plan="pro", seats=3, tags=["eu"])
    validate_tree({"rule": "trait", "name": "plan", "op": "eq", "value": "free"})
    validate_tree({"rule": "trait", "name": "tags", "op": "contains", "value": "us"})
    with pytest.raises(RuleError) as caught:
        validate_tree({"rule": "trait", "name": "plan", "op": "eq", "value": 5})
    assert caught.value.param == "value" and "holds text" in caught.value.messages[0]
    with pytest.raises(RuleError) as caught:
        validate_tree({"rule": "trait", "name": "seats", "op": "contains", "value": "3"})
    assert caught.value.param == "op"
    with pytest.raises(ValidationError):
        validate_tree({"rule": "trait", "name": "tags", "op": "eq", "value": "eu"})


def test_words_for_editors():
    tree = {
        "all": [
            {"rule": "trait", "name": "plan", "op": "eq", "value": "pro"},
            {"rule": "trait", "name": "since", "op": "before", "value": "2025-01-01"},
        ]
    }
    assert describe_tree(tree) == "has the trait plan equal to pro and has the trait since before 2025-01-01"


def test_a_change_of_traits_reaches_membership_at_once(django_capture_on_commit_callbacks):
    segment = api.create_segment(
        "pro-since-2024",
        name="Pro customers since before 2025",
        rules={
            "all": [
                {"rule": "trait", "name": "plan", "op": "eq", "value": "pro"},
                {"rule": "trait", "name": "since", "op": "before", "value": "2025-01-01"},
            ]
        },
    )
    ada = User.objects.create_user("ada")
    with django_capture_on_commit_callbacks(execute=True):
        api.set_traits(ada, plan="pro", since=NOW.date().replace(year=2024))
    current = Membership.objects.filter(segment=segment, left_at__isnull=True)
    assert current.filter(visitor__user=ada).exists()
    with django_capture_on_commit_callbacks(execute=True):
        api.set_traits(ada, plan="free")
    assert not current.filter(visitor__user=ada).exists()
