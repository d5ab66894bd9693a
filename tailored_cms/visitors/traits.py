"""Visitor traits: what the site knows about a visitor (its CRM's plan, customer since…), set by the site only.

A trait is a name and a typed value: a string, a number, a boolean, a date or a list of strings. They live in
``Visitor.traits`` (JSON; dates as ISO ``YYYY-MM-DD`` strings, so they compare as dates in SQL): a user's on their
visitor row, which every device they sign in on uses, an anonymous visitor's on theirs until they sign in (the
newer value of each trait wins then, ``merge_traits``). A trait name keeps the kind of its first value
(``Trait``). Nothing a browser sends reaches them: only ``api.set_traits``, the ``traits/`` endpoint for servers
(``tailored_cms.change_traits``) and the admin set them.

After a change commits, ``signals.traits_changed`` names the visitors: the segments re-evaluate them.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .. import bulk_sql as sql
from ..conf import tailored_settings
from ..signals import traits_changed
from ..text import check_storable, shown
from .models import Trait, TraitKind, Visitor

__all__ = [
    "TraitsError",
    "clean_traits",
    "decoded_traits",
    "kind_of",
    "known_kinds",
    "merge_traits",
    "save_traits",
    "set_traits_of_users",
]

# No "__": the trait rule names a trait in Django lookups (``traits__<name>__exact``).
NAME = re.compile(r"(?!.*__)[A-Za-z][A-Za-z0-9_-]*\Z")
# Numbers beyond this lose digits as JSON doubles: refused rather than stored other than given.
MAX_NUMBER = 10**15
MAX_LIST_ITEMS = 100


class TraitsError(ValidationError):
    """What is wrong with traits being set: ``{trait name: [messages]}`` (``"__all__"`` for the set as a whole),
    each message naming the trait."""


def kind_of(value: Any) -> TraitKind | None:
    """The kind of a value as given (``None``: not a kind traits hold)."""
    if isinstance(value, bool):
        return TraitKind.BOOLEAN
    if isinstance(value, int | float):
        return TraitKind.NUMBER
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return TraitKind.DATE
    if isinstance(value, str):
        return TraitKind.STRING
    if isinstance(value, list | tuple):
        return TraitKind.LIST
    return None


def _clean_value(value: Any, kind: TraitKind | None) -> Any:
    """The value as stored; ``ValueError`` with what is wrong."""
    if kind is None:
        if isinstance(value, datetime):
            raise ValueError(gettext("must be a date, not a date and time (use .date())"))
        raise ValueError(
            gettext("must be a string, a number, true or false, a date or a list of strings, not %(value)s")
            % {"value": shown(repr(value)[:100])}
        )
    if kind == TraitKind.NUMBER:
        # abs() first: math.isfinite can't take an integer too large for a float (it raises).
        if not abs(value) <= MAX_NUMBER or not math.isfinite(value):
            raise ValueError(
                gettext("must be a finite number of at most 15 digits, not %(value)s") % {"value": str(value)[:30]}
            )
        return value
    if kind == TraitKind.DATE:
        return value.isoformat()
    if kind == TraitKind.STRING:
        check_storable(value)
        return value
    if kind == TraitKind.LIST:
        if len(value) > MAX_LIST_ITEMS:
            raise ValueError(
                ngettext("must have at most %(count)s item", "must have at most %(count)s items", MAX_LIST_ITEMS)
                % {"count": MAX_LIST_ITEMS}
            )
        for item in value:
            if not isinstance(item, str):
                raise ValueError(
                    gettext("must be a list of strings; %(item)s is not a string") % {"item": shown(repr(item)[:100])}
                )
            check_storable(item)
        return list(value)
    return value


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def _kind_words(kind: str) -> str:
    return str(TraitKind(kind).label) if kind in TraitKind.values else kind


def clean_traits(traits: Mapping[str, Any], kinds: dict[str, str] | None = None) -> dict[str, Any]:
    """Traits as stored (``None`` kept: it removes the trait); raises ``TraitsError`` naming each wrong trait.

    ``kinds``: trait name -> kind the site has set it with (``known_kinds``); a value of another kind is refused.
    New names are added to it, so a batch's first value of a new trait fixes its kind for the rest of the batch.
    """
    if not isinstance(traits, Mapping):
        raise TraitsError({"__all__": [gettext("Traits must be an object of names and values.")]})
    kinds = {} if kinds is None else kinds
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    accepted: dict[str, str] = {}
    longest = tailored_settings.TRAIT_MAX_NAME_LENGTH
    biggest = tailored_settings.TRAIT_MAX_VALUE_BYTES
    for name, value in traits.items():
        label = shown(name)[: longest + 20] if isinstance(name, str) else repr(name)[:100]
        if not isinstance(name, str) or not NAME.match(name):
            words = gettext(
                "Trait %(name)r: a name starts with a letter and has only letters, digits, '_' and '-' (not '__')."
            )
            errors[label] = [words % {"name": label}]
            continue
        if len(name) > longest:
            errors[label] = [
                ngettext(
                    "Trait %(name)r: a name has at most %(count)s character.",
                    "Trait %(name)r: a name has at most %(count)s characters.",
                    longest,
                )
                % {"name": label, "count": longest}
            ]
            continue
        if value is None:
            cleaned[name] = None
            continue
        kind = kind_of(value)
        try:
            stored = _clean_value(value, kind)
        except ValueError as exc:
            errors[name] = [gettext("Trait %(name)r %(problem)s.") % {"name": name, "problem": exc}]
            continue
        assert kind is not None
        if _size(stored) > biggest:
            errors[name] = [
                ngettext(
                    "Trait %(name)r: a value takes at most %(count)s byte as JSON.",
                    "Trait %(name)r: a value takes at most %(count)s bytes as JSON.",
                    biggest,
                )
                % {"name": name, "count": biggest}
            ]
            continue
        held = kinds.get(name)
        if held is not None and held != kind:
            errors[name] = [
                gettext("Trait %(name)r holds values of the kind “%(held)s”, not “%(kind)s”: %(value)s.")
                % {"name": name, "held": _kind_words(held), "kind": _kind_words(kind), "value": shown(str(value))[:100]}
            ]
            continue
        cleaned[name] = stored
        accepted[name] = str(kind)
    if errors:
        raise TraitsError(errors)
    for name, accepted_kind in accepted.items():
        kinds.setdefault(name, accepted_kind)
    return cleaned


def known_kinds(names: Iterable[str]) -> dict[str, str]:
    """Trait name -> kind, of the names the site has set before. One query."""
    return dict(Trait.objects.filter(name__in=list(names)).values_list("name", "kind"))


def decoded_traits(stored: Mapping[str, Any], kinds: Mapping[str, str]) -> dict[str, Any]:
    """Stored traits as given: dates back to ``date``."""
    decoded = dict(stored)
    for name, value in stored.items():
        if kinds.get(name) == TraitKind.DATE and isinstance(value, str):
            with contextlib.suppress(ValueError):
                decoded[name] = date.fromisoformat(value)
    return decoded


def apply(visitor: Visitor, cleaned: Mapping[str, Any], now: str) -> bool:
    """Write ``cleaned`` traits into the visitor row (not saved); whether anything changed. ``TraitsError`` if the
    visitor would hold more than ``MAX_TRAITS``."""
    traits = dict(visitor.traits or {})
    changed_at = dict(visitor.traits_changed or {})
    changed = False
    for name, value in cleaned.items():
        if value is None:
            if name in traits:
                del traits[name]
                changed_at[name] = now
                changed = True
        elif traits.get(name, _MISSING) != value or type(traits.get(name)) is not type(value):
            traits[name] = value
            changed_at[name] = now
            changed = True
    most = tailored_settings.MAX_TRAITS
    if len(traits) > most:
        raise TraitsError(
            {
                "__all__": [
                    ngettext(
                        "At most %(count)s trait per visitor: these would make %(total)s (%(names)s).",
                        "At most %(count)s traits per visitor: these would make %(total)s (%(names)s).",
                        most,
                    )
                    % {"count": most, "total": len(traits), "names": ", ".join(sorted(cleaned))[:300]}
                ]
            }
        )
    if changed:
        visitor.traits = traits
        visitor.traits_changed = changed_at
    return changed


_MISSING = object()


def save_traits(
    changes: Iterable[tuple[Visitor, Mapping[str, Any]]], kinds: Mapping[str, str]
) -> dict[str, TraitsError]:
    """Write cleaned traits to visitor rows the caller locked (``select_for_update``) in the current transaction.

    ``changes``: (visitor, traits from ``clean_traits``); ``kinds``: what ``clean_traits`` filled in. Returns the
    errors of visitors refused (``MAX_TRAITS``), by visitor id: nothing of theirs is written. New trait names are
    recorded (``Trait``), and once the transaction commits ``traits_changed`` names the visitors whose traits
    changed. Cost: two statements whatever the number of visitors (one update of the rows, one insert of names).
    """
    now = timezone.now()
    stamp = now.isoformat()
    errors: dict[str, TraitsError] = {}
    written: list[Visitor] = []
    names: set[str] = set()
    for visitor, cleaned in changes:
        try:
            if apply(visitor, cleaned, stamp):
                visitor.updated_at = now
                written.append(visitor)
        except TraitsError as exc:
            errors[str(visitor.pk)] = exc
            continue
        names.update(name for name, value in cleaned.items() if value is not None)
    if written:
        rows = [(visitor.pk, visitor.traits, visitor.traits_changed, now) for visitor in written]
        sql.update(Visitor, ("traits", "traits_changed", "updated_at"), rows)
    if names:
        new = [(name, kinds[name], now) for name in sorted(names) if name in kinds]
        sql.insert(Trait, ("name", "kind", "first_set"), new, conflict=("name",))
    if written:
        ids = frozenset(str(visitor.pk) for visitor in written)
        transaction.on_commit(lambda: traits_changed.send_robust(sender=__name__, visitor_ids=ids))
    return errors


def merge_traits(mine: Visitor, theirs: Visitor) -> bool:
    """At login: fold an anonymous visitor's traits into the user's (not saved), the newer value of each trait
    winning; whether the user's changed."""
    changed = False
    traits = dict(mine.traits or {})
    changed_at = dict(mine.traits_changed or {})
    for name, when in (theirs.traits_changed or {}).items():
        if when <= changed_at.get(name, ""):
            continue
        if name in (theirs.traits or {}):
            traits[name] = theirs.traits[name]
        else:
            traits.pop(name, None)
        changed_at[name] = when
        changed = True
    if changed:
        mine.traits, mine.traits_changed = traits, changed_at
    return changed


