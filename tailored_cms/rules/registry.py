"""The rule registry: rule types by name, and their parameters (``trees`` checks and describes rule trees).

A site adds a rule type with ``@register`` on a subclass of ``BehaviouralRule`` (computed by Celery, in SQL) or
``RequestRule`` (checked on each request, without I/O).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import get_text_list
from django.utils.translation import gettext, ngettext

from ..text import check_storable

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

    from .evaluation import Scope
    from .request_time import RequestFacts

__all__ = [
    "BRANCHES",
    "NOBODY",
    "BehaviouralRule",
    "Param",
    "ParamError",
    "RequestRule",
    "Rule",
    "RuleError",
    "Names",
    "describe_rules",
    "get_rule",
    "named",
    "register",
    "registered_rules",
    "unregister",
]

BRANCHES = ("all", "any")

# What ``BehaviouralRule.day_moved`` returns for a rule whose result doesn't depend on the day.
NOBODY = Q(pk__in=())


class Names:
    """The names editors know topics and segments by, in the current language: each kind read (one query) the first
    time a rule's words ask for it, so a tree's words cost at most two queries however many rules name one."""

    def __init__(self) -> None:
        self._by_kind: dict[str, dict[str, str]] = {}

    def name(self, kind: str, slug: str) -> str:
        """The name of the topic or segment (``kind``) ``slug``; the slug if there is no such one."""
        if kind not in self._by_kind:
            if kind == "topic":
                from ..visitors.models import Topic  # here: this module loads before Django's apps

                self._by_kind[kind] = Topic.objects.names()
            else:  # by name: rules.models imports this module (through trees)
                self._by_kind[kind] = apps.get_model("tailored_cms", "Segment").objects.names()
        return self._by_kind[kind].get(slug, slug)


# The names of the tree ``trees.describe_tree`` is putting into words (None elsewhere: slugs, and no query).
current_names: ContextVar[Names | None] = ContextVar("tailored_rule_names", default=None)


def named(kind: str, slug: str) -> str:
    """In a rule's ``describe``: the name of the topic or ``segment`` ``slug`` while a tree is put into words for
    editors (``describe_tree``), else the slug."""
    names = current_names.get()
    return names.name(kind, slug) if names is not None else slug


class RuleError(ValidationError):
    """What is wrong with one rule of a tree: the message, and which rule type and parameter (``""`` for the rule as
    a whole) it is about, so the segment builder marks that field whatever language the message is in."""

    def __init__(self, message: str, *, rule: str, param: str = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.param = param


class ParamError(ValueError):
    """A ``check`` failure caused by one parameter, ``param``."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Param:
    """One parameter of a rule: its type, whether it is required, and the values it accepts.

    ``type`` is ``int``, ``str`` or ``bool``, or ``object`` for a value of any JSON kind that the rule's ``check``
    validates (the builder offers a text box whose numbers and true/false go as such); ``many`` accepts one value or
    a non-empty list of them (cleaned to a list). ``choices`` limits the values, which the builder offers by their
    ``choice_labels`` (``{value: label}``; the value itself where none is given); ``min_value``/``max_value`` bound
    integers (inclusive); ``max_length`` bounds strings. ``label`` and ``help`` are what editors read in the admin's
    rule builder; ``refers_to`` (``"topic"``, ``"segment"``, ``"group"``, ``"language"`` or ``"trait"``) makes the
    builder offer the site's topics, segments, user groups, languages or the traits it has set by slug, name or code
    (the value is still a string, and is not checked against them here: a rule's ``check`` may).
    """

    type: type = str
    required: bool = True
    many: bool = False
    choices: tuple[Any, ...] | None = None
    min_value: int | None = None
    max_value: int | None = None
    max_length: int = 200
    help: StrOrPromise = ""
    label: StrOrPromise = ""
    refers_to: str | None = None
    choice_labels: Mapping[Any, StrOrPromise] | None = None

    def describe(self, name: str) -> dict[str, Any]:
        """What the admin's rule builder needs to render an input for this parameter (JSON-able)."""
        kind = self.refers_to or {int: "int", str: "str", bool: "bool", object: "value"}.get(self.type, "str")
        return {
            "name": name,
            "label": str(self.label or name.replace("_", " ").capitalize()),
            "type": kind,
            "required": self.required,
            "many": self.many,
            "choices": None if self.choices is None else self.described_choices(),
            "min": self.min_value,
            "max": self.max_value,
            "max_length": self.max_length if self.type is str else None,
            "help": str(self.help),
        }

    def described_choices(self) -> list[dict[str, Any]]:
        """The choices as the builder offers them: ``[{"value": value, "label": what the editor reads}]``."""
        labels = self.choice_labels or {}
        return [{"value": choice, "label": str(labels.get(choice, choice))} for choice in self.choices or ()]

    def clean(self, value: Any) -> Any:
        """The cleaned value; raises ``ValueError`` with a message that the caller prefixes with the names."""
        if self.many:
            values = value if isinstance(value, list) else [value]
            if not values:
                raise ValueError(gettext("must not be an empty list"))
            if len(values) > 50:
                raise ValueError(
                    ngettext("takes at most %(count)s value", "takes at most %(count)s values", 50) % {"count": 50}
                )
            return [self._one(item) for item in values]
        return self._one(value)

    def _one(self, value: Any) -> Any:
        if self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(gettext("must be a whole number, not %(value)r") % {"value": value})
            if self.min_value is not None and value < self.min_value:
                raise ValueError(
                    gettext("must be at least %(min)s, not %(value)s") % {"min": self.min_value, "value": value}
                )
            if self.max_value is not None and value > self.max_value:
                raise ValueError(
                    gettext("must be at most %(max)s, not %(value)s") % {"max": self.max_value, "value": value}
                )
        elif self.type is bool:
            if not isinstance(value, bool):
                raise ValueError(gettext("must be true or false, not %(value)r") % {"value": value})
        elif self.type is str:
            if not isinstance(value, str) or not value.strip():
                raise ValueError(gettext("must be a non-empty string, not %(value)r") % {"value": value})
            check_storable(value)  # the one check of every rule's text: PostgreSQL refuses NUL, encoders surrogates
            value = value.strip()
            if len(value) > self.max_length:
                raise ValueError(
                    ngettext(
                        "must be at most %(count)s character", "must be at most %(count)s characters", self.max_length
                    )
                    % {"count": self.max_length}
                )
        if self.choices is not None and value not in self.choices:
            raise ValueError(
                gettext("must be one of %(choices)s, not %(value)r")
                % {"choices": ", ".join(map(str, self.choices)), "value": value}
            )
        return value


