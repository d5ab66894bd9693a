"""What an editor changes reaches the edges: the pages' URLs, or every tailored page, purged after the commit.

With djangocms-versioning, an editor's changes go to a draft and reach visitors when a version is published or
unpublished: those operations purge the page's URLs too (connected only when the app is installed).

Only under ``EDGE_MODE`` with ``EDGE_PURGE_URLS``. The task is sent after the transaction commits and a broker that
is down is tried once (``rules.tasks.BROKER_RETRY``): the editor's request never waits for an edge; a lost purge
leaves copies at most ``EDGE_MAX_AGE``.
"""

from __future__ import annotations

import logging
from typing import Any

from cms.models import Page, PageContent, PageUrl, Placeholder
from cms.signals import post_obj_operation, post_placeholder_operation
from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from ..conf import tailored_settings
from ..rules.models import Segment
from ..rules.tasks import BROKER_RETRY
from ..visitors.models import Topic
from .purge import TAILORED
from .tasks import purge_edge

logger = logging.getLogger(__name__)


def purging() -> bool:
    """The site has edges to purge."""
    return bool(tailored_settings.EDGE_MODE and tailored_settings.EDGE_PURGE_URLS)


def queue_purge(paths: list[str]) -> None:
    """Send ``purge_edge`` for ``paths`` once the transaction commits (nothing without edges to purge)."""
    if not (purging() and paths):
        return

    def send() -> None:
        try:
            purge_edge.apply_async((paths,), retry_policy=BROKER_RETRY)
        except Exception:  # the broker is down: the copies expire after EDGE_MAX_AGE
            logger.exception("Could not queue the edge purge of %s", paths)

    transaction.on_commit(send)


def page_paths(page: Page) -> list[str]:
    """Every URL the page answers at now: one per language it is public in."""
    urls = PageUrl.objects.filter(page=page, path__isnull=False)
    return sorted({path for url in urls if (path := url.get_absolute_url(url.language))})


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


# A version operation's token (djangocms-versioning ties its pre and post signals by it) → the page's URLs before.
_urls_before: dict[str, list[str]] = {}


def _changes_public_page(operation: str, kwargs: dict[str, Any]) -> bool:
    from djangocms_versioning.constants import OPERATION_PUBLISH, OPERATION_UNPUBLISH

    # The version a publish replaces is unpublished inside it: the publish's own operation purges.
    replaced = operation == OPERATION_UNPUBLISH and kwargs.get("to_be_published") is not None
    return purging() and operation in (OPERATION_PUBLISH, OPERATION_UNPUBLISH) and not replaced


def before_version_operation(operation: str, obj: Any, token: str, **kwargs: Any) -> None:
    if _changes_public_page(operation, kwargs):
        _urls_before[token] = page_paths(obj.content.page)


def after_version_operation(operation: str, obj: Any, token: str, **kwargs: Any) -> None:
    """A version of a page published or unpublished (djangocms-versioning): the URLs it answered at before (an
    unpublished page answers at none; a new slug moves it) and after, every language."""
    before = _urls_before.pop(token, [])
    if _changes_public_page(operation, kwargs):
        queue_purge(sorted({*before, *page_paths(obj.content.page)}))


def on_tailoring_changed(**_kwargs: Any) -> None:
    queue_purge([TAILORED])


post_obj_operation.connect(on_cms_operation, dispatch_uid="tailored_cms.edge.page_operation")
post_placeholder_operation.connect(on_cms_operation, dispatch_uid="tailored_cms.edge.placeholder_operation")
for _model in (Segment, Topic):
    post_save.connect(on_tailoring_changed, sender=_model, dispatch_uid=f"tailored_cms.edge.{_model.__name__}_saved")
    post_delete.connect(
        on_tailoring_changed, sender=_model, dispatch_uid=f"tailored_cms.edge.{_model.__name__}_deleted"
    )
if apps.is_installed("djangocms_versioning"):
    from djangocms_versioning.signals import post_version_operation, pre_version_operation

    pre_version_operation.connect(
        before_version_operation, sender=PageContent, dispatch_uid="tailored_cms.edge.before_version_operation"
    )
    post_version_operation.connect(
        after_version_operation, sender=PageContent, dispatch_uid="tailored_cms.edge.after_version_operation"
    )
