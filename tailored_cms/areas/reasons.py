"""The reasons a visitor is told for what a tailored area shows them ("Why am I seeing this?").

One reason per rule that put variants on the page (``hybrid`` may give both ``choices`` and ``segment``):

- ``choices``: the visitor's topics, theme or layout matched (``topics``, ``theme``, ``layout`` say which);
- ``fallback``: the area's fallback, ``because`` the strategy shows it to everyone (``static``), the visitor
  chose nothing yet (``no_choices``) or nothing matched their choices (``nothing_matched``);
- ``segment``: the visitor is in segments the shown variants target (``segments`` says which);
- ``holdout``: the visitor is in the area's holdout and sees the fallback on purpose;
- ``optimized``: the area tests which variant works best (the optimize strategy) and this is the visitor's.

Strategies give them (``Strategy.explain``); ``explanation.describe`` says them in a sentence. The values are
what the ``explain/`` endpoint sends.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["FallbackCause", "Reason", "ReasonKind"]


class ReasonKind(enum.StrEnum):
    CHOICES = "choices"
    FALLBACK = "fallback"
    SEGMENT = "segment"
    HOLDOUT = "holdout"
    OPTIMIZED = "optimized"


class FallbackCause(enum.StrEnum):
    """Why the fallback (a ``fallback`` reason's ``because``)."""

    STATIC = "static"
    NO_CHOICES = "no_choices"
    NOTHING_MATCHED = "nothing_matched"


@dataclass(frozen=True)
class Reason:
    """One reason an area shows what it shows; which fields are filled depends on ``kind`` (see the module)."""

    kind: str
    because: str = ""
    topics: tuple[str, ...] = ()
    theme: str = ""
    layout: str = ""
    segments: tuple[str, ...] = ()