def set_traits_of_users(rows: Mapping[Any, Mapping[str, Any]]) -> dict[Any, TraitsError]:
    """Set the traits of many users at once (``{user id: {name: value or None}}``); returns the errors of the rows
    refused, by user id: nothing of a refused row is stored, the others are. Users without a visitor row get one.

    Cost, whatever the number of rows: one query for the known kinds, and in one transaction one to create missing
    visitor rows, one to lock them all (in id order, as the ingest and the recompute lock), and ``save_traits``'s
    two statements.
    """
    kinds = known_kinds({name for traits in rows.values() if isinstance(traits, Mapping) for name in traits})
    errors: dict[Any, TraitsError] = {}
    cleaned: dict[Any, dict[str, Any]] = {}
    for user_id, traits in rows.items():
        try:
            cleaned[user_id] = clean_traits(traits, kinds)
        except TraitsError as exc:
            errors[user_id] = exc
    if not cleaned:
        return errors
    with transaction.atomic():
        _create_visitors(list(cleaned))
        locked = Visitor.objects.select_for_update().filter(user_id__in=list(cleaned)).order_by("pk")
        visitors = {visitor.user_id: visitor for visitor in locked}
        refused = save_traits(((visitors[user_id], cleaned[user_id]) for user_id in cleaned), kinds)
    by_visitor = {str(visitor.pk): user_id for user_id, visitor in visitors.items()}
    errors.update({by_visitor[visitor_id]: exc for visitor_id, exc in refused.items()})
    return errors


def _create_visitors(user_ids: list[Any]) -> None:
    """A visitor row for each of these users who has none (a user the site knows, who never visited). One
    statement (``ON CONFLICT DO NOTHING``: a row made meanwhile, by a login say, is kept)."""
    pk = Visitor._meta.pk
    fields = [field for field in Visitor._meta.concrete_fields if field is not pk and field.name != "user"]
    instance = Visitor()
    defaults = [field.pre_save(instance, True) for field in fields]
    rows = [(uuid.uuid4(), user_id, *defaults) for user_id in user_ids]
    sql.insert(Visitor, ["id", "user", *(field.name for field in fields)], rows, conflict=("user",))
