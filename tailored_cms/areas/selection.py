"""Which variants of a tailored area a visitor sees: a pure function of the variants, the snapshot and segments.

``select()`` runs the area's strategy (``strategies``) and also says which **path** put each variant on the page
(``matching.SelectionPath``), what results count impressions, clicks and conversions by: ``customized``,
``personalized``, ``optimized``, ``holdout`` (the visitor is in the area's holdout and sees the fallback on
purpose) and ``fallback`` (nothing matched, or the strategy shows everyone the fallback).

Cost: no SQL, no Redis; O(variants × targeted topics and segments). Deterministic: equal inputs, equal outputs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ..visitors.buckets import HOLDOUT_BUCKETS, holdout_bucket, in_holdout
from .matching import (
    PATHS,
    Choices,
    Selection,
    SelectionPath,
    Targeted,
    V,
    fallback_selection,
    fallbacks,
    is_chosen_for,
    is_targeted,
    match_score,
    segment_priority,
)
from .strategies import get_strategy

__all__ = [
    "CUSTOMIZED",
    "FALLBACK",
    "HOLDOUT",
    "HOLDOUT_BUCKETS",
    "OPTIMIZED",
    "PATHS",
    "PERSONALIZED",
    "Choices",
    "Selection",
    "SelectionPath",
    "Targeted",
    "V",
    "fallbacks",
    "holdout_bucket",
    "in_holdout",
    "is_chosen_for",
    "is_targeted",
    "match_score",
    "segment_priority",
    "select",
]

# The paths by name, as results and the explanation read them.
CUSTOMIZED = SelectionPath.CUSTOMIZED
PERSONALIZED = SelectionPath.PERSONALIZED
OPTIMIZED = SelectionPath.OPTIMIZED
HOLDOUT = SelectionPath.HOLDOUT
FALLBACK = SelectionPath.FALLBACK


def select(
    strategy: str,
    variants: Sequence[V],
    snapshot: Choices,
    max_items: int = 1,
    segments: Collection[str] = (),
    held_out: bool = False,
    optimized: V | None = None,
) -> Selection[V]:
    """The variants to show, best first, at most ``max_items``, and their paths; ``variants`` are in tree order.

    The strategy registered as ``strategy`` picks them (``Strategy.select``; a name none is registered under
    shows the fallback), given the visitor's ``segments`` and ``optimized``, the variant an allocation gives the
    visitor (``Strategy.allocated_variant``). Whatever the strategy, when it picks nothing: the fallback(s). A
    visitor ``held_out`` (``in_holdout``) sees the fallback(s) whatever the strategy.
    """
    limit = max(1, max_items)
    if held_out:
        return fallback_selection(variants, limit, SelectionPath.HOLDOUT)
    chosen = get_strategy(strategy).select(variants, snapshot, limit, segments, optimized)
    if chosen is None or not chosen.shown:
        return fallback_selection(variants, limit, SelectionPath.FALLBACK)
    return chosen
