"""Reading memberships: a visitor's current segments, as snapshots carry them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

__all__ = ["current_memberships", "memberships_of"]


def current_memberships(visitor_id: Any) -> list[tuple[str, Any]]:
    """``(slug, condition)`` of the visitor's current memberships of enabled segments. Cost: one query."""
    from .models import Membership

    rows = Membership.objects.filter(visitor_id=visitor_id, left_at__isnull=True, segment__enabled=True)
    return list(rows.order_by("segment__slug").values_list("segment__slug", "condition"))


def memberships_of(visitor_ids: Iterable[Any]) -> dict[str, list[tuple[str, Any]]]:
    """``{visitor_id: [(slug, condition), ...]}`` for many visitors (those with none are absent). Cost: one query."""
    from .models import Membership

    ids = list(visitor_ids)
    found: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    if not ids:
        return found
    rows = Membership.objects.filter(visitor_id__in=ids, left_at__isnull=True, segment__enabled=True)
    for visitor_id, slug, condition in rows.order_by("segment__slug").values_list(
        "visitor_id", "segment__slug", "condition"
    ):
        found[str(visitor_id)].append((slug, condition))
    return found
