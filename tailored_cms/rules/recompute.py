"""Recomputing memberships: all visitors (beat, a saved segment, ``tailored_recompute``) or the few an ingest
batch touched. Plain functions; ``tasks.py`` only calls them.

Both do the same per set of visitors, in one transaction: lock the visitors' rows (in id order, like the ingest,
so the two wait for each other instead of deadlocking), evaluate every segment for all of them with one query
(``evaluation``), read their current memberships with one more, and write the difference: new rows for joins,
``left_at`` for leaves, the new condition where only the request-time part changed. After the commit, the
visitors whose segments changed get the tracked part of their Redis snapshot rewritten in place (one round trip).

Segments' sizes (what editors read in the segment list) are counted by the full recompute, and kept current in
between by the incremental one, which adds its joins and takes away its leaves in the same transaction
(``_move_sizes``); the next full recompute counts them again, so a size that drifted (a race between the two)
is right again within ten minutes.

A full recompute walks the visitors in id order, ``RECOMPUTE_CHUNK`` at a time, so memory stays flat however many
there are, and its queries per chunk are constant. Only one full recompute runs at a time: a Redis lock
(``SET NX`` with an expiry, renewed at every chunk) makes a second one raise ``RecomputeRunning``.
"""

from __future__ import annotations

import gc
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import redis
from django.db import connections, transaction
from django.db.models import Case, Count, F, IntegerField, Value, When
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils import timezone

from .. import bulk_sql as sql
from .. import connection, redis_scripts
from ..conf import tailored_settings
from ..signals import segments_recomputed
from ..tracking.ingest import worker_redis
from ..visitors.models import Visitor
from ..visitors.snapshot import split_memberships, tracked_json
from ..visitors.store import get_store
from .active import active_key, publish_segments
from .evaluation import Plan, Plans, Result, Row, evaluate_range, evaluate_rows, load_plans
from .membership import memberships_of
from .models import Membership, Segment

__all__ = [
    "Lock",
    "RecomputeRunning",
    "RecomputeSummary",
    "begin",
    "chunk_bounds",
    "finish",
    "recompute_lock",
    "recompute_range",
    "recompute_segments",
    "recompute_visitors",
    "redis_client",
    "target_plans",
    "targets_of",
]

logger = logging.getLogger(__name__)

# The lock of a full recompute expires this long after its last chunk (a killed worker doesn't block the next).
LOCK_SECONDS = 600

Progress = Callable[[int, int], None]  # (visitors done, visitors in all)


class RecomputeRunning(Exception):
    """Another recompute holds the lock."""


@dataclass
class RecomputeSummary:
    """What a recompute did."""

    segments: int = 0  # segments computed
    visitors: int = 0  # visitors evaluated
    joins: int = 0  # memberships started
    leaves: int = 0  # memberships ended
    changed: int = 0  # current memberships whose request-time condition changed
    snapshots: int = 0  # snapshots rewritten in Redis
    seconds: float = 0.0

    def add(self, other: RecomputeSummary) -> None:
        for name in ("visitors", "joins", "leaves", "changed", "snapshots"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": round(self.seconds, 3)}

    def __str__(self) -> str:
        return (
            f"{self.segments} segments: visitors {self.visitors:,}, joins {self.joins:,}, leaves {self.leaves:,}, "
            f"conditions changed {self.changed:,}, snapshots updated {self.snapshots:,}, {self.seconds:.2f} s"
        )


# --- the lock ----------------------------------------------------------------------------------------------------


def redis_client() -> redis.Redis:
    return worker_redis()


_RELEASE_LUA = redis_scripts.load("lock_release")
_EXTEND_LUA = redis_scripts.load("lock_extend")


class Lock:
    """The recompute lock; ``token``: one acquired elsewhere (a run across workers passes it on to its chunks)."""

    def __init__(self, client: redis.Redis, token: str | None = None) -> None:
        self.client = client
        self.key = connection.key("recompute", "lock")
        self.token = token or uuid.uuid4().hex

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.token, nx=True, ex=LOCK_SECONDS))

    def extend(self) -> None:
        self.client.eval(_EXTEND_LUA, 1, self.key, self.token, LOCK_SECONDS)

    def release(self) -> None:
        self.client.eval(_RELEASE_LUA, 1, self.key, self.token)