class Rule:
    """A rule type: a named test of a visitor, with parameters, used as a leaf of a segment's rule tree.

    Don't subclass this directly: subclass ``BehaviouralRule`` or ``RequestRule`` (which say when the rule is
    checked) and decorate the class with ``@register``. Instances hold no state; one is made per registration.

    - ``name``: what rule trees call it (``{"rule": name, ...}``); unique in the registry.
    - ``params``: ``{parameter: Param(...)}``; unknown, missing or ill-typed parameters are refused with a
      ``ValidationError`` naming the rule and the parameter, when a segment is saved (never at evaluation).
    - ``check(params)``: optional cross-parameter validation of already cleaned values (``min <= max``); raise
      ``ValueError`` with a message, which is prefixed with the rule's name.
    - ``label``/``description``: what editors read in the admin.
    """

    name: ClassVar[str] = ""
    label: ClassVar[StrOrPromise] = ""
    description: ClassVar[StrOrPromise] = ""
    params: ClassVar[Mapping[str, Param]] = {}
    behavioural: ClassVar[bool]

    def clean(self, leaf: Mapping[str, Any]) -> dict[str, Any]:
        """The leaf with its parameters cleaned; raises ``ValidationError`` naming the rule and parameter."""
        given = {key: value for key, value in leaf.items() if key != "rule"}
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            known = ", ".join(self.params) or gettext("none")
            raise RuleError(
                gettext("Rule %(rule)r has no parameter %(unknown)s (its parameters: %(known)s).")
                % {"rule": self.name, "unknown": ", ".join(map(repr, unknown)), "known": known},
                rule=self.name,
            )
        cleaned: dict[str, Any] = {"rule": self.name}
        for key, param in self.params.items():
            if key not in given or given[key] is None:
                if param.required:
                    raise RuleError(
                        gettext("Rule %(rule)r needs the parameter %(param)r.") % {"rule": self.name, "param": key},
                        rule=self.name,
                        param=key,
                    )
                continue
            try:
                cleaned[key] = param.clean(given[key])
            except ValueError as exc:
                raise RuleError(
                    gettext("Rule %(rule)r: parameter %(param)r %(problem)s.")
                    % {"rule": self.name, "param": key, "problem": exc},
                    rule=self.name,
                    param=key,
                ) from exc
        try:
            self.check(cleaned)
        except ValueError as exc:
            raise RuleError(
                gettext("Rule %(rule)r: %(problem)s") % {"rule": self.name, "problem": exc},
                rule=self.name,
                param=getattr(exc, "param", ""),
            ) from exc
        return cleaned

    def check(self, params: dict[str, Any]) -> None:
        """Cross-parameter checks on cleaned values; raise ``ValueError``. Nothing to check by default."""

    def describe(self, params: dict[str, Any]) -> str:
        """The leaf in words, for editors (``describe_tree``): "read at least 3 pages about Sports in the last
        30 days".

        ``params`` are cleaned. By default the label and the parameters; rule types override it with a phrase
        that reads well after "every visitor who".
        """
        given = ", ".join(f"{key} {_words(value)}" for key, value in params.items())
        return f"{self.display_label()}: {given}" if given else str(self.display_label())

    @classmethod
    def display_label(cls) -> StrOrPromise:
        """``label``, or one made from ``name`` (``newsletter_reader`` → "Newsletter reader")."""
        return cls.label or cls.name.replace("_", " ").capitalize()

    @classmethod
    def describe_rule(cls) -> dict[str, Any]:
        """The rule type for the admin's rule builder (JSON-able): name, label, kind and its parameters."""
        return {
            "name": cls.name,
            "label": str(cls.display_label()),
            "description": str(cls.description),
            "kind": "behavioural" if cls.behavioural else "request",
            "params": [param.describe(key) for key, param in cls.params.items()],
        }


