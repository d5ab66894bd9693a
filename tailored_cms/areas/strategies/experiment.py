"""``experiment``: an A/B test with a fixed split, the editor's (each variant's weight), sticky per visitor.

Each visitor sees the variant their bucket falls in (``areas.optimize.experiment_variant``: optimize's buckets,
with the split fixed instead of learned), alone, so results compare how each does on its own. The results page
reads the test with an always-valid p-value, safe to look at every day, and ends it by making the winner the
area's fallback.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from ...conf import tailored_settings
from ..matching import Choices, Selection, SelectionPath, V
from ..optimize import K, experiment_shares, experiment_variant
from ..reasons import Reason, ReasonKind
from .registry import ExplainedChoices, Strategy, register_strategy


@register_strategy
class Experiment(Strategy):
    name = "experiment"
    label = _("Experiment: split visitors between variants as you set, to find the best")

    def select(
        self, variants: Sequence[V], choices: Choices, limit: int, segments: Collection[str], allocated: V | None
    ) -> Selection[V] | None:
        if allocated is None:
            return None  # no bucket (no visitor id), or nothing to test: the fallback
        return Selection([allocated], (SelectionPath.EXPERIMENT,), SelectionPath.EXPERIMENT)

    def allocated_variant(self, area_key: str, variants: Sequence[K], visitor_id: str | None) -> K | None:
        return experiment_variant(variants, area_key, visitor_id)

    def shares(self, variants: Sequence[K]) -> dict[str, int]:
        return experiment_shares(variants)

    def explain(
        self, selection: Selection[V], choices: ExplainedChoices, segments: Collection[str]
    ) -> tuple[Reason, ...]:
        if selection.path == SelectionPath.EXPERIMENT:
            return (Reason(ReasonKind.OPTIMIZED),)  # "We are testing which version of this works best"
        return super().explain(selection, choices, segments)

    def get_vary_cache_on(self, area: Any) -> list[str]:
        """The visitor's holdout bucket alone: the choice depends on the bucket and the weights, which are the
        area's own (a change makes a new version of it)."""
        return [tailored_settings.HOLDOUT_VARY_HEADER]