@contextmanager
def recompute_lock(client: redis.Redis | None = None) -> Iterator[Lock]:
    """Hold the recompute lock for the block; raises ``RecomputeRunning`` if another process holds it."""
    lock = Lock(client or redis_client())
    if not lock.acquire():
        raise RecomputeRunning("A segment recompute is already running.")
    try:
        yield lock
    finally:
        lock.release()


# --- writing differences -----------------------------------------------------------------------------------------


def _condition(result: Result) -> Any:
    return None if result is True else result


Held = dict[str, dict[int, tuple[int, Any]]]  # visitor id -> segment id -> (membership id, condition)


def _apply(
    rows: Iterable[Row],
    plans: list[Plan],
    current: Held,
    now: datetime,
    summary: RecomputeSummary,
    moved: Counter[int] | None = None,
) -> dict[str, Row]:
    """Write the difference between ``rows``' results and ``current`` memberships; returns the changed visitors,
    and counts each segment's joins less its leaves in ``moved`` (by segment id) if given.

    ``current`` holds the current memberships of the visitors of ``rows`` in the segments of ``plans``; what is
    left in it after the rows are compared (visitors gone meanwhile) ends. A visitor in no segment before nor
    after costs one look-up. Cost: up to three statements (insert joins, end leaves, update conditions),
    whatever the number of rows.
    """
    joins: list[tuple[Any, ...]] = []
    leaves: list[tuple[int, datetime]] = []
    changes: list[tuple[int, Any]] = []
    changed: dict[str, Row] = {}
    moved = moved if moved is not None else Counter()
    ids = {plan.slug: plan.id for plan in plans}
    nothing: dict[int, tuple[int, Any]] = {}
    for row in rows:
        summary.visitors += 1
        held = current.pop(row.visitor_id, nothing)
        if not held and not row.results:
            continue
        kept = 0
        for slug, result in row.results.items():
            segment_id = ids.get(slug)
            if segment_id is None or result is False:
                continue
            condition = _condition(result)
            membership = held.get(segment_id)
            if membership is None:
                joins.append((row.visitor_id, segment_id, now, condition))
                moved[segment_id] += 1
                changed[row.visitor_id] = row
                continue
            kept += 1
            if membership[1] != condition:
                changes.append((membership[0], condition))
                changed[row.visitor_id] = row
        if kept < len(held):  # some segments held are not in the results any more
            present = {ids.get(slug) for slug, result in row.results.items() if result is not False}
            for segment_id, (membership_id, _held_condition) in held.items():
                if segment_id not in present:
                    leaves.append((membership_id, now))
                    moved[segment_id] -= 1
                    changed[row.visitor_id] = row
    for held in current.values():
        for segment_id, (membership_id, _held_condition) in held.items():
            leaves.append((membership_id, now))
            moved[segment_id] -= 1
    sql.insert(Membership, ("visitor", "segment", "joined_at", "condition"), joins)
    sql.update(Membership, ("left_at",), leaves)
    sql.update(Membership, ("condition",), changes)
    summary.joins += len(joins)
    summary.leaves += len(leaves)
    summary.changed += len(changes)
    return changed


