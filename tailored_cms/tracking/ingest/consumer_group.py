"""The ingest's side of the stream's consumer group: read (taking over what a stopped worker left), acknowledge,
forget stopped consumers; and the workers' Redis client. No SQL."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

import redis

from ... import redis_scripts
from ...conf import tailored_settings
from ..stream import FIELD, group_name, stream_key

__all__ = [
    "FORGET_CONSUMERS_AFTER",
    "WORKER_REDIS_TIMEOUT",
    "acknowledge",
    "default_consumer",
    "ensure_group",
    "forget_idle_consumers",
    "read",
    "worker_redis",
]

# The worker's Redis socket timeout: generous, unlike the request path's (a worker may wait; a page may not).
WORKER_REDIS_TIMEOUT = 10.0
# Consumers that hold nothing and were idle this long are removed from the group (checked once a minute).
FORGET_CONSUMERS_AFTER = timedelta(hours=1)

_clients: dict[str, redis.Redis] = {}


def worker_redis() -> redis.Redis:
    """The workers' client for ``REDIS_URL``: without the request path's circuit breaker and short timeout."""
    url = tailored_settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(
            url,
            socket_timeout=WORKER_REDIS_TIMEOUT,
            socket_connect_timeout=WORKER_REDIS_TIMEOUT,
            health_check_interval=30,
        )
    return client


def default_consumer() -> str:
    """This process's (and thread's) consumer name in the group: unique among live workers."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_native_id()}"


def ensure_group(client: redis.Redis) -> None:
    try:
        # From "0": events appended before the first worker ever ran are ingested too.
        client.xgroup_create(stream_key(), group_name(), id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


# KEYS: the stream. ARGV: group, consumer, min idle (ms) of entries to take over, count, the entry field, "1" to
# take over entries at all ("2": this consumer's own pending entries first). XAUTOCLAIM (if asked) then XREADGROUP,
# each up to ``count`` entries. Returns {claimed, own, id, value, id, value, ...}: how many of the pairs were taken
# over, whether they are the consumer's own, then each entry's id and the value of its field ("" if it has none;
# nil if it was deleted while pending, which Redis 6.2 reports). A flat reply of byte strings: hiredis parses it
# in C, where redis-py's XREADGROUP reply would make a dict per entry in Python.
READ_LUA = redis_scripts.load("ingest_read")


def read(
    client: redis.Redis, consumer: str, count: int, claim: bool = True, own: bool = False
) -> tuple[int, bool, list[tuple[bytes, bytes | None]]]:
    """(how many were claimed, whether they are this consumer's own, entries: (id, the field's value; ``None`` if
    deleted while pending)), the claimed first; ``claim=False`` takes new entries only. ``own=True``: if this
    consumer has entries pending (a batch of its own that failed: the database was away), those alone, counted
    as claimed, so that they are stored now and in order rather than taken over after
    ``INGEST_CLAIM_IDLE_SECONDS``. Cost: one round trip (a Lua script: XREADGROUP of its own entries, or
    XAUTOCLAIM + XREADGROUP)."""
    key, group = stream_key(), group_name()
    idle_ms = int(tailored_settings.INGEST_CLAIM_IDLE_SECONDS * 1000)
    mode = "2" if own else "1" if claim else "0"
    for attempt in (1, 2):
        try:
            reply = client.eval(READ_LUA, 1, key, group, consumer, idle_ms, count, FIELD, mode)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc) or attempt == 2:
                raise
            ensure_group(client)
            continue
        return int(reply[0]), bool(reply[1]), list(zip(reply[2::2], reply[3::2], strict=True))
    raise AssertionError("unreachable")


def acknowledge(client: redis.Redis, entry_ids: Sequence[bytes]) -> None:
    """XACK + XDEL (MULTI: both or neither) so the stream holds only the backlog. Cost: one round trip."""
    if not entry_ids:
        return
    key = stream_key()
    pipeline = client.pipeline(transaction=True)
    pipeline.xack(key, group_name(), *entry_ids)
    pipeline.xdel(key, *entry_ids)
    pipeline.execute()


# KEYS: the stream. ARGV: group, min idle (ms). Removes the consumers that hold nothing and were idle longer.
FORGET_LUA = redis_scripts.load("ingest_forget_idle_consumers")
_forgotten_at = 0.0


def forget_idle_consumers(client: redis.Redis) -> None:
    """Remove consumers that hold no entries and were long idle (stopped workers), at most once a minute.

    A Lua script, so the check and the removal are atomic: a consumer that reads in between is never removed
    with entries pending (that would lose them).
    """
    global _forgotten_at
    now = time.monotonic()
    if now - _forgotten_at < 60:
        return
    _forgotten_at = now
    idle_ms = int(max(FORGET_CONSUMERS_AFTER.total_seconds(), 10 * tailored_settings.INGEST_CLAIM_IDLE_SECONDS) * 1000)
    with contextlib.suppress(redis.ResponseError):  # no stream or group yet
        client.eval(FORGET_LUA, 1, stream_key(), group_name(), idle_ms)
