"""Why a visitor sees what a tailored area shows ("Why am I seeing this?"), beside ``selection``.

``explain()`` and ``describe()`` are pure (no SQL, no Redis): they re-run ``selection.select`` and say which rule
picked the result, from the paths it gives (the same paths results count by). ``load_areas()`` reads the areas
the ``explain/`` endpoint is asked about (2 queries; not a hot path: a visitor asks when they open the widget).

Reasons, one per rule that put variants on the page (``hybrid`` may show both ``choices`` and ``segment``):

- ``choices``: the visitor's topics, theme or layout matched (``topics``, ``theme``, ``layout`` say which);
- ``fallback``: the area's fallback, ``because`` the strategy shows it to everyone (``static``), the visitor
  chose nothing yet (``no_choices``) or nothing matched their choices (``nothing_matched``);
- ``segment``: the visitor is in segments the shown variants target (``segments`` says which);
- ``holdout``: the visitor is in the area's holdout (``selection.in_holdout``) and sees the fallback on purpose;
- ``optimized``: the area tests which variant works best (the optimize strategy) and this is the visitor's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol

from cms.models import PageContent
from django.db.models import Q, QuerySet
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from ..conf import tailored_settings
from .models import Strategy, TailoredArea, Variant
from .selection import CUSTOMIZED, PERSONALIZED, Choices, V, select

__all__ = [
    "CHOICES",
    "FALLBACK",
    "HOLDOUT",
    "NOTHING_MATCHED",
    "NO_CHOICES",
    "OPTIMIZED",
    "SEGMENT",
    "STATIC",
    "Explanation",
    "Reason",
    "describe",
    "explain",
    "live_areas",
    "load_areas",
]

# Reason kinds
CHOICES = "choices"
FALLBACK = "fallback"
SEGMENT = "segment"
HOLDOUT = "holdout"
OPTIMIZED = "optimized"
# Why the fallback
STATIC = "static"
NO_CHOICES = "no_choices"
NOTHING_MATCHED = "nothing_matched"

# Strategies that look at the visitor's own choices (a fallback there may be "you chose nothing yet").
USES_CHOICES = {Strategy.CUSTOMIZATION.value, Strategy.HYBRID.value}


class ExplainedChoices(Choices, Protocol):
    """What explanation reads from a visitor besides what selection reads (``Snapshot`` satisfies it)."""

    @property
    def has_choices(self) -> bool: ...


@dataclass(frozen=True)
class Reason:
    """One reason an area shows what it shows; which fields are filled depends on ``kind`` (see the module)."""

    kind: str
    because: str = ""
    topics: tuple[str, ...] = ()
    theme: str = ""
    layout: str = ""
    segments: tuple[str, ...] = ()


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
    shown = selection.shown
    if strategy == Strategy.STATIC:
        return Explanation(shown, (Reason(FALLBACK, because=STATIC),))  # a static area has no holdout
    if held_out:
        return Explanation(shown, (Reason(HOLDOUT),))
    if selection.path == OPTIMIZED:  # the reason is named as the path
        return Explanation(shown, (Reason(OPTIMIZED),))
    reasons: list[Reason] = []
    by_choices = [variant for variant, path in zip(shown, selection.paths, strict=True) if path == CUSTOMIZED]
    if by_choices:
        reasons.append(_matched_choices(by_choices, choices))
    targeted: dict[str, None] = {}
    for variant, path in zip(shown, selection.paths, strict=True):
        if path == PERSONALIZED:
            targeted.update(dict.fromkeys(slug for slug in variant.segments if slug in segments))
    if targeted:
        reasons.append(Reason(SEGMENT, segments=tuple(targeted)))
    if reasons:
        return Explanation(shown, tuple(reasons))
    if strategy in USES_CHOICES and not choices.has_choices:
        return Explanation(shown, (Reason(FALLBACK, because=NO_CHOICES),))
    return Explanation(shown, (Reason(FALLBACK, because=NOTHING_MATCHED),))


def _matched_choices(variants: Iterable[V], choices: Choices) -> Reason:
    """The visitor's topics, theme and layout that the given (matching) variants target."""
    topics: dict[str, None] = {}
    theme = layout = ""
    for variant in variants:
        topics.update(dict.fromkeys(t for t in choices.topics if t in variant.topics))
        if variant.themes:
            theme = choices.effective_theme
        if variant.layouts:
            layout = choices.effective_layout
    return Reason(CHOICES, topics=tuple(topics), theme=theme, layout=layout)


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
