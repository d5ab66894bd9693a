"""A visitor's explicit choices and consent: validation, saving, resetting, and merging at login."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from ..conf import tailored_settings
from ..signals import traits_changed
from ..text import shown
from .accessibility import MOTIONS, TEXT_SIZES
from .models import Topic, Visitor
from .request import RequestVisitor, visitor_context
from .snapshot import Snapshot
from .stale import mark_stale
from .store import get_store
from .traits import merge_traits

FIELDS = ("topics", "theme", "layout", "widgets", "motion", "text_size")
WIDGET_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# What a Topic.slug can be; anything else is unknown without asking the DB (PostgreSQL refuses NUL characters).
TOPIC_SLUG = re.compile(r"^[-\w]{1,50}\Z")


def clean_preferences(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validated choices from ``data``; a ``ValidationError`` per field names what is valid.

    With ``partial`` only the fields present are returned; otherwise missing ones are reset to the default.
    ``None`` or ``""`` for a field also means the site's default.
    """
    if not isinstance(data, Mapping):
        raise ValidationError(
            {"non_field_errors": [gettext("Expected an object with topics, theme, layout, widgets.")]}
        )
    unknown = sorted(set(data) - set(FIELDS))
    errors: dict[str, list[str]] = {}
    if unknown:
        errors["non_field_errors"] = [
            gettext("Unknown field(s): %(unknown)s. Valid: %(valid)s.")
            % {"unknown": shown(", ".join(unknown)), "valid": ", ".join(FIELDS)}
        ]
    cleaned: dict[str, Any] = {}
    for name in FIELDS:
        if name not in data and partial:
            continue
        value = data.get(name)
        try:
            cleaned[name] = _CLEANERS[name](value)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_choice(value: Any, choices: Mapping[str, object], message: str) -> str:
    """``value`` if one of ``choices`` (or "" for the default); else ``message`` (translated) names the valid ones."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(message % {"value": value, "valid": ", ".join(choices)})
    return value


def _clean_theme(value: Any) -> str:
    return _clean_choice(value, tailored_settings.THEMES, gettext("Unknown theme %(value)r. Valid themes: %(valid)s."))


def _clean_layout(value: Any) -> str:
    message = gettext("Unknown layout %(value)r. Valid layouts: %(valid)s.")
    return _clean_choice(value, tailored_settings.LAYOUTS, message)


def _clean_motion(value: Any) -> str:
    message = gettext("Unknown motion %(value)r. Valid: %(valid)s, or null for the browser's.")
    return _clean_choice(value, MOTIONS, message)


def _clean_text_size(value: Any) -> str:
    message = gettext("Unknown text size %(value)r. Valid: %(valid)s, or null for the site's.")
    return _clean_choice(value, TEXT_SIZES, message)


def _clean_topics(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError(gettext("Expected a list of topic slugs."))
    most = tailored_settings.MAX_TOPICS
    if len(value) > most:
        raise ValidationError(
            ngettext("At most %(count)s topic may be followed.", "At most %(count)s topics may be followed.", most)
            % {"count": most}
        )
    wanted = list(dict.fromkeys(value))
    candidates = [slug for slug in wanted if TOPIC_SLUG.match(slug)]
    known = set(Topic.objects.filter(slug__in=candidates).values_list("slug", flat=True)) if candidates else set()
    unknown = [slug for slug in wanted if slug not in known]
    if unknown:
        valid = ", ".join(Topic.objects.values_list("slug", flat=True)) or gettext("(none defined yet)")
        raise ValidationError(
            gettext("Unknown topic(s): %(unknown)s. Valid topics: %(valid)s.")
            % {"unknown": shown(", ".join(unknown)), "valid": valid}
        )
    return wanted


def _clean_widgets(value: Any) -> dict[str, list[str]]:
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping) or set(value) - {"order", "hidden"}:
        raise ValidationError(gettext('Expected {"order": [widget keys], "hidden": [widget keys]}.'))
    cleaned: dict[str, list[str]] = {}
    for part in ("order", "hidden"):
        keys = value.get(part) or []
        if not isinstance(keys, list | tuple) or not all(isinstance(k, str) and WIDGET_KEY.match(k) for k in keys):
            raise ValidationError(
                gettext('"%(part)s" must be a list of widget keys (letters, digits, "-" and "_").') % {"part": part}
            )
        cleaned[part] = list(dict.fromkeys(keys))
    if len(cleaned["order"]) + len(cleaned["hidden"]) > tailored_settings.MAX_WIDGETS:
        most = tailored_settings.MAX_WIDGETS
        raise ValidationError(
            ngettext("At most %(count)s widget may be arranged.", "At most %(count)s widgets may be arranged.", most)
            % {"count": most}
        )
    return {part: keys for part, keys in cleaned.items() if keys}


_CLEANERS = {
    "topics": _clean_topics,
    "theme": _clean_theme,
    "layout": _clean_layout,
    "widgets": _clean_widgets,
    "motion": _clean_motion,
    "text_size": _clean_text_size,
}


def save_preferences(request: HttpRequest, choices: Mapping[str, Any]) -> Snapshot:
    """Store already-cleaned ``choices`` for the request's visitor (created if needed) and return the snapshot."""
    context = visitor_context(request)
    now = timezone.now().isoformat()
    with transaction.atomic():
        visitor = visitor_for_update(request, context)
        for name, value in choices.items():
            setattr(visitor, name, value)
            visitor.choices_changed[name] = now
        visitor.save()
    return publish(context, visitor)


