"""``select`` as a pure function: no database, no Redis."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from tailored_cms.areas.selection import fallbacks, match_score, select
from tailored_cms.visitors.snapshot import Snapshot


@dataclass
class V:
    name: str
    topics: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    layouts: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    priority: int = 0
    fallback: bool = False


def names(variants) -> list[str]:
    return [v.name for v in variants]


def visitor(topics=(), theme="", layout="") -> Snapshot:
    return Snapshot(topics=tuple(topics), theme=theme, layout=layout)


SPORTS = V("sports", topics=["sports"])
COOKING = V("cooking", topics=["cooking"])
DARK = V("dark", themes=["dark"])
GRID = V("grid", layouts=["grid"])
EVERYONE = V("everyone", fallback=True)


def test_static_shows_the_fallback_whatever_the_visitor_chose():
    variants = [SPORTS, EVERYONE, COOKING]
    assert names(select("static", variants, visitor(["sports"], "dark")).shown) == ["everyone"]
    assert names(select("static", variants, visitor()).shown) == ["everyone"]


def test_static_shows_several_fallbacks_up_to_max_items_in_tree_order():
    a, b, c = V("a", fallback=True), V("b", fallback=True), V("c", fallback=True)
    assert names(select("static", [a, SPORTS, b, c], visitor(), max_items=2).shown) == ["a", "b"]


def test_customization_shows_the_variant_for_a_followed_topic():
    variants = [EVERYONE, SPORTS, COOKING]
    assert names(select("customization", variants, visitor(["cooking"])).shown) == ["cooking"]


def test_customization_without_a_match_shows_the_fallback():
    variants = [SPORTS, COOKING, EVERYONE]
    assert names(select("customization", variants, visitor(["travel"])).shown) == ["everyone"]
    assert names(select("customization", variants, visitor()).shown) == ["everyone"]


def test_themes_and_layouts_match_the_effective_choice_so_the_default_counts():
    light = V("light", themes=["light"])
    one_column = V("one-column", layouts=["one-column"])
    assert names(select("customization", [DARK, light, EVERYONE], visitor()).shown) == ["light"]
    assert names(select("customization", [DARK, light], visitor(theme="dark")).shown) == ["dark"]
    assert names(select("customization", [GRID, one_column], visitor()).shown) == ["one-column"]
    # An unknown theme (e.g. removed from settings) falls back to the default theme.
    assert names(select("customization", [DARK, light], visitor(theme="neon")).shown) == ["light"]


def test_every_non_empty_targeting_list_must_match():
    sports_in_dark = V("sports-dark", topics=["sports"], themes=["dark"])
    variants = [sports_in_dark, EVERYONE]
    assert names(select("customization", variants, visitor(["sports"], "light")).shown) == ["everyone"]
    assert names(select("customization", variants, visitor(["sports"], "dark")).shown) == ["sports-dark"]


def test_more_matching_dimensions_and_topics_score_higher():
    sports_in_dark = V("sports-dark", topics=["sports"], themes=["dark"])
    two_topics = V("two-topics", topics=["sports", "cooking", "travel"])
    variants = [SPORTS, sports_in_dark, two_topics, EVERYONE]
    me = visitor(["sports", "cooking"], "dark")
    assert match_score(SPORTS, me) == 1
    assert match_score(sports_in_dark, me) == 2
    assert match_score(two_topics, me) == 2
    chosen = select("customization", variants, me, max_items=3).shown
    assert names(chosen) == ["sports-dark", "two-topics", "sports"]  # ties by tree position


def test_ties_go_to_higher_priority_then_to_tree_position():
    low, high, also_high = (
        V("low", ["sports"]),
        V("high", ["sports"], priority=5),
        V("also", ["sports"], priority=5),
    )
    assert names(select("customization", [low, high, also_high], visitor(["sports"]), 3).shown) == [
        "high",
        "also",
        "low",
    ]
    # Priority never beats a better match.
    better = V("better", topics=["sports"], layouts=["one-column"], priority=-10)
    assert names(select("customization", [high, better], visitor(["sports"])).shown) == ["better"]


def test_max_items_limits_matches_and_is_at_least_one():
    variants = [V(f"v{i}", ["sports"]) for i in range(5)]
    assert names(select("customization", variants, visitor(["sports"]), 2).shown) == ["v0", "v1"]
    assert names(select("customization", variants, visitor(["sports"]), 0).shown) == ["v0"]
    assert len(select("customization", variants, visitor(["sports"]), 20).shown) == 5


def test_matches_are_not_padded_with_the_fallback():
    assert names(select("customization", [SPORTS, EVERYONE], visitor(["sports"]), 3).shown) == ["sports"]


def test_a_targeted_fallback_can_also_match():
    sports_fallback = V("sports-fallback", topics=["sports"], fallback=True)
    variants = [COOKING, sports_fallback]
    assert names(select("customization", variants, visitor(["sports"])).shown) == ["sports-fallback"]
    assert names(select("customization", variants, visitor(["travel"])).shown) == ["sports-fallback"]


def test_untargeted_variants_match_nobody_but_the_first_one_is_the_fallback_if_none_is_marked():
    general, other = V("general"), V("other")
    assert match_score(general, visitor(["sports"])) is None
    assert names(fallbacks([SPORTS, general, other])) == ["general"]
    assert names(select("customization", [SPORTS, general], visitor(["travel"])).shown) == ["general"]
    assert names(select("customization", [SPORTS, general], visitor(["sports"])).shown) == ["sports"]
    assert names(fallbacks([general, EVERYONE])) == ["everyone"]  # a marked fallback wins


def test_no_fallback_and_no_match_shows_nothing():
    assert select("customization", [SPORTS, COOKING], visitor(["travel"])).shown == []
    assert select("static", [SPORTS, COOKING], visitor()).shown == []
    assert select("customization", [], visitor(["sports"])).shown == []


def test_an_unknown_strategy_behaves_like_static():
    assert names(select("mystery", [SPORTS, EVERYONE], visitor(["sports"]), segments=["fans"]).shown) == ["everyone"]


FANS = V("fans", segments=["sports-fans"])
BUYERS = V("buyers", segments=["buyers", "vip"], priority=5)


def test_personalization_shows_the_variant_for_the_visitors_segment_else_the_fallback():
    variants = [FANS, BUYERS, EVERYONE]
    assert names(select("personalization", variants, visitor(), segments=["sports-fans"]).shown) == ["fans"]
    assert names(select("personalization", variants, visitor(), segments=["vip"]).shown) == ["buyers"]
    assert names(select("personalization", variants, visitor(), segments=["other"]).shown) == ["everyone"]
    assert names(select("personalization", variants, visitor()).shown) == ["everyone"]


def test_personalization_ranks_by_priority_then_tree_position_and_ignores_choices():
    variants = [SPORTS, FANS, BUYERS, V("also-fans", segments=["sports-fans"]), EVERYONE]
    chosen = select("personalization", variants, visitor(["sports"]), 3, segments=["sports-fans", "vip"]).shown
    assert names(chosen) == ["buyers", "fans", "also-fans"]


def test_a_segment_only_variant_is_not_a_fallback_and_customization_ignores_segments():
    assert names(fallbacks([FANS, V("general")])) == ["general"]
    assert names(select("customization", [FANS, EVERYONE], visitor(), segments=["sports-fans"]).shown) == ["everyone"]


def test_hybrid_puts_the_visitors_choices_first_and_fills_with_segments():
    variants = [FANS, SPORTS, BUYERS, EVERYONE]
    both = select("hybrid", variants, visitor(["sports"]), 3, segments=["sports-fans", "vip"]).shown
    assert names(both) == ["sports", "buyers", "fans"]
    assert names(select("hybrid", variants, visitor(["sports"]), 1, segments=["vip"]).shown) == ["sports"]
    assert names(select("hybrid", variants, visitor(), 2, segments=["vip"]).shown) == ["buyers"]
    assert names(select("hybrid", variants, visitor(["travel"])).shown) == ["everyone"]


def test_a_variant_matching_both_ways_is_shown_once():
    both = V("both", topics=["sports"], segments=["sports-fans"])
    chosen = select("hybrid", [both, FANS], visitor(["sports"]), 3, segments=["sports-fans"]).shown
    assert names(chosen) == ["both", "fans"]


def test_duplicate_topics_in_a_variant_count_once():
    doubled = V("doubled", topics=["sports", "sports"])
    assert match_score(doubled, visitor(["sports"])) == 1


@pytest.mark.parametrize("topics", [(), ("sports",), ("cooking", "sports"), ("travel",)])
def test_the_result_does_not_depend_on_the_order_of_the_visitors_topics_or_repeated_calls(topics):
    variants = [SPORTS, COOKING, V("both", ["sports", "cooking"]), DARK, EVERYONE]
    results = {
        tuple(names(select("customization", variants, visitor(order, "dark"), 3).shown))
        for order in itertools.permutations(topics)
        for _ in range(3)
    }
    assert len(results) == 1


def test_the_input_list_is_left_alone():
    variants = [COOKING, SPORTS, EVERYONE]
    select("customization", variants, visitor(["sports"]))
    assert names(variants) == ["cooking", "sports", "everyone"]
