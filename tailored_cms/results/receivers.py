"""Results listen to the layers below: the ingest's new events are rolled up into the daily counters of each
variant (in the ingest's transaction, so exactly once), each full recompute's segment sizes are kept, and the
optimize areas' allocations are published again when the active segments were (a Redis that lost one lost the
other)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.dispatch import receiver

from ..signals import events_stored, segments_recomputed, segments_republished
from ..tracking.ingest import StoredEvent
from .allocations import refresh_allocations
from .rollup import roll_up
from .sizes import record_segment_sizes


@receiver(events_stored, dispatch_uid="tailored_cms.roll_up_results")
def on_events_stored(sender: Any, events: Sequence[StoredEvent], **kwargs: Any) -> None:
    roll_up([(stored.event, stored.ts) for stored in events])


@receiver(segments_recomputed, dispatch_uid="tailored_cms.record_segment_sizes")
def on_segments_recomputed(sender: Any, sizes: Mapping[int, int], now: datetime, **kwargs: Any) -> None:
    record_segment_sizes(sizes, now)


@receiver(segments_republished, dispatch_uid="tailored_cms.republish_allocations")
def on_segments_republished(**kwargs: Any) -> None:
    refresh_allocations()
