"""``customization``: the variants matching the visitor's own choices (topics, theme, layout)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from django.utils.translation import gettext_lazy as _

from ..matching import Choices, Selection, SelectionPath, V, by_choices
from .registry import Strategy, register_strategy


@register_strategy
class Customization(Strategy):
    name = "customization"
    label = _("Customization: the visitor's own choices")
    uses_choices = True

    def select(
        self, variants: Sequence[V], choices: Choices, limit: int, segments: Collection[str], allocated: V | None
    ) -> Selection[V] | None:
        """Best score first, ties by higher priority then tree position (``matching.match_score``)."""
        chosen = by_choices(variants, choices)[:limit]
        return Selection(chosen, (SelectionPath.CUSTOMIZED,) * len(chosen), SelectionPath.CUSTOMIZED)
