"""What the admin's rule builder is told about the registry, and rule trees in words."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from tailored_cms import api
from tailored_cms.rules import BehaviouralRule, Param, describe_rules, describe_tree, register, unregister

SPORTS = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}
MOBILE = {"rule": "device", "is": ["mobile"]}


def by_name() -> dict[str, dict]:
    return {rule["name"]: rule for rule in describe_rules()}


def test_describe_rules_lists_every_rule_by_label_with_what_the_builder_renders():
    rules = describe_rules()
    assert json.loads(json.dumps(rules)) == rules  # JSON-able: it goes into the page as a data block
    labels = [rule["label"].lower() for rule in rules]
    assert labels == sorted(labels)
    described = by_name()
    assert described["topic_views"] == {
        "name": "topic_views",
        "label": "Viewed pages about a topic",
        "description": "Has read at least so many pages about the topic, in the last so many days (left empty: ever).",
        "kind": "behavioural",
        "params": [
            {
                "name": "topic",
                "label": "Topic",
                "type": "topic",
                "required": True,
                "many": False,
                "choices": None,
                "min": None,
                "max": None,
                "max_length": 50,
                "help": "views of pages tagged with it count",
            },
            {
                "name": "min",
                "label": "At least (views)",
                "type": "int",
                "required": True,
                "many": False,
                "choices": None,
                "min": 1,
                "max": 1_000_000,
                "max_length": None,
                "help": "",
            },
            {
                "name": "days",
                "label": "Within the last (days)",
                "type": "int",
                "required": False,
                "many": False,
                "choices": None,
                "min": 1,
                "max": 3650,
                "max_length": None,
                "help": "window in days, today included; all if omitted",
            },
        ],
    }
    device = described["device"]
    assert device["kind"] == "request"
    assert device["params"][0] | {"help": ""} == {
        "name": "is",
        "label": "Device",
        "type": "str",
        "required": True,
        "many": True,
        "choices": [
            {"value": "mobile", "label": "Phone"},
            {"value": "tablet", "label": "Tablet"},
            {"value": "desktop", "label": "Computer"},
        ],
        "min": None,
        "max": None,
        "max_length": 200,
        "help": "",
    }
    assert described["segment"]["params"][0]["type"] == "segment"
    assert described["follows_topic"]["params"][0]["type"] == "topic"
    assert described["in_group"]["params"][0]["type"] == "group"
    assert described["logged_in"]["params"][0]["type"] == "bool"
    assert described["language"]["kind"] == "request"
    assert described["language"]["params"][0]["type"] == "language"  # the builder offers the site's languages
    days = described["day_of_week"]["params"][0]["choices"]
    assert [(day["value"], day["label"]) for day in days[:2]] == [("mon", "Monday"), ("tue", "Tuesday")]
    assert [day["value"] for day in days] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    # The trait rule's comparisons in words, as the builder offers them.
    ops = {op["value"]: op["label"] for op in described["trait"]["params"][1]["choices"]}
    assert (ops["not_in"], ops["within_days"], ops["not_exists"]) == ("is none of", "in the last (days)", "is not set")


@pytest.fixture
def newsletter_rule():
    @register
    class Newsletter(BehaviouralRule):
        name = "newsletter_reader"
        params = {"min": Param(int, min_value=1), "list": Param(str, required=False, choices=("daily", "weekly"))}

    yield Newsletter
    unregister("newsletter_reader")


def test_a_rule_a_site_registers_is_described_too(newsletter_rule):
    described = by_name()["newsletter_reader"]
    # No label given: one is made from the name, as for its parameters.
    assert (described["label"], described["kind"]) == ("Newsletter reader", "behavioural")
    assert [(p["name"], p["label"], p["type"], p["required"], p["choices"]) for p in described["params"]] == [
        ("min", "Min", "int", True, None),
        # Choices without labels are offered as they are.
        ("list", "List", "str", False, [{"value": "daily", "label": "daily"}, {"value": "weekly", "label": "weekly"}]),
    ]
    # Its leaves in words, without a describe() of its own: the label and the parameters.
    assert describe_tree({"rule": "newsletter_reader", "min": 2, "list": "weekly"}) == (
        "Newsletter reader: min 2, list weekly"
    )


@pytest.mark.parametrize(
    ("tree", "words"),
    [
        ({"all": [SPORTS, MOBILE]}, "read at least 3 pages about sports in the last 30 days and is on a mobile device"),
        ({"rule": "topic_views", "topic": "news", "min": 1}, "read at least 1 page about news"),
        ({"rule": "topic_views", "topic": "news", "min": 2, "days": 1}, "read at least 2 pages about news today"),
        (
            {"rule": "event_count", "name": "signup", "min": 1, "days": 7},
            "sent the event 'signup' at least once in the last 7 days",
        ),
        ({"rule": "visit_count", "min": 2, "max": 5}, "made between 2 and 5 visits"),
        ({"rule": "visit_count", "max": 1}, "made at most 1 visit"),
        ({"rule": "days_since_last_visit", "min": 7}, "was last seen at least 7 days ago"),
        ({"rule": "follows_topic", "topic": "travel"}, "follows travel"),
        ({"rule": "logged_in", "is": False}, "is not logged in"),
        ({"rule": "in_group", "group": "Members"}, "is in the user group 'Members'"),
        ({"rule": "device", "is": ["mobile", "tablet"]}, "is on a mobile or tablet device"),
        ({"rule": "referrer_domain", "is": ["a.com", "b.org", "c.net"]}, "came from a.com, b.org or c.net"),
        (
            {"rule": "utm", "source": "news", "campaign": "spring"},
            "came from a campaign with source 'news' and campaign 'spring'",
        ),
        (
            {"rule": "local_time", "from": 22, "to": 6, "tz": "Europe/Paris"},
            "visits between 22:00 and 6:00 (Europe/Paris)",
        ),
        ({"rule": "day_of_week", "days": ["sat", "sun"]}, "visits on a Saturday or Sunday"),
        ({"rule": "country", "is": ["FR", "DE"]}, "is in France or Germany"),
        ({"rule": "continent", "is": ["EU", "AS"]}, "is in Europe or Asia"),
        ({"rule": "eu"}, "is in the European Union"),
        ({"rule": "language", "is": ["es"]}, "reads in Spanish"),
        ({"rule": "language", "is": ["es", "it"]}, "reads in Spanish or Italian"),
        (
            {"any": [SPORTS, {"all": [MOBILE, {"not": {"rule": "segment", "slug": "subscribers"}}]}]},
            "read at least 3 pages about sports in the last 30 days or (is on a mobile device and not (is in the "
            "segment “subscribers”))",
        ),
        (
            {"not": {"any": [SPORTS, MOBILE]}},
            "not (read at least 3 pages about sports in the last 30 days or is on a mobile device)",
        ),
        ({"all": [{"any": [MOBILE]}]}, "is on a mobile device"),  # a group of one needs no brackets
    ],
)
@pytest.mark.django_db  # topics and segments by name
def test_describe_tree_reads_as_a_sentence(tree, words):
    assert describe_tree(tree) == words


@pytest.mark.parametrize(
    ("tree", "words"),
    [
        ({"rule": "gone_rule", "x": 1}, "gone_rule (no such rule)"),
        ({"all": []}, "(an empty group)"),
        ({}, "(not a rule)"),
        (None, "(not a rule)"),
        ({"rule": "topic_views", "min": 3}, "Viewed pages about a topic: min 3"),  # stored before a change: words
    ],
)
@pytest.mark.django_db
def test_describe_tree_never_fails_on_trees_that_are_not_valid(tree, words):
    assert describe_tree(tree) == words


@pytest.mark.django_db
def test_topics_and_segments_are_named_as_editors_know_them_with_one_query_each(django_assert_num_queries):
    api.create_topic("sports", "Sports")
    api.create_segment("subscribers", "Paying subscribers", rules={"rule": "logged_in", "is": True})
    tree = {
        "any": [
            SPORTS,
            {"rule": "follows_topic", "topic": "sports"},
            {"not": {"rule": "segment", "slug": "subscribers"}},
        ]
    }
    with django_assert_num_queries(2):
        words = describe_tree(tree)
    assert words == (
        "read at least 3 pages about Sports in the last 30 days or follows Sports or not (is in the segment "
        "“Paying subscribers”)"
    )
    with translation.override("es"):
        assert describe_tree(SPORTS) == "ha leído al menos 3 páginas sobre Sports en los últimos 30 días"


def test_a_language_rule_reads_in_the_editors_language():
    with translation.override("it"):
        assert describe_tree({"rule": "language", "is": ["es", "en"]}) == "legge in spagnolo o inglese"
    with translation.override("de"):
        assert describe_tree({"rule": "language", "is": ["it"]}) == "liest auf Italienisch"  # German nouns: capital
    with translation.override("fr"):
        assert describe_tree({"rule": "language", "is": ["de"]}).endswith(" allemand")
