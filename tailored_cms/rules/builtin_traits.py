"""The ``trait`` rule: what the site knows about a visitor (``api.set_traits``, ``traits/``, the admin's import),
compared in SQL.

Traits are JSON in ``Visitor.traits`` (dates as ISO strings). Each comparison is guarded by the JSON type of the
trait (a number compares only with numbers, text with text), so a trait that holds another kind, or none, never
matches and never makes the database raise; the guard is never NULL, so the rule negates exactly (``not``).
Models are imported inside methods: importing this module must not load them.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import DatabaseError
from django.db.models import BooleanField, F, Func, Q
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from ..text import check_storable, shown
from .registry import NOBODY, BehaviouralRule, Param, ParamError, register

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

    from .evaluation import Scope

__all__ = ["OPS", "TraitRule"]

OPS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "contains",
    "gt",
    "gte",
    "lt",
    "lte",
    "exists",
    "not_exists",
    "before",
    "after",
    "within_days",
)
# The comparisons as the segment builder offers them ("plan is pro").
OP_WORDS = {
    "eq": pgettext_lazy("trait comparison", "is"),
    "ne": pgettext_lazy("trait comparison", "is not"),
    "in": pgettext_lazy("trait comparison", "is one of"),
    "not_in": pgettext_lazy("trait comparison", "is none of"),
    "contains": pgettext_lazy("trait comparison", "contains"),
    "gt": pgettext_lazy("trait comparison", "is more than"),
    "gte": pgettext_lazy("trait comparison", "is at least"),
    "lt": pgettext_lazy("trait comparison", "is less than"),
    "lte": pgettext_lazy("trait comparison", "is at most"),
    "exists": pgettext_lazy("trait comparison", "is set"),
    "not_exists": pgettext_lazy("trait comparison", "is not set"),
    "before": pgettext_lazy("trait comparison", "is before"),
    "after": pgettext_lazy("trait comparison", "is after"),
    "within_days": pgettext_lazy("trait comparison", "in the last (days)"),
}
NAME = re.compile(r"(?!.*__)[A-Za-z][A-Za-z0-9_-]*\Z")  # as ``visitors.traits.NAME``
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
MAX_TEXT = 1000
MAX_VALUES = 50
MAX_NUMBER = 10**15

# JSON types by trait kind, as PostgreSQL's jsonb_typeof and SQLite's json_type name them.
_TYPES = {
    "string": (("string",), ("text",)),
    "number": (("number",), ("integer", "real")),
    "boolean": (("boolean",), ("true", "false")),
    "list": (("array",), ("array",)),
}
# Which ops each kind of trait takes (a date is a string in JSON, compared as one).
_OPS_BY_KIND = {
    "string": {"eq", "ne", "in", "not_in", "contains", "exists", "not_exists"},
    "number": {"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "not_exists"},
    "boolean": {"eq", "ne", "exists", "not_exists"},
    "date": {
        "eq",
        "ne",
        "in",
        "not_in",
        "gt",
        "gte",
        "lt",
        "lte",
        "before",
        "after",
        "within_days",
        "exists",
        "not_exists",
    },
    "list": {"contains", "exists", "not_exists"},
}


class _HasType(Func):
    """Whether the visitor's trait ``name`` holds one of ``kinds`` (``_TYPES``); never NULL (no trait: false)."""

    output_field = BooleanField()

    def __init__(self, name: str, kinds: tuple[str, ...]) -> None:
        super().__init__(F("traits"))
        self.name, self.kinds = name, kinds

    def _sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, which: int) -> tuple[str, list[Any]]:
        lhs, params = compiler.compile(self.source_expressions[0])
        types = [name for kind in self.kinds for name in _TYPES[kind][which]]
        marks = ", ".join(["%s"] * len(types))
        if which == 0:
            return f"COALESCE(jsonb_typeof({lhs} -> %s), '') IN ({marks})", [*params, self.name, *types]
        return f"COALESCE(json_type({lhs}, %s), '') IN ({marks})", [*params, _json_path(connection, self.name), *types]

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
        return self._sql(compiler, connection, 1)

    def as_postgresql(self, compiler: Any, connection: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
        return self._sql(compiler, connection, 0)


def _json_path(connection: Any, key: str) -> str:
    """SQLite's JSON path of the top-level ``key``: Django 6.0 asks the connection's operations, 5.2 a function."""
    if hasattr(connection.ops, "compile_json_path"):
        return str(connection.ops.compile_json_path([key]))
    from django.db.models.fields import json

    return str(json.compile_json_path([key]))  # type: ignore[attr-defined]


class _ListHas(Func):
    """Whether the visitor's list trait ``name`` has the item ``item`` (SQLite: ``json_each``; PostgreSQL: ``@>``)."""

    output_field = BooleanField()

    def __init__(self, name: str, item: str) -> None:
        super().__init__(F("traits"))
        self.name, self.item = name, item

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
        lhs, params = compiler.compile(self.source_expressions[0])
        sql = f"EXISTS (SELECT 1 FROM json_each({lhs}, %s) AS items WHERE items.value = %s)"
        return sql, [*params, _json_path(connection, self.name), self.item]

    def as_postgresql(self, compiler: Any, connection: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
        lhs, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE(({lhs} -> %s) @> jsonb_build_array(%s::text), false)", [*params, self.name, self.item]


def _compare(name: str, lookup: str, value: Any) -> Q:
    """The trait compared by one of ``KeyTransform``'s lookups (``exact``, ``gt``, ``in``, ``icontains``…): always
    named last, so a trait called ``in`` or ``contains`` is still a key (names have no ``__``)."""
    return Q(**{f"traits__{name}__{lookup}": value})


def _kind_of_value(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "date" if _is_date(value) else "string"
    return "other"


def _is_date(value: str) -> bool:
    if not ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _scalar(value: Any) -> bool:
    """Text, true/false, or a number a JSON double holds exactly (as traits are: ``visitors.traits.MAX_NUMBER``)."""
    if isinstance(value, bool | str):
        return True
    # abs() first: math.isfinite can't take an integer too large for a float (it raises).
    return isinstance(value, int | float) and abs(value) <= MAX_NUMBER and math.isfinite(value)


@register
class TraitRule(BehaviouralRule):
    """`op` says how: `eq`/`ne` (equal or not; `ne` needs the trait), `in`/`not_in` (one of a list of values, or
    none of them), `contains` (a list of texts has the item, or a text has the words, ignoring case), `gt`, `gte`,
    `lt`, `lte` (numbers, or dates as `YYYY-MM-DD`), `exists`/`not_exists` (the trait is set or not; no `value`),
    `before`/`after` (a date, not included) and `within_days` (a date in the last `value` days, today included).
    The builder names each comparison in words (`ne`: "is not"). The site sets traits with `api.set_traits`, the
    `traits/` endpoint or the admin's CSV import. A comparison only matches a trait of its kind: `seats gt 5` never
    matches a visitor whose `seats` is text; a segment comparing a trait with a value of another kind than the site
    stores is refused when saved."""

    name = "trait"
    changes_tracked = True
    label = _("Has a trait")
    description = _(
        "What the site knows about the visitor, from its customer records or an import (their plan, since when "
        "they are a customer…), compared with a value."
    )
    params = {
        "name": Param(str, max_length=200, label=_("Trait"), help=_("trait name, such as plan"), refers_to="trait"),
        "op": Param(str, choices=OPS, choice_labels=OP_WORDS, label=_("Comparison")),
        "value": Param(
            object,
            required=False,
            label=_("Value"),
            help=_(
                "text, a number, true or false, or a date (YYYY-MM-DD); several, separated by commas, "
                "for “is one of” and “is none of”; a number of days for “in the last (days)”; nothing for “is "
                "set” and “is not set”"
            ),
        ),
    }
    example: ClassVar[dict[str, Any]] = {"rule": "trait", "name": "plan", "op": "eq", "value": "pro"}

    def check(self, params: dict[str, Any]) -> None:
        name, op = params["name"], params["op"]
        if not NAME.match(name):
            words = gettext("a trait name starts with a letter and has only letters, digits, '_' and '-' (not '__').")
            raise ParamError("name", words)
        value = params.get("value")
        if op in ("exists", "not_exists"):
            if value is not None:
                raise ParamError("value", gettext("%(op)r takes no value.") % {"op": op})
            return
        if value is None:
            raise ParamError("value", gettext("%(op)r needs a value.") % {"op": op})
        kind = self._check_value(op, value)
        self._check_kind(name, op, kind)

    def _check_value(self, op: str, value: Any) -> str:
        """The kind the value compares as; ``ParamError`` on ``value`` if ``op`` can't take it."""
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value or len(value) > MAX_VALUES:
                raise ParamError(
                    "value",
                    ngettext(
                        "%(op)r takes a list of 1 to %(count)s value.",
                        "%(op)r takes a list of 1 to %(count)s values.",
                        MAX_VALUES,
                    )
                    % {"op": op, "count": MAX_VALUES},
                )
            kinds = {_kind_of_value(item) if _scalar(item) else "other" for item in value}
            kinds = {"string" if kind == "date" and len(kinds) > 1 else kind for kind in kinds}
            if "other" in kinds or "boolean" in kinds or len(kinds) > 1:
                raise ParamError(
                    "value",
                    gettext("%(op)r takes a list of texts, or of numbers, or of dates, not a mix.") % {"op": op},
                )
            for item in value:
                self._check_text(item)
            return kinds.pop()
        if op == "within_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
                raise ParamError(
                    "value",
                    gettext("%(op)r takes a whole number of days from 1 to 3650, not %(value)s.")
                    % {"op": op, "value": shown(repr(value))[:100]},
                )
            return "date"
        if not _scalar(value):
            raise ParamError(
                "value",
                gettext("%(op)r compares with text, a number, true or false or a date, not %(value)s.")
                % {"op": op, "value": shown(repr(value))[:100]},
            )
        self._check_text(value)
        kind = _kind_of_value(value)
        if op in ("before", "after") and kind != "date":
            raise ParamError(
                "value",
                gettext("%(op)r compares dates: give one as YYYY-MM-DD, not %(value)s.")
                % {"op": op, "value": shown(repr(value))[:100]},
            )
        if op in ("gt", "gte", "lt", "lte") and kind not in ("number", "date"):
            raise ParamError(
                "value",
                gettext("%(op)r compares numbers or dates (YYYY-MM-DD), not %(value)s.")
                % {"op": op, "value": shown(repr(value))[:100]},
            )
        if op == "contains" and kind not in ("string", "date"):
            raise ParamError(
                "value",
                gettext("%(op)r looks for text, not %(value)s.") % {"op": op, "value": shown(repr(value))[:100]},
            )
        return kind

    @staticmethod
    def _check_text(value: Any) -> None:
        if isinstance(value, str):
            try:
                check_storable(value)
            except ValueError as exc:
                raise ParamError("value", str(exc)) from exc
            if not value.strip() or len(value) > MAX_TEXT:
                raise ParamError("value", gettext("text must have 1 to %(count)s characters.") % {"count": MAX_TEXT})

    def _check_kind(self, name: str, op: str, kind: str) -> None:
        """Against the kind the site stores the trait as (when it has set it already)."""
        from ..visitors.models import Trait, TraitKind  # here: this module loads before Django's apps

        try:
            held = Trait.objects.filter(name=name).values_list("kind", flat=True).first()
        except DatabaseError:  # no table yet (before migrate): nothing known to compare with
            return
        if held is None:
            return
        words = {"held": str(TraitKind(held).label), "name": name, "op": op}
        if op not in _OPS_BY_KIND.get(held, set(OPS)):
            raise ParamError("op", gettext("the trait %(name)r holds %(held)s, which %(op)r doesn't compare.") % words)
        fits = kind == held or (held == "list" and kind in ("string", "date")) or (held == "string" and kind == "date")
        if not fits:
            raise ParamError(
                "value",
                gettext("the trait %(name)r holds %(held)s; %(value)s is another kind.")
                % {**words, "value": shown(kind_words(kind))},
            )

    def describe(self, params: dict[str, Any]) -> str:
        op, value = params["op"], params.get("value")
        words = {
            "eq": gettext("has the trait %(name)s equal to %(value)s"),
            "ne": gettext("has the trait %(name)s other than %(value)s"),
            "in": gettext("has the trait %(name)s among %(value)s"),
            "not_in": gettext("has the trait %(name)s, none of %(value)s"),
            "contains": gettext("has the trait %(name)s containing %(value)s"),
            "gt": gettext("has the trait %(name)s greater than %(value)s"),
            "gte": gettext("has the trait %(name)s at least %(value)s"),
            "lt": gettext("has the trait %(name)s less than %(value)s"),
            "lte": gettext("has the trait %(name)s at most %(value)s"),
            "exists": gettext("has the trait %(name)s"),
            "not_exists": gettext("doesn't have the trait %(name)s"),
            "before": gettext("has the trait %(name)s before %(value)s"),
            "after": gettext("has the trait %(name)s after %(value)s"),
            "within_days": gettext("has the trait %(name)s within the last %(value)s days"),
        }.get(op, "%(name)s")
        shown_value = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        return words % {"name": params["name"], "value": shown_value}

    def visitors(self, params: dict[str, Any], scope: Scope) -> Q:
        name, op = params["name"], params["op"]
        value: Any = params.get("value")
        if op == "exists":
            return Q(_HasType(name, tuple(_TYPES)))
        if op == "not_exists":
            return ~Q(_HasType(name, tuple(_TYPES)))
        if op == "contains":
            has_item = _ListHas(name, value)
            return (Q(_HasType(name, ("list",))) & Q(has_item)) | (
                Q(_HasType(name, ("string",))) & _compare(name, "icontains", value)
            )
        if op == "within_days":
            first = scope.first_day(value).isoformat()
            guard = Q(_HasType(name, ("string",)))
            return guard & _compare(name, "gte", first) & _compare(name, "lte", scope.today.isoformat())
        sample = value[0] if isinstance(value, list) else value
        kind = _kind_of_value(sample)
        guard = Q(_HasType(name, ("string",) if kind == "date" else (kind,)))
        if op in ("eq", "ne"):
            equal = _compare(name, "exact", value)
            return guard & (equal if op == "eq" else ~equal)
        if op in ("in", "not_in"):
            among = _compare(name, "in", list(value))
            return guard & (among if op == "in" else ~among)
        lookup = {"before": "lt", "after": "gt"}.get(op, op)
        return guard & _compare(name, lookup, value)

    def day_moved(self, params: dict[str, Any], scope: Scope, since: date) -> Q:
        if params["op"] != "within_days":
            return NOBODY  # compared with fixed values
        # A date that left the window since `since`, or came into it (a date in the future when it was set).
        name, days = params["name"], params["value"]
        left = _compare(name, "gte", (since - timedelta(days=days - 1)).isoformat()) & _compare(
            name, "lt", scope.first_day(days).isoformat()
        )
        came = _compare(name, "gt", since.isoformat()) & _compare(name, "lte", scope.today.isoformat())
        return Q(_HasType(name, ("string",))) & (left | came)


def kind_words(kind: str) -> str:
    """A kind of value in words, for messages."""
    return {
        "string": gettext("text"),
        "number": gettext("a number"),
        "boolean": gettext("true or false"),
        "date": gettext("a date"),
    }.get(kind, kind)
