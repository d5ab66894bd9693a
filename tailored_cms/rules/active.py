"""The active segments in Redis: one hash the request path reads in its snapshot round trip (see request_time).

``<prefix>:segments`` maps each enabled segment's slug to ``""`` (Celery computes its members) or to its
expanded rule tree as JSON (made only of request-time rules: decided per request, for everyone); the field
``#v`` holds a random version token, new at every publication, so a process can tell in one comparison whether
its copy is current (random, not a counter: a flushed or different Redis must not repeat an old version).
Fields ``@<area key>`` hold the optimize strategy's allocations (``publish_allocations``): they reach every
process the same way, at no extra cost. Each kind of publication replaces its own fields and leaves the other's.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import redis

from .. import connection, redis_scripts, round_trip
from ..signals import segments_republished
from . import request_time
from .evaluation import Plans, load_plans

__all__ = [
    "ACTIVE_SEGMENTS",
    "REFRESH_LUA",
    "active_key",
    "publish_allocations",
    "publish_segments",
    "refresh_active_segments",
    "republish_if_lost",
]

logger = logging.getLogger(__name__)


def active_key() -> str:
    return connection.key("segments")


def hash_fields(plans: Plans) -> dict[str, str]:
    """The hash's fields for these plans (all segments), without the version."""
    fields: dict[str, str] = {}
    for plan in plans.plans:
        if plan.enabled:
            fields[plan.slug] = json.dumps(plan.tree, separators=(",", ":")) if plan.request_time else ""
    return fields


def publish_segments(plans: Plans | None = None, client: redis.Redis | None = None) -> str | None:
    """Write the enabled segments to Redis, replacing what was there, with a new version. Cost: one query
    (unless ``plans`` of all segments are given) and one round trip (MULTI). Returns the version, or None if
    Redis could not be reached (the next recompute publishes again)."""
    plans = plans if plans is not None else load_plans()
    version = uuid.uuid4().hex
    fields = {request_time.VERSION_FIELD: version, **hash_fields(plans)}
    key = active_key()

    def write(client: redis.Redis) -> bool:
        replace_fields(client, key, fields, allocations=False)
        return True  # written (connection.call's default, False: Redis was unreachable)

    if client is not None:
        write(client)
        return version
    done = connection.call(write, False)
    if not done:
        logger.warning("Could not publish the active segments to Redis; the next recompute will.")
        return None
    return version


def republish_if_lost(client: redis.Redis) -> bool:
    """Publish the segments and the optimize allocations again if Redis lost them; ``True`` if it had.

    A Redis restarted without persistence (or flushed) comes back without the hash: until the next full
    recompute or allocation refresh, areas for segments and optimizing areas would show their fallback. The
    ingest worker has this done on each run (``drain_started``); the allocations are published again by the
    receivers of ``segments_republished``. Cost: one round trip (EXISTS) when nothing was lost; else also what
    ``publish_segments`` and those receivers cost. Raises ``RedisError``.
    """
    if client.exists(active_key()):
        return False
    logger.warning("The active segments are missing from Redis (restarted empty?): publishing them again.")
    publish_segments(client=client)
    segments_republished.send(sender=__name__)
    return True


REPLACE_LUA = redis_scripts.load("replace_fields")


def replace_fields(client: redis.Redis, key: str, fields: dict[str, str], *, allocations: bool) -> None:
    """Replace one kind of field of the hash (and the version) in one round trip."""
    flat = [item for pair in fields.items() for item in pair]
    client.eval(REPLACE_LUA, 1, key, "1" if allocations else "0", *flat)


def publish_allocations(allocations: dict[str, list[str]], client: redis.Redis | None = None) -> str | None:
    """Write the optimize strategy's allocations (area key -> 100 variant keys), replacing the previous ones, with a
    new version; the segments stay. Cost: one round trip. Returns the version, or None if Redis is unreachable."""
    version = uuid.uuid4().hex
    fields = {request_time.VERSION_FIELD: version}
    for area_key, buckets in allocations.items():
        fields[request_time.ALLOCATION_PREFIX + area_key] = json.dumps(buckets, separators=(",", ":"))
    key = active_key()

    def write(client: redis.Redis) -> bool:
        replace_fields(client, key, fields, allocations=True)
        return True  # written (connection.call's default, False: Redis was unreachable)

    if client is not None:
        write(client)
        return version
    done = connection.call(write, False)
    if not done:
        logger.warning("Could not publish the optimize allocations to Redis; the next refresh will.")
        return None
    return version


REFRESH_LUA = redis_scripts.load("active_segments")


def _segments_part(visit: round_trip.Visit) -> round_trip.Part:
    return round_trip.Part([active_key()], [request_time.known_version()])


def _remember(reply: Any) -> None:
    request_time.remember(reply[0], reply[1] or None)


# A piece of the page trip (``round_trip.PAGE``): the active segments and allocations travel with every snapshot
# read, so a process's copy is current at no extra cost (rules/request_time.py says why a copy).
ACTIVE_SEGMENTS = round_trip.Piece("active_segments", REFRESH_LUA, _segments_part, read=_remember)


def refresh_active_segments() -> None:
    """Bring this process's copy up to date. Cost: one round trip (the hash travels only if it changed)."""
    reply: Any = connection.call(lambda r: r.eval(REFRESH_LUA, 1, active_key(), request_time.known_version()), None)
    if reply is not None:
        _remember(reply)
