"""``drain``: the worker's run. The spool, then the stream batch after batch, each batch read while the one before
is stored; the visitors it gave new events announced (``visitors_touched``: the segments re-evaluate them) at most
once a second, and when it ends."""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import redis
from django.db import Error, connections

from ...conf import tailored_settings
from ...signals import drain_started, visitors_touched
from ...visitors.stale import forget_stale_snapshots
from .batch import collector_paused, store_batch, take
from .consumer_group import acknowledge, default_consumer, forget_idle_consumers, worker_redis
from .spool import ingest_spool
from .stats import IngestStats

__all__ = ["TOUCHED_EVERY", "drain"]

logger = logging.getLogger(__name__)

# While a drain works through a backlog, the visitors it touched are announced this often (s): each re-evaluation
# of their segments has a fixed cost, about a batch's worth of SQL.
TOUCHED_EVERY = 1.0

_P = ParamSpec("_P")
_T = TypeVar("_T")

Hook = Callable[[], None] | None


def closing_broken_connections(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run ``function``; when it fails on the database, close the connections the failure left unusable.

    A database that went away (restarted, the network failed) leaves Django holding a dead connection, and every
    later query fails on it ("the connection is closed") until it is closed. Celery's Django fixup does that
    between tasks; without it (a loop calling ``drain``, a site's own scheduler) the worker would never recover.
    Closed, the next query connects again. A connection inside an atomic block is left alone: its transaction is
    the caller's to end.
    """

    @functools.wraps(function)
    def closing(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return function(*args, **kwargs)
        except Error:
            for connection in connections.all(initialized_only=True):
                if not connection.in_atomic_block:
                    with contextlib.suppress(Error):
                        connection.close_if_unusable_or_obsolete()
            raise

    return closing


class Touched:
    """The visitors of a drain's batches not yet announced (``visitors_touched``), after their batches committed."""

    def __init__(self) -> None:
        self.visitor_ids: set[str] = set()
        self.since = time.monotonic()

    def add(self, stats: IngestStats) -> None:
        self.visitor_ids |= stats.visitor_ids
        if time.monotonic() - self.since >= TOUCHED_EVERY:
            self.announce()

    def announce(self) -> None:
        """Separate from the batches (after their commit and ack), so the ingest's cost and guarantees stay as
        they are; ``send_robust``: a receiver's failure is logged and the drain goes on."""
        if self.visitor_ids:
            visitors_touched.send_robust(sender=__name__, visitor_ids=frozenset(self.visitor_ids))
        self.visitor_ids, self.since = set(), time.monotonic()


@collector_paused
def drain_stream(
    client: redis.Redis,
    consumer: str,
    count: int,
    deadline: float,
    total: IngestStats,
    touched: Touched,
    before_commit: Hook,
    before_ack: Hook,
) -> None:
    """Batches of the stream until it is empty or the deadline has passed, each read while the one before is stored.

    A helper thread reads and decodes the next batch, and acknowledges the one committed, while this thread
    waits for the database to store the current one: Redis and Python there, the database here, so on two cores
    they overlap. The helper never touches the database, and takes over abandoned entries only when the batch
    before took over a full count (more may be waiting), so a slow batch's own entries are never claimed back.
    A worker that dies holds up to two batches pending: both are claimed, as one is.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tailored-ingest") as helper:
        batch = take(client, consumer, count, own=True)
        acknowledged: Future[None] | None = None
        while True:
            more = (batch.new >= count or batch.own) and time.monotonic() < deadline
            following = helper.submit(take, client, consumer, count, batch.stats.claimed >= count) if more else None
            stats = store_batch(batch, before_commit, before_ack)
            if acknowledged is not None:
                acknowledged.result()  # the batch before's: its failure surfaces here
            acknowledged = helper.submit(acknowledge, client, batch.entry_ids)
            stats.seconds = time.monotonic() - batch.started
            total.add(stats)
            touched.add(stats)
            if following is None:
                acknowledged.result()
                return
            batch = following.result()


@closing_broken_connections
def drain(
    max_seconds: float = 3.0,
    *,
    consumer: str | None = None,
    before_commit: Hook = None,
    before_ack: Hook = None,
) -> IngestStats:
    """Ingest batches until the spool and the stream are empty or ``max_seconds`` have passed (then ~one batch)."""
    started = time.monotonic()
    deadline = started + max_seconds
    count = tailored_settings.INGEST_BATCH
    total = IngestStats()
    touched = Touched()
    while True:  # the spool first: empty (one query) unless Redis was down
        stats = ingest_spool(count, before_commit=before_commit)
        total.add(stats)
        touched.add(stats)
        if stats.read < count or time.monotonic() >= deadline:
            break
    client = worker_redis()
    forget_stale_snapshots(client)  # copies Redis kept through a partition, before it serves them any longer
    drain_started.send(sender=__name__, client=client)  # the active segments of a Redis that came back empty
    drain_stream(client, consumer or default_consumer(), count, deadline, total, touched, before_commit, before_ack)
    touched.announce()
    forget_idle_consumers(client)
    total.seconds = time.monotonic() - started
    if total.read:
        logger.info("Ingested events: %s", total)
    return total
