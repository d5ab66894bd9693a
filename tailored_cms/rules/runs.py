"""A recompute across Celery workers: its chunks of visitors are tasks any worker takes; its progress is in Redis.

``start_run`` (the ``recompute_all`` and ``recompute_segments`` tasks, ``tailored_recompute --workers``) takes the
recompute lock, does what comes before the chunks (``recompute.begin``), cuts the visitors into chunks of
``RECOMPUTE_CHUNK`` by id and sends one ``recompute_chunk`` task per chunk (queue ``tailored_bulk``). Each chunk is
``recompute.recompute_range``: one transaction that writes the difference with the memberships it reads. Chunks
are acknowledged when done (``acks_late``): a chunk whose worker died is redone, writes the same memberships, and
``recompute_chunk_done.lua`` counts it once. The chunk that completes the run writes the sizes
(``recompute.finish``) and releases the lock. ``run_here`` does a run's chunks in the calling process instead
(``tailored_recompute`` without ``--workers``), recorded the same way.

So two worker processes take about half the time of one. Freshness never waits for a whole recompute: each
chunk first stores the events waiting in the stream (``drain``, for at most ``YIELD_SECONDS``; the stream's
consumer group shares them with the ingest tasks), whatever queues its worker consumes. Counting on the queues
alone would not do: a worker consuming both takes one message of each in turn, and while chunks last longer than
beat's second, the ingest messages waiting pass their expiry and each one dropped costs the ingest its turn.

The scheduled run (``changes_only``) re-evaluates only what can have changed since the last run that covered
every segment: segments whose definition changed, or with a rule whose inputs aren't tracked
(``BehaviouralRule.changes_tracked``), are recomputed for everyone; the others only for the visitors the ingest
touched since (``mark_changed``: a Redis set) or whose row was saved since (choices, login, traits:
``updated_at``). A new day moves the rules' time windows: its first run also re-evaluates the visitors each rule
says the days since the last run can have changed (``BehaviouralRule.day_moved``: a counter's day that left a
window, a last visit that crossed a bound), and recomputes for everyone the segments with a rule that can't say.
A run that finds no record of the last one (``<prefix>:recompute:last``, which Redis may have lost), or whose last
run that re-evaluated everyone is ``FULL_EVERY_DAYS`` days old or older, recomputes everything: a mark Redis lost
or a site's rule that says less than it should is right again within a week.

A run's state is a Redis hash under ``<prefix>:recompute:run:<id>`` (``<prefix>:recompute:current`` names the
latest run): what ``progress`` reads for ``tailored_recompute`` and the admin, whichever workers do the chunks. It
says whether the workers share the chunks or one process does them all (``run_here``): the admin tells editors which.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import redis
from django.db.models import Q
from django.utils import timezone

from .. import connection, redis_scripts
from ..conf import tailored_settings
from ..tracking.ingest import drain
from ..visitors.models import Visitor
from .evaluation import Plan, Plans, Scope, load_plans
from .models import Segment
from .recompute import (
    LOCK_SECONDS,
    Lock,
    RecomputeRunning,
    RecomputeSummary,
    begin,
    chunk_bounds,
    finish,
    recompute_range,
    recompute_visitors,
    redis_client,
    target_plans,
    targets_of,
)
from .registry import NOBODY, BehaviouralRule, _registry

__all__ = [
    "Chunk",
    "RunProgress",
    "erase_in",
    "mark_changed",
    "progress",
    "run_chunk",
    "run_here",
    "start_run",
    "wait_for_run",
]

logger = logging.getLogger(__name__)

# Before each chunk, the events waiting in the stream are stored for at most this long (s).
YIELD_SECONDS = 1.0
# A run's state outlives its last chunk by this long (and a lock a killed worker left behind expires as soon).
RUN_SECONDS = LOCK_SECONDS
FULL_EVERY_DAYS = 7  # a scheduled run re-evaluates everyone when its last full run is this many days old
COUNTED = ("visitors", "joins", "leaves", "changed", "snapshots")

_DONE_LUA = redis_scripts.load("recompute_chunk_done")


@dataclass
class RunProgress:
    """Where a run is: chunks done of all, visitors evaluated of those there were when it started, what it did;
    ``workers``: the Celery workers share its chunks (False: one process does them, ``run_here``)."""

    run: str
    segments: int
    chunks: int
    chunks_done: int
    visitors_total: int
    visitors: int
    joins: int
    leaves: int
    changed: int
    snapshots: int
    seconds: float
    finished: bool
    workers: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": round(self.seconds, 3)}

    def summary(self) -> RecomputeSummary:
        return RecomputeSummary(
            self.segments, self.visitors, self.joins, self.leaves, self.changed, self.snapshots, self.seconds
        )


def _key(run: str) -> str:
    return connection.key("recompute", "run", run)


def _done_key(run: str) -> str:
    return connection.key("recompute", "run", run, "done")


def _current_key() -> str:
    return connection.key("recompute", "current")


def _changed_key() -> str:
    return connection.key("recompute", "changed")


def erase_in(pipeline: Any, visitor_id: str) -> None:
    """Add to ``pipeline`` the removal of the visitor from those changed since the last run (it names them)."""
    pipeline.srem(_changed_key(), visitor_id)


def _last_key() -> str:
    return connection.key("recompute", "last")


def mark_changed(visitor_ids: Iterable[str]) -> None:
    """Visitors whose counters or activity changed (the ingest's, the retention purge's): the next scheduled run
    re-evaluates them. One round trip; never raises (a mark matters only when the recompute of those visitors that
    follows it fails)."""
    ids = list(visitor_ids)
    if not ids:
        return
    try:
        redis_client().sadd(_changed_key(), *ids)
    except redis.RedisError as exc:
        logger.warning("Could not mark %d visitors for the next recompute: %s", len(ids), exc)


def _definition(plan: Plan) -> str:
    """What a segment's memberships follow from: a change means it is recomputed for everyone."""
    text = json.dumps([plan.enabled, plan.request_time, plan.tree], sort_keys=True)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _untracked(plan: Plan, everything: Plans) -> bool:
    """A computed segment with a rule whose inputs no mark follows (``changes_tracked`` False)."""
    rules = (_registry.get(everything.leaves[key].get("rule", "")) for key in plan.leaf_keys)
    return plan.computed and not all(isinstance(rule, BehaviouralRule) and rule.changes_tracked for rule in rules)


