"""Properties of ``select()`` over arbitrary areas, visitors and segments (hypothesis).

What a visitor would notice if any failed: more variants than the area shows, a variant twice, a variant that is
not for them shown as if it were, a held-out visitor seeing tailored content, an area left empty although it
has a fallback, or the page changing between two identical requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from tailored_cms.areas.selection import (
    CUSTOMIZED,
    FALLBACK,
    HOLDOUT,
    OPTIMIZED,
    PERSONALIZED,
    fallbacks,
    match_score,
    segment_priority,
    select,
)
from tailored_cms.areas.strategies import registered_strategies
from tailored_cms.areas.strategies.customization import Customization
from tailored_cms.areas.strategies.hybrid import Hybrid
from tailored_cms.areas.strategies.optimize import Optimize
from tailored_cms.areas.strategies.personalization import Personalization
from tailored_cms.visitors.snapshot import Snapshot

TOPICS = ["sports", "tech", "food", "travel"]
THEMES = ["light", "dark", "contrast"]
LAYOUTS = ["one-column", "two-columns", "grid"]
SEGMENTS = ["fans", "regulars", "mobile", "lapsed"]


@dataclass(eq=False)  # identity, as model instances in a list: two equal variants are still two
class V:
    topics: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    layouts: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    priority: int = 0
    fallback: bool = False


def subset(values: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), unique=True, max_size=2)


variants = st.lists(
    st.builds(
        V,
        topics=subset(TOPICS),
        themes=subset(THEMES),
        layouts=subset(LAYOUTS),
        segments=subset(SEGMENTS),
        priority=st.integers(-3, 3),
        fallback=st.booleans(),
    ),
    max_size=7,
)
visitors = st.builds(
    Snapshot,
    topics=st.lists(st.sampled_from(TOPICS), unique=True, max_size=3).map(tuple),
    theme=st.sampled_from(["", *THEMES]),
    layout=st.sampled_from(["", *LAYOUTS]),
)
strategies = st.sampled_from([strategy.name for strategy in registered_strategies()])
segment_sets = st.frozensets(st.sampled_from(SEGMENTS))


@settings(max_examples=400, deadline=None)
@given(strategies, variants, visitors, st.integers(1, 4), segment_sets, st.booleans())
def test_what_is_shown_is_few_enough_distinct_and_for_this_visitor(
    strategy, area, visitor, max_items, segments, held_out
):
    chosen = select(strategy, area, visitor, max_items, segments, held_out)

    assert len(chosen.shown) <= max_items and len(chosen.paths) == len(chosen.shown)
    assert len({id(v) for v in chosen.shown}) == len(chosen.shown)
    assert all(any(v is w for w in area) for v in chosen.shown)
    for variant, path in zip(chosen.shown, chosen.paths, strict=True):
        if path == CUSTOMIZED:
            assert strategy in (Customization.name, Hybrid.name)
            assert match_score(variant, visitor) is not None
        elif path == PERSONALIZED:
            assert strategy in (Personalization.name, Hybrid.name)
            assert segment_priority(variant, segments) is not None
        else:
            assert path in (FALLBACK, HOLDOUT)
            assert any(variant is f for f in fallbacks(area))
    if chosen.paths:
        assert chosen.path == chosen.paths[0]  # what results count the area's impression by
    # The same request again: the same page.
    again = select(strategy, area, visitor, max_items, segments, held_out)
    assert [id(v) for v in again.shown] == [id(v) for v in chosen.shown] and again.paths == chosen.paths


@settings(max_examples=300, deadline=None)
@given(strategies, variants, visitors, st.integers(1, 4), segment_sets)
def test_a_held_out_visitor_sees_the_fallback_only(strategy, area, visitor, max_items, segments):
    chosen = select(strategy, area, visitor, max_items, segments, held_out=True)
    assert set(chosen.paths) <= {HOLDOUT}
    assert [id(v) for v in chosen.shown] == [id(v) for v in fallbacks(area)[:max_items]]


@settings(max_examples=300, deadline=None)
@given(strategies, variants, visitors, st.integers(1, 4), segment_sets)
def test_an_area_with_a_fallback_is_never_empty(strategy, area, visitor, max_items, segments):
    chosen = select(strategy, area, visitor, max_items, segments)
    if fallbacks(area):
        assert chosen.shown
    if chosen.path == FALLBACK:
        assert [id(v) for v in chosen.shown] == [id(v) for v in fallbacks(area)[:max_items]]


@settings(max_examples=300, deadline=None)
@given(variants, visitors, st.integers(1, 4), segment_sets)
def test_hybrid_puts_the_visitors_own_choices_before_segments_and_keeps_both_orders(area, visitor, max_items, segments):
    hybrid = select(Hybrid.name, area, visitor, max_items, segments)
    customized = select(Customization.name, area, visitor, max_items, segments)
    personalized = select(Personalization.name, area, visitor, max_items, segments)
    if hybrid.path == FALLBACK:
        assert customized.path == personalized.path == FALLBACK
        return
    own = [v for v, p in zip(hybrid.shown, hybrid.paths, strict=True) if p == CUSTOMIZED]
    assert hybrid.paths == tuple(sorted(hybrid.paths, key=[CUSTOMIZED, PERSONALIZED].index))
    assert [id(v) for v in own] == [id(v) for v in customized.shown if customized.path == CUSTOMIZED]
    by_segments = [v for v, p in zip(hybrid.shown, hybrid.paths, strict=True) if p == PERSONALIZED]
    ranked = [v for v in personalized.shown if all(v is not o for o in own)] if personalized.path != FALLBACK else []
    assert [id(v) for v in by_segments] == [id(v) for v in ranked[: len(by_segments)]]


@settings(max_examples=200, deadline=None)
@given(variants, visitors, st.integers(1, 4), segment_sets, st.data())
def test_optimize_shows_the_allocated_variant_alone(area, visitor, max_items, segments, data):
    if not area:
        return
    allocated = data.draw(st.sampled_from(area))
    chosen = select(Optimize.name, area, visitor, max_items, segments, optimized=allocated)
    assert chosen.shown == [allocated] and chosen.paths == (OPTIMIZED,)
