"""Reading memberships: many visitors' current segments at once, as the recompute compares them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .models import Membership

__all__ = ["memberships_of"]


def memberships_of(visitor_ids: Iterable[Any]) -> dict[str, list[tuple[str, Any]]]:
    """``{visitor_id: [(slug, condition), ...]}`` for many visitors (those with none are absent). Cost: one query."""
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
