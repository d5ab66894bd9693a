"""A visitor's widget arrangement merged with the editor's board: a pure function, no SQL, no Redis.

Rules: the widgets the visitor has ordered swap among the slots they occupy on the editor's board, so a
widget the editor added later (unknown to the visitor) keeps its place; hidden widgets are left out of
``shown`` unless the editor made them not hideable (``ordered`` keeps them in place, for a board that shows
them again without a reload). A key that appears twice on the board (a pasted copy) is arranged once,
at its first occurrence; later copies stay where the editor put them. Keys the board no longer has are
ignored. Cost: O(widgets + keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar


class Arrangeable(Protocol):
    """What arrangement reads from a widget (``Widget`` satisfies it)."""

    key: str
    hideable: bool


W = TypeVar("W", bound=Arrangeable)


@dataclass(frozen=True)
class Arrangement(Generic[W]):
    """``shown`` and ``hidden`` widgets; ``ordered`` is every widget in the visitor's order, hidden ones in place."""

    shown: list[W] = field(default_factory=list)
    hidden: list[W] = field(default_factory=list)
    ordered: list[W] = field(default_factory=list)


def arrange_widgets(widgets: Sequence[W], order: Iterable[str] = (), hidden: Iterable[str] = ()) -> Arrangement[W]:
    """``widgets`` (editor order) in the visitor's ``order``, minus the ``hidden`` ones that may hide."""
    rank = {key: index for index, key in reversed(list(enumerate(order)))}  # first occurrence wins
    hidden_keys = set(hidden)

    arranged_keys: set[str] = set()
    slots: list[int] = []
    for index, widget in enumerate(widgets):
        if widget.key in rank and widget.key not in arranged_keys:
            arranged_keys.add(widget.key)
            slots.append(index)

    result = list(widgets)
    by_visitor = sorted((widgets[i] for i in slots), key=lambda widget: rank[widget.key])
    for slot, widget in zip(slots, by_visitor, strict=True):
        result[slot] = widget

    arrangement: Arrangement[W] = Arrangement(ordered=result)
    for widget in result:
        if widget.hideable and widget.key in hidden_keys:
            arrangement.hidden.append(widget)
        else:
            arrangement.shown.append(widget)
    return arrangement
