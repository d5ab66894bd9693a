"""An experiment whose figures name a winner, for the tests of ending it (pages, permissions, the browser)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.results.models import VariantStats


def decided_experiment(area: TailoredArea, winner: Variant, loser: Variant) -> None:
    """``area`` an experiment between ``winner`` and ``loser``: the ten days before today, 300 views each a day,
    50 clicks (and conversions) a day for the winner and 30 for the loser, a winner by the sequential test too.
    Once only."""
    if area.strategy != "experiment":
        area.strategy = "experiment"
        area.save()
    if VariantStats.objects.filter(area=area.key, path="experiment").exists():
        return
    today = timezone.localdate()
    VariantStats.objects.bulk_create(
        VariantStats(
            area=area.key,
            variant=variant.key,
            path="experiment",
            day=today - timedelta(days=offset),
            impressions=300,
            clicks=clicks,
            conversions=clicks,  # the goal's too, if the area has one
        )
        for offset in range(1, 11)
        for variant, clicks in ((winner, 50), (loser, 30))
    )
