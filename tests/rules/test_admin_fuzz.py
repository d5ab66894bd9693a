"""Hypothesis fuzzes the admin forms' POSTs a segment editor sends (segment add and change, topic add): no answer
may be a 5xx, on SQLite and on PostgreSQL, whatever the fields hold.

A form-encoded body can carry NUL characters (``%00``) but no lone surrogate (Django decodes what isn't UTF-8 as
U+FFFD); the rules field is JSON text, whose escapes carry both (``"\\u0000"``, ``"\\ud800"``), and can nest as
deep as a body allows.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tailored_cms import api
from tailored_cms.rules.models import Segment
from tailored_cms.rules.registry import registered_rules

pytestmark = pytest.mark.django_db

SEGMENTS = "/admin/tailored_cms/segment/"
TOPICS = "/admin/tailored_cms/topic/"
POISON = ("\x00", "\ud800", "\udfff", "sports\x00", "\ud83d-sports", "a\x00\udc00b")
MAX_EXAMPLES = 40

# Text a form field can carry (NUL included; hypothesis leaves surrogates out), and text JSON can carry.
form_text = st.one_of(st.text(max_size=30), st.sampled_from(["sports", "Mobile fans", "a\x00b", "\x00"]))
json_text = st.one_of(st.text(max_size=20), st.sampled_from(POISON), st.sampled_from(["sports", "mobile"]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**7) | st.floats(allow_nan=False) | json_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(json_text, children, max_size=3),
    max_leaves=8,
)


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    """A leaf naming a registered rule, its parameters given (or not) any JSON value, poisoned strings included."""
    name = draw(st.sampled_from(sorted(registered_rules())))
    params = list(registered_rules()[name].params)
    chosen = draw(st.lists(st.sampled_from(params), unique=True, max_size=len(params))) if params else []
    leaf = {"rule": name}
    for param in chosen:
        leaf[param] = draw(st.one_of(json_values, st.lists(json_text, min_size=1, max_size=3)))
    return leaf


trees = st.recursive(
    leaves() | json_values,
    lambda children: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(children, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(children, max_size=3)),
        st.builds(lambda child: {"not": child}, children),
    ),
    max_leaves=6,
)


def deep(levels: int) -> str:
    return '{"not": ' * levels + '{"rule": "logged_in", "is": true}' + "}" * levels


rules_text = st.one_of(
    trees.map(json.dumps),  # ASCII with \u escapes: NUL and lone surrogates travel as JSON sends them
    st.integers(1, 3000).map(deep),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    form_text,
)


@pytest.fixture
def segment_editor() -> Client:
    """Staff, not a superuser, who may add, change and view segments and topics."""
    user = User.objects.create_user("segments", "segments@example.com", "x", is_staff=True)
    codenames = ["add_segment", "change_segment", "view_segment", "add_topic", "change_topic", "view_topic"]
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="tailored_cms", codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def answered(response: Any) -> int:
    assert response.status_code < 500, response.content[:2000]
    return response.status_code


@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=form_text, description=form_text, rules=rules_text)
def test_adding_a_segment_never_answers_5xx(segment_editor, name, description, rules):
    data = {"name": name, "description": description, "enabled": "on", "rules": rules}
    if answered(segment_editor.post(f"{SEGMENTS}add/", data)) == 302:
        saved = Segment.objects.latest("pk")  # saved as valid: it can be read back, with a slug made from its name
        saved.full_clean(exclude=["rules"])


@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=form_text, rules=rules_text)
def test_changing_a_segment_never_answers_5xx(segment_editor, name, rules):
    segment = api.create_segment("returning", rules={"rule": "visit_count", "min": 2})
    data = {"name": name, "description": "", "enabled": "on", "rules": rules}
    answered(segment_editor.post(f"{SEGMENTS}{segment.pk}/change/", data))
    answered(segment_editor.get(f"{SEGMENTS}{segment.pk}/change/"))
    answered(segment_editor.get(SEGMENTS))


@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=form_text, slug=form_text, description=form_text)
def test_adding_a_topic_never_answers_5xx(segment_editor, name, slug, description):
    data = {"name": name, "slug": slug, "description": description, "position": "0"}
    answered(segment_editor.post(f"{TOPICS}add/", data))


@pytest.mark.parametrize("poison", POISON)
def test_a_rule_parameter_with_a_nul_or_a_lone_surrogate_is_a_form_error(segment_editor, poison):
    rules = json.dumps({"all": [{"rule": "topic_views", "topic": poison, "min": 1, "days": 30}]})
    response = segment_editor.post(f"{SEGMENTS}add/", {"name": "x", "enabled": "on", "rules": rules})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["rules"]
    assert errors == [
        "Rule 'topic_views': parameter 'topic' must not contain "
        + ("a NUL character (\\u0000)." if "\x00" in poison else f"a lone UTF-16 surrogate ({_escaped(poison)}).")
    ]
    assert not Segment.objects.exists()


def _escaped(poison: str) -> str:
    first = next(char for char in poison if "\ud800" <= char <= "\udfff")
    return first.encode("utf-8", "backslashreplace").decode()


def test_a_rule_tree_nested_1000_deep_is_a_form_error_shown_back_as_typed(segment_editor):
    rules = deep(1000)
    response = segment_editor.post(f"{SEGMENTS}add/", {"name": "x", "enabled": "on", "rules": rules})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rules"] == ["The rule tree is nested more than 8 levels deep."]
    assert html.escape(rules[:200]) in response.content.decode()
    assert not Segment.objects.exists()
