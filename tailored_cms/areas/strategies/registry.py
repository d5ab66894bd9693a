"""The strategy registry: how a tailored area picks what a visitor sees, by the name stored in its settings.

A site adds a strategy with ``@register_strategy`` on a subclass of ``Strategy`` (see ``docs/strategies.md``); the
built-in ones are registered by this package's modules (``static``, ``customization``, ``personalization``,
``hybrid``, ``optimize``, ``experiment``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

from ...conf import tailored_settings
from ..matching import Choices, Selection, SelectionPath, V
from ..optimize import K
from ..reasons import FallbackCause, Reason, ReasonKind

__all__ = [
    "Strategy",
    "get_strategy",
    "register_strategy",
    "registered_strategies",
    "shipped_choices",
    "strategy_choices",
    "unregister_strategy",
]

NAME_MAX_LENGTH = 20  # the settings' strategy column


class ExplainedChoices(Choices, Protocol):
    """What explanations read from a visitor besides what selection reads (``Snapshot`` satisfies it)."""

    @property
    def has_choices(self) -> bool: ...


class AreaSettings(Protocol):
    """What a strategy reads from an area (``TailoredArea`` satisfies it)."""

    @property
    def holdout_percent(self) -> int: ...


class Strategy:
    """How a tailored area picks the variants a visitor sees, says why, and what the caches vary on for it.

    Subclass it, set ``name`` and ``label``, override ``select`` (and what else differs), and decorate the class
    with ``@register_strategy``. One instance is made per registration; it holds no state. Every method is called
    while a page renders: it must not query the database, call Redis or do any other I/O. ``select`` is a function
    of its arguments alone (of ``choices``, of what ``Choices`` names): what it picks is remembered for the next
    visitor who gives it the same.

    - ``name``: what the area's settings store (at most 20 characters); renaming one in use orphans its areas
      (they then show their fallback).
    - ``label``: what editors read, "Short: what it does" (the part before the colon names it in menus and lists).
    - ``holdouts``: whether the area's ``holdout_percent`` applies (False: everyone sees the same, so there is
      nothing to compare a holdout with).
    - ``uses_choices``: whether it looks at the visitor's own choices (its explanation of a fallback may then be
      "you chose nothing yet").

    ``Strategy`` itself shows the fallback: it stands in for a name no strategy is registered under.
    """

    name: ClassVar[str] = ""
    label: ClassVar[Any] = ""
    holdouts: ClassVar[bool] = True
    uses_choices: ClassVar[bool] = False

    def select(
        self, variants: Sequence[V], choices: Choices, limit: int, segments: Collection[str], allocated: V | None
    ) -> Selection[V] | None:
        """The variants to show, best first, at most ``limit``, with their paths; ``None`` (or none shown) for the
        fallback. ``variants`` are in tree order; ``segments`` are the visitor's; ``allocated`` is what
        ``allocated_variant`` gave the visitor."""
        return None

    def allocated_variant(self, area_key: str, variants: Sequence[K], visitor_id: str | None) -> K | None:
        """The variant an allocation gives this visitor (the optimize strategy's), from memory; ``None`` here."""
        return None

    def shares(self, variants: Sequence[K]) -> dict[str, int]:
        """The percent of visitors each variant gets where the strategy fixes it (the experiment's split), by key,
        for the editor's labels; empty here."""
        return {}

    def explain(
        self, selection: Selection[V], choices: ExplainedChoices, segments: Collection[str]
    ) -> tuple[Reason, ...]:
        """Why the visitor sees ``selection`` (what ``select`` gave, or the fallback), one reason per rule that put
        variants on the page, from the paths that put them there."""
        reasons: list[Reason] = []
        paths = selection.paths
        by_choices = [
            variant for variant, path in zip(selection.shown, paths, strict=True) if path == SelectionPath.CUSTOMIZED
        ]
        if by_choices:
            reasons.append(matched_choices(by_choices, choices))
        targeted: dict[str, None] = {}
        for variant, path in zip(selection.shown, paths, strict=True):
            if path == SelectionPath.PERSONALIZED:
                targeted.update(dict.fromkeys(slug for slug in variant.segments if slug in segments))
        if targeted:
            reasons.append(Reason(ReasonKind.SEGMENT, segments=tuple(targeted)))
        if reasons:
            return tuple(reasons)
        if self.uses_choices and not choices.has_choices:
            return (Reason(ReasonKind.FALLBACK, because=FallbackCause.NO_CHOICES),)
        return (Reason(ReasonKind.FALLBACK, because=FallbackCause.NOTHING_MATCHED),)

    def has_holdout(self, area: AreaSettings) -> bool:
        """``True`` if some visitors are held out of the area (it has a holdout, and the strategy takes one)."""
        return self.holdouts and bool(area.holdout_percent)

    def get_vary_cache_on(self, area: AreaSettings) -> list[str]:
        """The request headers django CMS's caches keep a copy of the area per value of (the middleware's).

        The variant key (the visitor's choices and segments); with a holdout, also the visitor's holdout bucket.
        The variant key is shared by every area of the page, while holdouts are per area: so the bucket (one of
        100 values, see ``visitors.buckets``) is a header of its own, which only areas with a holdout name.
        """
        if self.has_holdout(area):
            return [tailored_settings.VARY_HEADER, tailored_settings.HOLDOUT_VARY_HEADER]
        return [tailored_settings.VARY_HEADER]

    @classmethod
    def short_label(cls) -> str:
        """The label's name part ("Static" of "Static: everyone sees the fallback")."""
        return str(cls.label).split(":")[0] or cls.name


def matched_choices(variants: Iterable[Any], choices: Choices) -> Reason:
    """The visitor's topics, theme and layout that the given (matching) variants target."""
    topics: dict[str, None] = {}
    theme = layout = ""
    for variant in variants:
        topics.update(dict.fromkeys(t for t in choices.topics if t in variant.topics))
        if variant.themes:
            theme = choices.effective_theme
        if variant.layouts:
            layout = choices.effective_layout
    return Reason(ReasonKind.CHOICES, topics=tuple(topics), theme=theme, layout=layout)


S = TypeVar("S", bound=type[Strategy])
_registry: dict[str, Strategy] = {}
_UNKNOWN = Strategy()


def register_strategy(strategy_class: S) -> S:
    """Class decorator: add a strategy to the registry under its ``name``; refuses a name already taken."""
    if not (isinstance(strategy_class, type) and issubclass(strategy_class, Strategy)):
        raise TypeError(f"{strategy_class!r} is not a subclass of Strategy.")
    name = strategy_class.name
    if not name or not name.replace("_", "").replace("-", "").isalnum() or len(name) > NAME_MAX_LENGTH:
        raise ValueError(
            f"{strategy_class.__name__}.name must be a word (letters, digits, _ or -) of at most "
            f"{NAME_MAX_LENGTH} characters, not {name!r}."
        )
    existing = _registry.get(name)
    if existing is not None:
        raise ValueError(
            f"A strategy named {name!r} is already registered ({type(existing).__module__}.{type(existing).__name__})."
        )
    _registry[name] = strategy_class()
    return strategy_class


def unregister_strategy(name: str) -> None:
    """Remove a strategy (tests, or a site replacing a built-in: unregister it, then register its own)."""
    _registry.pop(name, None)


def get_strategy(name: str) -> Strategy:
    """The strategy registered under ``name``; for a name none is (a site removed it), one showing the fallback."""
    return _registry.get(name, _UNKNOWN)


def registered_strategies() -> tuple[Strategy, ...]:
    """The registered strategies, in the order they were registered (the built-in ones first)."""
    return tuple(_registry.values())


def strategy_choices() -> list[tuple[str, Any]]:
    """(name, label) of each registered strategy: the choices of an area's strategy."""
    return [(name, strategy.label) for name, strategy in _registry.items()]


def shipped_choices() -> list[tuple[str, Any]]:
    """(name, label) of the strategies this package ships: what its migrations record of the choices."""
    return [
        (name, strategy.label)
        for name, strategy in _registry.items()
        if type(strategy).__module__.startswith(__name__.split(".")[0] + ".")
    ]
