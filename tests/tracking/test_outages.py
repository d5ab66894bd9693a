"""Outages with real services: the database or Redis goes away under a running worker, and comes back.

The database outage is real on both backends. PostgreSQL: the worker process reaches it through a TCP proxy
(``tcp_proxy.py``) that the test cuts, dropping the worker's connection mid-conversation and every new one, as a
database restart or a network failure does. SQLite: another connection holds the database file's lock (``BEGIN
EXCLUSIVE``; inside a transaction, where the worker holds the write lock already, a read that keeps its commit
from taking the file) longer than the worker waits, so its statements fail with "database is locked".
The Redis outage stops the private redis-server and starts it again (empty, as a Redis without persistence).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tailored_cms.tracking import stream_key
from tailored_cms.tracking.models import Event, EventCounts, SpooledEvent, TopicViews
from tailored_cms.tracking.stream import group_name
from tailored_cms.visitors.models import Visitor

from .conftest import DESKTOP_UA, WorkerProcess, add_events, consenting_client, stream_length
from .tcp_proxy import TcpProxy
from .test_workers import TOPICS, assert_counted_exactly_once, make_events

# --- the database outage ------------------------------------------------------------------------------------------


class DatabaseOutage:
    """Takes the database away from worker processes started with ``extra_env``, and gives it back."""

    extra_env: dict[str, str]
    symptom: str  # what the worker's error says

    def cut(self, *, worker_in_transaction: bool) -> None:
        raise NotImplementedError

    def restore(self) -> None:
        raise NotImplementedError


class PostgresOutage(DatabaseOutage):
    """The worker's connections go through a proxy in front of the real server; cut drops them all."""

    symptom = "server closed the connection"

    def __init__(self, host: str, port: int) -> None:
        self.proxy = TcpProxy(host, port)
        self.extra_env = {"TAILORED_DB_HOST": "127.0.0.1", "TAILORED_DB_PORT": str(self.proxy.port)}

    def cut(self, *, worker_in_transaction: bool) -> None:
        self.proxy.cut()

    def restore(self) -> None:
        self.proxy.restore()


class SqliteOutage(DatabaseOutage):
    """Another connection holds the file's lock; the worker gives up waiting for it after a fifth of a second."""

    symptom = "database is locked"

    def __init__(self, path: str) -> None:
        self.path = path
        self.extra_env = {"TAILORED_TEST_SQLITE_TIMEOUT": "0.2"}
        self.holder: sqlite3.Connection | None = None

    def cut(self, *, worker_in_transaction: bool) -> None:
        self.holder = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        if worker_in_transaction:
            # The worker holds the write lock: a reader's lock is what keeps its COMMIT from taking the file.
            self.holder.execute("BEGIN")
            self.holder.execute("SELECT count(*) FROM tailored_cms_event").fetchone()
        else:
            self.holder.execute("BEGIN EXCLUSIVE")

    def restore(self) -> None:
        assert self.holder is not None
        self.holder.execute("ROLLBACK")
        self.holder.close()
        self.holder = None


@pytest.fixture
def database_outage(shared_db) -> Iterator[DatabaseOutage]:
    if connection.vendor == "sqlite":
        outage: DatabaseOutage = SqliteOutage(shared_db["TAILORED_TEST_DB_NAME"])
    else:
        outage = PostgresOutage(connection.settings_dict["HOST"], int(connection.settings_dict["PORT"]))
    yield outage
    if isinstance(outage, SqliteOutage) and outage.holder is not None:
        outage.restore()
    if isinstance(outage, PostgresOutage):
        outage.proxy.close()


@pytest.fixture
def tagged_pages(tagged_page, shared_db):
    return {slug: tagged_page(slug, topics=topics) for slug, topics in TOPICS.items()}


def pending(client: redis.Redis) -> int:
    """Entries read by a consumer and not acknowledged."""
    try:
        return int(client.xpending(stream_key(), group_name())["pending"])
    except redis.ResponseError:  # no group yet
        return 0


