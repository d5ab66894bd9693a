"""Retries wait in Redis, not in a worker (retries.py): an edge purge while the edge is down and a saved segment's
recompute while a full one runs are tried again later with no ETA message held by a worker, so a Redis outage
meanwhile loses nothing and the worker rides it out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis

from tailored_cms import api, connection, retries
from tailored_cms.celery_app import app
from tailored_cms.edge.tasks import purge_edge
from tailored_cms.rules.models import Segment
from tailored_cms.rules.recompute import Lock
from tailored_cms.rules.tasks import RETRY_SECONDS

from .redis_server import RedisServer, free_port
from .tracking.conftest import celery_worker_process, shared_db  # noqa: F401 -- fixtures


class Edge:
    """An edge cache that records the BANs it is sent; it answers once started (before: connection refused)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.banned: list[str] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        banned = self.banned

        class Handler(BaseHTTPRequestHandler):
            def do_BAN(self) -> None:  # noqa: N802 -- the method's name
                banned.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def edge() -> Iterator[Edge]:
    server = Edge()
    yield server
    server.stop()


@pytest.fixture
def persistent_redis(settings) -> Iterator[RedisServer]:
    """A Redis of this test's own that keeps its data when stopped and started again; tailored_cms's Redis (DB 0)
    and the Celery app's broker (DB 1) of this process."""
    server = RedisServer(persistent=True)
    server.start()
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "REDIS_URL": server.url}
    connection.reset()
    before = app.conf.broker_url, app.conf.task_always_eager
    app.conf.update(broker_url=server.url.rsplit("/", 1)[0] + "/1", task_always_eager=False)
    app.close()  # the producers of an earlier broker go (tests/tracking/conftest.py's celery_app says why)
    app.__dict__.pop("amqp", None)
    yield server
    app.conf.update(broker_url=before[0], task_always_eager=before[1])
    app.close()
    app.__dict__.pop("amqp", None)
    connection.reset()
    server.stop()


def eventually(condition: Callable[[], bool], timeout: float, what: str, logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{logs()}")
        time.sleep(0.1)


def waiting(task: str) -> list[dict]:
    try:
        return [entry for entry in retries.pending() if entry["task"] == task]
    except redis.ConnectionError:
        return []


@pytest.mark.django_db(transaction=True)
def test_a_retry_for_later_waits_in_redis_and_is_sent_when_due(persistent_redis, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "EDGE_PURGE_URLS": ["http://127.0.0.1:1"]}
    broker = redis.Redis.from_url(app.conf.broker_url)
    purge_edge.apply_async((["/news/"],), countdown=60, retries=3)
    assert broker.llen("tailored_fresh") == 0  # no message yet
    [entry] = retries.pending()
    assert (entry["task"], entry["args"], entry["retries"]) == (purge_edge.name, [["/news/"]], 3)
    assert 55 < entry["due"] - time.time() <= 60
    assert retries.send_due(app) == 0  # not due
    assert retries.send_due(app, now=time.time() + 61) == 1
    assert retries.pending() == []
    assert broker.llen("tailored_fresh") == 1  # the purge's queue
    message = broker.lindex("tailored_fresh", 0)
    assert b'"retries": 3' in message and entry["id"].encode() in message


@pytest.mark.django_db(transaction=True)
def test_retries_pending_through_a_redis_outage_are_neither_lost_nor_crash_the_worker(
    persistent_redis,
    celery_worker_process,  # noqa: F811 -- the fixture imported above
    edge,
    settings,
):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "EDGE_PURGE_URLS": [edge.url]}
    broker_url = app.conf.broker_url
    worker = celery_worker_process({"TAILORED_TEST_BROKER_URL": broker_url})
    # A full recompute runs (its lock held): a saved segment's recompute is retried later.
    lock = Lock(connection.get_redis())
    assert lock.acquire()
    fans = api.create_segment("fans", rules={"rule": "visit_count", "min": 2})  # queues its recompute
    purge_edge.delay(["/news/"])  # the edge doesn't answer: retried later

    eventually(lambda: waiting(purge_edge.name), 60, "the purge's retry", worker.logs)
    eventually(lambda: waiting("tailored_cms.rules.recompute_segments"), 60, "the recompute's retry", worker.logs)
    assert "raised unexpected" not in worker.logs()
    # The worker holds no message for later: the task's message is acknowledged once it has stored its retry
    # (a moment after the retry shows in Redis), never kept unacknowledged until the retry is due.
    broker = redis.Redis.from_url(broker_url)
    eventually(lambda: not broker.hlen("unacked"), 10, "no unacknowledged message", worker.logs)

    persistent_redis.stop()
    eventually(lambda: "Connection to broker lost" in worker.logs(), 40, "the worker to notice", worker.logs)
    time.sleep(3)  # retries come due while Redis is away
    persistent_redis.start()  # with everything it had
    edge.start()

    eventually(lambda: edge.banned == ["/news/"], 90, "the purge", worker.logs)
    assert waiting("tailored_cms.rules.recompute_segments")  # kept through the outage
    lock.release()
    retries.send_due(app, now=time.time() + RETRY_SECONDS)  # due: beat would send it within RETRY_SECONDS
    eventually(lambda: Segment.objects.get(pk=fans.pk).size is not None, 60, "the recompute", worker.logs)
    assert retries.pending() == []
    assert worker.alive(), worker.logs()
    assert "Unrecoverable error" not in worker.logs() and "restore_unacked" not in worker.logs()
