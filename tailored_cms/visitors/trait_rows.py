"""Rows of users' traits from outside — the ``traits/`` endpoint, a CSV import: each row names a user by id, username
or email and carries traits. ``store_rows`` finds the users (one query), types ``YYYY-MM-DD`` strings as dates, sets
the traits of the rows that are right (``set_traits_of_users``) and returns what is wrong with the others, row by
row: nothing of a wrong row is stored.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.translation import gettext

from .models import TraitKind
from .traits import TraitsError, clean_traits, known_kinds, set_traits_of_users

__all__ = ["KEYS", "RowError", "store_rows"]

KEYS = ("id", "username", "email")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


@dataclass
class RowError:
    """What is wrong with one row: its number, its user as sent, the field ("user", "traits", "traits.<name>", or
    "" for the row) and the messages."""

    row: int
    user: Any
    field: str
    messages: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def store_rows(by: str, rows: Sequence[tuple[int, Any, Any]], *, dry_run: bool = False) -> tuple[int, list[RowError]]:
    """Set the traits of ``rows`` — (row number, user as sent, traits as sent) — whose users ``by`` names (``KEYS``).

    Returns how many rows were stored and the errors of the others. A user named twice is refused the second time.
    ``dry_run``: check only (users, names, values, kinds; not ``MAX_TRAITS``, which depends on what is stored).
    Cost, whatever the number of rows: one query for the users, one for the kinds, and ``set_traits_of_users``'s.
    """
    assert by in KEYS
    errors: list[RowError] = []
    wanted: dict[Any, tuple[int, Any, Mapping[str, Any]]] = {}  # the key as looked up -> the row
    for index, user, traits in rows:
        key = _key(by, user)
        if key is None:
            errors.append(RowError(index, user, "user", [_key_message(by)]))
        elif not isinstance(traits, Mapping):
            errors.append(RowError(index, user, "traits", [gettext("Expected an object of trait names and values.")]))
        elif key in wanted:
            errors.append(RowError(index, user, "user", [_again(wanted[key][0])]))
        else:
            wanted[key] = (index, user, traits)
    found = _users(by, list(wanted))
    users: dict[Any, tuple[int, Any, Mapping[str, Any]]] = {}
    for key, (index, user, traits) in wanted.items():
        matches = found.get(key, [])
        if len(matches) != 1:
            message = (
                gettext("No user has this %(key)s.") if not matches else gettext("Several users have this %(key)s.")
            ) % {"key": by}
            errors.append(RowError(index, user, "user", [message]))
        elif matches[0] in users:  # two keys for one user (emails differing in case only)
            errors.append(RowError(index, user, "user", [_again(users[matches[0]][0])]))
        else:
            users[matches[0]] = (index, user, traits)
    typed = _typed({user_id: traits for user_id, (_index, _user, traits) in users.items()})
    refused = _check(typed) if dry_run else set_traits_of_users(typed)
    for user_id, exc in refused.items():
        index, user, _traits = users[user_id]
        errors.extend(_trait_errors(index, user, exc))
    return len(users) - len(refused), sorted(errors, key=lambda error: (error.row, error.field))


def _check(rows: Mapping[Any, Mapping[str, Any]]) -> dict[Any, TraitsError]:
    """What ``set_traits_of_users`` would refuse of ``rows`` before reading the visitors. One query."""
    kinds = known_kinds({name for traits in rows.values() for name in traits})
    refused: dict[Any, TraitsError] = {}
    for user_id, traits in rows.items():
        try:
            clean_traits(traits, kinds)
        except TraitsError as exc:
            refused[user_id] = exc
    return refused


def _again(row: int) -> str:
    return gettext("This user is in row %(row)s already.") % {"row": row}


def _key(by: str, value: Any) -> Any:
    """The value to look the user up by, or ``None`` if it can't name one."""
    if by == "id":
        field = get_user_model()._meta.pk
        assert field is not None
        if isinstance(value, bool) or not isinstance(value, int | str):
            return None
        try:
            key = field.to_python(value)
        except (ValidationError, ValueError, TypeError, OverflowError):
            return None
        if isinstance(key, int) and not -(2**63) <= key < 2**63:
            return None  # no database stores it (SQLite and PostgreSQL would raise)
        return key
    if not isinstance(value, str) or not value.strip() or len(value) > 254 or "\x00" in value:
        return None
    if any("\ud800" <= char <= "\udfff" for char in value):
        return None
    return value.strip().lower() if by == "email" else value


def _key_message(by: str) -> str:
    if by == "id":
        return gettext("Expected a user id.")
    if by == "username":
        return gettext("Expected a username.")
    return gettext("Expected an email address.")


def _users(by: str, keys: list[Any]) -> dict[Any, list[Any]]:
    """Key -> the ids of the users it names. One query."""
    if not keys:
        return {}
    model = get_user_model()
    if by == "id":
        rows = model._default_manager.filter(pk__in=keys).values_list("pk", "pk")
    elif by == "username":
        rows = model._default_manager.filter(**{f"{model.USERNAME_FIELD}__in": keys}).values_list(
            model.USERNAME_FIELD, "pk"
        )
    else:
        email = model.get_email_field_name()
        rows = (
            model._default_manager.annotate(tailored_email=Lower(email))
            .filter(tailored_email__in=keys)
            .values_list("tailored_email", "pk")
        )
    found: dict[Any, list[Any]] = {}
    for key, pk in rows:
        found.setdefault(key, []).append(pk)
    return found


def _typed(rows: Mapping[Any, Mapping[str, Any]]) -> dict[Any, dict[str, Any]]:
    """The rows' traits with ``"YYYY-MM-DD"`` strings as dates, except for traits the site stores as text. One
    query (the known kinds)."""
    names = {name for traits in rows.values() for name in traits if isinstance(name, str)}
    kinds = known_kinds(names) if names else {}
    typed: dict[Any, dict[str, Any]] = {}
    for user_id, traits in rows.items():
        converted = dict(traits)
        for name, value in traits.items():
            if isinstance(value, str) and ISO_DATE.match(value) and kinds.get(name) != TraitKind.STRING:
                with contextlib.suppress(ValueError):  # not a date: stays text, refused if the trait holds dates
                    converted[name] = date.fromisoformat(value)
        typed[user_id] = converted
    return typed


def _trait_errors(index: int, user: Any, exc: TraitsError) -> list[RowError]:
    return [
        RowError(index, user, "traits" if name == "__all__" else f"traits.{name}", list(messages))
        for name, messages in exc.message_dict.items()
    ]
