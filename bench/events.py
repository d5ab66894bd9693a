"""Event capture and ingest: ``events/`` under gunicorn against a baseline endpoint, then the ingest's rate.

1. ``events/`` served by gunicorn (bench/served.py) and loaded by ``wrk``: 20-event batches posted as
   ``text/plain`` (as ``navigator.sendBeacon`` does), cycling 1,000 consenting visitors' cookies. In the same run,
   the baseline: the same batches to a bench-only view that inserts one ``Event`` row per event through the ORM.
   Afterwards the stream (and the baseline's table) must hold every event the server accepted.
2. The ingest: 100,000 events of 2,000 visitors in the stream (in 20-event bursts per visitor, as the beacon sends
   them; 70 % page views of the demo's pages, 30 % clicks), drained into the database by a real Celery worker
   (bench/worker.py) as a site runs it: Celery's default concurrency (one process per core), each process running
   the beat's ingest task (several drains at once share the stream through the consumer group). For comparison,
   the same events drained by ``drain`` in this process alone. Then the worst case: 20,000 events where every event
   of a batch is another visitor's, in this process.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from string import Template
from typing import Any

from cms.models import PageUrl
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone

from tailored_cms.conf import tailored_settings
from tailored_cms.rules import receivers as rules_receivers
from tailored_cms.tracking import TrackedEvent, append, drain, stream_key
from tailored_cms.tracking.ingest import worker_redis
from tailored_cms.tracking.models import Event
from tailored_cms.tracking.tasks import INGEST_TASK
from tailored_cms.visitors.identity import set_visitor_cookie
from tailored_cms.visitors.models import Visitor
from tailored_cms.visitors.snapshot import Snapshot
from tailored_cms.visitors.store import get_store

from .served import Load, Served, load
from .worker import CeleryWorker

BATCH = 20  # events per request
VISITORS = 1000  # consenting visitors whose cookies the load cycles through
SECONDS = 12  # measured per side, in ROUNDS alternating rounds; the ratio is the median of the rounds' ratios
ROUNDS = 6
WARMUP_SECONDS = 2
CONNECTIONS = 8
# gunicorn: 2 gthread workers × 2 threads (keep-alive), CONNECTIONS // WORKERS connections each (see bench/served.py)
WORKERS, THREADS = 2, 2
INGEST_EVENTS, INGEST_VISITORS = 100_000, 2000
WORST_CASE_EVENTS = 20_000
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"

# wrk's Lua: each thread builds bodies of BATCH events with ids unique to the run, thread and request, and
# cycles the cookies; load() adds the counting of the answers.
WRK_SCRIPT = Template(
    """