def eventually(condition: Callable[[], bool], seconds: float = 15, what: str = "") -> None:
    """Wait (checking every 0.1 s) until ``condition()`` holds: for what a worker does in the background."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.1)


def looping_worker(
    worker_process: Callable[..., WorkerProcess], tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None
) -> tuple[WorkerProcess, Path, Path]:
    """A worker draining every 0.1 s until told to stop, as beat makes one; (the worker, resume file, stop file)."""
    resume, stop = tmp_path / "resume", tmp_path / "stop"
    worker = worker_process(
        "--until", str(stop), "--every", "0.1", "--resume", str(resume), "--seconds", "5", *args, extra_env=extra_env
    )
    worker.wait_for("ready")
    return worker, resume, stop


MOMENTS = {
    # where the worker is when the database goes away: (its pause, committed by then, read and not acknowledged)
    "inside the transaction": ("--pause-before-commit", 0, 100),
    "between two batches": ("--pause-before-ack", 100, 100),
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_database_outage_mid_drain_acknowledges_nothing_and_the_worker_recovers_on_its_own(
    moment, tagged_pages, tailored_redis, worker_process, database_outage, settings, tmp_path
):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_BATCH": 100, "INGEST_CLAIM_IDLE_SECONDS": 0.5}
    pause, committed, unacknowledged = MOMENTS[moment]
    events = make_events(300, visitors=20)
    add_events(tailored_redis, events)
    worker, resume, stop = looping_worker(worker_process, tmp_path, pause, extra_env=database_outage.extra_env)
    worker.wait_for("paused")  # first batch read; inside its transaction, or committed and not yet acknowledged

    database_outage.cut(worker_in_transaction=pause == "--pause-before-commit")
    resume.touch()
    first = worker.wait_for_record(lambda r: True)
    assert database_outage.symptom in first.get("error", ""), first
    worker.wait_for_record(lambda r: "error" in r)  # and again: the outage lasts, the worker keeps trying
    # Nothing of the failed batches was acknowledged: still in the stream, pending (each failed drain read one
    # more batch), to be claimed again once idle for INGEST_CLAIM_IDLE_SECONDS.
    assert stream_length(tailored_redis) == 300 - committed
    assert pending(tailored_redis) >= unacknowledged

    database_outage.restore()
    worker.wait_for_record(lambda r: "stats" in r and stream_length(tailored_redis) == 0)
    stop.touch()
    summary = worker.result()

    # The same process, which never stopped, stored every event of the failed batches, none of them twice.
    assert summary["errors"] >= 2
    assert (summary["new"], summary["duplicates"]) == (300 - committed, 0)
    assert pending(tailored_redis) == 0
    assert_counted_exactly_once(events)


def test_events_arriving_while_the_database_is_away_wait_in_the_stream(
    tagged_pages, tailored_redis, worker_process, database_outage, settings, tmp_path
):
    """The outage begins while the worker is idle between drains (its connection open, unused)."""
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_BATCH": 100, "INGEST_CLAIM_IDLE_SECONDS": 0.5}
    events = make_events(300, visitors=20)
    add_events(tailored_redis, events[:100])
    worker, _resume, stop = looping_worker(worker_process, tmp_path, extra_env=database_outage.extra_env)
    worker.wait_for_record(lambda r: r.get("stats", {}).get("new") == 100)  # connected, and working
    worker.wait_for_record(lambda r: "stats" in r)  # an idle drain: nothing to do

    database_outage.cut(worker_in_transaction=False)
    add_events(tailored_redis, events[100:])
    first_error = worker.wait_for_record(lambda r: "error" in r)
    assert database_outage.symptom in first_error["error"]
    worker.wait_for_record(lambda r: "error" in r)
    assert stream_length(tailored_redis) == 200

    database_outage.restore()
    # Django's connection broke with the database; had nobody closed it, every later query would fail on it
    # ("the connection is closed") long after the database is back.
    worker.wait_for_record(lambda r: "stats" in r and stream_length(tailored_redis) == 0)
    stop.touch()
    summary = worker.result()

    assert summary["errors"] >= 2
    assert (summary["new"], summary["duplicates"]) == (300, 0)
    assert pending(tailored_redis) == 0
    assert_counted_exactly_once(events)


def failed_ingests(log: str) -> int:
    return len(re.findall(r"ingest_events\[[-0-9a-f]+\] raised unexpected: OperationalError", log))


def test_a_real_celery_worker_rides_out_a_database_outage(
    tagged_pages, tailored_redis, celery_worker_process, database_outage, settings
):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_BATCH": 100, "INGEST_CLAIM_IDLE_SECONDS": 0.5}
    events = make_events(300, visitors=20)
    add_events(tailored_redis, events[:100])
    worker = celery_worker_process(database_outage.extra_env)
    eventually(lambda: stream_length(tailored_redis) == 0, 40, "the first events ingested")  # beat: every second

    database_outage.cut(worker_in_transaction=False)
    add_events(tailored_redis, events[100:])
    # Beat's next runs fail (Celery's Django fixup opens a new connection for each task: that fails now).
    eventually(lambda: failed_ingests(worker.logs()) >= 2, 20, "two failed runs")
    assert stream_length(tailored_redis) == 200 and worker.alive()  # nothing acknowledged

    database_outage.restore()
    eventually(lambda: stream_length(tailored_redis) == 0 and pending(tailored_redis) == 0, 30, "the backlog drained")
    assert worker.alive(), worker.logs()
    assert_counted_exactly_once(events)


# --- the Redis outage ---------------------------------------------------------------------------------------------


def consenting_visitor() -> tuple[Client, str]:
    """A browser whose visitor agreed to tracking; and the visitor's id."""
    client = consenting_client(HTTP_USER_AGENT=DESKTOP_UA)
    return client, str(Visitor.objects.order_by("-created_at").values_list("pk", flat=True).first())


