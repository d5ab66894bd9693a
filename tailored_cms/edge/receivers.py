"""What an editor changes reaches the edges: the pages' URLs, or every tailored page, purged after the commit.

Only under ``EDGE_MODE`` with ``EDGE_PURGE_URLS``. The task is sent after the transaction commits and a broker that
is down is tried once (``rules.tasks.BROKER_RETRY``): the editor's request never waits for an edge; a lost purge
leaves copies at most ``EDGE_MAX_AGE``.
"""

from __future__ import annotations

import logging
from typing import Any

from cms.models import Page, PageContent, Placeholder
from cms.signals import post_obj_operation, post_placeholder_operation
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from ..conf import tailored_settings
from ..rules.models import Segment
from ..rules.tasks import BROKER_RETRY
from ..visitors.models import Topic
from .purge import TAILORED
from .tasks import purge_edge

logger = logging.getLogger(__name__)


def queue_purge(paths: list[str]) -> None:
    """Send ``purge_edge`` for ``paths`` once the transaction commits (nothing without edges to purge)."""
    if not (tailored_settings.EDGE_MODE and tailored_settings.EDGE_PURGE_URLS and paths):
        return

    def send() -> None:
        try:
            purge_edge.apply_async((paths,), retry_policy=BROKER_RETRY)
        except Exception:  # the broker is down: the copies expire after EDGE_MAX_AGE
            logger.exception("Could not queue the edge purge of %s", paths)

    transaction.on_commit(send)


def page_paths(page: Page) -> list[str]:
    """Every URL of ``page``: one per language it has content in."""
    languages = PageContent.admin_manager.filter(page=page).values_list("language", flat=True).distinct()
    return sorted({page.get_absolute_url(language) for language in languages})


def _pages(kwargs: dict[str, Any]) -> set[Page]:
    pages = set()
    for name in ("obj", "translation", "placeholder", "source_placeholder", "target_placeholder"):
        value = kwargs.get(name)
        if isinstance(value, Placeholder):
            value = value.source
        if isinstance(value, PageContent):
            value = value.page
        if isinstance(value, Page):
            pages.add(value)
    return pages


def on_cms_operation(**kwargs: Any) -> None:
    queue_purge(sorted({path for page in _pages(kwargs) for path in page_paths(page)}))


def on_tailoring_changed(**_kwargs: Any) -> None:
    queue_purge([TAILORED])


post_obj_operation.connect(on_cms_operation, dispatch_uid="tailored_cms.edge.page_operation")
post_placeholder_operation.connect(on_cms_operation, dispatch_uid="tailored_cms.edge.placeholder_operation")
for _model in (Segment, Topic):
    post_save.connect(on_tailoring_changed, sender=_model, dispatch_uid=f"tailored_cms.edge.{_model.__name__}_saved")
    post_delete.connect(
        on_tailoring_changed, sender=_model, dispatch_uid=f"tailored_cms.edge.{_model.__name__}_deleted"
    )
