"""Fixtures of the visitor's browser tests: the example site served by a real server, and Debian's Chromium.

The site (``demo_server.serve_demo``) is seeded once per session with ``tailored_demo`` and runs with a Celery
worker and beat, as ``make demo`` runs it; every test is a new visitor in a fresh browser context, so tests
don't see each other's choices. A failing test that used the site shows the end of its server's and worker's
logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from ..redis_server import RedisServer
from .chromium import VIEWPORT, launch_for_test
from .demo_server import DemoServerError, DemoSite, serve_demo

TIMEOUT_MS = 10_000  # one step; a whole journey takes a few seconds
T = TypeVar("T")


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The example site with the demo content, served by ``runserver`` in a subprocess, with a Celery worker and
    beat. Its Redis is a redis-server of its own: the other tests empty the session's between tests, and the
    worker would drain their event stream."""
    redis = RedisServer()
    redis.start()
    try:
        with serve_demo(tmp_path_factory.mktemp("demo-site"), redis.url, worker=True) as site:
            yield site
    except DemoServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        redis.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """A failing test that used the demo site reports the end of the site's logs (server, worker and beat)."""
    report = yield
    site = getattr(item, "funcargs", {}).get("demo_site")
    if report.failed and isinstance(site, DemoSite):
        report.sections.append(("demo site logs", site.logs()))
    return report


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Chromium for one test module. Not longer: Playwright's sync API runs an asyncio loop on this thread,
    and Django refuses ORM calls while one runs (the tests after this module use the ORM)."""
    with sync_playwright() as playwright:
        browser = launch_for_test(playwright)
        yield browser
        browser.close()


def eventually(look: Callable[[], T], until: Callable[[T], bool], seconds: float, every: float = 0.5) -> T:
    """``look()`` again every ``every`` s until ``until`` holds for what it saw, for at most ``seconds``.

    For what the Celery worker does in the background. Returns the last look either way, for the test to
    assert on (so a failure shows what was there instead)."""
    deadline = time.monotonic() + seconds
    seen = look()
    while not until(seen) and time.monotonic() < deadline:
        time.sleep(every)
        seen = look()
    return seen


def new_context(browser: Browser, site: DemoSite, **options: Any) -> BrowserContext:
    """A fresh browser profile (no cookies): a new visitor."""
    context = browser.new_context(viewport=VIEWPORT, base_url=site.base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@contextmanager
def tab(context: BrowserContext) -> Iterator[Page]:
    """A new tab of ``context``, which is closed after; a script error on the page fails the test."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@contextmanager
def tabs(make_context: Callable[..., BrowserContext]) -> Iterator[Callable[..., Page]]:
    """Open new tabs, each in a fresh profile ``make_context(**options)`` makes, all closed after; a script error
    on any of them fails the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_tab(**options: Any) -> Page:
        context = make_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_tab
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def visitor(chromium: Browser, demo_site: DemoSite) -> Iterator[Page]:
    """A new visitor's browser tab, with JavaScript; a script error on the page fails the test."""
    with tab(new_context(chromium, demo_site)) as page:
        yield page
