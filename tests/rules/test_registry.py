"""The rule registry and tree validation: what an editor or developer gets wrong is named in the error."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q
from hypothesis import given, settings
from hypothesis import strategies as st

from tailored_cms import api
from tailored_cms.rules import (
    MAX_DEPTH,
    MAX_RULES,
    BehaviouralRule,
    Param,
    RequestRule,
    register,
    registered_rules,
    unregister,
    validate_tree,
)
from tailored_cms.rules.evaluation import evaluate_visitors
from tailored_cms.rules.request_time import RequestFacts, matches
from tailored_cms.text import is_storable

from .conftest import NOW

SPORTS = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}


def message(excinfo: pytest.ExceptionInfo) -> str:
    return " ".join(excinfo.value.messages)


def test_every_built_in_rule_of_the_design_is_registered():
    assert {
        "topic_views",
        "visit_count",
        "event_count",
        "days_since_last_visit",
        "device",
        "referrer_domain",
        "utm",
        "logged_in",
        "in_group",
        "follows_topic",
        "segment",
        "local_time",
        "day_of_week",
        "country",
        "continent",
        "eu",
        "language",
    } <= set(registered_rules())


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        ({"rule": "page_views", "min": 3}, "Unknown rule 'page_views'"),
        ({"rule": "topic_views", "min": 3}, "Rule 'topic_views' needs the parameter 'topic'"),
        ({**SPORTS, "colour": "red"}, "Rule 'topic_views' has no parameter 'colour'"),
        ({**SPORTS, "min": "3"}, "Rule 'topic_views': parameter 'min' must be a whole number"),
        ({**SPORTS, "min": 0}, "Rule 'topic_views': parameter 'min' must be at least 1"),
        ({**SPORTS, "min": True}, "parameter 'min' must be a whole number"),
        ({**SPORTS, "topic": ""}, "Rule 'topic_views': parameter 'topic' must be a non-empty string"),
        ({"rule": "visit_count", "min": 5, "max": 2}, "Rule 'visit_count': 'min' (5) is greater than 'max' (2)"),
        ({"rule": "visit_count"}, "Rule 'visit_count': give 'min', 'max' or both"),
        ({"rule": "device", "is": "phone"}, "Rule 'device': parameter 'is' must be one of mobile, tablet, desktop"),
        ({"rule": "device", "is": []}, "Rule 'device': parameter 'is' must not be an empty list"),
        ({"rule": "utm"}, "Rule 'utm': give at least one of 'source', 'medium', 'campaign'"),
        ({"rule": "local_time", "from": 9, "to": 9}, "Rule 'local_time': 'from' and 'to' are the same hour"),
        ({"rule": "local_time", "from": 9, "to": 25}, "parameter 'to' must be at most 24"),
        ({"rule": "local_time", "from": 9, "to": 17, "tz": "Mars/Olympus"}, "not a known time zone"),
        ({"rule": "day_of_week", "days": ["monday"]}, "parameter 'days' must be one of mon, tue"),
        ({"rule": "country", "is": "France"}, "parameter 'is' must be at most 2 characters"),
        ({"rule": "country", "is": ["f1"]}, "Rule 'country': parameter 'is' takes ISO 3166 country codes"),
        ({"rule": "country", "is": ["FR", "UK"]}, "takes ISO 3166 country codes such as FR or DE, not 'UK'."),
        ({"rule": "continent", "is": ["EU", "ME"]}, "Rule 'continent': parameter 'is' must be one of AF, AN"),
        ({"rule": "eu", "is": True}, "Rule 'eu' has no parameter 'is'"),
        (
            {"rule": "language", "is": ["es", "xx"]},
            "Rule 'language': parameter 'is' names no language of the site: 'xx' (the site's languages: en, es, it).",
        ),
        ({"rule": "language", "is": "spanish-of-spain"}, "parameter 'is' must be at most 15 characters"),
        ({"rule": "logged_in", "is": "yes"}, "Rule 'logged_in': parameter 'is' must be true or false"),
        ({"all": []}, '"all" must be a non-empty list'),
        ({"any": {"rule": "device", "is": "mobile"}}, '"any" must be a non-empty list'),
        ({"all": [SPORTS], "any": [SPORTS]}, 'exactly one of "all", "any", "not" or "rule"'),
        ({"not": SPORTS, "extra": 1}, '"not" can\'t have siblings'),
        ([SPORTS], "must be an object"),
        ({"all": [SPORTS, "device"]}, "rules.all[1] must be an object"),
    ],
)
def test_a_bad_tree_is_refused_with_a_message_naming_the_rule_and_parameter(tree, expected):
    with pytest.raises(ValidationError) as excinfo:
        validate_tree(tree)
    assert expected in message(excinfo)


def test_depth_and_size_are_limited():
    deep: dict = SPORTS
    for _ in range(MAX_DEPTH):
        deep = {"not": deep}
    with pytest.raises(ValidationError) as excinfo:
        validate_tree(deep)
    assert f"more than {MAX_DEPTH} levels" in message(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        validate_tree({"any": [SPORTS] * (MAX_RULES + 1)})
    assert f"more than {MAX_RULES} rules" in message(excinfo)
    validate_tree({"any": [SPORTS] * MAX_RULES})  # the limit itself is fine


def test_valid_trees_come_back_cleaned():
    tree = validate_tree(
        {
            "all": [
                {"rule": "device", "is": "mobile"},
                {"not": {"rule": "country", "is": ["fr", "De"]}},
                {"rule": "referrer_domain", "is": "www.Google.com"},
                {"rule": "utm", "campaign": " Spring "},
                {"rule": "language", "is": ["ES", "es-AR", "it"]},
            ]
        }
    )
    assert tree == {
        "all": [
            {"rule": "device", "is": ["mobile"]},
            {"not": {"rule": "country", "is": ["FR", "DE"]}},
            {"rule": "referrer_domain", "is": ["google.com"]},
            {"rule": "utm", "campaign": "spring"},
            {"rule": "language", "is": ["es", "it"]},
        ]
    }


@pytest.mark.django_db
def test_segment_references_must_exist_and_never_loop():
    api.create_segment("fans", rules=SPORTS)
    api.create_segment(
        "mobile-fans", rules={"all": [{"rule": "segment", "slug": "fans"}, {"rule": "device", "is": "mobile"}]}
    )
    with pytest.raises(ValidationError) as excinfo:
        api.create_segment("x", rules={"rule": "segment", "slug": "nobody"})
    assert "Rule 'segment': no segment nobody exists" in message(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        api.create_segment("fans", rules={"any": [SPORTS, {"rule": "segment", "slug": "mobile-fans"}]})
    assert "cycle (fans → mobile-fans → fans)" in message(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        api.create_segment("selfish", rules={"not": {"rule": "segment", "slug": "selfish"}})
    assert "cycle (selfish → selfish)" in message(excinfo)
    # Nothing was saved by the refused calls: "fans" keeps its rules.
    from tailored_cms.rules.models import Segment

    assert Segment.objects.get(slug="fans").rules == SPORTS
    assert not Segment.objects.filter(slug__in=["x", "selfish"]).exists()


@pytest.mark.django_db
def test_the_admin_form_shows_rule_errors_on_the_rules_field():
    from tailored_cms.rules.models import Segment

    segment = Segment(slug="bad", name="Bad", rules={"rule": "visit_count", "min": -1})
    with pytest.raises(ValidationError) as excinfo:
        segment.full_clean()
    assert "parameter 'min' must be at least 0" in excinfo.value.message_dict["rules"][0]


def test_the_registry_refuses_a_duplicate_name_and_non_rules():
    with pytest.raises(ValueError, match="A rule named 'device' is already registered"):

        @register
        class MyDevice(RequestRule):
            name = "device"

    with pytest.raises(TypeError):
        register(dict)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reserved"):

        @register
        class All(RequestRule):
            name = "all"


@pytest.fixture
def custom_rules():
    @register
    class Subscriber(BehaviouralRule):
        """A site's own behavioural rule: visitors with at least ``min`` visits whose referrer is the newsletter."""

        name = "newsletter_reader"
        params = {"min": Param(int, min_value=1)}

        def visitors(self, params, scope):
            return Q(referrer_domain="newsletter.example.com", visits__gte=params["min"])

    @register
    class Beta(RequestRule):
        name = "beta_header"
        params = {"value": Param(str)}

        def matches(self, params, request):
            return request._header("X-Beta") == params["value"]

    yield Subscriber, Beta
    unregister("newsletter_reader")
    unregister("beta_header")


