"""What strategies pick variants with: which variants fit a visitor's choices or segments, the fallback, and the
``Selection`` they return with the **path** that put each variant on the page.

Pure functions (no SQL, no Redis): the strategies (``strategies/``) combine them, ``selection.select`` runs the
area's strategy. Cost: O(variants × targeted topics and segments).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = [
    "PATHS",
    "Choices",
    "Selection",
    "SelectionPath",
    "Targeted",
    "V",
    "by_choices",
    "by_segments",
    "fallback_selection",
    "fallbacks",
    "is_chosen_for",
    "is_targeted",
    "match_score",
    "segment_priority",
]


class SelectionPath(enum.StrEnum):
    """What put a variant on the page: what results count impressions, clicks and conversions by (stored in their
    rows and sent in the beacon's events), in the order results list them."""

    CUSTOMIZED = "customized"  # the visitor's own choices matched it
    PERSONALIZED = "personalized"  # their segments
    OPTIMIZED = "optimized"  # the optimize strategy's allocation for the visitor's bucket
    EXPERIMENT = "experiment"  # the experiment strategy's fixed split, by the visitor's bucket
    FALLBACK = "fallback"  # nothing matched, or the strategy shows everyone the fallback
    HOLDOUT = "holdout"  # the visitor is in the area's holdout and sees the fallback on purpose


PATHS = tuple(SelectionPath)


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


@dataclass(frozen=True)
class Selection(Generic[V]):
    """The variants shown (best first), the path that put each there, and the area's path.

    ``path`` is the first variant's path, or, when the area shows nothing, why (``holdout`` or ``fallback``).
    """

    shown: list[V]
    paths: tuple[SelectionPath, ...]
    path: SelectionPath


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
    topics, themes, layouts = variant.topics, variant.themes, variant.layouts  # read once: run per variant
    if not (topics or themes or layouts):  # is_chosen_for
        return None
    score = 0
    if topics:
        chosen = choices.topics
        for topic in topics:
            if topic in chosen:
                break
        else:  # none shared (most variants): no set made
            return None
        score += len(set(topics).intersection(chosen))
    if themes:
        if choices.effective_theme not in themes:
            return None
        score += 1
    if layouts:
        if choices.effective_layout not in layouts:
            return None
        score += 1
    return score


def fallbacks(variants: Sequence[V]) -> list[V]:
    """The variants marked fallback, in tree order; if none is marked, the first untargeted one."""
    marked = [v for v in variants if v.fallback]
    if marked:
        return marked
    return next(([v] for v in variants if not is_targeted(v)), [])


def fallback_selection(variants: Sequence[V], limit: int, path: SelectionPath) -> Selection[V]:
    """The fallback(s), at most ``limit``, each put there by ``path``."""
    shown = fallbacks(variants)[:limit]
    return Selection(shown, (path,) * len(shown), path)


def segment_priority(variant: Targeted, segments: Collection[str]) -> int | None:
    """``None`` if ``variant`` targets none of ``segments`` (the visitor's), else its priority."""
    if variant.segments and not set(variant.segments).isdisjoint(segments):
        return variant.priority
    return None


def by_choices(variants: Sequence[V], choices: Choices) -> list[V]:
    """The variants matching the visitor's choices: best score first, ties by higher priority then tree position."""
    scored = []
    for position, variant in enumerate(variants):
        score = match_score(variant, choices)
        if score is not None:
            scored.append((-score, -variant.priority, position, variant))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored]


def by_segments(variants: Sequence[V], segments: Collection[str]) -> list[V]:
    """The variants targeted at any of ``segments``: higher priority first, ties by tree position."""
    if not segments:
        return []
    ranked = []
    for position, variant in enumerate(variants):
        priority = segment_priority(variant, segments)
        if priority is not None:
            ranked.append((-priority, position, variant))
    ranked.sort(key=lambda item: item[:2])
    return [item[2] for item in ranked]