def _changes(client: redis.Redis, everything: Plans, now: datetime) -> tuple[list[Plan], list[str]] | None:
    """(segments to recompute for everyone, visitors to re-evaluate for every segment) since the last run, or None
    when everything is to be recomputed (no record of the last run, one of a later day, or the last full run
    ``FULL_EVERY_DAYS`` ago or more). Takes the marks."""
    raw = client.get(_last_key())
    last = json.loads(raw) if raw else None
    today = timezone.localdate(now)
    if last is None or date.fromisoformat(last["day"]) > today:
        return None
    if "full" not in last or date.fromisoformat(last["full"]) <= today - timedelta(days=FULL_EVERY_DAYS):
        return None
    whole = [
        plan
        for plan in everything.plans
        if _definition(plan) != last["definitions"].get(plan.slug) or _untracked(plan, everything)
    ]
    ids: set[str] = set()
    since = date.fromisoformat(last["day"])
    if since < today:
        whole, ids = _day_moved(everything, whole, since, now)
    pipeline = client.pipeline()  # MULTI: marks added meanwhile wait for the next run
    pipeline.smembers(_changed_key())
    pipeline.delete(_changed_key())
    marked, _deleted = pipeline.execute()
    saved = Visitor.objects.filter(updated_at__gte=datetime.fromisoformat(last["started"])).values_list("pk", flat=True)
    ids.update(value.decode() if isinstance(value, bytes) else str(value) for value in marked)
    ids.update(str(pk) for pk in saved)
    return whole, sorted(ids)