local cookies = {$cookies}
local threads = {}
counter, sent, answered, ok = 0, 0, 0, 0  -- globals: done() reads them with thread:get()

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function request()
  counter = counter + 1
  sent = sent + 1
  local parts = {}
  for i = 1, $batch do
    parts[i] = string.format(
      '{"id":"%08x-%04x-4000-8000-%012x","name":"click","ts":"$ts","props":{"variant":"v%d","n":%d},"path":"/"}',
      thread_id, $run, counter * $batch + i, i % 7, i)
  end
  local cookie = cookies[(counter + thread_id * 101) % #cookies + 1]
  return wrk.format("POST", "$path", {
    ["Content-Type"] = "text/plain;charset=UTF-8",
    ["Cookie"] = "tailored_vid=" .. cookie,
    ["Origin"] = "$origin",
    ["User-Agent"] = "$ua",
  }, '{"events":[' .. table.concat(parts, ",") .. ']}')
end
"""
)


def consenting_cookies(n: int) -> list[str]:
    """``n`` visitors who said yes to tracking (rows and snapshots), as the values of their signed cookies."""
    visitors = Visitor.objects.bulk_create(Visitor(tracking_consent=True) for _ in range(n))
    store = get_store()
    cookies = []
    for visitor in visitors:
        store.set(Snapshot(visitor_id=str(visitor.pk), tracking_consent=True))
        response = HttpResponse()
        set_visitor_cookie(response, str(visitor.pk))
        cookies.append(response.cookies[tailored_settings.COOKIE_NAME].value)
    return cookies


def measure(served: Served, path: str, cookies: list[str], run: int, seconds: int) -> Load:
    script = WRK_SCRIPT.substitute(
        cookies=",".join(f'"{cookie}"' for cookie in cookies),
        batch=BATCH,
        ts=timezone.now().isoformat().replace("+00:00", "Z"),
        run=run,
        path=path,
        origin=served.url,
        ua=UA,
    )
    return load(served.url + path, script, seconds=seconds, connections=CONNECTIONS, ok_status=202)


def settled(count: Callable[[], int]) -> int:
    """``count()`` once it stops changing: the requests queued when wrk stopped have been answered."""
    last = count()
    while True:
        time.sleep(0.5)
        now = count()
        if now == last:
            return now
        last = now


def check_nothing_lost(name: str, result: Load, stored: int) -> str:
    """Every accepted batch's events are stored; at most the batches in flight when wrk stopped are extra."""
    if result.ok != result.answered:
        raise AssertionError(f"{name}: {result.answered - result.ok} of {result.answered} answers were not 202")
    low, high = result.ok * BATCH, result.sent * BATCH
    if not low <= stored <= high:
        raise AssertionError(
            f"{name}: {stored} events stored for {result.ok} accepted batches (expected {low}..{high})"
        )
    return f"{stored:,} stored for {result.ok:,} accepted batches"


def combined(loads: list[Load]) -> Load:
    """Rounds of equal length as one: the mean rate, the summed counts."""
    return Load(
        sum(x.requests_per_second for x in loads) / len(loads),
        sum(x.sent for x in loads),
        sum(x.answered for x in loads),
        sum(x.ok for x in loads),
        "",
    )


def endpoint_rows() -> list[dict[str, str]]:
    cookies = consenting_cookies(VISITORS)
    redis = worker_redis()
    redis.delete(stream_key())
    connection.close()  # gunicorn's workers use the database; this process doesn't hold it meanwhile
    events_path, baseline_path = "/tailored/api/v1/events/", "/bench/baseline-events/"
    loads: dict[str, list[Load]] = {events_path: [], baseline_path: []}
    with Served(WORKERS, THREADS, connections_per_worker=CONNECTIONS // WORKERS) as served:
        for run, path in enumerate((events_path, baseline_path), start=1):  # warm up: imports, connections
            measure(served, path, cookies, run, WARMUP_SECONDS)
        settled(Event.objects.count)
        redis.delete(stream_key())
        Event.objects.all().delete()
        connection.close()
        # Alternating rounds, so that other work on the machine weighs on both sides alike.
        for round_number in range(ROUNDS):
            for offset, path in enumerate((events_path, baseline_path)):
                loads[path].append(measure(served, path, cookies, 10 + 2 * round_number + offset, SECONDS // ROUNDS))
        for path, rounds in loads.items():
            print(f"  {path} batches/s by round: {', '.join(f'{x.requests_per_second:.0f}' for x in rounds)}")
        in_stream = settled(lambda: int(redis.xlen(stream_key())))
        as_rows = settled(Event.objects.count)
        connection.close()
        kind = served.kind
    tailored, baseline = combined(loads[events_path]), combined(loads[baseline_path])
    stream_note = check_nothing_lost("events/", tailored, in_stream)
    baseline_note = check_nothing_lost("baseline", baseline, as_rows)
    print(f"  events/: {stream_note} in the stream; baseline: {baseline_note} as rows")
    print(f"  load average (other processes compete for the cores): {os.getloadavg()[0]:.1f}")
    tailored_rate, baseline_rate = tailored.requests_per_second * BATCH, baseline.requests_per_second * BATCH
    # Each round's ratio compares the two sides a few seconds apart: a burst of other work on the machine moves
    # one round, not the median.
    ratio = statistics.median(
        ours.requests_per_second / theirs.requests_per_second
        for ours, theirs in zip(loads[events_path], loads[baseline_path], strict=True)
    )
    redis.delete(stream_key())
    return [
        {
            "figure": f"events/ events/s ({kind}, {BATCH}-event batches, {VISITORS:,} visitors)",
            "tailored": f"{tailored_rate:,.0f}",
            "baseline": f"{baseline_rate:,.0f} (ORM row per event)",
            "ratio": f"{ratio:.1f}x",
            "target": ">= 5,000/s, >= 5x",
            "how": f"served: gunicorn {kind}, wrk -c {CONNECTIONS}, {ROUNDS} alternating rounds of "
            f"{SECONDS // ROUNDS} s, median of the rounds' ratios",
        }
    ]


def page_paths() -> list[str]:
    """The paths of the demo's CMS pages (page views elsewhere are dropped by the ingest)."""
    paths = {"/" + path + "/" if path else "/" for path in PageUrl.objects.values_list("path", flat=True)}
    return sorted(paths)


def ingest_events(n: int, visitors: int, burst: int) -> list[TrackedEvent]:
    """``n`` events of ``visitors`` new visitors, ``burst`` in a row per visitor; 70 % page views, 30 % clicks."""
    rng = random.Random(7)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(visitors)]
    paths = page_paths()
    start = timezone.now() - timedelta(hours=2)
    events = []
    for i in range(n):
        visitor = ids[(i // burst) % visitors]
        ts = start + timedelta(milliseconds=i * 50)
        if rng.random() < 0.7:
            events.append(TrackedEvent.page_view(visitor, rng.choice(paths), ts=ts, user_agent=UA, host="testserver"))
        else:
            events.append(TrackedEvent(visitor, "click", ts=ts, props={"variant": f"v{i % 7}"}, path="/"))
    return events


def fill_stream(events: list[TrackedEvent]) -> None:
    redis = worker_redis()
    redis.delete(stream_key())
    for start in range(0, len(events), 1000):
        pipeline = redis.pipeline(transaction=False)
        append(pipeline, events[start : start + 1000])
        pipeline.execute()


def worker_ingest_rate(worker: CeleryWorker, events: list[TrackedEvent]) -> tuple[float, str]:
    """The worker's events/s for ``events`` put in the stream: one ingest task per process, as beat sends them
    (every second, each draining for up to 3 s) while a backlog lasts; timed until the stream is empty and the
    tasks have ended (their last re-evaluation of segments included)."""
    from tailored_cms.celery_app import app

    fill_stream(events)
    stored = Event.objects.count()
    redis = worker_redis()
    inspector = app.control.inspect(timeout=1.0, limit=1)  # one worker: its reply ends the wait
    started = time.perf_counter()
    for _ in range(worker.concurrency):
        app.send_task(INGEST_TASK, kwargs={"max_seconds": 600})
    deadline = started + 600
    while redis.xlen(stream_key()) and time.perf_counter() < deadline:
        time.sleep(0.01)
    while any((inspector.active() or {}).values()) and time.perf_counter() < deadline:
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    stored = Event.objects.count() - stored
    if stored != len(events) or redis.xlen(stream_key()):
        raise AssertionError(f"the worker stored {stored:,} of {len(events):,} events")
    visitors = len({e.visitor_id for e in events})
    return len(events) / seconds, f"{len(events):,} events of {visitors:,} visitors in {seconds:.2f} s"


def ingest_rate(events: list[TrackedEvent]) -> tuple[float, str]:
    """``drain``'s events/s for ``events`` put in the stream, as the beat task runs it (segments re-evaluated)."""
    fill_stream(events)
    redis = worker_redis()
    segments = [0.0]
    recompute = rules_receivers.recompute_visitors  # the segments of the visitors a drain touched

    def timed_recompute(visitor_ids: Any) -> Any:  # how much of the time segments take, for the note
        started = time.perf_counter()
        try:
            return recompute(visitor_ids)
        finally:
            segments[0] += time.perf_counter() - started

    rules_receivers.recompute_visitors = timed_recompute  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        stats = drain(max_seconds=600)
        seconds = time.perf_counter() - started
    finally:
        rules_receivers.recompute_visitors = recompute
    if stats.read != len(events) or stats.new + stats.not_pages != len(events) or redis.xlen(stream_key()):
        raise AssertionError(f"ingest lost events: {stats}")
    visitors = len({e.visitor_id for e in events})
    note = f"{stats.read:,} events of {visitors:,} visitors in {seconds:.2f} s (of which segments: {segments[0]:.2f} s)"
    return stats.read / seconds, note


def ingest_rows() -> list[dict[str, str]]:
    vendor = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    events = ingest_events(INGEST_EVENTS, INGEST_VISITORS, burst=BATCH)
    connection.close()  # the worker's processes fork with none open
    with CeleryWorker() as worker:
        served, served_note = worker_ingest_rate(worker, events)
    Event.objects.all().delete()  # the same events again, in this process (their ids are new: nothing is skipped)
    bursts, bursts_note = ingest_rate(ingest_events(INGEST_EVENTS, INGEST_VISITORS, burst=BATCH))
    worst, worst_note = ingest_rate(ingest_events(WORST_CASE_EVENTS, INGEST_VISITORS, burst=1))
    print(f"  ingest by {worker.kind}, {BATCH}-event bursts: {served_note}")
    print(f"  ingest by one drain() in-process, {BATCH}-event bursts: {bursts_note}")
    print(f"  ingest by one drain(), every event another visitor's: {worst_note}")
    return [
        {
            "figure": f"ingest events/s into {vendor} ({BATCH}-event bursts per visitor)",
            "tailored": f"{served:,.0f}",
            "baseline": "-",
            "ratio": "-",
            "target": ">= 20,000/s",
            "how": f"{worker.kind}, the beat's ingest task, {INGEST_EVENTS:,} events",
        },
        {
            "figure": "  the same, one drain() in one process",
            "tailored": f"{bursts:,.0f}",
            "baseline": "-",
            "ratio": "-",
            "target": "-",
            "how": f"in-process: drain() of {INGEST_EVENTS:,} events, as the beat task runs it",
        },
        {
            "figure": f"ingest events/s into {vendor} (every event another visitor's)",
            "tailored": f"{worst:,.0f}",
            "baseline": "-",
            "ratio": "-",
            "target": "-",
            "how": f"in-process: drain() of {WORST_CASE_EVENTS:,} events",
        },
    ]


def run() -> list[dict[str, str]]:
    call_command("migrate", verbosity=0)
    call_command("tailored_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return endpoint_rows() + ingest_rows()
