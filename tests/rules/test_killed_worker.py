"""A recompute across real Celery workers whose processes are killed inside a chunk (SIGKILL, rows written in the
chunk's transaction): the chunk is redone, the run completes, and the memberships are those of a recompute in one
process, each join counted once.

The workers are ``celery worker`` processes (the suite's ``celery_worker_process``: prefork, one pool process,
queue ``tailored_bulk``) on the shared database, with the private Redis as broker; the second starts without
emptying it. ``tests/rules/stalling_worker.py`` makes their pool processes stall inside a chunk, so the test knows
when to kill: first the pool process alone (its worker gives the chunk back: ``reject_on_worker_lost``), then the
whole worker, pool and parent at once (the chunk stays unacknowledged in the broker until a worker started after it
restores it: its visibility timeout).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
import redis

from tailored_cms import api
from tailored_cms.rules.models import Membership, Segment
from tailored_cms.rules.recompute import recompute_segments
from tailored_cms.rules.runs import progress, wait_for_run
from tailored_cms.rules.tasks import start_recompute

from ..tracking.conftest import CeleryWorkerProcess
from .conftest import NOW

FANS = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}
# A worker started after the kill restores a chunk left unacknowledged this long ago (s), looking every second.
VISIBILITY = {"visibility_timeout": 3, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
# The workers: the stalling app, prefork with one pool process, taking the chunks' queue only (no beat).
CHUNK_WORKER = {
    "app": "tests.rules.stalling_worker",
    "options": (
        *("--pool", "prefork", "--concurrency", "1", "--prefetch-multiplier", "1"),
        *("-Q", "tailored_bulk", "--without-heartbeat"),
    ),
}


def wait_for_stall(directory: Path, n: int, worker: CeleryWorkerProcess, timeout: float = 60) -> dict:
    """The record of stall ``n`` (a pool process inside a chunk, rows written), once it is there."""
    path = directory / f"stall-{n}.json"
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline or worker.process.poll() is not None:
            raise AssertionError(f"no chunk stalled ({path.name}): {worker.logs()}")
        time.sleep(0.05)
    return json.loads(path.read_text())


def wait_until_dead(pid: int, timeout: float = 10) -> None:
    """Until ``pid`` has stopped running (a killed process whose parent died too stays a zombie until reaped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still runs")


def current() -> set[tuple[str, str, str]]:
    return {
        (str(v), s, repr(c))
        for v, s, c in Membership.objects.filter(left_at__isnull=True).values_list(
            "visitor_id", "segment__slug", "condition"
        )
    }


@pytest.mark.django_db(transaction=True)
def test_chunks_killed_inside_their_transaction_are_redone_and_counted_once(
    make_visitor, shared_db, celery_app, celery_worker_process, tailored_redis, tmp_path
):
    for n in range(40):
        make_visitor(views={"sports": [(0, n % 5)]} if n % 5 else {}, visits=n % 4)
    api.create_segment("fans", rules=FANS)
    api.create_segment("returning", rules={"rule": "visit_count", "min": 2})
    api.create_segment(
        "mobile-fans", rules={"all": [{"rule": "segment", "slug": "fans"}, {"rule": "device", "is": "mobile"}]}
    )
    summary = recompute_segments(now=NOW)  # in one process: what the run must give
    whole, joins = current(), summary.joins
    assert joins > 0
    Membership.objects.all().delete()
    Segment.objects.update(size=None, computed_at=None)

    stalls = tmp_path / "stalls"
    stalls.mkdir()
    first = celery_worker_process(
        {"TAILORED_TEST_STALLS": str(stalls), "TAILORED_TEST_STALL_COUNT": "2"}, name="first", **CHUNK_WORKER
    )
    run = start_recompute(app=celery_app, chunk_size=5, now=NOW)

    # The pool process is killed inside a chunk: the worker gives the chunk back, and a new pool process goes on.
    killed_alone = wait_for_stall(stalls, 0, first)
    assert killed_alone["visitors"]  # rows written, not committed
    os.kill(killed_alone["pid"], signal.SIGKILL)
    # The whole worker is killed inside a chunk: its chunk waits in the broker, unacknowledged.
    killed_whole = wait_for_stall(stalls, 1, first)
    assert killed_whole["visitors"] and killed_whole["pid"] != killed_alone["pid"]
    first.kill_whole()
    wait_until_dead(killed_whole["pid"])
    assert "WorkerLostError" in first.logs()  # the first kill: the worker saw its pool process die
    found = progress(run)
    assert found is not None and not found.finished
    assert not {m for m in current() if m[0] in killed_whole["visitors"]}  # its transaction rolled back

    # Not flushing the broker: the chunk the first worker left unacknowledged is there.
    second = celery_worker_process(
        {"TAILORED_TEST_BROKER_TRANSPORT_OPTIONS": json.dumps(VISIBILITY)},
        flush_broker=False,
        name="second",
        **CHUNK_WORKER,
    )
    try:
        done = wait_for_run(run, timeout=90)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{first.logs()}\n{second.logs()}") from exc
    assert current() == whole
    assert (done.chunks_done, done.visitors, done.joins) == (done.chunks, 40, joins)  # nothing counted twice
    assert done.chunks == 8
    logs = first.logs() + second.logs()
    for killed in (killed_alone, killed_whole):
        assert f"recompute_chunk[{killed['task']}] succeeded" in logs  # redone
    assert f"recompute_chunk[{killed_whole['task']}] succeeded" in second.logs()  # by the worker started after
    assert Segment.objects.get(slug="fans").size == len({v for v, s, _c in whole if s == "fans"})
    second.stop()
    assert second.process.returncode == 0, second.logs()
    assert not redis.Redis.from_url(celery_app.conf.broker_url).hlen("unacked")  # every chunk acknowledged
