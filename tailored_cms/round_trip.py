"""A request's one Redis round trip, composed from the pieces each subsystem offers.

A page request of a visitor with a cookie makes exactly one round trip, and so does an ``events/`` request. Each
is one Lua script, put together here from **pieces**: a piece is a subsystem's part of the work — its Lua (a
file in ``redis_scripts/``), the keys and arguments it sends on a call, and how it reads its part of the reply.
No piece knows about another, except through the table ``trip`` that the head fills in for the pieces after it.

Two trips, each with the snapshot store's piece at its head (``visitors/store.py``: read and renew the snapshot,
decide consent) and the pieces registered with it behind::

    PAGE    the page view (tracking/capture.py), the active segments and optimize allocations (rules/active.py),
            the cache budget's notes (areas/cache_budget.py)
    EVENTS  the batch: rate limits and the appends (tracking/beacon.py), the active segments (for the edge key)

The pieces are registered by the app's ``ready()`` (``apps.py``), the one place that sees every layer: the
store, which runs the trip, is below the subsystems whose pieces ride on it and imports none of them.

Why compose rather than send a pipeline: a page view may be appended only if the snapshot says the visitor
consented, and a batch only if it is within the rate limits: decisions Redis must make while it runs the
script. Each piece runs as a Lua function of its own ``KEYS`` and ``ARGV`` (its slice of the call's), so it reads
as the script it would be alone; ``ARGV`` starts with each piece's key and argument counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import redis

__all__ = ["EVENTS", "PAGE", "Part", "Piece", "Trip", "Visit"]


class Part(NamedTuple):
    """What a piece sends on one call: its keys and its arguments."""

    keys: Sequence[str]
    args: Sequence[Any]


@dataclass(frozen=True, slots=True)
class Visit:
    """What one request asks of a trip; each piece takes what it needs."""

    visitor_id: str
    page_view: Any = None  # PAGE: the page view to append (a ``tracking.TrackedEvent``), or None
    entries: Sequence[str] = ()  # EVENTS: the batch's stream entries
    client_ip: str = ""  # EVENTS: whose rate limit counts the batch too
    new_snapshot: str = ""  # EVENTS: a new visitor's snapshot JSON, stored first ("" for none)
    has_session: bool = True  # EVENTS: whether the request has a session cookie


def _as_is(reply: Any) -> Any:
    return reply


@dataclass(frozen=True)
class Piece:
    """A subsystem's part of a trip: its Lua (the body of a function of ``KEYS`` and ``ARGV``, which may read and
    write the table ``trip``), what it sends on a call (``part``: no I/O; called just before the trip is sent),
    and how it reads its reply (``read``: no I/O)."""

    name: str
    lua: str
    part: Callable[[Visit], Part]
    read: Callable[[Any], Any] = _as_is


_PROLOGUE = """local trip = {}
local replies = {}
local k, a = 0, %d
local function run(i, piece)
  local nk, na = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local keys, args = {}, {}
  for j = 1, nk do keys[j] = KEYS[k + j] end
  for j = 1, na do args[j] = ARGV[a + j] end
  k, a = k + nk, a + na
  local reply = piece(keys, args)
  if reply == nil then reply = false end
  replies[i] = reply
end
"""


class Trip:
    """One kind of request's round trip: a head piece (given by the caller) and the pieces registered with it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pieces: dict[str, Piece] = {}
        self._scripts: dict[str, str] = {}  # head name -> the composed script

    def register(self, piece: Piece) -> Piece:
        """Add ``piece`` behind the head; registering the same one again is harmless, another of its name is not."""
        if self._pieces.get(piece.name, piece) is not piece:
            raise ValueError(f"The {self.name} round trip already has a piece named {piece.name!r}.")
        self._pieces[piece.name] = piece
        self._scripts.clear()
        return piece

    @property
    def pieces(self) -> tuple[Piece, ...]:
        """The registered pieces, in the order they run (by name: every process composes the same script)."""
        return tuple(piece for _name, piece in sorted(self._pieces.items()))

    def script(self, head: Piece) -> str:
        """The Lua of ``head`` followed by the registered pieces (composed once per head)."""
        script = self._scripts.get(head.name)
        if script is None:
            pieces = (head, *self.pieces)
            body = "".join(
                f"run({i}, function(KEYS, ARGV)\n{piece.lua}end)\n" for i, piece in enumerate(pieces, start=1)
            )
            script = self._scripts[head.name] = (_PROLOGUE % (2 * len(pieces))) + body + "return replies\n"
        return script

    def send(self, client: redis.Redis, head: Piece, visit: Visit) -> dict[str, Any]:
        """Run the trip for ``visit``: one ``EVAL``. Returns each piece's reply as its ``read`` made it, by name.

        Raises ``redis.RedisError`` (the caller decides what a failure means).
        """
        pieces = (head, *self.pieces)
        script = self.script(head)
        counts: list[int] = []
        keys: list[str] = []
        args: list[Any] = []
        for piece in pieces:
            part = piece.part(visit)
            counts += (len(part.keys), len(part.args))
            keys += part.keys
            args += part.args
        # EVAL, not EVALSHA: always exactly one round trip (Redis caches the compiled script by its hash).
        replies = client.eval(script, len(keys), *keys, *counts, *args)
        return {piece.name: piece.read(reply) for piece, reply in zip(pieces, replies, strict=True)}


PAGE = Trip("page")  # a page request of a visitor with a cookie (visitors/store.py: get, get_and_capture)
EVENTS = Trip("events")  # an events/ request (visitors/store.py: capture_events)