class BehaviouralRule(Rule):
    """A rule about what a visitor did, computed by Celery from the database (never on the request path).

    ``visitors(params, scope)`` returns a ``Q`` over ``Visitor`` selecting the visitors for whom the rule holds.
    It is pushed down to SQL: a full recompute evaluates it once per chunk of visitors, for all of them at once,
    so it must not loop over visitors in Python nor run queries itself. Filter ``Visitor``'s own columns
    directly (``Q(visits__gte=3)``); for another table, build a queryset of its rows and pass it to
    ``scope.visitors_in(queryset, "visitor")``, which restricts it to the chunk being computed. ``scope.now``,
    ``scope.today`` and ``scope.first_day(days)`` give the time windows (evaluations are repeatable: a test
    passes ``now``). The ``Q`` may be negated and combined with others: it must select exactly the visitors
    for whom the rule holds, with no NULL surprises (``Visitor`` columns that may be NULL need ``isnull``).
    """

    behavioural = True
    # True when the rule's result changes only with the day and with what the ingest and ``Visitor.save()``
    # record (counters, activity, choices, login, traits): the scheduled recompute then re-evaluates only the
    # visitors changed since its last run. False (a site's own rules, say): it evaluates the rule for everyone.
    changes_tracked: ClassVar[bool] = False

    def visitors(self, params: dict[str, Any], scope: Scope) -> Q:
        """The visitors for whom the rule holds with these (cleaned) ``params``, as a ``Q`` over ``Visitor``."""
        raise NotImplementedError(f"{type(self).__name__}.visitors()")

    def day_moved(self, params: dict[str, Any], scope: Scope, since: date) -> Q | None:
        """The visitors for whom the rule's result can differ between the day ``since`` and ``scope.today`` (a later
        day) with nothing else about them changed, as a ``Q`` over ``Visitor``; ``NOBODY`` if the result doesn't
        depend on the day; None when the rule can't say.

        A new day's first scheduled run re-evaluates only these visitors (and those changed since the last run);
        a segment with a rule that says None is recomputed for everyone. Only ``changes_tracked`` rules are asked.
        Like ``visitors()``, it is pushed down to SQL: keep it to one indexed lookup (a counter window's day falling
        out is ``day`` between ``since - days + 1`` and ``scope.today - days``). By default None: safe, not cheap.
        """
        return None


class RequestRule(Rule):
    """A rule about the current request (device, time, country…), checked when a page is rendered.

    ``matches(params, request)`` gets ``RequestFacts`` (the request's device, referrer domain, UTM
    parameters, country, language, local time, and what the visitor's snapshot adds) and returns a bool. It runs on
    every page view of a page with personalized content, for every segment that needs it: it must not query
    the database, call Redis or do any other I/O, and must be fast (no parsing beyond what ``RequestFacts``
    caches). It must not raise: return False for what it can't decide.
    """

    behavioural = False

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        """Whether the rule holds with these (cleaned) ``params`` for the request: no I/O, never raises."""
        raise NotImplementedError(f"{type(self).__name__}.matches()")


R = TypeVar("R", bound=type[Rule])
_registry: dict[str, Rule] = {}


def register(rule_class: R) -> R:
    """Class decorator: add a rule type to the registry under its ``name``; refuses a name already taken."""
    if not (isinstance(rule_class, type) and issubclass(rule_class, (BehaviouralRule, RequestRule))):
        raise TypeError(f"{rule_class!r} is not a subclass of BehaviouralRule or RequestRule.")
    name = rule_class.name
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"{rule_class.__name__}.name must be a word (letters, digits, _), not {name!r}.")
    if name in BRANCHES or name in ("not", "rule"):
        raise ValueError(f"{name!r} is reserved for rule trees.")
    existing = _registry.get(name)
    if existing is not None:
        raise ValueError(
            f"A rule named {name!r} is already registered ({type(existing).__module__}.{type(existing).__name__})."
        )
    _registry[name] = rule_class()
    return rule_class


def unregister(name: str) -> None:
    """Remove a rule type (tests, or a site replacing a built-in: unregister it, then register its own)."""
    _registry.pop(name, None)


def get_rule(name: str) -> Rule:
    try:
        return _registry[name]
    except KeyError:
        raise ValidationError(
            gettext("Unknown rule %(name)r. Known rules: %(known)s.")
            % {"name": name, "known": ", ".join(sorted(_registry))}
        ) from None


def registered_rules() -> dict[str, Rule]:
    return dict(sorted(_registry.items()))


def describe_rules() -> list[dict[str, Any]]:
    """Every registered rule type, a site's own included, as the admin's rule builder renders them (by label)."""
    return sorted((type(rule).describe_rule() for rule in _registry.values()), key=lambda rule: rule["label"].lower())


def _words(value: Any) -> str:
    """A parameter's value in a sentence: lists as "a, b or c", booleans as yes/no."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return str(get_text_list([str(item) for item in value], gettext("or")))
    return str(value)