def reset_preferences(request: HttpRequest) -> Snapshot:
    """Every choice back to the site's defaults."""
    return save_preferences(request, clean_preferences({}))


def save_consent(request: HttpRequest, tracking: bool) -> Snapshot:
    """Record the visitor's answer about behaviour tracking (creating the visitor and its cookie if needed)."""
    context = visitor_context(request)
    with transaction.atomic():
        visitor = visitor_for_update(request, context)
        visitor.tracking_consent = tracking
        visitor.save()
    return publish(context, visitor)


def visitor_for_update(request: HttpRequest, context: RequestVisitor) -> Visitor:
    """The request's visitor row, locked for the transaction; created if there is none yet."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        visitor, _ = Visitor.objects.select_for_update().get_or_create(user=user)
        return visitor
    if context.visitor_id:
        # The id comes from our signed cookie; its row may not exist yet (a visitor tracked under implied
        # consent gets a row when their first events are ingested).
        visitor, _ = Visitor.objects.select_for_update().get_or_create(pk=context.visitor_id)
        if visitor.user_id is None:
            return visitor
    return Visitor.objects.create()


def publish(context: RequestVisitor, visitor: Visitor) -> Snapshot:
    """After a DB write: refresh the visitor's snapshot in the store and make it this request's."""
    snapshot = Snapshot.from_visitor(visitor)
    if not get_store().set(snapshot):
        mark_stale(str(visitor.pk))  # Redis may keep the older copy: the worker deletes it when it can
    context.switch(snapshot)
    return snapshot


def merge_at_login(request: HttpRequest, user: Any) -> None:
    """Fold the anonymous visitor's choices into the user's (newer choice wins per field), then use the user's.

    A user without a visitor row gets one, so the browser they signed in on is theirs from now on: what the site
    sets for them later (``api.set_traits``, ``traits/``) reaches its next page view, with no lookup of the user
    on the request path. It takes the cookie's id when it names no row yet (a visitor tracked before their first
    events were stored), else a new one (and the browser a cookie for it).
    """
    context = getattr(request, "tailored", None)
    if context is None:
        return
    anonymous_id = context.visitor_id if context.snapshot.user_id is None else None
    with transaction.atomic():
        mine = Visitor.objects.select_for_update().filter(user=user).first()
        theirs = (
            Visitor.objects.select_for_update().filter(pk=anonymous_id, user=None).first() if anonymous_id else None
        )
        if theirs is None and mine is None:
            mine = _new_user_visitor(user, anonymous_id)
        elif mine is None:
            assert theirs is not None
            theirs.user = user
            theirs.save()
            mine = theirs
        elif theirs is not None:
            for name in FIELDS:
                if theirs.choices_changed.get(name, "") > mine.choices_changed.get(name, ""):
                    setattr(mine, name, getattr(theirs, name))
                    mine.choices_changed[name] = theirs.choices_changed[name]
            if theirs.tracking_consent is not None and mine.tracking_consent is None:
                mine.tracking_consent = theirs.tracking_consent
            if merge_traits(mine, theirs):
                mine_id = frozenset([str(mine.pk)])
                transaction.on_commit(lambda: traits_changed.send_robust(sender=__name__, visitor_ids=mine_id))
            theirs.delete()
            mine.save()
            if not get_store().delete(str(anonymous_id)):
                mark_stale(str(anonymous_id))
    publish(context, mine)


def _new_user_visitor(user: Any, visitor_id: str | None) -> Visitor:
    """A visitor row for ``user``: under ``visitor_id`` if no row has it, else under a new id."""
    if visitor_id is not None:
        try:
            with transaction.atomic():  # a savepoint: the id's first events may have stored a row for it meanwhile
                return Visitor.objects.create(pk=visitor_id, user=user)
        except IntegrityError:
            pass
    return Visitor.objects.create(user=user)
