from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.core.cache import cache
from django.utils import translation

from tailored_cms import connection

from .redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def tailored_redis(redis_server: RedisServer, settings) -> Iterator[redis.Redis]:
    """Every test gets the private Redis, empty (it is ours alone, so FLUSHDB is safe)."""
    if not redis_server.process or redis_server.process.poll() is not None:
        redis_server.start()
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "REDIS_URL": redis_server.url}
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    connection.reset()
    yield client
    connection.reset()
    client.close()


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    """The cache (locmem) outlives a test's database: django CMS's page and placeholder caches, and parler's
    translations, cached by their topic's or segment's id, which the next test's new rows reuse. Each test starts
    with it empty; so does the memory of the placeholders' layouts and what was decided from them (``areas.shown``),
    kept by placeholder id."""
    from tailored_cms.areas import shown

    cache.clear()
    shown.forget()
    yield
    cache.clear()
    shown.forget()


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in the site's default language: a request in Spanish leaves Spanish active in the thread,
    and a topic created then would get its name in Spanish."""
    translation.deactivate()
    yield
    translation.deactivate()


class RedisCommandCounter:
    """Counts Redis round trips (a pipeline is one) made through tailored_cms's client."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    @property
    def round_trips(self) -> int:
        return len(self.commands)


@pytest.fixture
def redis_round_trips(monkeypatch) -> RedisCommandCounter:
    counter = RedisCommandCounter()
    original_execute = redis.Redis.execute_command
    original_pipeline = redis.client.Pipeline.execute

    def execute_command(self, *args, **options):
        counter.commands.append(str(args[0]))
        return original_execute(self, *args, **options)

    def pipeline_execute(self, *args, **kwargs):
        counter.commands.append("PIPELINE[" + ",".join(str(c[0][0]) for c in self.command_stack) + "]")
        return original_pipeline(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "execute_command", execute_command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", pipeline_execute)
    return counter


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the database shared with workers starts workers: it is marked ``workers`` (``make test-fast`` leaves
    those out). A test through a real Varnish (``tests/edge/``'s ``edge`` and ``varnish`` fixtures) is marked
    ``edge`` (``make test`` runs those in its SQLite pass only)."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "shared_db" in fixtures:
            item.add_marker(pytest.mark.workers)
        if "edge" in fixtures or "varnish" in fixtures:
            item.add_marker(pytest.mark.edge)


@pytest.fixture
def eager_trait_import(monkeypatch) -> Iterator[None]:
    """A trait import runs in the request, on tailored_cms's Celery app, asked for by name: a live server answers in
    a thread of its own, where Celery's current app is whatever another test made the default."""
    from tailored_cms.celery_app import app
    from tailored_cms.visitors import tasks

    monkeypatch.setattr(tasks, "import_traits_task", app.tasks[tasks.IMPORT_TASK])
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