def _current(plans: list[Plan], **visitor_filter: Any) -> Held:
    """Current memberships of ``plans``' segments for the visitors matched by ``visitor_filter``. One query.

    Its rows are read as the driver gives them, since a chunk's are many: a visitor's id is converted once per
    visitor (``to_python``), and a condition's JSON text (as Django reads ``jsonb``) decoded where there is one.
    """
    rows = Membership.objects.filter(left_at__isnull=True, segment_id__in=[plan.id for plan in plans])
    rows = rows.filter(**{f"visitor_id__{lookup}": value for lookup, value in visitor_filter.items()})
    statement, params = (
        rows.values_list("visitor_id", "segment_id", "pk", "condition").query.get_compiler(using=rows.db).as_sql()
    )
    held: dict[Any, dict[int, tuple[int, Any]]] = {}
    with connections[rows.db].cursor() as cursor:
        cursor.execute(statement, params)
        for visitor_id, segment_id, pk, condition in cursor.fetchall():
            segments = held.get(visitor_id)
            if segments is None:
                segments = held[visitor_id] = {}
            segments[segment_id] = (pk, None if condition is None else json.loads(condition))
    to_python = Visitor._meta.get_field("id").to_python
    return {str(to_python(visitor_id)): segments for visitor_id, segments in held.items()}


def _tracked(row: Row, memberships: list[tuple[str, Any]] | None = None) -> str:
    """The JSON of a snapshot's tracked fields for ``row``'s visitor."""
    pairs = memberships if memberships is not None else [(slug, _condition(r)) for slug, r in row.results.items()]
    segments, conditional = split_memberships(pairs)
    return tracked_json({"segments": segments, "conditional_segments": conditional, **row.attribution})


def _mirror(rows: dict[str, Row], *, complete: bool, summary: RecomputeSummary) -> None:
    """Rewrite the tracked part of these visitors' stored snapshots. ``complete``: the rows' results cover every
    computed segment; otherwise the visitors' memberships are read back (one query). Never raises."""
    if not rows:
        return

    if complete:
        # Rows of one combination of results and attribution share their dicts (``evaluation``): one JSON each.
        made: dict[tuple[int, int], str] = {}
        tracked = {}
        for vid, row in rows.items():
            key = (id(row.results), id(row.attribution))
            text = made.get(key)
            tracked[vid] = text if text is not None else made.setdefault(key, _tracked(row))
    else:
        held = memberships_of(rows)
        tracked = {vid: _tracked(row, held.get(vid, [])) for vid, row in rows.items()}
    try:
        summary.snapshots += get_store().update_segments(tracked, client=redis_client())
    except redis.RedisError as exc:
        # The DB is right; snapshots catch up when the visitor's next batch is ingested, or expire.
        logger.error("Could not update %d snapshots in Redis: %s", len(tracked), exc)


# --- entry points -------------------------------------------------------------------------------------------------


def recompute_visitors(visitor_ids: Iterable[Any], *, now: datetime | None = None) -> RecomputeSummary:
    """Re-evaluate every enabled segment for these visitors (those an ingest batch touched) and mirror them.

    Cost, whatever the number of visitors: one query for the segments, and when there are some, five to seven
    statements in one transaction (the last moves the sizes of segments visitors joined or left), and two Redis
    round trips (publish check, snapshots).
    """
    started = time.monotonic()
    summary = RecomputeSummary()
    ids = sorted({str(visitor_id) for visitor_id in visitor_ids})
    if not ids:
        return summary
    plans = load_plans()
    if not plans.plans:
        return summary  # no segments: nothing to compute, nothing on the request path reads what we'd mirror
    computed = plans.computed
    summary.segments = len(computed)
    now = now or timezone.now()
    with transaction.atomic():
        if computed:
            locked = Visitor.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
            list(locked.values_list("pk", flat=True))
        rows = {row.visitor_id: row for row in evaluate_rows(ids, plans, now=now)}
        if computed:
            moved: Counter[int] = Counter()
            _apply(rows.values(), computed, _current(computed, **{"in": ids}), now, summary, moved)
            _move_sizes(moved)
    # Every touched visitor, changed or not: their referrer and UTM may be new even if their segments aren't.
    _mirror(rows, complete=True, summary=summary)
    _republish_if_lost(plans)
    summary.seconds = time.monotonic() - started
    return summary


