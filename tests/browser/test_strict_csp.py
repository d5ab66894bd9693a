"""The consent banner, the beacon, the panel and "Why am I seeing this?" work on a hardened site: a strict
Content-Security-Policy and a CSRF cookie scripts can't read.

The example site is served with ``STRICT_CSP`` (``site_settings``, ``TAILORED_BROWSER_CSP=strict``): scripts,
styles and connections from the site itself only, no inline script or style and no ``style=""`` attribute; and with
``CSRF_COOKIE_HTTPONLY`` (the consent, the panel's saves and the privacy buttons send their token all the same). The
browser reports every violation (``securitypolicyviolation``, caught by a script Playwright adds to each page
outside the policy) and every console error; a journey through everything tailored_cms puts on a visitor's page
must cause none, and the events must reach the Redis stream. No Celery worker runs, so they wait there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tailored_cms.tracking import TrackedEvent, stream_key

from ..redis_server import RedisServer
from .conftest import new_context
from .demo_server import DemoServerError, DemoSite, serve_demo
from .test_consent_and_tracking import answering, is_events_post
from .test_visitor_customizes import SPORTS, choose, saving

pytestmark = pytest.mark.browser

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
PREFERENCES = "/tailored/preferences/"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"

# Added to every document before its own scripts, by Playwright (so the policy doesn't apply to it). Each violation
# goes to the test through a binding (it outlives the document), and is kept on the page too (to wait for).
REPORT_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const violation = {
    page: location.pathname,
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  };
  window.cspViolations.push(violation);
  window.reportCspViolation(violation);
});
"""


@dataclass
class StrictSite:
    """The example site served with the strict policy, and its Redis."""

    site: DemoSite
    redis: redis.Redis

    def stream(self) -> list[TrackedEvent]:
        """The events waiting in the stream (no worker drains it)."""
        return [TrackedEvent.decode(fields[b"e"]) for _id, fields in self.redis.xrange(stream_key())]


@pytest.fixture(scope="module")
def strict_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrictSite]:
    server = RedisServer()
    server.start()
    try:
        with ExitStack() as stack:
            with pytest.MonkeyPatch.context() as env:  # only for the processes serve_demo starts now
                env.setenv("TAILORED_BROWSER_CSP", "strict")
                site = stack.enter_context(serve_demo(tmp_path_factory.mktemp("strict-csp-site"), server.url))
            client = stack.enter_context(redis.Redis.from_url(server.url))
            yield StrictSite(site, client)
    except DemoServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        server.stop()


