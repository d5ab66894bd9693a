"""``round_trip``: a request's one Redis round trip, composed from the pieces subsystems register."""

from __future__ import annotations

import pytest

from tailored_cms import connection, round_trip
from tailored_cms.tracking.capture import PAGE_VIEW
from tailored_cms.visitors.store import SNAPSHOT


def counter_piece(name: str) -> round_trip.Piece:
    """A piece that counts, in a key of its own, the visits that found a snapshot (it reads the head's ``trip``)."""
    lua = "if trip.raw then return redis.call('INCR', KEYS[1]) end\nreturn 0\n"
    return round_trip.Piece(name, lua, lambda visit: round_trip.Part([connection.key("count", name)], []), read=int)


def test_the_page_trip_carries_the_pieces_the_app_registered():
    assert [piece.name for piece in round_trip.PAGE.pieces] == ["active_segments", "cache_budget", "page_view"]
    assert [piece.name for piece in round_trip.EVENTS.pieces] == ["active_segments", "events"]


def test_a_registered_piece_rides_in_the_same_single_eval(tailored_redis, redis_round_trips):
    trip = round_trip.Trip("test")
    trip.register(counter_piece("b"))
    trip.register(counter_piece("a"))
    tailored_redis.set(connection.key("snap", "v1"), '{"format": 2}')
    replies = trip.send(tailored_redis, SNAPSHOT, round_trip.Visit("v1"))
    assert redis_round_trips.commands[1:] == ["EVAL"]  # after the SET above
    assert replies == {"snapshot": b'{"format": 2}', "a": 1, "b": 1}
    replies = trip.send(tailored_redis, SNAPSHOT, round_trip.Visit("nobody"))
    assert replies == {"snapshot": None, "a": 0, "b": 0}


def test_another_piece_of_a_registered_name_is_refused():
    trip = round_trip.Trip("test")
    trip.register(PAGE_VIEW)
    trip.register(PAGE_VIEW)  # the same one again: harmless (ready() may run twice in tests)
    with pytest.raises(ValueError, match="page_view"):
        trip.register(counter_piece("page_view"))
