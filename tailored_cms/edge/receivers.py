"""What an editor changes reaches the edges: the pages' URLs, or every tailored page, purged after the commit.

A change that moves a page's URLs (a move, a new slug, a deletion) purges the URLs it and every page under it
answered at before, as well as those they answer at after (``Before``).

With djangocms-versioning, an editor's changes go to a draft and reach visitors when a version is published or
unpublished: those operations purge the page's URLs too (connected only when the app is installed).

Only under ``EDGE_MODE`` with ``EDGE_PURGE_URLS``. The task is sent after the transaction commits and a broker that
is down is tried once (``rules.tasks.BROKER_RETRY``): the editor's request never waits for an edge; a lost purge
leaves copies at most ``EDGE_MAX_AGE``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, NamedTuple

from cms import operations
from cms.models import Page, PageContent, PageUrl, Placeholder
from cms.signals import post_obj_operation, post_placeholder_operation, pre_obj_operation
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


# django CMS's page operations that can change the URLs of the page and of every page under it (theirs start with
# its): a move, a new slug, a deletion. The URLs before are read when django CMS signals the operation's start.
MOVING = (
    operations.MOVE_PAGE,
    operations.CHANGE_PAGE_TRANSLATION,
    operations.DELETE_PAGE,
    operations.DELETE_PAGE_TRANSLATION,
)


def page_paths(page: Page, *, under: bool = False) -> list[str]:
    """Every URL the page answers at now (one per language it is public in), and with ``under`` those of every
    page under it too."""
    return _paths(_urls(page, under=under))


def _urls(page: Page, *, under: bool) -> Any:
    """The page's ``PageUrl`` rows with a path, and with ``under`` those of every page under it too."""
    pages = {"page__path__startswith": page.path, "page__site_id": page.site_id} if under else {"page": page}
    return PageUrl.objects.filter(path__isnull=False, **pages)


def _paths(urls: Iterable[PageUrl]) -> list[str]:
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


def _edited_page(request: Any) -> Page | None:
    """The page whose settings the editor's request changes: django CMS signals the start of a change of a page's
    translation (its slug…) without it, from the admin's change view of the page's content."""
    match = getattr(request, "resolver_match", None)
    object_id = match.kwargs.get("object_id") if match is not None else None
    content = PageContent.admin_manager.filter(pk=object_id).select_related("page").first() if object_id else None
    return content.page if content is not None else None


class Before(NamedTuple):
    """A page's URLs before an operation that can move them: its own, and those of it and every page under it."""

    own: list[str]
    tree: list[str]

    @classmethod
    def of(cls, page: Page) -> Before:
        urls = list(_urls(page, under=True))  # the page's own among them: one query
        return cls(_paths(url for url in urls if url.page_id == page.pk), _paths(urls))

    def moved(self, page: Page) -> list[str]:
        """What to purge after the operation on ``page``: its URLs before and now; if they changed (a new slug, a
        move, a deletion), those of every page under it before and now too."""
        own = page_paths(page)
        if own == self.own:
            return own
        return sorted({*self.tree, *page_paths(page, under=True)})


# An operation's token (django CMS and djangocms-versioning tie their pre and post signals by it) → URLs before.
_urls_before: dict[str, Before] = {}
MAX_PENDING = 1_000  # operations begun and not (yet) ended kept: one that failed halfway never ends


def _remember_before(token: str, page: Page) -> None:
    if len(_urls_before) >= MAX_PENDING:
        _urls_before.clear()
    _urls_before[token] = Before.of(page)


def before_cms_operation(operation: str, token: str, **kwargs: Any) -> None:
    if purging() and operation in MOVING:
        page = next(iter(_pages(kwargs)), None) or _edited_page(kwargs.get("request"))
        if page is not None:
            _remember_before(token, page)


def on_cms_operation(**kwargs: Any) -> None:
    """A page's settings, translations or plugins changed: its URLs now; after an operation that can move URLs,
    see ``Before.moved``."""
    before = _urls_before.pop(kwargs.get("token", ""), None)
    pages = _pages(kwargs)
    if before is not None and len(pages) == 1:
        queue_purge(before.moved(pages.pop()))
    else:
        queue_purge(sorted({*(before.tree if before else ()), *(path for page in pages for path in page_paths(page))}))


def _changes_public_page(operation: str, kwargs: dict[str, Any]) -> bool:
    from djangocms_versioning.constants import OPERATION_PUBLISH, OPERATION_UNPUBLISH

    # The version a publish replaces is unpublished inside it: the publish's own operation purges.
    replaced = operation == OPERATION_UNPUBLISH and kwargs.get("to_be_published") is not None
    return purging() and operation in (OPERATION_PUBLISH, OPERATION_UNPUBLISH) and not replaced


def before_version_operation(operation: str, obj: Any, token: str, **kwargs: Any) -> None:
    if _changes_public_page(operation, kwargs):
        _remember_before(token, obj.content.page)


def after_version_operation(operation: str, obj: Any, token: str, **kwargs: Any) -> None:
    """A version of a page published or unpublished (djangocms-versioning): the URLs it answered at before (an
    unpublished page answers at none; a new slug moves it and the pages under it) and after, every language."""
    before = _urls_before.pop(token, None)
    if _changes_public_page(operation, kwargs):
        page = obj.content.page
        queue_purge(before.moved(page) if before is not None else page_paths(page))


def on_tailoring_changed(**_kwargs: Any) -> None:
    queue_purge([TAILORED])


pre_obj_operation.connect(before_cms_operation, dispatch_uid="tailored_cms.edge.before_page_operation")
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