def _republish_if_lost(plans: Plans) -> None:
    """Publish the active segments again if Redis lost them (restarted, flushed). One round trip; never raises."""
    try:
        client = redis_client()
        if not client.exists(active_key()):
            publish_segments(plans, client=client)
    except redis.RedisError as exc:
        logger.warning("Could not check the active segments in Redis: %s", exc)


def recompute_segments(
    segments: Iterable[str | Segment] | None = None,
    *,
    progress: Progress | None = None,
    chunk_size: int | None = None,
    now: datetime | None = None,
    lock: bool = True,
) -> RecomputeSummary:
    """Recompute who is in ``segments`` (slugs or ``Segment``s; all if None) among all visitors, here and now
    (``runs.start_run`` spreads the same chunks over Celery workers).

    Memberships of disabled segments, and of segments made only of request-time rules, end. Sizes and times
    are written to each segment. Raises ``RecomputeRunning`` when another recompute holds the lock (``lock``),
    ``Segment.DoesNotExist`` naming unknown slugs. Cost: constant queries per chunk of ``chunk_size`` visitors
    (``RECOMPUTE_CHUNK``) and one Redis round trip per chunk with changes.
    """
    started = time.monotonic()
    now = now or timezone.now()
    size = chunk_size or tailored_settings.RECOMPUTE_CHUNK
    everything = load_plans()
    targets = targets_of(everything, segments)
    plans = target_plans(everything, targets)
    summary = RecomputeSummary(segments=len(plans.computed))
    with recompute_lock() if lock else _no_lock() as held:
        begin(targets, everything, now, summary)
        try:
            if plans.computed:
                total = Visitor.objects.count()
                for after, upto in chunk_bounds(size):
                    recompute_range(after, upto, plans, now, summary, complete=segments is None)
                    if held is not None:
                        held.extend()
                    if progress is not None:
                        progress(min(summary.visitors, total), max(total, summary.visitors))
            finish(targets, now)
        except BaseException:
            Segment.objects.filter(pk__in=[plan.id for plan in targets]).update(recompute_started_at=None)
            raise
    summary.seconds = time.monotonic() - started
    logger.info("Recomputed segments: %s", summary)
    return summary


def begin(targets: list[Plan], everything: Plans, now: datetime, summary: RecomputeSummary) -> None:
    """What a recompute of ``targets`` does before its chunks: mark them as recomputing, publish the active
    segments, end the memberships of those not computed (disabled, request-time only). Three statements."""
    Segment.objects.filter(pk__in=[plan.id for plan in targets]).update(recompute_started_at=now)
    try:
        publish_segments(everything, client=redis_client())
    except redis.RedisError as exc:  # the DB part goes on; the next run (or a saved segment) publishes
        logger.warning("Could not publish the active segments: %s", exc)
    idle = [plan.id for plan in targets if not plan.computed]
    if idle:
        summary.leaves += Membership.objects.filter(segment_id__in=idle, left_at__isnull=True).update(left_at=now)


def finish(targets: list[Plan], now: datetime) -> None:
    """What a recompute of ``targets`` does after its chunks: sizes, times, today's sizes (``_record_sizes``)."""
    _record_sizes(targets, now)


def target_plans(everything: Plans, targets: list[Plan]) -> Plans:
    """``targets`` with the behavioural leaves of those computed."""
    return Plans(targets, {key: leaf for plan in targets if plan.computed for key, leaf in _leaves(everything, plan)})


def targets_of(everything: Plans, segments: Iterable[str | Segment] | None) -> list[Plan]:
    """The plans of ``segments`` (all if None); ``Segment.DoesNotExist`` naming the unknown slugs."""
    if segments is None:
        return everything.plans
    wanted = {s if isinstance(s, str) else s.slug for s in segments}
    targets = [plan for plan in everything.plans if plan.slug in wanted]
    missing = wanted - {plan.slug for plan in targets}
    if missing:
        raise Segment.DoesNotExist(f"No segment {', '.join(sorted(missing))}.")
    return targets


@contextmanager
def _no_lock() -> Iterator[None]:
    yield None