def _day_moved(everything: Plans, whole: list[Plan], since: date, now: datetime) -> tuple[list[Plan], set[str]]:
    """The days from ``since`` to ``now`` moved the rules' windows: (``whole`` and the segments with a rule that
    can't say for whom, the visitors for whom the other segments' rules can have changed). One query per rule
    that can (``BehaviouralRule.day_moved``), none for those whose result doesn't depend on the day."""
    scope = Scope(now=now)
    slugs = {plan.slug for plan in whole}
    moved: dict[str, Q | None] = {}
    for plan in everything.computed:
        if plan.slug in slugs:
            continue
        for key in plan.leaf_keys:
            if key not in moved:  # every rule here is a tracked behavioural one (``_untracked``)
                leaf = everything.leaves[key]
                rule = cast(BehaviouralRule, _registry[leaf["rule"]])
                moved[key] = rule.day_moved({k: v for k, v in leaf.items() if k != "rule"}, scope, since)
        if any(moved[key] is None for key in plan.leaf_keys):
            whole = [*whole, plan]
            slugs.add(plan.slug)
    asked = {key for plan in everything.computed if plan.slug not in slugs for key in plan.leaf_keys}
    ids: set[str] = set()
    for key in asked:
        q = moved[key]
        if q is not None and q != NOBODY:
            ids.update(str(pk) for pk in Visitor.objects.filter(q).values_list("pk", flat=True))
    return whole, ids


def _remember(client: redis.Redis, wanted: list[str] | None, now: datetime, *, full: bool) -> None:
    """Record a finished run for the next scheduled one: every segment's definition (``wanted`` None), or those of
    ``wanted`` in the record there is; ``full``: the run re-evaluated everyone for every segment."""
    everything = load_plans()
    definitions = {plan.slug: _definition(plan) for plan in everything.plans}
    raw = client.get(_last_key())
    last = json.loads(raw) if raw else None
    if wanted is None:
        day = timezone.localdate(now).isoformat()
        record: dict[str, Any] = {"day": day, "started": now.isoformat(), "definitions": definitions}
        since = day if full else (last or {}).get("full")
        if since:
            record["full"] = since
    else:
        if last is None:
            return
        record = last
        record["definitions"].update({slug: definitions[slug] for slug in wanted if slug in definitions})
    client.set(_last_key(), json.dumps(record))


# run, index, after, upto, ids: ``run_chunk``'s arguments (a range of visitors, or the ids of some)
Chunk = tuple[str, int, str | None, str | None, list[str] | None]


