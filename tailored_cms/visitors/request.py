"""What the layers below the web edge may ask of ``request.tailored``.

The middleware sets ``request.tailored`` to a ``tailored_cms.context.VisitorContext``, which composes every layer
for the request; visitors and tracking see it through ``RequestVisitor``, the part they use, so they don't import
the edge.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from .snapshot import Snapshot

__all__ = ["RequestVisitor", "visitor_context"]


class RequestVisitor(Protocol):
    """The request's visitor: who they are, what they chose, and the events to send when the response is done."""

    pending_events: list[Any]  # tracking's events, sent in one round trip when the response is done

    @property
    def snapshot(self) -> Snapshot: ...

    @property
    def visitor_id(self) -> str | None: ...

    def switch(self, snapshot: Snapshot) -> None:
        """From now on this request (and the visitor's next ones, via the cookie) is ``snapshot``'s visitor."""

    def tracked_visitor_id(self) -> str:
        """The visitor's id; a visitor without one gets a new id (and cookie) to be tracked under."""

    def mark_stored(self) -> None:
        """The store already holds a new visitor's snapshot: don't write it again."""

    def forget(self) -> None:
        """Back to a fresh anonymous visitor (logout, erase)."""


def visitor_context(request: HttpRequest) -> RequestVisitor:
    """``request.tailored``, or a clear error naming the middleware that sets it."""
    try:
        return request.tailored  # type: ignore[attr-defined]
    except AttributeError:
        raise ImproperlyConfigured(
            "request.tailored is missing: add tailored_cms.middleware.TailoredMiddleware to MIDDLEWARE."
        ) from None
