"""The example site in edge mode behind the shipped VCL in a real varnishd (Debian's ``varnish``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tailored_cms.edge.tasks import purge_edge

from ..browser.demo_server import DemoServerError, DemoSite, run_in_site, serve_demo
from ..redis_server import RedisServer, free_port
from .varnish_server import VarnishServer

KEY_MAX_AGE = 2  # seconds the key cookie lives in these tests: how long a worker's change may take to show


@dataclass(frozen=True)
class Edge:
    site: DemoSite  # the origin, asked directly to say what a visitor's page is
    varnish: VarnishServer  # what visitors browse through
    directory: Path  # the site's database and logs
    redis_url: str  # the site's Redis
    env: dict[str, str]  # what the site's processes are started with

    def run(self, code: str) -> str:
        """Run ``code`` in the site (after ``django.setup()``, on its database): what it printed."""
        return run_in_site(self.directory, self.redis_url, code, self.env)


@contextmanager
def serve_edge(directory: Path, key_max_age: int) -> Iterator[Edge]:
    """The demo site (a Celery worker with beat beside it, a Redis of its own) with EDGE_MODE on, behind Varnish;
    the key cookie lives ``key_max_age`` seconds."""
    redis = RedisServer()
    redis.start()
    varnish_port = free_port()
    env = {
        "TAILORED_BROWSER_EDGE": f"http://127.0.0.1:{varnish_port}",
        "TAILORED_BROWSER_EDGE_KEY_MAX_AGE": str(key_max_age),
    }
    try:
        with serve_demo(directory, redis.url, worker=True, env=env) as site:
            varnish = VarnishServer(backend_port=int(site.base_url.rsplit(":", 1)[1]), port=varnish_port)
            varnish.start()
            try:
                yield Edge(site, varnish, directory, redis.url, env)
            finally:
                varnish.stop()
    except DemoServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        redis.stop()


@pytest.fixture
def varnish(live_server, settings, monkeypatch) -> Iterator[VarnishServer]:
    """Varnish with the shipped VCL in front of the test's live server, in edge mode, purged by the site."""
    server = VarnishServer(backend_port=int(live_server.url.rsplit(":", 1)[1]))
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "EDGE_MODE": True, "EDGE_PURGE_URLS": [server.url]}
    monkeypatch.setitem(purge_edge.app.conf, "task_always_eager", True)  # the purge runs in the editor's process
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    """The site in edge mode behind Varnish, its key cookie living ``KEY_MAX_AGE`` seconds."""
    with serve_edge(tmp_path_factory.mktemp("edge-site"), KEY_MAX_AGE) as served:
        yield served
