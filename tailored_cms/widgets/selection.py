"""Which variants of a tailored area a visitor sees: a pure function of the variants, the snapshot and segments.

``select()`` also says which **path** put each variant on the page, what results count impressions, clicks and
conversions by: ``customized`` (the visitor's own choices matched it), ``personalized`` (their segments),
``optimized`` (the optimize strategy's allocation for the visitor's bucket), ``holdout`` (the visitor is in the
area's holdout and sees the fallback on purpose) and ``fallback`` (nothing matched, or the strategy shows everyone
the fallback).

Cost: no SQL, no Redis; O(variants × targeted topics and segments). Deterministic: equal inputs, equal outputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from .models import Strategy

# The paths, in the order results list them.
CUSTOMIZED = "customized"
PERSONALIZED = "personalized"
OPTIMIZED = "optimized"  # the optimize strategy's (widgets/optimize.py)
HOLDOUT = "holdout"
FALLBACK = "fallback"
PATHS = (CUSTOMIZED, PERSONALIZED, OPTIMIZED, FALLBACK, HOLDOUT)


class Targeted(Protocol):
    """What selection reads from a variant (``Variant`` and its ``settings_view`` satisfy it)."""

    @property
    def topics(self) -> Sequence[str]: ...
    @property
    def themes(self) -> Sequence[str]: ...
    @property
    def layouts(self) -> Sequence[str]: ...
    @property
    def segments(self) -> Sequence[str]: ...
    @property
    def priority(self) -> int: ...
    @property
    def fallback(self) -> bool: ...


class Choices(Protocol):
    """What selection reads from a visitor (``Snapshot`` satisfies it)."""

    @property
    def topics(self) -> tuple[str, ...]: ...
    @property
    def effective_theme(self) -> str: ...
    @property
    def effective_layout(self) -> str: ...


V = TypeVar("V", bound=Targeted)


def is_targeted(variant: Targeted) -> bool:
    """``True`` if the variant names any topic, theme, layout or segment."""
    return bool(variant.topics or variant.themes or variant.layouts or variant.segments)


def is_chosen_for(variant: Targeted) -> bool:
    """``True`` if the variant targets the visitor's own choices (topics, theme or layout)."""
    return bool(variant.topics or variant.themes or variant.layouts)


def match_score(variant: Targeted, choices: Choices) -> int | None:
    """``None`` if ``variant`` is not meant for the visitor, else how well it fits.

    Each non-empty targeting list must match: topics intersect the visitor's, themes/layouts contain their
    effective theme/layout. The score counts one per matching topic, plus one for theme and one for layout.
    A variant that targets no choice matches nobody by choice (``None``): a fallback, or one for segments.
    """
    if not is_chosen_for(variant):
        return None
    score = 0
    if variant.topics:
        shared = len(set(variant.topics) & set(choices.topics))
        if not shared:
            return None
        score += shared
    if variant.themes:
        if choices.effective_theme not in variant.themes:
            return None
        score += 1
    if variant.layouts:
        if choices.effective_layout not in variant.layouts:
            return None
        score += 1
    return score


def fallbacks(variants: Sequence[V]) -> list[V]:
    """The variants marked fallback, in tree order; if none is marked, the first untargeted one."""
    marked = [v for v in variants if v.fallback]
    if marked:
        return marked
    return next(([v] for v in variants if not is_targeted(v)), [])


def segment_priority(variant: Targeted, segments: Collection[str]) -> int | None:
    """``None`` if ``variant`` targets none of ``segments`` (the visitor's), else its priority."""
    if variant.segments and not set(variant.segments).isdisjoint(segments):
        return variant.priority
    return None


HOLDOUT_BUCKETS = 100  # holdouts are whole percents: one bucket per percent


