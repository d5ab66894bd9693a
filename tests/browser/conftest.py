"""Fixtures of the visitor's browser tests: the example site served by a real server, and Debian's Chromium.

The site (``demo_server.serve_demo``) is seeded once per session with ``tailored_demo``; every test is a new
visitor in a fresh browser context, so tests don't see each other's choices.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from ..redis_server import RedisServer
from .chromium import VIEWPORT, launch_for_test
from .demo_server import DemoServerError, DemoSite, serve_demo

TIMEOUT_MS = 10_000  # one step; a whole journey takes a few seconds


@pytest.fixture(scope="session")
def demo_site(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The example site with the demo content, served by ``runserver`` in a subprocess, on our private Redis."""
    try:
        with serve_demo(tmp_path_factory.mktemp("demo-site"), redis_server.url) as site:
            yield site
    except DemoServerError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Chromium for one test module. Not longer: Playwright's sync API runs an asyncio loop on this thread,
    and Django refuses ORM calls while one runs (the tests after this module use the ORM)."""
    with sync_playwright() as playwright:
        browser = launch_for_test(playwright)
        yield browser
        browser.close()


def new_context(browser: Browser, site: DemoSite, **options: Any) -> BrowserContext:
    """A fresh browser profile (no cookies): a new visitor."""
    context = browser.new_context(viewport=VIEWPORT, base_url=site.base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def visitor(chromium: Browser, demo_site: DemoSite) -> Iterator[Page]:
    """A new visitor's browser tab, with JavaScript; a script error on the page fails the test."""
    context = new_context(chromium, demo_site)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
