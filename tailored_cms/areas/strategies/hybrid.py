"""``hybrid``: the variants matching the visitor's choices first; segment matches fill the remaining places."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from django.utils.translation import gettext_lazy as _

from ..matching import Choices, Selection, SelectionPath, V, by_choices, by_segments
from .registry import Strategy, register_strategy


@register_strategy
class Hybrid(Strategy):
    name = "hybrid"
    label = _("Hybrid: the visitor's choices first, segments fill the rest")
    uses_choices = True

    def select(
        self, variants: Sequence[V], choices: Choices, limit: int, segments: Collection[str], allocated: V | None
    ) -> Selection[V] | None:
        chosen = by_choices(variants, choices)[:limit]
        paths = [SelectionPath.CUSTOMIZED] * len(chosen)
        if len(chosen) < limit:
            more = [v for v in by_segments(variants, segments) if v not in chosen][: limit - len(chosen)]
            chosen += more
            paths += [SelectionPath.PERSONALIZED] * len(more)
        return Selection(chosen, tuple(paths), paths[0]) if chosen else None
