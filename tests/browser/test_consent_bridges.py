"""Tracking follows the site's own consent tool, the real library from npm, both ways (``CONSENT_SOURCE``).

For each tool the example site is served with ``TAILORED_BROWSER_CONSENT_TOOL`` (``site_settings``): its base template
loads the tool (``consent_tools/<source>/base.html``, set up as docs/consent.md says) and tailored_cms's banner is off.
Klaro and CookieConsent show their own notice, whose button the visitor presses; the IAB TCF CMP is a minimal one
built from the IAB's @iabtcf/cmpapi and @iabtcf/core (``consent_tools/static/consent_tools/tcf-cmp.js``); Consent
Mode is gtag's ``consent`` commands, as a CMP sends them. A change of mind is made through each tool's own API, as
its preferences dialog makes it. No Celery worker: the events wait in the Redis stream. Last, the bridge on a site
with a strict Content-Security-Policy and an HttpOnly CSRF cookie (``TAILORED_BROWSER_CSP=strict``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, Response, expect

from ..redis_server import RedisServer
from .accessibility import assert_accessible
from .beacon import settled
from .conftest import new_context, tab
from .demo_server import DemoServerError, DemoSite, seed_demo, serve_demo
from .test_consent_and_tracking import is_events_post
from .test_strict_csp import REPORT_VIOLATIONS, USER_AGENT

pytestmark = pytest.mark.browser

CONSENT = "/tailored/api/v1/consent/"
HERO = ".hero [data-tailored-variant]"
TOOLS_OWN_MARKUP = (".klaro", "#cc-main")  # Klaro's and CookieConsent's notices: not ours to check


@dataclass(frozen=True)
class Tool:
    """A consent tool: its CONSENT_SOURCE, and how a visitor agrees and withdraws in it."""

    source: str
    agree: Callable[[Page], None]
    withdraw: Callable[[Page], None]


def klaro_agree(page: Page) -> None:
    page.locator(".klaro .cookie-notice").get_by_role("button", name="That's ok").click()  # with acceptAll: all


def klaro_withdraw(page: Page) -> None:
    page.evaluate(
        """() => {
            const manager = klaro.getManager();
            manager.updateConsent("tailored_cms", false);
            manager.saveAndApplyConsents();
        }"""
    )


def cookieconsent_agree(page: Page) -> None:
    page.locator("#cc-main .cm").get_by_role("button", name="Accept all").click()


def cookieconsent_withdraw(page: Page) -> None:
    page.evaluate("() => CookieConsent.acceptCategory([])")  # what "Reject all" in its preferences does


def tcf_agree(page: Page) -> None:
    page.wait_for_function("() => window.testCmp")
    page.evaluate("() => testCmp.accept()")


def tcf_withdraw(page: Page) -> None:
    page.evaluate("() => testCmp.refuse()")


def consent_mode(granted: str) -> Callable[[Page], None]:
    def update(page: Page) -> None:
        page.evaluate(
            """(value) => gtag("consent", "update", {analytics_storage: value, personalization_storage: value})""",
            granted,
        )

    return update


TOOLS = [
    Tool("klaro", klaro_agree, klaro_withdraw),
    Tool("cookieconsent", cookieconsent_agree, cookieconsent_withdraw),
    Tool("tcf", tcf_agree, tcf_withdraw),
    Tool("consent-mode", consent_mode("granted"), consent_mode("denied")),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisServer, Path]]:
    """The demo content, seeded once for every tool's site, and their Redis."""
    redis = RedisServer()
    redis.start()
    try:
        yield redis, seed_demo(tmp_path_factory.mktemp("consent-tools-seed"), redis.url)
    except DemoServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        redis.stop()


@pytest.fixture(scope="module", params=TOOLS, ids=[tool.source for tool in TOOLS])
def tool_site(
    request: pytest.FixtureRequest, seeded: tuple[RedisServer, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Tool, DemoSite]]:
    tool: Tool = request.param
    redis, database = seeded
    try:
        with serve_demo(
            tmp_path_factory.mktemp(f"consent-{tool.source}"),
            redis.url,
            seeded=database,
            env={"TAILORED_BROWSER_CONSENT_TOOL": tool.source},
        ) as site:
            yield tool, site
    except DemoServerError as exc:
        pytest.fail(str(exc), pytrace=False)


def is_consent_put(response: Response) -> bool:
    return response.url.endswith(CONSENT) and response.request.method == "PUT"


def deciding(page: Page, decide: Callable[[Page], None]) -> dict:
    """Decide in the tool; the bridge's PUT consent/ and its answer."""
    with page.expect_response(is_consent_put) as put:
        decide(page)
    assert put.value.ok, put.value.text()
    return put.value.json()