def _leaves(everything: Plans, plan: Plan) -> Iterator[tuple[str, Any]]:
    for key in plan.leaf_keys:
        yield key, everything.leaves[key]


def chunk_bounds(size: int) -> Iterator[tuple[Any, Any]]:
    """``(after, upto)`` id bounds of chunks of ``size`` visitors in id order; the last chunk's ``upto`` is None
    (visitors created meanwhile are in it). One index-only query per chunk."""
    size = max(1, size)
    after: Any = None
    while True:
        ids = Visitor.objects.order_by("pk")
        if after is not None:
            ids = ids.filter(pk__gt=after)
        upto = ids.values_list("pk", flat=True)[size - 1 : size].first()
        if upto is None:
            if after is None or ids.exists():
                yield after, None
            return
        yield after, upto
        after = upto


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for the block (unless something else turned it off), then on again.

    A chunk makes tens of thousands of small tuples and dicts that live until its end and hold no cycles; the
    collector would otherwise walk them, and every object of the process, many times over for nothing. Memory
    still follows the chunk: reference counting frees what it made, and cycles wait for the next collection.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_collector_paused()
def recompute_range(
    after: Any, upto: Any, plans: Plans, now: datetime, summary: RecomputeSummary, *, complete: bool
) -> None:
    """Recompute ``plans``' computed segments for the visitors with ``after < id <= upto`` (either may be None),
    in one transaction; ``complete``: the plans are every segment (snapshots are written from the results).

    Redone (a worker killed before it was acknowledged), it writes nothing more: it writes the difference with
    the memberships it reads. Cost: five statements at most (lock the chunk, evaluate it, its memberships,
    joins, leaves, conditions), and one Redis round trip when some visitor changed.
    """
    computed = plans.computed
    bounds = {**({"gt": after} if after is not None else {}), **({"lte": upto} if upto is not None else {})}
    with transaction.atomic():
        chunk = Visitor.objects.select_for_update(no_key=True).filter(
            **{f"pk__{lookup}": value for lookup, value in bounds.items()}
        )
        list(chunk.order_by("pk").values_list("pk", flat=True))
        current = _current(computed, **bounds)
        changed = _apply(evaluate_range(after, upto, plans, now=now), computed, current, now, summary)
    _mirror(changed, complete=complete, summary=summary)


def _move_sizes(moved: Counter[int]) -> None:
    """Add each segment's joins less its leaves (``moved``, by segment id) to its size: one statement, none if
    nobody moved. A segment not counted yet starts from 0 (its members so far all joined through here, or its own
    recompute, which counts them, is still running); a size never goes below 0."""
    moved = Counter({segment_id: change for segment_id, change in moved.items() if change})
    if not moved:
        return
    change = Case(
        *(When(pk=segment_id, then=Value(n)) for segment_id, n in moved.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    Segment.objects.filter(pk__in=list(moved)).update(size=Greatest(Coalesce(F("size"), 0) + change, Value(0)))


def _record_sizes(targets: list[Plan], now: datetime) -> None:
    """Each segment's current size and computed time (request-time segments: no size), and today's size in its
    history (``segments_recomputed``: ``results`` keeps it). Three queries."""
    if not targets:
        return
    counts = dict(
        Membership.objects.filter(segment_id__in=[plan.id for plan in targets], left_at__isnull=True)
        .values("segment")
        .annotate(n=Count("pk"))
        .values_list("segment", "n")
    )
    # Cast: on PostgreSQL a CASE of nothing but NULL parameters would otherwise be text.
    sizes = Cast(
        Case(
            *(When(pk=plan.id, then=Value(None if plan.request_time else counts.get(plan.id, 0))) for plan in targets),
        ),
        IntegerField(),
    )
    Segment.objects.filter(pk__in=[plan.id for plan in targets]).update(
        size=sizes, computed_at=now, recompute_started_at=None
    )
    members = {plan.id: counts.get(plan.id, 0) for plan in targets if not plan.request_time}
    segments_recomputed.send(sender=__name__, sizes=members, now=now)
