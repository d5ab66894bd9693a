"""Preview as any visitor: an editor sees pages as a visitor in chosen segments, with chosen topics, theme and
layout, or as a holdout visitor, and optionally "as on" a moment (campaign windows open and close as they would
then: ``areas.windows``).

The preview lives in the editor's session, signed and bound to their user id (never in the visitor cookie),
and applies only while they are staff with ``tailored_cms.preview_tailoring``. The middleware asks
``preview_context()`` before anything else: for a previewing editor's GET it returns a ``PreviewContext``,
which makes no Redis call, records no event, and gives the request vary keys of its own, so no cache of
django CMS can take the previewed content to anyone else (and django CMS 5.1 keeps staff away from its page and
placeholder caches anyway: ``cms.views.details`` and ``set_page_cache`` skip signed-in users,
``ContentRenderer.placeholder_cache_is_enabled`` skips staff).
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from ..conf import tailored_settings
from ..context import VisitorContext
from ..rules.models import Segment
from ..visitors.models import Topic
from ..visitors.snapshot import Snapshot

PERMISSION_PREVIEW = "tailored_cms.preview_tailoring"
SESSION_KEY = "tailored_cms_preview"
_SALT = "tailored_cms.preview"


@dataclass(frozen=True)
class Preview:
    """Whom an editor previews as: slugs of segments and topics, a theme and a layout ("" = the default)."""

    segments: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    theme: str = ""
    layout: str = ""
    holdout: bool = False  # in the holdout of every area that has one
    as_on: datetime | None = None  # campaign windows as at this moment (None: now)

    @classmethod
    def from_data(cls, data: Any) -> Preview | None:
        """The preview stored as ``data`` (a dict); ``None`` if it isn't one this release stored."""
        try:
            as_on = data.get("as_on")
            return cls(
                segments=tuple(str(slug) for slug in data["segments"]),
                topics=tuple(str(slug) for slug in data["topics"]),
                theme=str(data["theme"]),
                layout=str(data["layout"]),
                holdout=bool(data["holdout"]),
                as_on=datetime.fromisoformat(as_on) if as_on else None,
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None

    def to_data(self) -> dict[str, Any]:
        """What ``from_data`` reads back (JSON: the moment as ISO 8601)."""
        return {**asdict(self), "as_on": self.as_on.isoformat() if self.as_on else None}

    def describe(self) -> str:
        """ "Sports fans and Regulars, following Sports, dark theme": for the toolbar. Cost: 0 to 2 queries."""
        parts = []
        if self.holdout:
            parts.append(_("a holdout visitor"))
        if self.segments:
            names = Segment.objects.filter(slug__in=self.segments).names()
            parts.append(get_text_list([names.get(slug, slug) for slug in self.segments], _("and")))
        if self.topics:
            names = Topic.objects.filter(slug__in=self.topics).names()
            topics = get_text_list([names.get(slug, slug) for slug in self.topics], _("and"))
            parts.append(_("following %(topics)s") % {"topics": topics})
        if self.theme:
            theme = tailored_settings.THEMES.get(self.theme, self.theme)
            parts.append(_("%(theme)s theme") % {"theme": theme})
        if self.layout:
            layout = tailored_settings.LAYOUTS.get(self.layout, self.layout)
            parts.append(_("%(layout)s layout") % {"layout": layout})
        if self.as_on is not None:
            if not parts:
                parts.append(_("a visitor with no choices"))
            when = date_format(timezone.localtime(self.as_on), "DATETIME_FORMAT")
            parts.append(_("as on %(date)s") % {"date": when})
        return ", ".join(str(part) for part in parts)


def may_preview(user: Any) -> bool:
    """Staff with the ``preview_tailoring`` permission (superusers have every permission)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(PERMISSION_PREVIEW)
    )


def start_preview(request: HttpRequest, preview: Preview) -> None:
    """From the next request on, the editor sees pages as ``preview``'s visitor."""
    data = {"user": str(request.user.pk), **preview.to_data()}
    request.session[SESSION_KEY] = signing.dumps(data, salt=_SALT, compress=True)


def stop_preview(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def current_preview(request: HttpRequest) -> Preview | None:
    """The preview this request's user has on, if they still may preview; else ``None``.

    Cost: nothing without a session cookie. With one, the session is read (django CMS's toolbar and
    ``request.user`` read it on every page view anyway, so it costs no extra query); only with a preview stored,
    the user's permissions (a superuser: none; others: 2 queries, cached on the user).
    """
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    session = getattr(request, "session", None)
    stored = session.get(SESSION_KEY) if session is not None else None
    if not stored:
        return None
    try:
        data = signing.loads(stored, salt=_SALT)
    except signing.BadSignature:
        return None
    user: Any = getattr(request, "user", None)
    if not isinstance(data, dict) or not may_preview(user) or data.get("user") != str(user.pk):
        return None  # another user's (a session reused across a login), or the permission was taken away
    return Preview.from_data(data)


def preview_context(request: HttpRequest) -> PreviewContext | None:
    """``request.tailored`` for a previewing editor's GET or HEAD; ``None`` for every other request.

    POSTs (saving choices, events) stay the editor's own: a preview changes what pages show, nothing else.
    """
    if request.method not in ("GET", "HEAD"):
        return None
    preview = current_preview(request)
    return PreviewContext(preview) if preview is not None else None


class PreviewContext(VisitorContext):
    """The previewed visitor, as on the preview's moment if it has one. No Redis, no events (the snapshot refuses
    tracking), the editor's cookie untouched.

    The vary keys are unique to the request: even if a cache of django CMS saw this request, nobody would ever
    be served what it cached, and this request would never be served anything cached for someone else.
    """

    is_preview = True

    def __init__(self, preview: Preview) -> None:
        snapshot = Snapshot(topics=preview.topics, theme=preview.theme, layout=preview.layout, tracking_consent=False)
        super().__init__(snapshot)
        self.preview = preview
        self.as_on = preview.as_on
        self._key = "preview-" + secrets.token_hex(8)

    def variant_key(self, request: HttpRequest) -> str:
        return self._key

    @property
    def widgets_key(self) -> str:
        return self._key

    @property
    def holdout_key(self) -> str:
        return self._key

    def segments(self, request: HttpRequest) -> tuple[str, ...]:
        self.depends_on_visitor = True
        return self.preview.segments

    def in_holdout(self, area_key: str, percent: int) -> bool:
        """A holdout visitor is in the holdout of every area that has one (``percent`` > 0)."""
        return self.preview.holdout and percent > 0
