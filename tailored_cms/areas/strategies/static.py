"""``static``: everyone sees the fallback, so the caches keep one copy and a holdout would compare nothing."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.utils.translation import gettext_lazy as _

from ..matching import Selection
from ..reasons import FallbackCause, Reason, ReasonKind
from .registry import Strategy, register_strategy


@register_strategy
class Static(Strategy):
    name = "static"
    label = _("Static: everyone sees the fallback")
    holdouts = False

    def explain(self, selection: Selection[Any], choices: Any, segments: Collection[str]) -> tuple[Reason, ...]:
        return (Reason(ReasonKind.FALLBACK, because=FallbackCause.STATIC),)

    def get_vary_cache_on(self, area: Any) -> list[str]:
        return []  # everyone sees the fallback: one cached copy is right