def view(visitors: list[tuple[Client, str]], *paths: str) -> None:
    for client, _visitor_id in visitors:
        for path in paths:
            assert client.get(path).status_code == 200


def counted(visitors: list[tuple[Client, str]]) -> dict[str, tuple[int, int, dict[str, int]]]:
    """Per visitor: page views stored, page views counted, and topic views counted."""
    result = {}
    for _client, visitor_id in visitors:
        stored = Event.objects.filter(visitor_id=visitor_id, name="page_view").count()
        views = EventCounts.objects.filter(visitor_id=visitor_id, name="page_view").aggregate(n=Sum("count"))["n"]
        topics = dict(TopicViews.objects.filter(visitor_id=visitor_id).values_list("topic").annotate(n=Sum("count")))
        result[visitor_id] = (stored, views, topics)
    return result


@pytest.mark.parametrize("worker_kind", ["celery worker", "drain loop"])
def test_a_redis_outage_under_a_running_worker_loses_nothing_and_counts_every_event_once(
    worker_kind, tagged_pages, redis_server, tailored_redis, celery_worker_process, worker_process, settings, tmp_path
):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_CLAIM_IDLE_SECONDS": 0.5, "REDIS_RETRY_AFTER": 0.5}
    visitors = [consenting_visitor() for _ in range(2)]
    stop = tmp_path / "stop"
    if worker_kind == "celery worker":  # beat and the tasks go through Redis too: the outage stops them all
        worker = celery_worker_process()
        alive, logs = worker.alive, worker.logs
    else:
        looping = worker_process("--until", str(stop), "--every", "0.1", "--seconds", "2")
        alive, logs = (lambda: looping.process.poll() is None), (lambda: str(looping.records[-5:]))

    view(visitors, "/sports/", "/sports/")  # into the stream
    eventually(lambda: Event.objects.count() == 4, 40, "the first page views ingested")

    redis_server.stop()
    try:
        with CaptureQueriesContext(connection) as queries:
            view(visitors, "/news/", "/news/", "/news/")  # the pages answer; their views go to the database
        spooled = [q for q in queries if q["sql"].startswith(f'INSERT INTO "{SpooledEvent._meta.db_table}"')]
        assert len(spooled) == 6
        if worker_kind == "drain loop":  # the spool comes first: ingested while Redis is still down
            eventually(lambda: Event.objects.count() == 10 and not SpooledEvent.objects.exists(), 20, "spool ingested")
        else:  # the worker loses its broker (the same Redis), and keeps trying to connect
            eventually(lambda: "Connection to broker lost" in logs(), 40, "the worker to notice")
            eventually(lambda: "Trying again" in logs(), 40, "the worker to retry")
        assert alive(), logs()
    finally:
        redis_server.start()  # empty: a Redis without persistence lost the stream and the snapshots

    time.sleep(0.6)  # REDIS_RETRY_AFTER: the request path's circuit breaker closes again
    view(visitors, "/about/", "/sports/")  # back into the stream
    eventually(lambda: Event.objects.count() == 14, 40, "every page view ingested")
    eventually(lambda: stream_length(tailored_redis) == 0 and not SpooledEvent.objects.exists(), 20, "all acked")

    assert alive(), logs()
    assert counted(visitors) == {
        visitor_id: (7, 7, {"sports": 3, "news": 3, "politics": 3}) for _client, visitor_id in visitors
    }
    if worker_kind == "drain loop":
        stop.touch()
        summary = looping.result()
        # It kept running through drains that failed on Redis (after they had ingested the spool); none of its
        # drains found an event stored already.
        assert summary["errors"] >= 1 and summary["duplicates"] == 0
