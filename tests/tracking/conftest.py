"""Fixtures of the tracking tests: pages with topics, stream helpers, a database other threads and processes can
see, a real Celery worker, and worker processes.

Database for workers: threads and processes only see committed data, so those tests use ``shared_db``
(``transactional_db``). On PostgreSQL that is the test database itself. On SQLite the test database is in memory,
which other processes can't open, so ``shared_db`` copies it to a file (SQLite's backup API, milliseconds) and
points the connection settings at that file for the duration of the test: this test, the Celery worker's
threads and the worker processes all use the file.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from cms.api import create_page
from cms.models import Page
from django.db import connection
from django.test import Client
from django.urls import reverse

from tailored_cms import api
from tailored_cms.tracking import TrackedEvent, append, stream_key

ROOT = Path(__file__).resolve().parents[2]

DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)
MOBILE_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
)
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def add_events(client: redis.Redis, events: Iterable[TrackedEvent], chunk: int = 1000) -> int:
    """Append events as the request path does (``append`` on a pipeline), ``chunk`` per round trip."""
    total = 0
    events = list(events)
    for start in range(0, len(events), chunk):
        pipeline = client.pipeline(transaction=False)
        total += append(pipeline, events[start : start + chunk])
        pipeline.execute()
    return total


def stream_length(client: redis.Redis) -> int:
    return int(client.xlen(stream_key()))


@pytest.fixture
def tagged_page(db) -> Callable[..., Page]:
    """A CMS page at ``/<slug>/`` tagged with topics (created as needed)."""

    def make(slug: str, topics: Iterable[str] = (), title: str | None = None) -> Page:
        for topic in topics:
            api.create_topic(topic)
        page = create_page(title or slug.title(), "page.html", "en", slug=slug)
        api.tag_page(page, topics)
        return page

    return make


@pytest.fixture
def claim_immediately(settings) -> None:
    """Entries pending for any time at all count as abandoned (a test's "dead" worker is dead at once)."""
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_CLAIM_IDLE_SECONDS": 0}


@pytest.fixture
def shared_db(transactional_db, tmp_path) -> Iterator[dict[str, str]]:
    """A database that the Celery worker's threads and other processes see; yields the env they need for it."""
    settings_dict = connection.settings_dict
    if connection.vendor != "sqlite":
        yield {"TAILORED_TEST_DB_NAME": settings_dict["NAME"]}
        return
    memory_name, memory_options = settings_dict["NAME"], settings_dict.get("OPTIONS", {})
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as target:
        connection.connection.backup(target)
    keep_alive = sqlite3.connect(memory_name, uri=True)  # the in-memory database lives while a connection is open
    settings_dict["NAME"] = str(path)
    # Several writers: wait for the lock (timeout) and take it when the transaction starts (no upgrade deadlocks).
    settings_dict["OPTIONS"] = {**memory_options, "timeout": 30, "transaction_mode": "IMMEDIATE"}
    connection.close()
    try:
        yield {"TAILORED_TEST_DB_NAME": str(path)}
    finally:
        connection.close()
        settings_dict["NAME"], settings_dict["OPTIONS"] = memory_name, memory_options
        connection.connect()
        keep_alive.close()


@pytest.fixture
def celery_app(redis_server, tailored_redis):
    """tailored_cms's own Celery app, with the private Redis (DB 1) as its broker; tailored_cms's Redis (DB 0)
    empty: no recompute lock left by an earlier test's run whose chunks no worker took."""
    from tailored_cms.celery_app import app

    broker_url = redis_server.url.rsplit("/", 1)[0] + "/1"
    redis.Redis.from_url(broker_url).flushdb()
    app.conf.update(broker_url=broker_url, task_always_eager=False, broker_connection_retry_on_startup=True)
    # A producer pool an earlier test made publishes to the broker of the time; the app's amqp (a cached property,
    # which close() leaves alone when the app has no connection pool) makes a new one, for this broker.
    app.close()
    app.__dict__.pop("amqp", None)
    return app


@pytest.fixture
def celery_worker(celery_app, shared_db, tmp_path) -> Iterator[object]:
    """A real Celery worker (a thread of this process) consuming the private broker, with beat."""
    from celery.contrib.testing.worker import start_worker

    celery_app.conf.beat_schedule_filename = str(tmp_path / "beat-schedule")
    with start_worker(celery_app, pool="solo", perform_ping_check=False, beat=True, shutdown_timeout=30) as worker:
        yield worker


class WorkerProcess:
    """``python -m tests.tracking.worker_process …`` against the shared database and the private Redis."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.tracking.worker_process", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.records: list[dict] = []

    def wait_for(self, line: str, timeout: float = 60) -> None:
        """Block until the process prints ``line`` (it prints one line per step)."""
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            output = self.process.stdout.readline()
            if output.strip() == line:
                return
            if not output and self.process.poll() is not None:
                break
        raise AssertionError(
            f"worker never printed {line!r}: {self.process.stderr.read() if self.process.stderr else ''}"
        )

    def wait_for_record(self, matches: Callable[[dict], bool], timeout: float = 30) -> dict:
        """Block until the process prints a JSON line (``--until``: one per drain) that ``matches``; return it.
        Every record read is kept in ``records``."""
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            output = self.process.stdout.readline()
            if not output and self.process.poll() is not None:
                break
            if not output.startswith("{"):
                continue
            record = json.loads(output)
            self.records.append(record)
            if matches(record):
                return record
        if self.process.poll() is None:
            self.kill()  # so its stderr ends
        raise AssertionError(
            f"no such record in {self.records[-5:]}: {self.process.stderr.read() if self.process.stderr else ''}"
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def result(self, timeout: float = 120) -> dict:
        out, err = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def worker_process(shared_db, redis_server, settings) -> Iterator[Callable[..., WorkerProcess]]:
    """Start ``tests/tracking/worker_process.py`` with these arguments and the test's current TAILORED_CMS."""
    started: list[WorkerProcess] = []

    def start(*args: str, extra_env: dict[str, str] | None = None) -> WorkerProcess:
        """``extra_env``: more environment variables (e.g. ``TAILORED_DB_PORT`` of a proxy in front of PostgreSQL)."""
        env = {
            **os.environ,
            **shared_db,
            "DJANGO_SETTINGS_MODULE": "tests.tracking.process_settings",
            "TAILORED_TEST_REDIS_URL": redis_server.url,
            "TAILORED_TEST_CMS": json.dumps(settings.TAILORED_CMS),
            **(extra_env or {}),
        }
        process = WorkerProcess(list(args), env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.kill()


# The worker's own arguments by default: tailored_cms's app with beat, in one process (``--pool solo``).
WITH_BEAT = ("-B", "--pool", "solo")


class CeleryWorkerProcess:
    """``celery -A tailored_cms.celery_app worker -B --pool solo``: a real worker with beat, in a process of its own
    (as a site runs it), against the shared database, with the private Redis as its broker (DB 1). ``app`` and
    ``options`` make another (the kill test's: its own app, prefork, one queue, no beat); ``name`` names its log
    file, shown when a test fails, and its hostname. It runs in a session of its own, so that a test can kill it
    whole, pool processes included (``kill_whole``)."""

    def __init__(
        self,
        env: dict[str, str],
        directory: Path,
        *,
        name: str = "celery",
        app: str = "tailored_cms.celery_app",
        options: Iterable[str] = WITH_BEAT,
    ) -> None:
        options = list(options)
        if "-B" in options:
            options += ["--schedule", str(directory / f"{name}-beat-schedule")]
        self.log = directory / f"{name}.log"
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", app, "worker", *options),
                *("--loglevel", "INFO", "--without-mingle", "--without-gossip"),
                *("--hostname", f"{name}-{os.getpid()}@%h"),
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def logs(self) -> str:
        return self.log.read_text()

    def kill_whole(self) -> None:
        """SIGKILL to the worker and its pool processes at once (a machine lost)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # a warm shutdown: the running task finishes
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill_whole()
        self._log_file.close()


@pytest.fixture
def celery_worker_process(shared_db, redis_server, settings, tmp_path) -> Iterator[Callable[..., CeleryWorkerProcess]]:
    """Start a real Celery worker (with beat, unless ``options`` say otherwise) in a process, with the test's
    current TAILORED_CMS. ``flush_broker``: empty the broker first (False: a worker started after another finds the
    messages that one left unacknowledged)."""
    started: list[CeleryWorkerProcess] = []
    broker_url = redis_server.url.rsplit("/", 1)[0] + "/1"

    def start(
        extra_env: dict[str, str] | None = None, flush_broker: bool = True, **process: Any
    ) -> CeleryWorkerProcess:
        if flush_broker:
            redis.Redis.from_url(broker_url).flushdb()
        env = {
            **os.environ,
            **shared_db,
            "DJANGO_SETTINGS_MODULE": "tests.tracking.process_settings",
            "TAILORED_TEST_REDIS_URL": redis_server.url,
            "TAILORED_TEST_BROKER_URL": broker_url,
            "TAILORED_TEST_CMS": json.dumps(settings.TAILORED_CMS),
            **(extra_env or {}),
        }
        worker = CeleryWorkerProcess(env, tmp_path, **process)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def consenting_client(**defaults: Any) -> Client:
    """A browser (Django's test client with these defaults) whose visitor agreed to tracking through consent/."""
    client = Client(**defaults)
    client.get(reverse("tailored_cms:api:consent"))
    response = client.put(
        reverse("tailored_cms:api:consent"),
        {"tracking": True},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200
    return client
