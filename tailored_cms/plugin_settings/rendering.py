"""What tailored plugins read of the request while rendering: the visitor's snapshot, whether an editor is at work,
and their already-loaded children. No SQL, no Redis (the middleware loaded the snapshot)."""

from __future__ import annotations

from typing import Any

from cms.toolbar.utils import get_toolbar_from_request
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..visitors.snapshot import Snapshot

__all__ = ["MODULE", "children_of", "is_editing", "toolbar_of", "visitor_snapshot"]

MODULE = _("Tailored content")  # where editors find the tailored plugins in django CMS's plugin picker


def visitor_snapshot(request: HttpRequest | None) -> Snapshot:
    """The request's snapshot (marks the response visitor-dependent); defaults without the middleware."""
    context = getattr(request, "tailored", None)
    return context.snapshot if context is not None else Snapshot()


def is_editing(request: HttpRequest | None) -> bool:
    """``True`` in the CMS edit and structure modes (not in preview): editors see every variant/widget."""
    if request is None:
        return False
    return bool(getattr(toolbar_of(request), "edit_mode_active", False))


def toolbar_of(request: HttpRequest) -> Any:
    """The request's django CMS toolbar: ``request.toolbar``, which django CMS's middleware sets, else an empty one.

    Not ``get_toolbar_from_request``, which builds an empty toolbar on every call, also when there is one (its
    ``getattr`` default): a cost paid twice per area on every page.
    """
    toolbar = getattr(request, "toolbar", None)
    return toolbar if toolbar is not None else get_toolbar_from_request(request)


def children_of(instance: Any, model: type) -> list[Any]:
    """The already-loaded children of ``instance`` that are ``model`` instances, in tree order (no SQL)."""
    # django CMS fills child_plugin_instances when it loads a placeholder's plugins (one query per plugin
    # type for the whole page). A plugin rendered on its own has None: it then renders no children.
    return [child for child in instance.child_plugin_instances or () if isinstance(child, model)]
