"""Tailored areas and their variants: proxies of ``CMSPlugin`` whose settings are ``PluginSettings`` rows."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..conf import tailored_settings
from ..plugin_settings.models import (
    MAX_HOLDOUT_PERCENT,
    MAX_ITEMS_RANGE,
    MAX_WEIGHT,
    OfPluginType,
    PluginSettings,
    StrategyField,
    TailoredPlugin,
)
from ..tracking.goals import NOT_GOALS, validate_goal
from .strategies import Strategy, get_strategy, shipped_choices, strategy_choices
from .windows import window_label

__all__ = [
    "MAX_HOLDOUT_PERCENT",
    "MAX_ITEMS_RANGE",
    "MAX_WEIGHT",
    "NOT_GOALS",
    "PERMISSION_RESULTS",
    "TailoredArea",
    "Variant",
    "may_see_results",
    "validate_goal",
]

# The settings table sits below areas: its strategy column takes its choices from the registry here.
_strategy_field: StrategyField = PluginSettings._meta.get_field("strategy")
_strategy_field.offer_choices(strategy_choices, shipped_choices)


class TailoredArea(TailoredPlugin):
    """A container whose variants are shown according to the editor's strategy."""

    objects: OfPluginType[TailoredArea] = OfPluginType("TailoredAreaPlugin")

    class Meta:
        proxy = True
        verbose_name = _("tailored area")
        verbose_name_plural = _("tailored areas")
        # The editors' permissions of tailoring as a whole (besides the default ones of each model: managing
        # segments and topics is add/change/delete of Segment and Topic).
        permissions = [
            ("preview_tailoring", _("Can preview pages as any visitor")),
            ("view_results", _("Can see the results of tailoring")),
        ]

    def __str__(self) -> str:
        return self.label or str(self.get_strategy_display())

    @property
    def strategy_class(self) -> Strategy:
        """The registered strategy the area names (one showing the fallback if none is registered by that name)."""
        return get_strategy(self.strategy)

    @property
    def has_holdout(self) -> bool:
        """``True`` if some visitors are held out of this area (a holdout, and a strategy that takes one)."""
        return self.strategy_class.has_holdout(self)

    def get_strategy_display(self) -> str:
        return str(self.strategy_class.label or self.strategy)

    def get_short_description(self) -> str:
        """What the CMS structure board shows after "Tailored area": the label, strategy, holdout, goal and window
        ("from 20 November", "ended 30 November"; no SQL)."""
        parts = [self.label, self.strategy_class.short_label()] if self.label else [str(self)]
        if self.has_holdout:
            parts.append(str(_("holdout %(percent)s%%") % {"percent": self.holdout_percent}))
        if self.goal:
            parts.append(str(_("goal: %(goal)s") % {"goal": self.goal}))
        window = window_label(self, timezone.now())
        if window:
            parts.append(window)
        return " · ".join(parts)


class Variant(TailoredPlugin):
    """One version of an area's content, with the visitors it is meant for."""

    objects: OfPluginType[Variant] = OfPluginType("VariantPlugin")

    class Meta:
        proxy = True
        verbose_name = _("variant")
        verbose_name_plural = _("variants")

    @property
    def targeting(self) -> dict[str, list[str]]:
        return {"topics": self.topics, "themes": self.themes, "layouts": self.layouts, "segments": self.segments}

    def targeting_summary(self) -> list[tuple[str, str]]:
        """(dimension, values) pairs naming whom the variant is for: topic/segment slugs, theme/layout labels."""
        themes, layouts = tailored_settings.THEMES, tailored_settings.LAYOUTS
        summary = []
        if self.topics:
            summary.append((str(_("topics")), ", ".join(self.topics)))
        if self.themes:
            summary.append((str(_("themes")), ", ".join(str(themes.get(t, t)) for t in self.themes)))
        if self.layouts:
            summary.append((str(_("layouts")), ", ".join(str(layouts.get(x, x)) for x in self.layouts)))
        if self.segments:
            summary.append((str(_("segments")), ", ".join(self.segments)))
        return summary

    def get_short_description(self) -> str:
        """What the CMS structure board shows after "Variant": the label, whom the variant is for, and its window
        ("from 20 November", "ended 30 November").

        No SQL: reads the variant's own fields and the settings.
        """
        summary = self.targeting_summary()
        parts = [self.label, *(f"{dimension}: {values}" for dimension, values in summary)]
        if self.fallback:
            parts.append(str(_("fallback")))
        elif not summary:
            parts.append(str(_("no targeting")))
        if self.priority:
            parts.append(f"{_('priority')} {self.priority}")
        parts.append(window_label(self, timezone.now()))
        return " · ".join(part for part in parts if part)


PERMISSION_RESULTS = "tailored_cms.view_results"


def may_see_results(user: Any) -> bool:
    """Staff with the ``view_results`` permission: the results pages, the toolbar's *Results*, ``stats/``."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(PERMISSION_RESULTS)
    )
