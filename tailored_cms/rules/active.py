"""The active segments in Redis: one hash the request path reads in its snapshot round trip (see request_time).

``<prefix>:segments`` maps each enabled segment's slug to ``""`` (Celery computes its members) or to its
expanded rule tree as JSON (made only of request-time rules: decided per request, for everyone); the field
``#v`` holds a random version token, new at every publication, so a process can tell in one comparison whether
its copy is current (random, not a counter: a flushed or different Redis must not repeat an old version).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import redis

from .. import connection
from . import request_time
from .evaluation import Plans, load_plans

__all__ = ["REFRESH_LUA", "active_key", "publish_segments", "refresh_active_segments"]

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

    def write(client: redis.Redis) -> None:
        pipeline = client.pipeline(transaction=True)
        pipeline.delete(key)
        pipeline.hset(key, mapping=fields)
        pipeline.execute()

    if client is not None:
        write(client)
        return version
    done = connection.call(lambda r: write(r) or True, False)
    if not done:
        logger.warning("Could not publish the active segments to Redis; the next recompute will.")
        return None
    return version


# KEYS: the active segments hash. ARGV: the version the caller holds. Returns {version or false, the hash's
# fields and values (HGETALL) if the version differs, else false}. Appended to the snapshot scripts too.
REFRESH_LUA = """
local segments_version = redis.call('HGET', KEYS[1], '#v')
local segments = false
if segments_version and segments_version ~= ARGV[1] then segments = redis.call('HGETALL', KEYS[1]) end
return {segments_version or false, segments}
"""


def refresh_active_segments() -> None:
    """Bring this process's copy up to date. Cost: one round trip (the hash travels only if it changed)."""
    reply: Any = connection.call(lambda r: r.eval(REFRESH_LUA, 1, active_key(), request_time.known_version()), None)
    if reply is not None:
        request_time.remember(reply[0], reply[1] or None)
