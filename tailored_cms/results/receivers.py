"""Results listen to the layers below: the ingest's new events are rolled up into the daily counters of each
variant (in the ingest's transaction, so exactly once), and each full recompute's segment sizes are kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.dispatch import receiver

from ..signals import events_stored, segments_recomputed
from ..tracking.ingest import StoredEvent
from .rollup import roll_up
from .sizes import record_segment_sizes


@receiver(events_stored, dispatch_uid="tailored_cms.roll_up_results")
def on_events_stored(sender: Any, events: Sequence[StoredEvent], **kwargs: Any) -> None:
    roll_up([(stored.event, stored.ts) for stored in events])


@receiver(segments_recomputed, dispatch_uid="tailored_cms.record_segment_sizes")
def on_segments_recomputed(sender: Any, sizes: Mapping[int, int], now: datetime, **kwargs: Any) -> None:
    record_segment_sizes(sizes, now)
