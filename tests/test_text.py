"""``tailored_cms.text``: what the database can store, how a message repeats input, JSON nesting found unparsed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tailored_cms.text import check_storable, is_storable, json_nesting, shown


@pytest.mark.parametrize("text", ["", "sports", "café", "日本", "😀", "\\u0000", "tab\there"])
def test_text_every_database_takes_is_storable(text):
    assert is_storable(text)
    check_storable(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [("\x00", "NUL"), ("spo\x00rts", "NUL"), ("\ud800", "surrogate (\\ud800)"), ("a\udfffb", "surrogate (\\udfff)")],
)
def test_a_nul_or_a_lone_surrogate_is_not(text, words):
    assert not is_storable(text)
    with pytest.raises(ValueError) as refused:
        check_storable(text)
    assert words in str(refused.value)


@settings(max_examples=300, derandomize=True, database=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_shown_text_can_always_be_encoded_and_keeps_everything_else(text):
    shown(text).encode("utf-8")  # raises if it could not be sent
    if is_storable(text):
        assert shown(text) == text
    assert shown(7) == "7"


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": "}}}]]"}]}', 3),
        ('["\\"[[[["]', 1),
        ("[" * 5000 + "]" * 5000, 5000),
        (b'{"not": {"not": {}}}', 3),
    ],
)
def test_json_nesting_is_found_without_parsing(text, depth):
    assert json_nesting(text) == depth


@settings(max_examples=200, derandomize=True, database=None)
@given(
    st.recursive(
        st.none() | st.text(), lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(), c), max_leaves=20
    )
)
def test_json_nesting_agrees_with_the_parsed_value(value):
    def depth(item):
        if isinstance(item, list):
            return 1 + max(map(depth, item), default=0)
        if isinstance(item, dict):
            return 1 + max(map(depth, item.values()), default=0)
        return 0

    assert json_nesting(json.dumps(value)) == json_nesting(json.dumps(value, ensure_ascii=False)) == depth(value)
