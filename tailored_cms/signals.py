"""How a lower layer tells a higher one, without importing it. Receivers are connected in their package's
``receivers.py``, imported by ``TailoredCmsConfig.ready()`` (so a Celery worker, which loads the apps, has them).
Each is sent with ``sender`` the name of the module that sends it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by the ingest inside its transaction, after a batch's new events were inserted (never for a redelivered
# one), with ``events``: a list of ``tracking.ingest.StoredEvent`` (the event, its time, its CMS page id).
# Receivers write their counters in that transaction, so what they count is counted exactly once; they may
# not commit, and an exception rolls the whole batch back (it stays pending, to be stored again).
events_stored = Signal()

# Sent by the ingest after the batches of a drain were committed and acknowledged (at most once a second while it
# works through a backlog, and when it ends), with ``visitor_ids``: the visitors those batches gave new events, as
# strings. Sent with ``send_robust``: a failing receiver is logged, and the ingest goes on.
visitors_touched = Signal()

# Sent by the retention purge after each chunk of daily counters it removed committed, with ``visitor_ids``: the
# visitors those counters counted for, as strings (rules counting every day retained change for them). Sent with
# ``send_robust``: a failing receiver is logged, and the purge goes on.
counters_removed = Signal()

# Sent after a transaction that changed visitors' traits (``visitors.traits``) committed, with ``visitor_ids``: those
# visitors, as strings. Sent with ``send_robust``: a failing receiver is logged, and the change stays made.
traits_changed = Signal()

# Sent by each ``drain`` of the ingest before it reads the stream, with ``client``: the worker's Redis. Receivers
# put back what a Redis that restarted empty lost, cheaply when nothing was; an exception (``RedisError``) ends
# the drain.
drain_started = Signal()

# Sent by a full recompute after it saved each segment's current size, with ``sizes`` (segment id -> members; not
# for segments made only of request-time rules, which have no size) and ``now``: receivers keep the history.
segments_recomputed = Signal()

# Sent after the active segments were published again to a Redis that had lost them (restarted empty). Whatever
# else was kept in that hash (the optimize allocations) was lost too: receivers publish theirs again.
segments_republished = Signal()
