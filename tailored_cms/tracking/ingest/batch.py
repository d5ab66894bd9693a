"""One batch of the stream: read and decoded (no SQL), stored in one transaction, then acknowledged."""

from __future__ import annotations

import functools
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import redis

from ...conf import tailored_settings
from ..stream import FIELD, InvalidEvent, TrackedEvent
from .consumer_group import acknowledge, default_consumer, read, worker_redis
from .interpretation import Item, prepare
from .stats import IngestStats
from .writing import store

__all__ = ["Batch", "collector_paused", "finish", "ingest_batch", "store_batch", "take"]

logger = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")


def collector_paused(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run ``function`` with Python's cyclic garbage collector paused, and resume it after.

    A batch makes tens of thousands of objects that live until it ends (reference counting frees them: they hold
    no cycles), and each collection the allocations trigger walks them and the worker's whole heap again: a
    sizeable share of a drain's CPU. Cycles made meanwhile are collected once the collector runs again.
    """

    @functools.wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        if not gc.isenabled():  # paused already (another thread's batch, or the process's choice): leave it so
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@dataclass
class Batch:
    """Stream entries read and decoded (``take``), not stored yet, with what was found out about them so far."""

    entries: list[tuple[bytes, bytes | None]]
    items: list[Item]
    stats: IngestStats
    started: float
    new: int  # entries XREADGROUP gave (not claimed): a full count means more may be waiting
    own: bool = False  # this consumer's own pending entries (``consumer_group.read``): the rest come after

    @property
    def entry_ids(self) -> list[bytes]:
        return [entry_id for entry_id, _raw in self.entries]


@collector_paused
def ingest_batch(
    consumer: str | None = None,
    *,
    count: int | None = None,
    client: redis.Redis | None = None,
    before_commit: Callable[[], None] | None = None,
    before_ack: Callable[[], None] | None = None,
) -> IngestStats:
    """Read, store and acknowledge one batch of the stream; see the package's docstring.

    ``before_commit`` runs inside the transaction after the writes, ``before_ack`` after the commit: tests use
    them to stop a worker at the worst moments. Must not run inside an atomic block (the commit must be real).
    """
    client = client or worker_redis()
    batch = take(client, consumer or default_consumer(), count or tailored_settings.INGEST_BATCH)
    return finish(client, batch, before_commit, before_ack)


def take(client: redis.Redis, consumer: str, count: int, claim: bool = True, own: bool = False) -> Batch:
    """Read a batch (abandoned entries first, if ``claim``; see ``consumer_group.read`` for ``own``), decode it,
    drop bots and repeats. No SQL."""
    started = time.monotonic()
    claimed, own, entries = read(client, consumer, count, claim, own)
    stats = IngestStats(read=0, claimed=0, batches=1 if entries else 0)
    pairs: list[tuple[bytes, TrackedEvent]] = []
    garbled: list[tuple[bytes, str]] = []
    for entry_id, raw in entries:
        if raw is None:  # deleted from the stream while pending (Redis 6.2 reports these)
            continue
        stats.read += 1
        try:
            if not raw:
                raise InvalidEvent(f"no field {FIELD!r}")
            pairs.append((entry_id, TrackedEvent.decode(raw)))
        except InvalidEvent as exc:
            garbled.append((entry_id, str(exc)))
    stats.claimed = min(claimed, stats.read)
    stats.invalid += len(garbled)
    if garbled:
        logger.warning(
            "Skipped %d garbled stream entries (first: %s: %s)", len(garbled), garbled[0][0].decode(), garbled[0][1]
        )
    return Batch(entries, prepare(pairs, stats), stats, started, len(entries) - claimed, own)


def store_batch(
    batch: Batch, before_commit: Callable[[], None] | None, before_ack: Callable[[], None] | None
) -> IngestStats:
    """Store a batch in one transaction (the entries still to be acknowledged)."""
    stats = batch.stats
    if batch.items or before_commit is not None:
        stats.add(store(batch.items, before_commit=before_commit))
    if before_ack is not None:
        before_ack()
    return stats


def finish(
    client: redis.Redis,
    batch: Batch,
    before_commit: Callable[[], None] | None = None,
    before_ack: Callable[[], None] | None = None,
) -> IngestStats:
    """Store a batch, then acknowledge and delete its entries."""
    stats = store_batch(batch, before_commit, before_ack)
    acknowledge(client, batch.entry_ids)
    stats.seconds = time.monotonic() - batch.started
    return stats
