"""Property tests of a visitor's choices (``visitors.preferences.clean_preferences`` and ``preferences/``).

Whatever a client sends, it is either saved and read back equal (in normal form) or refused with a 400 that names
exactly the fields at fault; never a 500. PATCH changes only the fields it names. Hypothesis draws the inputs; the
runs are derandomized, so every run tries the same ones.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from tailored_cms import api
from tailored_cms.conf import tailored_settings
from tailored_cms.visitors.accessibility import MOTIONS, TEXT_SIZES
from tailored_cms.visitors.preferences import FIELDS, WIDGET_KEY, clean_preferences

pytestmark = pytest.mark.django_db

URL = "/tailored/api/v1/preferences/"
TOPICS = ["sports", "travel", "cooking"]
NOT_A_FIELD = "non_field_errors"
EXAMPLES = settings(max_examples=200, derandomize=True, database=None, deadline=None)
REQUESTS = settings(max_examples=30, derandomize=True, database=None, deadline=None)


@pytest.fixture(autouse=True)
def topics() -> None:
    for slug in TOPICS:
        api.create_topic(slug, slug.title())


# Valid values of each field, "the default" (null, "") included.
default = st.sampled_from([None, ""])
valid = {
    "topics": st.one_of(default, st.lists(st.sampled_from(TOPICS), max_size=5)),
    "theme": st.one_of(default, st.sampled_from(list(tailored_settings.THEMES))),
    "layout": st.one_of(default, st.sampled_from(list(tailored_settings.LAYOUTS))),
    "motion": st.one_of(default, st.sampled_from(list(MOTIONS))),
    "text_size": st.one_of(default, st.sampled_from(list(TEXT_SIZES))),
    "widgets": st.one_of(
        default,
        st.fixed_dictionaries(
            {},
            optional={
                part: st.lists(st.from_regex(WIDGET_KEY, fullmatch=True), max_size=4) for part in ("order", "hidden")
            },
        ),
    ),
}
# Anything JSON can say, NUL characters and unknown topic slugs included.
any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
# Strings that are almost right, or that databases, regexes and HTML treat specially.
hostile = st.sampled_from(["Sports", "sports ", "sp\x00orts", "\x00", "x" * 51, "spörts", "<b>", "a,b", "../x"])
text = st.one_of(hostile, st.text(max_size=12))
near_misses = {
    "topics": st.lists(st.one_of(st.sampled_from(TOPICS), text), min_size=1, max_size=4),
    "theme": text,
    "layout": text,
    "motion": st.one_of(text, st.sampled_from(["reduce", "Reduced", "full"])),
    "text_size": st.one_of(text, st.sampled_from(["Large", "larger", "small"])),
    "widgets": st.fixed_dictionaries(
        {}, optional={part: st.lists(text, max_size=3) for part in ("order", "hidden", "size")}
    ),
}
anything = {name: st.one_of(valid[name], near_misses[name], any_json) for name in FIELDS}
valid_body = st.fixed_dictionaries({}, optional=valid)
any_body = st.one_of(
    st.fixed_dictionaries({}, optional=anything),
    st.dictionaries(st.sampled_from([*FIELDS, "font", "colour"]), any_json, max_size=5),
    any_json,
)


def normal_form(body: dict[str, Any], before: dict[str, Any] | None = None) -> dict[str, Any]:
    """What GET returns after valid ``body`` was saved over ``before`` (None: PUT, every field reset)."""
    result = {
        "topics": [],
        "theme": None,
        "layout": None,
        "widgets": {"order": [], "hidden": []},
        "motion": None,
        "text_size": None,
        **{k: v for k, v in (before or {}).items() if k in FIELDS},
    }
    for name in FIELDS if before is None else body:
        value = body.get(name)
        if name == "topics":
            result[name] = list(dict.fromkeys(value or []))
        elif name == "widgets":
            result[name] = {part: list(dict.fromkeys((value or {}).get(part) or [])) for part in ("order", "hidden")}
        else:
            result[name] = value or None
    result["effective_theme"] = result["theme"] or tailored_settings.DEFAULT_THEME
    result["effective_layout"] = result["layout"] or tailored_settings.DEFAULT_LAYOUT
    return result


def fields_at_fault(data: Any, *, partial: bool = True) -> set[str]:
    """The fields ``clean_preferences`` names for ``data``; empty if it is valid."""
    try:
        clean_preferences(data, partial=partial)
    except ValidationError as exc:
        return set(exc.message_dict)
    return set()


def browser() -> Client:
    client = Client(enforce_csrf_checks=True)
    assert client.get(URL).status_code == 200
    return client


def send(client: Client, method: str, body: Any) -> Any:
    token = client.cookies["csrftoken"].value
    return getattr(client, method)(URL, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token)


@EXAMPLES
@given(body=any_body)
def test_cleaning_refuses_exactly_the_fields_at_fault(body):
    """Each field named in the error is wrong on its own; each field not named is fine on its own."""
    named = fields_at_fault(body)
    assert named <= {*FIELDS, NOT_A_FIELD}
    if not isinstance(body, dict):
        assert named == {NOT_A_FIELD}
        return
    unknown = set(body) - set(FIELDS)
    assert (NOT_A_FIELD in named) == bool(unknown)
    for name in set(body) & set(FIELDS):
        assert (name in named) == (fields_at_fault({name: body[name]}) == {name}), name


@EXAMPLES
@given(data=st.data(), name=st.sampled_from(FIELDS))
def test_each_field_alone_is_kept_in_normal_form_or_refused_naming_it(data, name):
    value = data.draw(anything[name], label=name)
    try:
        cleaned = clean_preferences({name: value}, partial=True)
    except ValidationError as exc:
        assert set(exc.message_dict) == {name}
        assert all(isinstance(message, str) and message for message in exc.message_dict[name])
    else:
        assert set(cleaned) == {name}
        assert clean_preferences(cleaned, partial=True) == cleaned


@EXAMPLES
@given(body=valid_body)
def test_clean_choices_are_their_own_normal_form(body):
    cleaned = clean_preferences(body)
    assert clean_preferences(cleaned) == cleaned
    assert set(cleaned) == set(FIELDS)


@REQUESTS
@given(body=any_body, method=st.sampled_from(["put", "patch"]))
def test_any_body_is_saved_and_read_back_or_refused_naming_the_fields(body, method):
    client = browser()
    before = client.get(URL).json()
    response = send(client, method, body)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        named = set(response.json())
        assert named and named <= {*FIELDS, NOT_A_FIELD}
        assert named == fields_at_fault(body, partial=method == "patch")
        assert client.get(URL).json() == before  # nothing of it was saved
    else:
        assert client.get(URL).json() == response.json() == normal_form(body, before if method == "patch" else None)


@REQUESTS
@given(first=valid_body, change=valid_body)
def test_patch_changes_only_what_it_names(first, change):
    client = browser()
    assert send(client, "put", first).status_code == 200
    saved = client.get(URL).json()
    response = send(client, "patch", change)
    assert response.status_code == 200
    after = client.get(URL).json()
    assert after == response.json() == normal_form(change, saved)
    for name in set(FIELDS) - set(change):
        assert after[name] == saved[name], name