def start_run(
    segments: Iterable[str | Segment] | None = None,
    *,
    send: Callable[[Chunk], object],
    chunk_size: int | None = None,
    now: datetime | None = None,
    changes_only: bool = False,
    workers: bool = True,
) -> str:
    """Start recomputing ``segments`` (slugs or ``Segment``s; all if None) across the workers, ``send`` giving
    each chunk to them (``tasks.start_recompute`` sends the ``recompute_chunk`` task); returns the run's id.
    ``changes_only`` (all segments only): only what can have changed since the last run (see above).
    ``workers`` False: ``send`` does each chunk in this process (``run_here``), as the run's state says.
    Raises ``RecomputeRunning`` while another recompute holds the lock, ``Segment.DoesNotExist`` naming unknown
    slugs, ``redis.RedisError`` when Redis can't be reached. Cost: a query per chunk to cut them, one message each.
    """
    started = time.time()
    client = redis_client()
    now = now or timezone.now()
    size = chunk_size or tailored_settings.RECOMPUTE_CHUNK
    everything = load_plans()
    wanted = None if segments is None else [s if isinstance(s, str) else s.slug for s in segments]
    targets = targets_of(everything, wanted)
    lock = Lock(client)
    if not lock.acquire():
        raise RecomputeRunning("A segment recompute is already running.")
    run = uuid.uuid4().hex
    try:
        changes = _changes(client, everything, now) if changes_only and wanted is None else None
        ids: list[str] = []
        if changes is None:
            whole, ranged = targets, wanted
            if wanted is None:
                client.delete(_changed_key())  # everyone is re-evaluated
        else:
            whole, ids = changes
            ranged = [plan.slug for plan in whole]
        plans = target_plans(everything, whole)
        summary = RecomputeSummary(segments=len(target_plans(everything, targets).computed))
        begin(targets, everything, now, summary)
        bounds = list(chunk_bounds(size)) if plans.computed else []
        chunks: list[Chunk] = [(run, index, _id(after), _id(upto), None) for index, (after, upto) in enumerate(bounds)]
        chunks += [
            (run, len(chunks) + n, None, None, ids[start : start + size])
            for n, start in enumerate(range(0, len(ids), size))
        ]
        state = {
            "segments": json.dumps(wanted),
            "ranged": json.dumps(ranged),
            "segments_count": summary.segments,
            "now": now.isoformat(),
            "token": lock.token,
            "chunks": len(chunks),
            "visitors_total": (Visitor.objects.count() if bounds else 0) + len(ids),
            "started": started,
            "workers": int(workers),
            **{name: getattr(summary, name) for name in COUNTED},
        }
        pipeline = client.pipeline()
        pipeline.hset(_key(run), mapping=state)  # type: ignore[arg-type]  # the stubs want one type of value
        pipeline.expire(_key(run), RUN_SECONDS)
        pipeline.set(_current_key(), run, ex=RUN_SECONDS)
        pipeline.execute()
    except BaseException:
        Segment.objects.filter(pk__in=[plan.id for plan in targets]).update(recompute_started_at=None)
        lock.release()
        raise
    if not chunks:
        _finish(client, run, lock.token, wanted, targets, now, full=ranged is None)
    for chunk in chunks:
        send(chunk)
    return run


def run_here(
    segments: Iterable[str | Segment] | None = None,
    *,
    chunk_size: int | None = None,
    now: datetime | None = None,
    report: Callable[[RunProgress], None] | None = None,
) -> RunProgress:
    """``start_run`` with its chunks done here, one after the other (``tailored_recompute`` without ``--workers``):
    the run is recorded as one across the workers is, so the admin shows its progress and the next scheduled run
    starts from it. ``report`` gets the progress after each chunk. Interrupted, the run is dropped and the lock
    released. Raises what ``start_run`` raises."""

    def send(chunk: Chunk) -> None:
        try:
            run_chunk(*chunk)
        except BaseException:
            _drop(chunk[0])
            raise
        if report is not None and (found := progress(chunk[0])) is not None:
            report(found)

    run = start_run(segments, send=send, chunk_size=chunk_size, now=now, workers=False)
    done = progress(run)
    if done is None:
        raise LookupError(f"Recompute {run} is not known (any more).")
    return done


