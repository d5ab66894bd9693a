"""``explain`` and ``describe``: why a visitor sees what an area shows, as pure functions (no database, no Redis)."""

from __future__ import annotations

import itertools

import pytest

from tailored_cms.areas.explanation import (
    CHOICES,
    FALLBACK,
    NO_CHOICES,
    NOTHING_MATCHED,
    STATIC,
    Reason,
    describe,
    explain,
)
from tailored_cms.areas.models import Variant
from tailored_cms.areas.selection import select
from tailored_cms.visitors.snapshot import Snapshot

SPORTS = Variant(label="Sports fans", topics=["sports"])
SPORTS_AT_NIGHT = Variant(label="Sports at night", topics=["sports", "cooking"], themes=["dark"])
GRID = Variant(label="Dashboards", layouts=["grid"])
EVERYONE = Variant(label="Everyone", fallback=True)
AREA = [SPORTS, SPORTS_AT_NIGHT, GRID, EVERYONE]


def visitor(topics=(), theme="", layout="") -> Snapshot:
    return Snapshot(topics=tuple(topics), theme=theme, layout=layout)


def test_a_static_area_shows_everyone_the_fallback_whatever_they_chose():
    result = explain("static", AREA, visitor(["sports"], "dark"))
    assert result.shown == [EVERYONE]
    assert result.reasons == (Reason(FALLBACK, because=STATIC),)


def test_matching_choices_name_the_topics_theme_and_layout_that_matched():
    result = explain("customization", AREA, visitor(["cooking", "sports", "travel"], "dark"), max_items=3)
    assert result.shown == [SPORTS_AT_NIGHT, SPORTS]
    # travel is followed but targeted by nothing shown; the theme matched SPORTS_AT_NIGHT; no layout targeting
    assert result.reasons == (Reason(CHOICES, topics=("cooking", "sports"), theme="dark"),)


def test_a_chosen_layout_is_named_when_a_variant_targets_it():
    result = explain("customization", AREA, visitor(layout="grid"))
    assert result.shown == [GRID]
    assert result.reasons == (Reason(CHOICES, layout="grid"),)


def test_a_visitor_who_chose_nothing_is_told_so():
    result = explain("customization", AREA, visitor())
    assert result.shown == [EVERYONE]
    assert result.reasons == (Reason(FALLBACK, because=NO_CHOICES),)


def test_choices_that_nothing_targets_give_the_fallback_because_nothing_matched():
    result = explain("customization", AREA, visitor(["travel"], "high-contrast"))
    assert result.shown == [EVERYONE]
    assert result.reasons == (Reason(FALLBACK, because=NOTHING_MATCHED),)


def test_an_area_without_a_fallback_shows_nothing_and_says_nothing_matched():
    result = explain("customization", [SPORTS], visitor(["travel"]))
    assert result.shown == [] and result.reasons == (Reason(FALLBACK, because=NOTHING_MATCHED),)


@pytest.mark.parametrize(
    "strategy, topics, theme, layout, max_items",
    list(
        itertools.product(
            ["static", "customization", "unknown"],
            [(), ("sports",), ("cooking", "travel")],
            ["", "dark"],
            ["", "grid"],
            [1, 3],
        )
    ),
)
def test_the_explanation_never_disagrees_with_what_the_area_shows(strategy, topics, theme, layout, max_items):
    snapshot = visitor(topics, theme, layout)
    result = explain(strategy, AREA, snapshot, max_items)
    assert result.shown == select(strategy, AREA, snapshot, max_items).shown
    assert len(result.reasons) == 1
    if result.reasons[0].kind == CHOICES:
        assert all(variant is not EVERYONE for variant in result.shown)
    else:
        assert result.shown == [EVERYONE]


def test_reasons_read_as_sentences_with_topic_names_and_setting_labels():
    reason = Reason(CHOICES, topics=("sports", "cooking", "travel"), theme="high-contrast", layout="two-columns")
    names = {"sports": "Sports", "cooking": "Cooking"}
    assert describe(reason, names) == (
        "You follow Sports, Cooking and travel. You use the High contrast theme. You use the Two columns layout."
    )
    assert describe(Reason(FALLBACK, because=STATIC)) == "Everyone sees the same here."
    assert "haven't chosen" in describe(Reason(FALLBACK, because=NO_CHOICES))
    assert "Nothing here is meant for your choices" in describe(Reason(FALLBACK, because=NOTHING_MATCHED))


def test_a_shown_variant_is_described_by_whom_it_is_for_never_by_its_label():
    from tailored_cms.areas.explanation import describe_variant

    names = {"sports": "Sports", "cooking": "Cooking", "night-owls": "Night owls"}
    assert describe_variant(SPORTS_AT_NIGHT, names) == (
        "It is made for readers who follow Sports or Cooking. It is made for the Dark theme."
    )
    assert describe_variant(GRID, names) == "It is made for the Grid layout."
    assert describe_variant(Variant(label="SEG-7", segments=["night-owls"]), names) == "It is made for Night owls."
    assert describe_variant(EVERYONE, names) == "It is what everyone sees."
    for variant in AREA:
        assert variant.label not in describe_variant(variant, names)
