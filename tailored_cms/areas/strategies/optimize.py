"""``optimize``: test which variant works best, sending more visitors to it (Thompson sampling, ``areas.optimize``).

Each visitor sees the variant their bucket is allocated, alone: what results compare is how each does on its own.
The allocations come from this process's copy of the active segments (kept current by the snapshot's round trip).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from ...conf import tailored_settings
from ...rules.request_time import active_segments
from ..matching import Choices, Selection, SelectionPath, V
from ..optimize import K, optimized_variant
from ..reasons import Reason, ReasonKind
from .registry import ExplainedChoices, Strategy, register_strategy


@register_strategy
class Optimize(Strategy):
    name = "optimize"
    label = _("Optimize: test which variant works best, sending more visitors to it")

    def select(
        self, variants: Sequence[V], choices: Choices, limit: int, segments: Collection[str], allocated: V | None
    ) -> Selection[V] | None:
        if allocated is None:
            return None  # no bucket (no visitor id), or nothing to test: the fallback
        return Selection([allocated], (SelectionPath.OPTIMIZED,), SelectionPath.OPTIMIZED)

    def allocated_variant(self, area_key: str, variants: Sequence[K], visitor_id: str | None) -> K | None:
        """No I/O: the allocation is in this process's copy of the active segments."""
        allocation = active_segments().allocations.get(area_key)
        return optimized_variant(variants, area_key, visitor_id, allocation)

    def explain(
        self, selection: Selection[V], choices: ExplainedChoices, segments: Collection[str]
    ) -> tuple[Reason, ...]:
        if selection.path == SelectionPath.OPTIMIZED:
            return (Reason(ReasonKind.OPTIMIZED),)
        return super().explain(selection, choices, segments)

    def get_vary_cache_on(self, area: Any) -> list[str]:
        """The visitor's holdout bucket alone: the choice depends on the bucket (``optimize.area_bucket``), not on
        choices or segments, so 100 copies at most (101 with visitors without an id). A copy may show a bucket's
        previous variant until the caches expire it, which only delays a reallocation."""
        return [tailored_settings.HOLDOUT_VARY_HEADER]
