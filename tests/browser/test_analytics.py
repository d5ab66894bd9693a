"""What a visitor is shown and clicks in tailored areas reaches the site's analytics (``ANALYTICS``) only while their
consent allows measurement: ``window.dataLayer`` (Google Tag Manager, GA4), Matomo's ``_paq`` and the DOM events
``tailored:impression`` / ``tailored:click``.

The example site is served with ``TAILORED_BROWSER_ANALYTICS`` (``site_settings``): once with the built-in banner,
then with each consent tool of ``test_consent_bridges`` (Klaro and CookieConsent, the real libraries from npm, whose
own dialogs the visitor uses). Neither GTM's gtm.js nor Matomo's matomo.js is on npm (Matomo's
tracker comes with a Matomo server), so the test holds our side of their contract: the site's snippets leave an
array each (``dataLayer``, ``_paq``), which those scripts read when they load, and what we push into them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from ..redis_server import RedisServer
from .beacon import settled
from .conftest import new_context, tab
from .demo_server import DemoServerError, DemoSite, seed_demo, serve_demo
from .test_consent_and_tracking import answering, is_events_post, open_why
from .test_consent_bridges import CONSENT, HERO, is_consent_put
from .test_visitor_customizes import choose, open_home, saving

pytestmark = pytest.mark.browser

TARGETS = "datalayer,matomo,events"
DIMENSION = 3  # site_settings.ANALYTICS_DIMENSION
PATHS = {"customized", "personalized", "optimized", "holdout", "fallback"}

# The site's own snippets ran first (GTM's and Matomo's), and a script of the site listens for our DOM events.
SITES_ANALYTICS = """
window.dataLayer = [{event: "gtm.js"}];
window._paq = [["trackPageView"]];
window.domEvents = [];
for (const kind of ["impression", "click"]) {
    document.addEventListener("tailored:" + kind, (event) => {
        const on = event.target.getAttribute("data-tailored-area-key");
        window.domEvents.push([kind, on, event.detail.area, event.detail.variant, event.detail.path]);
    });
}
"""

# What each tool has been told, besides what the site's snippets put there.
REPORTED = """() => ({
    dataLayer: window.dataLayer
        .filter((entry) => entry && typeof entry.event === "string" && entry.event.startsWith("tailored_"))
        .map((entry) => [entry.event, entry.tailored_area, entry.tailored_variant, entry.tailored_path]),
    paq: window._paq.slice(1).map((command) => Array.from(command)),
    dom: window.domEvents,
})"""

# (area, variant, path) of every variant the page shows, as its markup says; ("area", "", path) for an empty area.
SHOWN = """() => [...document.querySelectorAll("[data-tailored-area-key][data-tailored-path]")]
    .filter((area) => !area.closest("[hidden]"))
    .flatMap((area) => {
        const key = area.dataset.tailoredAreaKey;
        const variants = [...area.querySelectorAll("[data-tailored-variant]")]
            .filter((variant) => variant.closest("[data-tailored-area-key]") === area);
        if (!variants.length) return [[key, "", area.dataset.tailoredPath]];
        return variants.map((variant) => [key, variant.dataset.tailoredVariant, variant.dataset.tailoredPath]);
    })"""

NOTHING: dict[str, list] = {"dataLayer": [], "paq": [], "dom": []}


def expected(kind: str, shown: list[list[str]]) -> dict[str, list]:
    """What each tool must be told of ``shown`` (impressions or clicks), in order."""
    paq = []
    for area, variant, path in shown:
        name = f"{area}/{variant}" if variant else area
        paq += [["setCustomDimension", DIMENSION, path], ["trackEvent", "tailored_cms", kind, name]]
        paq.append(["deleteCustomDimension", DIMENSION])
    return {
        "dataLayer": [[f"tailored_{kind}", *triple] for triple in shown],
        "paq": paq,
        "dom": [[kind, triple[0], *triple] for triple in shown],
    }


def plus(*parts: dict[str, list]) -> dict[str, list]:
    return {tool: [entry for part in parts for entry in part[tool]] for tool in NOTHING}


def reported(page: Page) -> dict[str, list]:
    return page.evaluate(REPORTED)


def hero_shown(page: Page) -> list[str]:
    hero = page.locator(HERO)
    area = page.locator(".hero [data-tailored-area-key]")
    return [
        area.get_attribute("data-tailored-area-key"),
        *(hero.get_attribute(a) for a in ("data-tailored-variant", "data-tailored-path")),
    ]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisServer, Path]]:
    redis = RedisServer()
    redis.start()
    try:
        yield redis, seed_demo(tmp_path_factory.mktemp("analytics-seed"), redis.url)
    except DemoServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        redis.stop()


def site_with(seeded: tuple[RedisServer, Path], directory: Path, **env: str) -> Iterator[DemoSite]:
    redis, database = seeded
    try:
        with serve_demo(
            directory, redis.url, seeded=database, env={"TAILORED_BROWSER_ANALYTICS": TARGETS, **env}
        ) as site:
            yield site
    except DemoServerError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def banner_site(seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The built-in consent banner asks."""
    yield from site_with(seeded, tmp_path_factory.mktemp("analytics-banner"))


