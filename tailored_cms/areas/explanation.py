"""Why a visitor sees what a tailored area shows ("Why am I seeing this?"), beside ``selection``.

``explain()`` and ``describe()`` are pure (no SQL, no Redis): ``explain`` re-runs ``selection.select`` and asks the
area's strategy why (``Strategy.explain``, from the paths selection gives: the same paths results count by); the
reasons are ``reasons.Reason``s. ``load_areas()`` reads the areas the ``explain/`` endpoint is asked about
(2 queries; not a hot path: a visitor asks when they open the widget).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic

from cms.models import PageContent
from django.db.models import Q, QuerySet
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from ..conf import tailored_settings
from .matching import V
from .models import TailoredArea, Variant
from .reasons import FallbackCause, Reason, ReasonKind
from .selection import select
from .strategies import get_strategy
from .strategies.registry import ExplainedChoices

__all__ = [
    "CHOICES",
    "FALLBACK",
    "HOLDOUT",
    "NOTHING_MATCHED",
    "NO_CHOICES",
    "OPTIMIZED",
    "SEGMENT",
    "STATIC",
    "ExplainedChoices",
    "Explanation",
    "FallbackCause",
    "Reason",
    "ReasonKind",
    "describe",
    "describe_variant",
    "explain",
    "live_areas",
    "load_areas",
]

# Reason kinds and causes by name (``reasons``)
CHOICES = ReasonKind.CHOICES
FALLBACK = ReasonKind.FALLBACK
SEGMENT = ReasonKind.SEGMENT
HOLDOUT = ReasonKind.HOLDOUT
OPTIMIZED = ReasonKind.OPTIMIZED
STATIC = FallbackCause.STATIC
NO_CHOICES = FallbackCause.NO_CHOICES
NOTHING_MATCHED = FallbackCause.NOTHING_MATCHED


@dataclass(frozen=True)
class Explanation(Generic[V]):
    """The variants the visitor sees (best first) and the reasons, in the order of the variants they explain."""

    shown: list[V]
    reasons: tuple[Reason, ...] = field(default=())


def explain(
    strategy: str,
    variants: Sequence[V],
    choices: ExplainedChoices,
    max_items: int = 1,
    segments: Collection[str] = (),
    held_out: bool = False,
    optimized: V | None = None,
) -> Explanation[V]:
    """What ``select`` shows this visitor, and why. Same inputs as selection, so it can't disagree."""
    selection = select(strategy, variants, choices, max_items, segments, held_out, optimized)
    rules = get_strategy(strategy)
    if held_out and rules.holdouts:
        return Explanation(selection.shown, (Reason(HOLDOUT),))
    return Explanation(selection.shown, rules.explain(selection, choices, segments))


def describe(reason: Reason, names: Mapping[str, str] | None = None) -> str:
    """The reason in a sentence for the visitor; ``names`` maps topic (and segment) slugs to their names."""
    names = names or {}
    if reason.kind == CHOICES:
        sentences = []
        if reason.topics:
            followed = get_text_list([names.get(slug, slug) for slug in reason.topics], _("and"))
            sentences.append(_("You follow %(topics)s.") % {"topics": followed})
        if reason.theme:
            label = tailored_settings.THEMES.get(reason.theme, reason.theme)
            sentences.append(_("You use the %(theme)s theme.") % {"theme": label})
        if reason.layout:
            label = tailored_settings.LAYOUTS.get(reason.layout, reason.layout)
            sentences.append(_("You use the %(layout)s layout.") % {"layout": label})
        return " ".join(sentences)
    if reason.kind == SEGMENT:
        groups = get_text_list([names.get(slug, slug) for slug in reason.segments], _("and"))
        return _("Picked from what you read here: you are among %(segments)s.") % {"segments": groups}
    if reason.kind == HOLDOUT:
        return _("You are in a small group that sees the standard version, so we can tell whether tailoring helps.")
    if reason.kind == OPTIMIZED:
        return _("We are testing which version of this works best; you are seeing one of them.")
    if reason.because == STATIC:
        return _("Everyone sees the same here.")
    if reason.because == NO_CHOICES:
        return _("You haven't chosen any topics, theme or layout yet, so you see what everyone sees.")
    return _("Nothing here is meant for your choices, so you see what everyone sees.")


def describe_variant(variant: Variant, names: Mapping[str, str] | None = None) -> str:
    """What a shown variant is, in the visitor's terms: whom it is made for (topics, themes, layouts and segments
    by their names), never the editor's label; ``names`` maps topic and segment slugs to their names."""
    names = names or {}
    sentences = []
    if variant.topics:
        topics = get_text_list([names.get(slug, slug) for slug in variant.topics], _("or"))
        sentences.append(_("It is made for readers who follow %(topics)s.") % {"topics": topics})
    if variant.themes:
        themes = get_text_list([str(tailored_settings.THEMES.get(t, t)) for t in variant.themes], _("or"))
        sentences.append(_("It is made for the %(themes)s theme.") % {"themes": themes})
    if variant.layouts:
        layouts = get_text_list([str(tailored_settings.LAYOUTS.get(x, x)) for x in variant.layouts], _("or"))
        sentences.append(_("It is made for the %(layouts)s layout.") % {"layouts": layouts})
    if variant.segments:
        groups = get_text_list([names.get(slug, slug) for slug in variant.segments], _("or"))
        sentences.append(_("It is made for %(segments)s.") % {"segments": groups})
    return " ".join(sentences) or _("It is what everyone sees.")


def live_areas() -> QuerySet[TailoredArea]:
    """Areas visitors can meet, oldest first: drafts are left out (with djangocms-versioning,
    ``PageContent.objects`` holds only published content; without it, all). Several may share a key."""
    on_a_page = Q(placeholder__content_type__app_label="cms", placeholder__content_type__model="pagecontent")
    live = ~on_a_page | Q(placeholder__object_id__in=PageContent.objects.values("pk"))
    return TailoredArea.objects.filter(live).order_by("pk")


def load_areas(keys: Sequence[str]) -> dict[str, tuple[TailoredArea, list[Variant]]]:
    """The areas with these keys and their variants (tree order), by key. Cost: 2 queries.

    An area's key survives copies and new versions, so several areas can share one: of the live ones
    (``live_areas``) the oldest is explained.
    """
    if not keys:
        return {}
    areas: dict[str, TailoredArea] = {}
    for area in live_areas().filter(tailored_settings__key__in=keys):
        areas.setdefault(area.key, area)
    variants: dict[int, list[Variant]] = {area.pk: [] for area in areas.values()}
    for variant in Variant.objects.filter(parent_id__in=list(variants)).order_by("position", "pk"):
        variants[variant.parent_id].append(variant)
    return {key: (area, variants[area.pk]) for key, area in areas.items()}
