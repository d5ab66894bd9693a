"""A saved or deleted segment: the request path learns at once, Celery recomputes who is in it. Visitors the ingest
gave new events, or whose traits changed: their segments are re-evaluated; those whose counters the retention purge
removed: at the next scheduled recompute. An ingest run: the active segments are put back in a Redis that lost
them."""

from __future__ import annotations

import logging
from collections.abc import Set
from typing import Any

import redis
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ..signals import counters_removed, drain_started, traits_changed, visitors_touched
from .active import publish_segments, republish_if_lost
from .models import Segment
from .recompute import recompute_visitors
from .runs import mark_changed
from .tasks import queue_recompute
from .trees import iter_leaves

logger = logging.getLogger(__name__)


def dependents(slug: str) -> list[str]:
    """``slug`` and every segment whose rules reference it, directly or through others. One query."""
    definitions = dict(Segment.objects.values_list("slug", "rules"))
    found = [slug]
    changed = True
    while changed:
        changed = False
        for other, tree in definitions.items():
            if other in found or not isinstance(tree, dict):
                continue
            try:
                refs = {leaf.get("slug") for leaf in iter_leaves(tree) if leaf.get("rule") == "segment"}
            except (TypeError, AttributeError):
                continue
            if refs & set(found):
                found.append(other)
                changed = True
    return found


def _after_change(slug: str, recompute: bool) -> None:
    publish_segments()  # switched off or deleted: gone from every snapshot's next read
    if not recompute:
        return
    try:
        queue_recompute(dependents(slug))
    except Exception as exc:  # no broker: the beat's next full recompute (or tailored_recompute) catches up
        logger.warning("Could not queue the recompute of segment %r: %s", slug, exc)


@receiver(post_save, sender=Segment, dispatch_uid="tailored_cms.segment_saved")
def on_segment_saved(sender: Any, instance: Segment, update_fields: Any = None, **kwargs: Any) -> None:
    # The recompute itself saves sizes with update(), which sends no signal; a save naming only those fields
    # (an admin action, say) changes nothing to compute.
    if update_fields and set(update_fields) <= {"size", "computed_at", "recompute_started_at"}:
        return
    slug = instance.slug
    transaction.on_commit(lambda: _after_change(slug, recompute=True))


@receiver(post_delete, sender=Segment, dispatch_uid="tailored_cms.segment_deleted")
def on_segment_deleted(sender: Any, instance: Segment, **kwargs: Any) -> None:
    slug = instance.slug
    # Segments referencing it now match nobody through it: recompute them.
    transaction.on_commit(lambda: _after_change(slug, recompute=len(dependents(slug)) > 1))


@receiver(visitors_touched, dispatch_uid="tailored_cms.recompute_touched_visitors")
def on_visitors_touched(sender: Any, visitor_ids: Set[str], **kwargs: Any) -> None:
    # After the ingest's commit, in a transaction of its own: the ingest's cost and guarantees stay as they are. A
    # failure is logged, and the next scheduled recompute catches the visitors up (marked first).
    mark_changed(visitor_ids)
    try:
        recompute_visitors(visitor_ids)
    except Exception:
        logger.exception("Segments of %d visitors not recomputed after ingest", len(visitor_ids))


@receiver(counters_removed, dispatch_uid="tailored_cms.mark_visitors_with_counters_removed")
def on_counters_removed(sender: Any, visitor_ids: Set[str], **kwargs: Any) -> None:
    # The retention purge's: rules counting every day retained may change for them, at the next scheduled run.
    mark_changed(visitor_ids)


@receiver(traits_changed, dispatch_uid="tailored_cms.recompute_visitors_with_new_traits")
def on_traits_changed(sender: Any, visitor_ids: Set[str], **kwargs: Any) -> None:
    # The site changed what it knows about these visitors: their segments follow at once (a few statements and
    # two Redis round trips for any number of them), so their next page shows what the new traits select.
    try:
        recompute_visitors(visitor_ids)
    except Exception:
        logger.exception("Segments of %d visitors not recomputed after their traits changed", len(visitor_ids))


@receiver(drain_started, dispatch_uid="tailored_cms.republish_active_segments")
def on_drain_started(sender: Any, client: redis.Redis, **kwargs: Any) -> None:
    republish_if_lost(client)  # the active segments of a Redis that came back empty