def test_tracking_follows_the_tool_when_the_visitor_agrees_and_when_they_withdraw(
    chromium: Browser, tool_site: tuple[Tool, DemoSite]
):
    tool, site = tool_site
    with tab(new_context(chromium, site)) as page:
        events: list[Request] = []
        puts: list[Request] = []
        page.on("request", lambda request: events.append(request) if is_events_post(request) else None)
        page.on("request", lambda r: puts.append(r) if r.url.endswith(CONSENT) and r.method == "PUT" else None)

        page.goto("/")
        expect(page.locator("script[data-tailored-consent-bridge]")).to_have_attribute(
            "data-tailored-consent-bridge", tool.source
        )
        expect(page.locator("[data-tailored-consent]")).to_have_count(0)  # the built-in banner is not there
        expect(page.locator("script[data-tailored-beacon]")).to_have_count(0)
        page.locator(HERO).click()
        settled(page)
        assert page.evaluate("typeof window.tailored") == "undefined"
        assert events == [] and puts == []  # no decision yet: nothing sent, nothing asked

        answer = deciding(page, tool.agree)
        assert answer["tracking"] is True and answer["allowed"] is True
        page.wait_for_function("() => window.tailored && typeof window.tailored.track === 'function'")
        hero = page.locator(HERO)
        with page.expect_request(is_events_post) as beacon:
            hero.click()
        clicks = [e for e in (beacon.value.post_data_json or {})["events"] if e["name"] == "click"]
        assert [click["props"]["variant"] for click in clicks] == [hero.get_attribute("data-tailored-variant")]

        page.reload()  # the server knows: the beacon comes with the page, and the bridge has nothing to say
        expect(page.locator("script[data-tailored-beacon]")).to_have_count(1)
        expect(page.locator("script[data-tailored-consent-bridge]")).to_have_attribute(
            "data-tailored-consent-state", "tracked"
        )
        page.wait_for_function("() => window.tailored && typeof window.tailored.track === 'function'")
        settled(page)
        assert len(puts) == 1

        answer = deciding(page, tool.withdraw)
        assert answer["tracking"] is False and answer["allowed"] is False
        assert page.evaluate("window.tailored.track('after_withdrawal')") is False  # stopped at once
        events.clear()
        page.locator(HERO).click()
        settled(page)
        assert events == []

        page.reload()
        expect(page.locator("script[data-tailored-consent-bridge]")).to_have_attribute(
            "data-tailored-consent-state", "not-tracked"
        )
        expect(page.locator("script[data-tailored-beacon]")).to_have_count(0)
        page.locator(HERO).click()
        settled(page)
        assert events == [] and len(puts) == 2
        assert page.request.get(CONSENT).json()["tracking"] is False

        # Consent is changed in the site's tool: "Why am I seeing this?" offers no Stop that the tool would undo.
        why = page.locator("[data-tailored-why]")
        why.get_by_text("Why am I seeing this?").click()
        expect(why).to_contain_text("What you read here is not noted.")
        expect(why.get_by_role("button", name="Reset my choices")).to_be_visible()
        expect(why.locator("[data-tailored-privacy=stop]")).to_be_hidden()


def test_global_privacy_control_wins_over_the_tools_yes(chromium: Browser, tool_site: tuple[Tool, DemoSite]):
    tool, site = tool_site
    with tab(new_context(chromium, site, extra_http_headers={"Sec-GPC": "1"})) as page:
        events: list[Request] = []
        page.on("request", lambda request: events.append(request) if is_events_post(request) else None)
        page.goto("/")
        expect(page.locator("[data-tailored-consent]")).to_have_count(0)
        answer = deciding(page, tool.agree)
        assert answer["tracking"] is True  # the visitor's word is kept...
        assert answer["browser_opt_out"] is True and answer["allowed"] is False  # ...and the browser's wins
        page.locator(HERO).click()
        settled(page)
        expect(page.locator("script[data-tailored-beacon]")).to_have_count(0)
        assert page.evaluate("typeof window.tailored?.track") == "undefined"
        assert events == []


def test_the_preferences_page_without_javascript_leaves_consent_to_the_tool(
    chromium: Browser, tool_site: tuple[Tool, DemoSite]
):
    _tool, site = tool_site
    with tab(new_context(chromium, site, java_script_enabled=False)) as page:
        page.goto("/tailored/preferences/")
        consent = page.locator(".tailored-consent-choice")
        expect(consent).to_contain_text("Your consent to this is managed in this site's cookie settings.")
        expect(consent).to_contain_text("You haven't answered yet")  # where the visitor stands
        expect(consent.get_by_role("button")).to_have_count(0)  # no Allow / No thanks the tool would overrule
        expect(page.get_by_role("button", name="Save")).to_be_visible()  # the visitor's own choices stay
    with tab(new_context(chromium, site)) as page:  # axe-core needs JavaScript; the page is the same
        page.goto("/tailored/preferences/")
        expect(page.locator(".tailored-consent-managed")).to_be_visible()
        assert_accessible(page, exclude=TOOLS_OWN_MARKUP)


@pytest.fixture(scope="module")
def strict_site(seeded: tuple[RedisServer, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """Consent Mode (a tool with no markup or style of its own) on the hardened site of test_strict_csp."""
    redis, database = seeded
    try:
        with serve_demo(
            tmp_path_factory.mktemp("consent-strict"),
            redis.url,
            seeded=database,
            env={"TAILORED_BROWSER_CONSENT_TOOL": "consent-mode", "TAILORED_BROWSER_CSP": "strict"},
        ) as site:
            yield site
    except DemoServerError as exc:
        pytest.fail(str(exc), pytrace=False)


def test_the_bridge_keeps_to_a_strict_content_security_policy(chromium: Browser, strict_site: DemoSite):
    context = new_context(chromium, strict_site, user_agent=USER_AGENT)
    violations: list[dict] = []
    context.expose_function("reportCspViolation", lambda violation: violations.append(violation))
    context.add_init_script(REPORT_VIOLATIONS)
    with tab(context) as page:
        console_errors: list[str] = []
        page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
        page.goto("/")
        assert (
            "script-src 'self'" in (page.context.request.get(strict_site.url("/")).headers["content-security-policy"])
        )
        answer = deciding(page, consent_mode("granted"))  # the CSRF token from the API: the cookie is HttpOnly
        assert answer["allowed"] is True
        page.wait_for_function("() => window.tailored && typeof window.tailored.track === 'function'")
        with page.expect_response(lambda r: is_events_post(r.request)) as beacon:
            page.locator(HERO).click()
        assert beacon.value.status == 202, beacon.value.text()
        assert deciding(page, consent_mode("denied"))["allowed"] is False
        page.evaluate("() => window.cspViolations.length")  # hands over what the page reported
        assert violations == [] and console_errors == []
