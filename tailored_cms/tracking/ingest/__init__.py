"""The ingest: Celery's half of tracking. Plain functions; ``tasks.py`` only calls them.

``ingest_batch()`` reads up to ``INGEST_BATCH`` stream entries with the consumer group (first taking over
entries a dead worker left pending for longer than ``INGEST_CLAIM_IDLE_SECONDS``), stores the events, their
counters and the visitors' activity in ONE transaction, and only after it commits acknowledges and deletes the
entries (``XACK`` + ``XDEL``, one round trip). So:

- a worker killed before the commit stored nothing; its entries stay pending and are claimed by another;
- a batch that failed (the database away) leaves its entries pending too: the same worker's next ``drain``
  takes its own pending entries first, at once, so they are stored in order with what came after them;
- a worker killed after the commit but before the ack stored everything; the claimed entries come back, and
  their events are found by id (``Event``'s primary key) and not counted again;
- two workers racing on one event id (sent twice, or claimed from a worker that was only slow) serialize on the
  visitor's row lock, so the second sees the first's commit and counts it as a duplicate (if it doesn't, the
  primary key refuses the insert, the batch rolls back and is retried).

The events are inserted first, as if none were stored yet (on PostgreSQL one COPY in a savepoint; when one was
stored, the savepoint is undone, the stored ids looked up and the rest inserted: ``sql.insert_new``); what is
counted (topic views, event counts, activity, results) comes from the events inserted.

``drain`` works through the stream batch after batch; a helper thread reads and decodes the next batch and
acknowledges the last one committed while the current one is stored (no SQL in it), so a worker that dies holds
up to two batches pending. Each drain starts with the worker's own pending entries, if any. It tells the layers
above which visitors its batches gave new events (``signals.visitors_touched``: the segments re-evaluate them, in
a transaction of their own) after those batches were committed: at most once a second while it works through a
backlog, and when it ends.

What the layers above count of the new events (widgets: topic views; results: impressions, clicks, conversions)
they count in the batch's transaction, as receivers of ``signals.events_stored``: exactly once, like the ingest's
own counters.

Cost per batch, whatever its size: one Redis round trip to read, one to acknowledge; eight SQL statements (page
URLs; visitors: insert the missing and lock, plus a look-up of the stored ones first on SQLite; events: COPY in a
savepoint on PostgreSQL, stored ids then an insert on SQLite; visitors' activity; event counts) plus the
transaction's own, two more on PostgreSQL when an event was stored already, and what the receivers of
``events_stored`` add in the same transaction (topic views: the pages' topics and an upsert; results: up to
three, ``results.rollup``). Page views of paths that are no CMS page are dropped.

The modules, in the order an entry meets them: ``consumer_group`` (read, claim, acknowledge, forget stopped
consumers; the workers' Redis client), ``batch`` (decode a batch, store it, acknowledge it), ``interpretation``
and ``pages`` (what an event means: its page, its referrer, the visitor's activity), ``writing`` (the one
transaction), ``spool`` (events kept in the database while Redis was down) and ``loop`` (``drain``).
"""

from __future__ import annotations

from .batch import ingest_batch
from .consumer_group import default_consumer, worker_redis
from .interpretation import referrer_domain
from .loop import drain
from .spool import ingest_spool
from .stats import IngestStats
from .writing import StoredEvent

__all__ = [
    "IngestStats",
    "StoredEvent",
    "default_consumer",
    "drain",
    "ingest_batch",
    "ingest_spool",
    "referrer_domain",
    "worker_redis",
]
