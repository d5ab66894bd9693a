"""After the ingest: the visitors it gave new events get their recommendations computed again, debounced.

The receiver notes the visitors in Redis and queues one compute ``store.DEBOUNCE_SECONDS`` later, unless one is
already due: a busy site computes the lists of a few seconds' readers together, not once per batch. A failure
(broker or Redis away) is logged; the hourly compute catches the visitors up.
"""

from __future__ import annotations

import logging
from collections.abc import Set
from typing import Any

from django.dispatch import receiver

from ..signals import visitors_touched
from . import store
from .tasks import compute_touched_task

logger = logging.getLogger(__name__)


@receiver(visitors_touched, dispatch_uid="tailored_cms.recommendations_touched")
def on_visitors_touched(sender: Any, visitor_ids: Set[str], **kwargs: Any) -> None:
    try:
        if store.touch(visitor_ids):
            compute_touched_task.apply_async(countdown=store.DEBOUNCE_SECONDS)
    except Exception:
        logger.exception("Recommendations of %d visitors not queued after ingest", len(visitor_ids))