def _drop(run: str) -> None:
    """Forget an unfinished run: its segments no longer recomputing, the lock released, no progress shown."""
    client = redis_client()
    state = _decoded(client.hgetall(_key(run)))
    if not state or "finished" in state:
        return
    wanted = json.loads(state["segments"])
    segments = Segment.objects.all() if wanted is None else Segment.objects.filter(slug__in=wanted)
    segments.update(recompute_started_at=None)
    client.delete(_key(run), _done_key(run))
    Lock(client, state["token"]).release()


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def run_chunk(
    run: str, index: int, after: str | None, upto: str | None, ids: list[str] | None = None
) -> dict[str, Any]:
    """Recompute chunk ``index`` of ``run``: the visitors with ``after < id <= upto`` for the run's segments, or
    those of ``ids`` for every segment. The last one done finishes the run. Redone, it writes the same memberships
    and counts nothing twice."""
    client = redis_client()
    state = _decoded(client.hgetall(_key(run)))
    if not state or "finished" in state:
        return {"skipped": "the run is over"}
    wanted, ranged = json.loads(state["segments"]), json.loads(state["ranged"])
    now = datetime.fromisoformat(state["now"])
    drain(YIELD_SECONDS)  # freshness first: the events waiting, and their visitors' segments
    if ids is not None:
        summary = recompute_visitors(ids, now=now)
    else:
        everything = load_plans()
        # Segments deleted since the run started are left out; the others are computed as the run started them.
        chosen = [plan for plan in everything.plans if ranged is None or plan.slug in ranged]
        summary = RecomputeSummary()
        recompute_range(after, upto, target_plans(everything, chosen), now, summary, complete=ranged is None)
    counts = [value for name in COUNTED for value in (name, getattr(summary, name))]
    done = int(client.eval(_DONE_LUA, 2, _key(run), _done_key(run), index, RUN_SECONDS, *counts))
    Lock(client, state["token"]).extend()
    if done >= int(state["chunks"]):
        everything = load_plans()
        targets = [plan for plan in everything.plans if wanted is None or plan.slug in wanted]
        _finish(client, run, state["token"], wanted, targets, now, full=ranged is None)
    return {"run": run, "chunk": index, **summary.as_dict()}


def _decoded(raw: Any) -> dict[str, str]:
    return {key.decode(): value.decode() for key, value in raw.items()}


def _finish(
    client: redis.Redis,
    run: str,
    token: str,
    wanted: list[str] | None,
    targets: list[Plan],
    now: datetime,
    *,
    full: bool,
) -> None:
    """Sizes and times of ``targets``, the run recorded for the next one (``full``: it re-evaluated everyone for
    every segment) and marked finished, the lock released. Done again, the same."""
    finish(targets, now)
    _remember(client, wanted, now, full=full)
    client.hset(_key(run), "finished", time.time())
    Lock(client, token).release()
    found = progress(run, client=client)
    logger.info("Recomputed segments across workers: %s", found.summary() if found else run)


def progress(run: str | None = None, *, client: redis.Redis | None = None) -> RunProgress | None:
    """Where ``run`` (the latest if None) is, or None if Redis doesn't know it (expired, never started)."""
    client = client or redis_client()
    if run is None:
        current = client.get(_current_key())
        if current is None:
            return None
        run = current.decode() if isinstance(current, bytes) else str(current)
    pipeline = client.pipeline()
    pipeline.hgetall(_key(run))
    pipeline.scard(_done_key(run))
    raw, done = pipeline.execute()
    if not raw:
        return None
    state = _decoded(raw)
    started = float(state["started"])
    finished = "finished" in state
    return RunProgress(
        run=run,
        segments=int(state["segments_count"]),
        chunks=int(state["chunks"]),
        chunks_done=int(done),
        visitors_total=int(state["visitors_total"]),
        visitors=int(state["visitors"]),
        joins=int(state["joins"]),
        leaves=int(state["leaves"]),
        changed=int(state["changed"]),
        snapshots=int(state["snapshots"]),
        seconds=(float(state["finished"]) if finished else time.time()) - started,
        finished=finished,
        workers=state.get("workers", "1") != "0",  # a run started before this was recorded: the workers' way
    )


def wait_for_run(
    run: str, *, report: Callable[[RunProgress], None] | None = None, poll: float = 0.2, timeout: float | None = None
) -> RunProgress:
    """Block until ``run`` is finished, calling ``report`` with its progress at every ``poll``; raises
    ``TimeoutError`` after ``timeout`` seconds, ``LookupError`` when Redis forgets the run."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        found = progress(run)
        if found is None:
            raise LookupError(f"Recompute {run} is not known (any more).")
        if report is not None:
            report(found)
        if found.finished:
            return found
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"Recompute {run} did not finish within {timeout} s.")
        time.sleep(poll)