@pytest.fixture(scope="module")
def consent_mode_site(seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """Google Consent Mode is the site's consent tool (docs/consent.md): analytics_storage allows measurement."""
    yield from site_with(
        seeded, tmp_path_factory.mktemp("analytics-consent-mode"), TAILORED_BROWSER_CONSENT_TOOL="consent-mode"
    )


@pytest.fixture(scope="module")
def tcf_site(seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """An IAB TCF v2.2 CMP is the site's consent tool: purposes 1 and 8 allow measurement."""
    yield from site_with(seeded, tmp_path_factory.mktemp("analytics-tcf"), TAILORED_BROWSER_CONSENT_TOOL="tcf")


def analytics_context(chromium: Browser, site: DemoSite, **options) -> BrowserContext:
    context = new_context(chromium, site, **options)
    context.add_init_script(SITES_ANALYTICS)
    return context


def test_with_the_banner_the_sites_analytics_hear_what_was_shown_and_clicked_only_with_consent(
    chromium: Browser, banner_site: DemoSite
):
    with tab(analytics_context(chromium, banner_site)) as page:
        open_home(page)
        choose(page, "Sports")  # the areas are swapped in anew: still before consent
        page.locator(HERO).click()
        settled(page)
        assert reported(page) == NOTHING

        answering(page, "Allow", tracking=True)
        page.wait_for_function("() => window.domEvents.length > 0")
        shown = page.evaluate(SHOWN)
        assert hero_shown(page) in shown and {path for _, _, path in shown} <= PATHS
        assert hero_shown(page)[2] == "customized"  # the visitor chose Sports
        impressions = expected("impression", shown)
        assert reported(page) == impressions

        page.locator(HERO).click()
        clicked = plus(impressions, expected("click", [hero_shown(page)]))
        assert reported(page) == clicked

        # Withdrawn ("Why am I seeing this?"): nothing more, clicks and areas swapped in alike.
        page.get_by_role("button", name="Close").click()
        open_why(page)
        with page.expect_response(lambda r: r.url.endswith(CONSENT) and r.request.method == "PUT"):
            page.locator("[data-tailored-why]").get_by_role("button", name="Stop personalization").click()
        page.locator(HERO).click()
        panel = page.locator("[data-tailored-panel]")
        saving(page, lambda: panel.get_by_label("Sports", exact=True).uncheck())
        expect(page.locator(HERO)).not_to_have_attribute("data-tailored-path", "customized")
        page.locator(HERO).click()
        settled(page)
        assert reported(page) == clicked

        page.reload()  # not measured on the next page either
        page.locator(HERO).click()
        settled(page)
        assert reported(page) == NOTHING


def test_with_consent_mode_measurement_follows_analytics_storage_whatever_personalization_storage_says(
    chromium: Browser, consent_mode_site: DemoSite
):
    with tab(analytics_context(chromium, consent_mode_site)) as page:
        events: list[Request] = []
        page.on("request", lambda request: events.append(request) if is_events_post(request) else None)
        page.goto("/")
        page.locator(HERO).click()
        settled(page)
        assert reported(page) == NOTHING

        # Measurement allowed, personalization refused: the site's analytics hear of it, tailored_cms tracks nothing.
        with page.expect_response(is_consent_put) as put:
            page.evaluate(
                """() => gtag("consent", "update", {analytics_storage: "granted", personalization_storage: "denied"})"""
            )
        assert put.value.json()["allowed"] is False
        page.wait_for_function("() => window.domEvents.length > 0")
        impressions = expected("impression", page.evaluate(SHOWN))
        assert reported(page) == impressions
        page.locator(HERO).click()
        clicked = plus(impressions, expected("click", [hero_shown(page)]))
        assert reported(page) == clicked
        settled(page)  # what would send whatever a beacon holds
        assert events == []  # the beacon never ran
        assert page.evaluate("window.tailored.track('not_tracked')") is False

        # Withdrawn in the tool: at once.
        page.evaluate("""() => gtag("consent", "update", {analytics_storage: "denied"})""")
        page.locator(HERO).click()
        settled(page)
        assert reported(page) == clicked and events == []


def test_global_privacy_control_wins_over_the_tools_yes_to_measurement(chromium: Browser, consent_mode_site: DemoSite):
    context = analytics_context(chromium, consent_mode_site, extra_http_headers={"Sec-GPC": "1"})
    with tab(context) as page:
        page.goto("/")
        # The page can't tell an opt-out from a refusal ("not-tracked"): the bridge asks the server.
        with page.expect_response(lambda r: r.url.endswith(CONSENT) and r.request.method == "GET") as asked:
            page.evaluate("""() => gtag("consent", "update", {analytics_storage: "granted"})""")
        assert asked.value.json()["browser_opt_out"] is True
        page.locator(HERO).click()
        settled(page)
        assert reported(page) == NOTHING
        expect(page.locator("script[data-tailored-beacon]")).to_have_count(0)


def test_with_tcf_measurement_follows_purposes_1_and_8_apart_from_personalization(
    chromium: Browser, tcf_site: DemoSite
):
    with tab(analytics_context(chromium, tcf_site)) as page:
        page.goto("/")
        page.wait_for_function("() => window.testCmp")
        with page.expect_response(is_consent_put) as put:
            page.evaluate("() => testCmp.accept([1, 5, 6])")  # personalization, not measurement
        assert put.value.json()["allowed"] is True
        page.wait_for_function("() => window.tailored && typeof window.tailored.track === 'function'")
        with page.expect_request(is_events_post):  # tracked by tailored_cms...
            page.locator(HERO).click()
        settled(page)
        assert reported(page) == NOTHING  # ...not measured for the site

        page.evaluate("() => testCmp.accept([1, 8])")  # measurement, personalization withdrawn
        page.wait_for_function("() => window.domEvents.length > 0")
        impressions = expected("impression", page.evaluate(SHOWN))
        assert reported(page) == impressions
        assert page.evaluate("window.tailored.track('withdrawn')") is False

        page.evaluate("() => testCmp.refuse()")
        page.locator(HERO).click()
        settled(page)
        assert reported(page) == impressions


@dataclass(frozen=True)
class MeasuringTool:
    """A consent tool with a service (Klaro) or category (CookieConsent) for the site's analytics, ``matomo``
    (``ANALYTICS_CONSENT_SERVICE``): how the visitor allows it alone, and withdraws it, in the tool's own dialog."""

    source: str
    allow_analytics_alone: Callable[[Page], None]
    withdraw_analytics: Callable[[Page], None]


def klaro_switch_analytics(page: Page) -> None:
    modal = page.locator(".klaro .cm-modal")
    modal.locator("label[for=purpose-item-analytics]").click()  # the switch of the purpose, and its one service
    modal.get_by_role("button", name=re.compile("^(Accept selected|Save)$")).click()  # Save once confirmed


def klaro_allow_analytics_alone(page: Page) -> None:
    page.locator(".klaro .cookie-notice").get_by_role("link", name="Let me choose").click()
    klaro_switch_analytics(page)


def klaro_withdraw_analytics(page: Page) -> None:
    page.evaluate("() => klaro.show()")  # what the site's "Cookie settings" link does, as Klaro documents it
    klaro_switch_analytics(page)


def cookieconsent_save_analytics(page: Page, allowed: bool) -> None:
    preferences = page.locator("#cc-main .pm")
    preferences.get_by_role("checkbox", name="Matomo").set_checked(allowed, force=True)  # under its drawn toggle
    preferences.get_by_role("button", name="Save").click()


def cookieconsent_allow_analytics_alone(page: Page) -> None:
    page.locator("#cc-main .cm").get_by_role("button", name="Manage preferences").click()
    cookieconsent_save_analytics(page, True)


def cookieconsent_withdraw_analytics(page: Page) -> None:
    page.evaluate("() => CookieConsent.showPreferences()")  # what its data-cc="show-preferencesModal" link does
    cookieconsent_save_analytics(page, False)


MEASURING_TOOLS = [
    MeasuringTool("klaro", klaro_allow_analytics_alone, klaro_withdraw_analytics),
    MeasuringTool("cookieconsent", cookieconsent_allow_analytics_alone, cookieconsent_withdraw_analytics),
]


@pytest.fixture(scope="module", params=MEASURING_TOOLS, ids=[tool.source for tool in MEASURING_TOOLS])
def measuring_tool_site(
    request: pytest.FixtureRequest, seeded, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MeasuringTool, DemoSite]]:
    tool: MeasuringTool = request.param
    directory = tmp_path_factory.mktemp(f"analytics-{tool.source}")
    for site in site_with(seeded, directory, TAILORED_BROWSER_CONSENT_TOOL=tool.source):
        yield tool, site


def test_with_klaro_or_cookieconsent_measurement_follows_the_analytics_service_in_the_tools_own_dialog(
    chromium: Browser, measuring_tool_site: tuple[MeasuringTool, DemoSite]
):
    tool, site = measuring_tool_site
    with tab(analytics_context(chromium, site)) as page:
        events: list[Request] = []
        page.on("request", lambda request: events.append(request) if is_events_post(request) else None)
        page.goto("/")
        page.locator(HERO).click()
        settled(page)
        assert reported(page) == NOTHING and events == []

        # Matomo allowed, personalization not: the site's analytics hear of it, tailored_cms tracks nothing.
        with page.expect_response(is_consent_put) as put:
            tool.allow_analytics_alone(page)
        assert put.value.json()["tracking"] is False
        page.wait_for_function("() => window.domEvents.length > 0")
        shown = page.evaluate(SHOWN)
        assert hero_shown(page) in shown and {path for _, _, path in shown} <= PATHS
        impressions = expected("impression", shown)
        assert reported(page) == impressions
        page.locator(HERO).click()
        clicked = plus(impressions, expected("click", [hero_shown(page)]))
        assert reported(page) == clicked
        settled(page)
        assert events == []

        # Withdrawn in the tool's dialog: at once, and on the next page.
        tool.withdraw_analytics(page)
        page.locator(HERO).click()
        settled(page)
        assert reported(page) == clicked

        page.reload()
        page.locator(HERO).click()
        settled(page)
        assert reported(page) == NOTHING and events == []