def test_register_returns_the_class(custom_rules):
    subscriber, beta = custom_rules
    assert subscriber.__name__ == "Subscriber" and beta.__name__ == "Beta"
    assert registered_rules()["newsletter_reader"].name == "newsletter_reader"


@pytest.mark.django_db
def test_a_sites_own_rules_validate_and_evaluate_like_built_ins(custom_rules, make_visitor, rf):
    with pytest.raises(ValidationError, match="Rule 'newsletter_reader': parameter 'min' must be at least 1"):
        api.create_segment("readers", rules={"rule": "newsletter_reader", "min": 0})
    api.create_segment(
        "readers",
        rules={"all": [{"rule": "newsletter_reader", "min": 2}, {"rule": "beta_header", "value": "on"}]},
    )
    reader = make_visitor(referrer_domain="newsletter.example.com", visits=2)
    make_visitor(referrer_domain="newsletter.example.com", visits=1)
    results = evaluate_visitors([reader.pk], now=NOW)
    residual = results[str(reader.pk)]["readers"]
    assert residual == {"rule": "beta_header", "value": "on"}
    assert matches(residual, RequestFacts(rf.get("/", HTTP_X_BETA="on")))
    assert not matches(residual, RequestFacts(rf.get("/")))


POISON = ("\x00", "\ud800", "\udfff", "sports\x00", "\ud83d-sports")
any_char = st.characters(codec=None, exclude_categories=())  # lone surrogates included, as JSON escapes decode
any_text = st.one_of(st.text(alphabet=any_char, max_size=12), st.sampled_from(POISON))
any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=10,
)
leaves = st.builds(
    lambda name, params: {**params, "rule": name},
    st.sampled_from(sorted(registered_rules())),
    st.dictionaries(st.sampled_from(["topic", "is", "name", "min", "slug", "group"]) | any_text, any_json, max_size=3),
)
trees = st.recursive(
    leaves | any_json,
    lambda children: st.dictionaries(st.sampled_from(["all", "any", "not"]), children | st.lists(children), max_size=2),
    max_leaves=8,
)


@pytest.mark.parametrize(
    ("name", "param"),
    [
        (name, param)
        for name, rule in registered_rules().items()
        for param, spec in rule.params.items()
        if spec.type is str and spec.choices is None
    ],
)
@pytest.mark.parametrize("poison", POISON)
def test_no_rule_takes_text_the_database_refuses(name, param, poison):
    # One check, where parameters are cleaned, for every rule's text (a site's own rules included).
    with pytest.raises(ValidationError) as refused:
        validate_tree({"rule": name, param: poison})
    message = refused.value.messages[0]
    assert "NUL" in message or "surrogate" in message or "needs the parameter" in message
    message.encode("utf-8")


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(tree=trees)
def test_any_tree_is_cleaned_or_refused_with_messages_that_can_be_sent(tree):
    try:
        cleaned = validate_tree(tree, definitions={})
    except ValidationError as exc:
        for message in exc.messages:
            message.encode("utf-8")  # a message repeating the input must survive any input
    else:
        json.dumps(cleaned, ensure_ascii=False).encode("utf-8")
        assert all(is_storable(text) for text in _strings(cleaned))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
