"""Where the computed lists live: Redis, written by Celery (``compute``), read by the ``recommendations/`` endpoint.

- ``<prefix>:recs:v:<visitor id>``: a visitor's list, ``[[page id, kind, subject], ...]`` best first (JSON); it
  says what they read, so it is personal: exported and erased with the visitor (``privacy.py``), and it expires
  ``RECOMMENDATIONS_TTL_DAYS`` after it was last computed (a visitor who stops reading drops out of the compute);
- ``<prefix>:recs:shared``: what names no visitor (``ranking.SharedModel``: the popular and per-topic lists);
- ``<prefix>:recs:model``: the co-reads too, for a compute of a few visitors after the ingest;
- ``<prefix>:recs:touched``: visitors the ingest gave new page views since the last such compute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from .. import connection
from ..conf import tailored_settings
from .ranking import Model, Pick, SharedModel

__all__ = [
    "erase_in",
    "export",
    "read",
    "read_model",
    "read_shared",
    "take_touched",
    "touch",
    "write_lists",
    "write_model",
]

DUE_SECONDS = 60  # a queued compute the broker lost stops holding back the next one after this long


def _visitor_key(visitor_id: str) -> str:
    return connection.key("recs", "v", visitor_id)


def _ttl() -> int:
    return int(tailored_settings.RECOMMENDATIONS_TTL_DAYS * 86400)


def _picks(raw: bytes | None) -> list[Pick] | None:
    if raw is None:
        return None
    try:
        return [Pick(int(pid), str(kind), str(subject)) for pid, kind, subject in orjson.loads(raw)]
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None


def _shared(raw: bytes | None) -> SharedModel:
    if raw is None:
        return SharedModel()
    try:
        return SharedModel.from_json(orjson.loads(raw))
    except (orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
        return SharedModel()


def read(visitor_id: str | None) -> tuple[list[Pick] | None, SharedModel]:
    """The visitor's list (``None``: none computed, or no visitor named) and the shared lists: one round trip
    (``MGET``). Redis down: nothing and empty shared lists."""
    keys = [connection.key("recs", "shared")] + ([_visitor_key(visitor_id)] if visitor_id else [])
    values: list[Any] = connection.call(lambda client: client.mget(keys), [None] * len(keys))
    return (_picks(values[1]) if visitor_id else None), _shared(values[0])


def read_shared() -> SharedModel:
    """The shared lists alone (a page's popular list without JavaScript): one round trip."""
    return read(None)[1]


def write_lists(lists: Mapping[str, list[Pick]]) -> None:
    """Store visitors' lists, each expiring ``RECOMMENDATIONS_TTL_DAYS`` later: one round trip. Celery's side:
    Redis errors raise (the task fails, the next compute writes them)."""
    if not lists:
        return
    ttl = _ttl()
    pipeline = connection.get_redis().pipeline(transaction=False)
    for visitor_id, picks in lists.items():
        pipeline.set(_visitor_key(visitor_id), orjson.dumps([pick.as_list() for pick in picks]), ex=ttl)
    pipeline.execute()


def write_model(model: Model) -> None:
    """Store the shared lists and the model (co-reads) for the next computes: one round trip."""
    full = model.as_json() | {"neighbours": {str(pid): found for pid, found in model.neighbours.items()}}
    pipeline = connection.get_redis().pipeline(transaction=False)
    pipeline.set(connection.key("recs", "shared"), orjson.dumps(model.shared().as_json()))
    pipeline.set(connection.key("recs", "model"), orjson.dumps(full))
    pipeline.execute()


def read_model() -> Model | None:
    raw = connection.get_redis().get(connection.key("recs", "model"))
    if raw is None:
        return None
    data = orjson.loads(raw)
    shared = SharedModel.from_json(data)
    neighbours = {
        int(pid): [(int(other), float(sim)) for other, sim in found] for pid, found in data["neighbours"].items()
    }
    return Model(shared.pages, shared.popularity, shared.popular, shared.by_topic, neighbours)


def touch(visitor_ids: Iterable[str]) -> bool:
    """Note visitors with new page views; ``True`` if no compute is queued yet (the caller queues one: the
    visitors noted until it runs are computed together). One round trip."""
    ids = list(visitor_ids)
    if not ids:
        return False
    pipeline = connection.get_redis().pipeline(transaction=False)
    pipeline.sadd(connection.key("recs", "touched"), *ids)
    pipeline.set(connection.key("recs", "due"), b"1", nx=True, ex=DUE_SECONDS)
    return bool(pipeline.execute()[1])


def take_touched() -> list[str]:
    """The visitors noted since the last take, and forget them (one round trip, atomic)."""
    pipeline = connection.get_redis().pipeline(transaction=True)
    pipeline.smembers(connection.key("recs", "touched"))
    pipeline.delete(connection.key("recs", "touched"), connection.key("recs", "due"))
    members = pipeline.execute()[0]
    return sorted(member.decode() for member in members)


def export(client: Any, visitor_id: str) -> list[list[Any]]:
    """The visitor's stored list as ``[[page id, kind, subject], ...]`` (``[]`` if none)."""
    picks = _picks(client.get(_visitor_key(visitor_id)))
    return [pick.as_list() for pick in picks or []]


def erase_in(pipeline: Any, visitor_id: str) -> None:
    """Add to ``pipeline`` the deletes of the visitor's list and of their note among the touched visitors."""
    pipeline.delete(_visitor_key(visitor_id))
    pipeline.srem(connection.key("recs", "touched"), visitor_id)