def _hash_to_bucket(value: str) -> int:
    digest = hashlib.blake2b(value.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % HOLDOUT_BUCKETS


def holdout_bucket(visitor_id: str) -> int:
    """The visitor's bucket, 0–99: a hash of their id, the same on every request, in every process."""
    return _hash_to_bucket(visitor_id)


def in_holdout(visitor_id: str | None, area_key: str, percent: int) -> bool:
    """``True`` if the visitor is in the area's holdout (``percent`` of visitors see its fallback). No I/O.

    A stable hash of (visitor id, area key): the visitor's bucket turned by an offset that is a hash of the
    area's key, below ``percent``. So each area holds out its own ``percent`` of visitors (two 5% holdouts
    share visitors only when their offsets are less than 5 apart), always the same ones; and what every area
    of a page decides for a visitor depends on the visitor's bucket alone, one of 100 values, which django
    CMS's caches can vary on (``HOLDOUT_VARY_HEADER``). A hash of both together would leave the caches one
    copy per visitor. Visitors without an id (no cookie) are never held out: they would be a new random
    visitor on every request.
    """
    if not visitor_id or percent <= 0:
        return False
    return (holdout_bucket(visitor_id) + _hash_to_bucket(area_key)) % HOLDOUT_BUCKETS < percent


@dataclass(frozen=True)
class Selection(Generic[V]):
    """The variants shown (best first), the path that put each there, and the area's path.

    ``path`` is the first variant's path, or, when the area shows nothing, why (``holdout`` or ``fallback``).
    """

    shown: list[V]
    paths: tuple[str, ...]
    path: str


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

    ``static`` (and any strategy this release does not know) shows the fallback(s). ``customization`` shows
    the variants matching the visitor's choices, best score first, ties by higher priority then tree
    position. ``personalization`` shows the variants targeted at any of the visitor's ``segments``, by higher
    priority then tree position. ``hybrid`` shows choice matches first and fills the remaining places with
    segment matches. ``optimize`` shows ``optimized``, the variant the visitor's bucket is allocated
    (``optimize.optimized_variant``), alone. Whatever the strategy, when nothing matches: the fallback(s). A
    visitor ``held_out`` (``in_holdout``) sees the fallback(s) whatever the strategy.
    """
    limit = max(1, max_items)
    if held_out:
        return _fallback(variants, limit, HOLDOUT)
    if strategy == Strategy.OPTIMIZE and optimized is not None:
        # One variant: what results compare is how each does on its own.
        return Selection([optimized], (OPTIMIZED,), OPTIMIZED)
    chosen: list[V] = []
    paths: list[str] = []
    if strategy in (Strategy.CUSTOMIZATION, Strategy.HYBRID):
        chosen = _by_choices(variants, snapshot)[:limit]
        paths = [CUSTOMIZED] * len(chosen)
    if strategy in (Strategy.PERSONALIZATION, Strategy.HYBRID) and len(chosen) < limit:
        more = [v for v in _by_segments(variants, segments) if v not in chosen][: limit - len(chosen)]
        chosen += more
        paths += [PERSONALIZED] * len(more)
    if not chosen:
        return _fallback(variants, limit, FALLBACK)
    return Selection(chosen, tuple(paths), paths[0])


def _fallback(variants: Sequence[V], limit: int, path: str) -> Selection[V]:
    shown = fallbacks(variants)[:limit]
    return Selection(shown, (path,) * len(shown), path)


def choose_variants(
    strategy: str,
    variants: Sequence[V],
    snapshot: Choices,
    max_items: int = 1,
    segments: Collection[str] = (),
    held_out: bool = False,
    optimized: V | None = None,
) -> list[V]:
    """The variants to show, best first, at most ``max_items`` (``select()`` without the paths)."""
    return select(strategy, variants, snapshot, max_items, segments, held_out, optimized).shown


def _by_choices(variants: Sequence[V], snapshot: Choices) -> list[V]:
    scored = []
    for position, variant in enumerate(variants):
        score = match_score(variant, snapshot)
        if score is not None:
            scored.append((-score, -variant.priority, position, variant))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored]


def _by_segments(variants: Sequence[V], segments: Collection[str]) -> list[V]:
    if not segments:
        return []
    ranked = []
    for position, variant in enumerate(variants):
        priority = segment_priority(variant, segments)
        if priority is not None:
            ranked.append((-priority, position, variant))
    ranked.sort(key=lambda item: item[:2])
    return [item[2] for item in ranked]
