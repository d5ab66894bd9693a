"""``personalization``: the variants targeted at the segments the visitor is in."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from django.utils.translation import gettext_lazy as _

from ..matching import Choices, Selection, SelectionPath, V, by_segments
from .registry import Strategy, register_strategy


@register_strategy
class Personalization(Strategy):
    name = "personalization"
    label = _("Personalization: the visitor's segments")

    def select(
        self, variants: Sequence[V], choices: Choices, limit: int, segments: Collection[str], allocated: V | None
    ) -> Selection[V] | None:
        """Higher priority first, ties by tree position."""
        chosen = by_segments(variants, segments)[:limit]
        return Selection(chosen, (SelectionPath.PERSONALIZED,) * len(chosen), SelectionPath.PERSONALIZED)
