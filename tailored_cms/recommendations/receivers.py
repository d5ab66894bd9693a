"""After the ingest: the visitors it gave new events get their recommendations computed again.

The receiver notes the visitors in Redis and queues one compute, unless one is already queued: a busy site
computes together the lists of every reader noted while a compute waits, not once per batch. No countdown: a
worker holding a task for later crashes in kombu's clean-up when the broker goes away. A failure (broker or
Redis away) is logged; the hourly compute catches the visitors up.
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
            compute_touched_task.apply_async()
    except Exception:
        logger.exception("Recommendations of %d visitors not queued after ingest", len(visitor_ids))
