"""Which variants of a tailored area a visitor sees: a pure function of the variants and the snapshot.

Cost: no SQL, no Redis; O(variants × targeted topics). Deterministic: equal inputs give equal outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from .models import Strategy


class Targeted(Protocol):
    """What selection reads from a variant (``Variant`` satisfies it)."""

    topics: list[str]
    themes: list[str]
    layouts: list[str]
    priority: int
    fallback: bool


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
    """``True`` if the variant names any topic, theme or layout."""
    return bool(variant.topics or variant.themes or variant.layouts)


def match_score(variant: Targeted, choices: Choices) -> int | None:
    """``None`` if ``variant`` is not meant for the visitor, else how well it fits.

    Each non-empty targeting list must match: topics intersect the visitor's, themes/layouts contain their
    effective theme/layout. The score counts one per matching topic, plus one for theme and one for layout.
    An untargeted variant matches nobody in particular (``None``); it can only be a fallback.
    """
    if not is_targeted(variant):
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


def choose_variants(strategy: str, variants: Sequence[V], snapshot: Choices, max_items: int = 1) -> list[V]:
    """The variants to show, best first, at most ``max_items``; ``variants`` are in tree order.

    ``static`` (and any strategy this release does not know) shows the fallback(s). ``customization`` shows
    the variants matching the visitor's choices, best score first, ties by higher priority then tree
    position; when none matches, the fallback(s).
    """
    limit = max(1, max_items)
    if strategy == Strategy.CUSTOMIZATION:
        scored = []
        for position, variant in enumerate(variants):
            score = match_score(variant, snapshot)
            if score is not None:
                scored.append((-score, -variant.priority, position, variant))
        if scored:
            scored.sort(key=lambda item: item[:3])
            return [item[3] for item in scored[:limit]]
    return fallbacks(variants)[:limit]
