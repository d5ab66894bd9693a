"""Retention: remove what is older than ``RETENTION_DAYS``. A plain function; the command and the task call it.

What goes, with ``cutoff = now - RETENTION_DAYS``:

- ``Event`` rows with ``ts < cutoff``;
- ``TopicViews`` / ``EventCounts`` of days before the cutoff's day (in the time zone ingest counts days in),
  so a day's counter goes once all of that day is past the cutoff; their visitors are announced
  (``counters_removed``: the next scheduled recompute re-evaluates them);
- ``SpooledEvent`` rows spooled before the cutoff (Redis was down for longer than the retention period);
- CSV files of traits uploaded for an import (``visitors.trait_import``) but not imported within a day;
- anonymous visitors (no user) inactive since before the cutoff: ``last_seen`` and ``updated_at`` (choices,
  consent) both older (``last_seen`` may be empty; ``created_at`` is never later than ``updated_at``). Their
  snapshots go from Redis as well. A signed-in user's visitor is kept: it is part of their account.

Deletes run in chunks of ``chunk`` primary keys (one SELECT and one DELETE each, its own transaction), so memory
stays flat and locks stay short whatever the backlog. Indexes: ``Event.ts``, the counters' ``day``,
``Visitor.last_seen``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from .. import connection
from ..conf import tailored_settings
from ..signals import counters_removed
from ..visitors.models import Visitor
from ..visitors.trait_import import forget_abandoned_files
from .models import Event, EventCounts, SpooledEvent, TopicViews

__all__ = ["CHUNK", "PurgeResult", "cutoff", "purge"]

CHUNK = 2000


@dataclass
class PurgeResult:
    cutoff: str = ""
    events: int = 0
    topic_views: int = 0
    event_counts: int = 0
    spooled_events: int = 0
    visitors: int = 0
    trait_uploads: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"Removed data older than {self.cutoff}: {self.events} events, {self.topic_views} topic view counters, "
            f"{self.event_counts} event counters, {self.spooled_events} spooled events, "
            f"{self.visitors} inactive anonymous visitors, {self.trait_uploads} trait uploads never imported."
        )


def cutoff(now: datetime | None = None) -> datetime:
    """The moment before which data is expired."""
    return (now or timezone.now()) - timedelta(days=tailored_settings.RETENTION_DAYS)


def _delete_in_chunks(
    queryset: models.QuerySet[Any], chunk: int, after: Any = None, recheck: bool = False, visitor: str | None = None
) -> int:
    """Delete every row of ``queryset``, ``chunk`` primary keys at a time. ``after(pks)`` runs after each chunk
    with the keys it deleted; ``visitor`` (daily counters): the field naming each row's visitor, announced after
    each chunk (``counters_removed``).

    ``recheck`` (visitors): each chunk is locked and checked against ``queryset`` again first, so a visitor whose
    events the ingest is storing right now is waited for, and kept if those events made them active (deleting
    them would fail on the events' foreign key).
    """
    model = queryset.model
    total = 0
    while True:
        rows = list(queryset.order_by().values_list("pk", visitor or "pk")[:chunk])
        found = [pk for pk, _owner in rows]
        if not found:
            return total
        with transaction.atomic():
            pks = found
            if recheck:
                pks = list(queryset.filter(pk__in=pks).order_by("pk").select_for_update().values_list("pk", flat=True))
            _deleted, per_model = model.objects.filter(pk__in=pks).delete()
        total += per_model.get(model._meta.label, 0)
        if after is not None and pks:
            after(pks)
        if visitor is not None:
            counters_removed.send_robust(sender=__name__, visitor_ids=frozenset(str(owner) for _pk, owner in rows))
        if len(found) < chunk:
            return total


def _drop_snapshots(pks: list[Any]) -> None:
    names = [connection.key("snap", str(pk)) for pk in pks]
    connection.call(lambda client: client.delete(*names), 0)


def purge(now: datetime | None = None, *, chunk: int = CHUNK) -> PurgeResult:
    """Remove everything older than ``RETENTION_DAYS``; returns the counts."""
    limit = cutoff(now)
    first_kept_day = timezone.localdate(limit)  # ingest counts days in the current time zone
    result = PurgeResult(cutoff=limit.isoformat())
    result.events = _delete_in_chunks(Event.objects.filter(ts__lt=limit), chunk)
    result.topic_views = _delete_in_chunks(TopicViews.objects.filter(day__lt=first_kept_day), chunk, visitor="visitor")
    result.event_counts = _delete_in_chunks(
        EventCounts.objects.filter(day__lt=first_kept_day), chunk, visitor="visitor"
    )
    result.spooled_events = _delete_in_chunks(SpooledEvent.objects.filter(created_at__lt=limit), chunk)
    inactive = Visitor.objects.filter(
        Q(last_seen__isnull=True) | Q(last_seen__lt=limit), user__isnull=True, updated_at__lt=limit
    )
    result.visitors = _delete_in_chunks(inactive, chunk, after=_drop_snapshots, recheck=True)
    result.trait_uploads = forget_abandoned_files(now)
    return result
