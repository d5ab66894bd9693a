"""The optimize areas' allocations, refreshed from their results (Celery, every few minutes).

Here, above areas, because an allocation learns from the results: the maths are ``areas.optimize``'s, the areas
are those whose strategy is an ``Optimize`` one, the new allocations are published with the active segments.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db.models import Sum
from django.utils import timezone

from ..areas.matching import SelectionPath
from ..areas.models import TailoredArea, Variant
from ..areas.optimize import DAYS, allocate, best_probabilities, bucket_counts, eligible
from ..areas.strategies import registered_strategies
from ..areas.strategies.optimize import Optimize
from ..areas.windows import live
from ..conf import tailored_settings
from ..rules import request_time
from ..rules.active import publish_allocations, refresh_active_segments
from .models import VariantStats

__all__ = ["refresh_allocations"]


def refresh_allocations(
    *, rng: random.Random | None = None, today: date | None = None, publish: bool = True
) -> dict[str, list[str]]:
    """Recompute every optimize area's allocation from the last ``DAYS`` days of results and publish them all.

    Cost: three queries, and two Redis round trips (the previous allocations, then the new ones). Returns the
    allocations by area key.
    """
    rng = rng or random.Random()
    today = today or timezone.localdate()
    tested, goals = _tested_variants()
    rows = (
        VariantStats.objects.filter(area__in=tested, path=SelectionPath.OPTIMIZED, day__gt=today - timedelta(days=DAYS))
        .values("area", "variant")
        .annotate(impressions=Sum("impressions"), clicks=Sum("clicks"), conversions=Sum("conversions"))
    )
    stats: dict[tuple[str, str], tuple[int, int]] = {}
    for row in rows:
        successes = row["conversions"] if goals.get(row["area"]) else row["clicks"]
        stats[(row["area"], row["variant"])] = (row["impressions"] or 0, successes or 0)
    refresh_active_segments()  # this process's copy: the previous allocations, to keep buckets where they are
    previous = request_time.active_segments().allocations
    allocations: dict[str, list[str]] = {}
    for area_key, keys in tested.items():
        if not keys:
            continue
        counts = {key: stats.get((area_key, key), (0, 0)) for key in keys}
        shares = best_probabilities(counts, rng)
        allocations[area_key] = allocate(
            bucket_counts(shares, tailored_settings.OPTIMIZE_MIN_SHARE), previous.get(area_key)
        )
    if publish:
        publish_allocations(allocations)
    return allocations


def _tested_variants() -> tuple[dict[str, dict[str, None]], dict[str, str]]:
    """The variant keys each optimize area tests, and its goal, by area key (2 queries).

    Copies of an area (draft and published) share its key: the union of their variants is tested. A variant
    outside its campaign window now is not (a variant that starts later is, from the first refresh after).
    """
    now = timezone.now()
    optimizing = [strategy.name for strategy in registered_strategies() if isinstance(strategy, Optimize)]
    areas = {area.pk: area for area in TailoredArea.objects.filter(tailored_settings__strategy__in=optimizing)}
    by_area: dict[int, list[Variant]] = {}
    for variant in Variant.objects.filter(parent_id__in=areas).order_by("position"):
        by_area.setdefault(variant.parent_id, []).append(variant)
    tested: dict[str, dict[str, None]] = {}
    goals: dict[str, str] = {}
    for pk, area in areas.items():
        tested.setdefault(area.key, {}).update(dict.fromkeys(v.key for v in eligible(live(by_area.get(pk, []), now))))
        goals[area.key] = goals.get(area.key) or area.goal
    return tested, goals