@dataclass
class Watched:
    """A visitor's tab, and what the browser reported on it."""

    page: Page
    violations: list[dict[str, Any]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        # Playwright's sync API hands over what the page reported only while it is called: call it once more.
        self.page.evaluate("() => window.cspViolations.length")
        assert self.violations == [], f"Content-Security-Policy violations: {self.violations}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.page_errors == [], f"JavaScript errors: {self.page_errors}"


@pytest.fixture
def watched(chromium: Browser, strict_site: StrictSite) -> Iterator[Watched]:
    # A browser's own user agent: the site counts no page views of "HeadlessChrome".
    context = new_context(chromium, strict_site.site, user_agent=USER_AGENT)
    violations: list[dict[str, Any]] = []
    context.expose_function("reportCspViolation", lambda violation: violations.append(violation))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    watched = Watched(page, violations)

    def on_console(message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        # The browser's own request for /favicon.ico (a page without <link rel="icon">) is no page's doing.
        if message.type == "error" and urlsplit(url).path not in ("/favicon.ico", "/favicon.ico/"):
            watched.console_errors.append(f"{message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    yield watched
    context.close()


def test_the_site_is_served_with_the_strict_policy(watched: Watched, strict_site: StrictSite):
    for path in ("/", PREFERENCES, "/tailored/api/v1/consent/"):
        response = watched.page.request.get(strict_site.site.url(path))
        assert response.ok, response.text()
        assert response.headers["content-security-policy"] == POLICY


def test_the_report_catches_what_the_policy_blocks(watched: Watched):
    """The harness works: an inline style and an inline script on the site's page are reported."""
    page = watched.page
    page.goto("/")
    page.evaluate(
        """() => {
            const style = document.createElement("style");
            style.textContent = "body { color: red }";
            document.head.append(style);
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.body.append(script);
        }"""
    )
    page.wait_for_function("() => window.cspViolations.length >= 2")
    assert page.evaluate("window.inlineRan") is None
    directives = sorted(violation["directive"] for violation in watched.violations)
    assert directives == ["script-src-elem", "style-src-elem"], watched.violations
    assert len(watched.console_errors) == 2, watched.console_errors  # Chromium says so in the console too


def test_consent_the_beacon_the_panel_and_why_work_without_a_violation(watched: Watched, strict_site: StrictSite):
    page = watched.page
    already = len(strict_site.stream())  # other tests' visitors' events
    page.goto("/")
    expect(page.locator("[data-tailored-consent][data-tailored-ready]")).to_have_count(1)  # privacy.js ran
    expect(page.locator("[data-tailored-panel][data-tailored-ready]")).to_have_count(1)  # customize.js ran
    expect(page.locator("script[data-tailored-beacon]")).to_have_count(0)

    answering(page, "Allow", tracking=True)  # privacy.js: the API, then the beacon without a reload
    expect(page.locator("script[data-tailored-beacon]")).to_have_count(1)
    page.wait_for_function("() => window.tailored && typeof window.tailored.track === 'function'")

    hero = page.locator(".hero [data-tailored-variant]")
    variant = hero.get_attribute("data-tailored-variant")
    with page.expect_request(is_events_post) as beacon:
        hero.click()
    clicks = [event for event in json.loads(beacon.value.post_data or "{}")["events"] if event["name"] == "click"]
    assert [click["props"]["variant"] for click in clicks] == [variant]
    answer = beacon.value.response()
    assert answer is not None and answer.status == 202, answer and answer.text()
    assert answer.json()["tracking"] is True

    choose(page, "Sports")  # customize.js: saved through the API, the hero swapped in place
    expect(page.locator(".hero")).to_contain_text(SPORTS)
    saving(page, lambda: page.get_by_role("button", name="Hide Markets").click())  # the widget board
    expect(page.locator("[data-tailored-title=Markets]")).to_be_hidden()
    saving(page, lambda: page.get_by_role("button", name="Show Markets").click())
    expect(page.locator("[data-tailored-title=Markets]")).to_be_visible()
    with page.expect_response(lambda r: "/tailored/api/v1/explain/?areas=" in r.url) as explained:
        page.locator("[data-tailored-why]").get_by_text("Why am I seeing this?").click()
    assert explained.value.ok, explained.value.text()
    expect(page.locator("[data-tailored-why]")).to_contain_text("You follow Sports.")

    page.reload()  # the beacon now comes with the page (tailored_tracking), and the server counts the view
    expect(page.locator("script[data-tailored-beacon]")).to_have_count(1)
    page.wait_for_function("() => window.tailored && typeof window.tailored.track === 'function'")
    with page.expect_response(lambda r: is_events_post(r.request)) as second:
        page.locator(".hero [data-tailored-variant]").click()
    assert second.value.status == 202, second.value.text()

    visitor_id = next(c["value"] for c in page.context.cookies() if c["name"] == "tailored_vid").split(":")[0]
    events = strict_site.stream()[already:]
    stored = [(event.name, event.props.get("variant")) for event in events]
    assert ("click", variant) in stored, stored
    assert sum(name == "click" for name, _variant in stored) == 2 and ("page_view", None) in stored, stored
    assert {event.visitor_id for event in events} == {visitor_id}
    watched.assert_clean()


def test_the_preferences_page_keeps_to_the_policy_and_is_styled(watched: Watched, strict_site: StrictSite):
    """Where the Customize link leads without JavaScript: in the site's own frame, styled by stylesheets."""
    page = watched.page
    page.goto(PREFERENCES + "?consent=yes&next=/")  # what the banner's no-JS form sent before it posted
    expect(page.locator(".notice")).to_contain_text("Press “Allow” to confirm.")
    header = page.locator(".site-header")
    assert header.evaluate("h => getComputedStyle(h).display") == "flex"  # the site's stylesheet applied
    with page.expect_navigation():
        page.get_by_role("button", name="Allow").click()
    assert page.url == strict_site.site.url("/en/")  # "/", then the homepage in the browser's language
    expect(page.locator("script[data-tailored-beacon]")).to_have_count(1)
    expect(page.locator("[data-tailored-consent]")).to_have_count(0)
    watched.assert_clean()
