"""A visitor meets the consent banner, the beacon and "Why am I seeing this?" in a real browser.

The site is the example site seeded by ``tailored_demo`` (``conftest.demo_site``): a consent banner in every
page's footer (the site's CONSENT is "required"), the homepage's hero area with a variant per topic, and the
"Why am I seeing this?" widget at the end of the homepage's sidebar.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from .beacon import settled
from .conftest import eventually, new_context
from .demo_server import DemoSite
from .test_visitor_customizes import SPORTS, WELCOME, choose

pytestmark = pytest.mark.browser

EVENTS = "/tailored/api/v1/events/"
ME = "/tailored/api/v1/me/"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def is_events_post(request: Request) -> bool:
    return request.url.endswith(EVENTS) and request.method == "POST"


def answering(page: Page, button: str, tracking: bool) -> None:
    """Press a button of the consent banner and wait until the API took the answer."""
    banner = page.locator("[data-tailored-consent]")
    with page.expect_response(
        lambda r: r.url.endswith("/tailored/api/v1/consent/") and r.request.method == "PUT"
    ) as put:
        banner.get_by_role("button", name=button, exact=True).click()
    assert put.value.ok, put.value.text()
    assert put.value.json()["tracking"] is tracking


def test_nothing_is_tracked_before_consent_and_a_click_on_a_variant_is_sent_after_it(visitor: Page):
    page = visitor
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if is_events_post(request) else None)
    page.goto("/")
    banner = page.locator("[data-tailored-consent]")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("button", name="Allow", exact=True)).to_be_visible()
    expect(banner.get_by_role("button", name="No thanks", exact=True)).to_be_visible()
    expect(page.locator("script[data-tailored-beacon]")).to_have_count(0)

    hero = page.locator(".hero [data-tailored-variant]")
    hero.click()
    settled(page)  # what a beacon would have sent by now is sent
    assert page.evaluate("typeof window.tailored") == "undefined"
    assert sent == []

    answering(page, "Allow", tracking=True)
    expect(banner.locator("[role=status]")).to_contain_text("Thank you")
    expect(page.locator("script[data-tailored-beacon]")).to_have_count(1)  # started without a reload
    page.wait_for_function("() => window.tailored && typeof window.tailored.track === 'function'")

    with page.expect_request(is_events_post) as beacon:
        hero.click()
    body = json.loads(beacon.value.post_data or "{}")
    clicks = [event for event in body["events"] if event["name"] == "click"]
    assert len(clicks) == 1, body
    click = clicks[0]
    assert click["props"]["variant"] == hero.get_attribute("data-tailored-variant")
    assert click["props"]["area"] == page.locator(".hero [data-tailored-area-key]").get_attribute(
        "data-tailored-area-key"
    )
    assert UUID4.match(click["id"]) and click["path"] == "/en/" and re.match(r"^\d{4}-\d\d-\d\dT", click["ts"])
    # End to end: the site took it, the Celery worker stored it, and the visitor finds it in their own data
    # (what "Download my data" gives them); within seconds, as the worker ingests every second.
    answer = beacon.value.response()
    assert answer is not None and answer.status == 202, answer and answer.text()
    assert answer.json() == {"accepted": len(body["events"]), "tracking": True}
    stored = eventually(
        lambda: [
            (e["name"], e["props"]["variant"]) for e in page.request.get(ME).json()["events"] if e["id"] == click["id"]
        ],
        until=bool,
        seconds=15,
    )
    assert stored == [("click", click["props"]["variant"])]

    # The next page comes with the beacon from the server, and without the banner.
    page.reload()
    expect(page.locator("script[data-tailored-beacon]")).to_have_count(1)
    expect(page.locator("[data-tailored-consent]")).to_have_count(0)


def test_the_pages_own_events_marked_elements_and_time_on_page_go_out_too(visitor: Page):
    page = visitor
    page.clock.install()  # time moves as usual, and the test can move it on
    page.goto("/")
    answering(page, "Allow", tracking=True)
    page.wait_for_function("() => window.tailored && typeof window.tailored.track === 'function'")
    queued = page.evaluate(
        """() => [
            tailored.track("signup", {plan: "pro"}),
            tailored.track("page_view"),                      // the server's own
            tailored.track("not a name!"),
            tailored.track("big", Object.fromEntries([...Array(21).keys()].map(i => ["k" + i, i]))),
            tailored.track("huge", {text: "x".repeat(3000)}),
            tailored.track("odd", "not an object"),
        ]"""
    )
    assert queued == [True, False, False, False, False, False]
    page.evaluate(
        """() => {
            const button = document.createElement("button");
            button.textContent = "Subscribe";
            button.setAttribute("data-tailored-track", "newsletter");
            button.setAttribute("data-tailored-props", '{"list": "weekly"}');
            document.querySelector(".hero [data-tailored-variant]").append(button);
        }"""
    )
    with page.expect_request(is_events_post) as beacon:
        page.get_by_role("button", name="Subscribe").click()
    events = {event["name"]: event for event in json.loads(beacon.value.post_data or "{}")["events"]}
    assert events["signup"]["props"] == {"plan": "pro"}
    newsletter = events["newsletter"]["props"]
    assert newsletter["list"] == "weekly" and newsletter["variant"] and newsletter["area"]

    page.clock.fast_forward(65_000)  # a minute on the page
    with page.expect_request(is_events_post) as leaving:
        page.evaluate("window.dispatchEvent(new Event('pagehide'))")
    (time_on_page,) = json.loads(leaving.value.post_data or "{}")["events"]
    assert time_on_page["name"] == "time_on_page" and time_on_page["props"]["path"] == "/en/"
    assert time_on_page["props"]["seconds"] >= 65


def test_no_thanks_keeps_the_beacon_away_on_this_page_and_the_next(visitor: Page):
    page = visitor
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if is_events_post(request) else None)
    page.goto("/")
    answering(page, "No thanks", tracking=False)
    expect(page.locator("[data-tailored-consent] [role=status]")).to_contain_text("nothing you read here is noted")
    page.get_by_role("button", name="Close").click()
    expect(page.locator("[data-tailored-consent]")).to_be_hidden()
    page.reload()
    expect(page.locator("[data-tailored-consent]")).to_have_count(0)
    page.locator(".hero [data-tailored-variant]").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("script[data-tailored-beacon]")).to_have_count(0)
    assert sent == []


def open_why(page: Page) -> None:
    why = page.locator("[data-tailored-why]")
    with page.expect_response(lambda r: "/tailored/api/v1/explain/?areas=" in r.url) as explained:
        why.get_by_text("Why am I seeing this?").click()
    assert explained.value.ok, explained.value.text()


def test_why_am_i_seeing_this_gives_the_reason_and_erase_my_data_forgets_the_visitor(visitor: Page):
    page = visitor
    page.goto("/")
    answering(page, "No thanks", tracking=False)  # a visitor who said no may still look and erase
    page.get_by_role("button", name="Close").click()
    choose(page, "Sports")
    expect(page.locator(".hero")).to_contain_text(SPORTS)
    assert any(cookie["name"] == "tailored_vid" for cookie in page.context.cookies())

    open_why(page)
    why = page.locator("[data-tailored-why]")
    hero = why.locator("li").first  # the page's first tailored part
    expect(hero).to_contain_text("Tailored part 1 of this page")
    expect(hero).to_contain_text("It is made for readers who follow Sports.")
    expect(why).not_to_contain_text("Homepage hero")  # the editor's label
    expect(hero).to_contain_text("You follow Sports.")
    expect(why).to_contain_text("What you read here is not noted.")

    page.once("dialog", lambda dialog: dialog.accept())  # "Erase everything…?" confirm()
    with page.expect_response(
        lambda r: r.url.endswith("/tailored/api/v1/me/") and r.request.method == "DELETE"
    ) as erased:
        why.get_by_role("button", name="Erase my data").click()
    assert erased.value.ok, erased.value.text()
    expect(why.locator("[role=status]")).to_have_text("Your data was erased: this site no longer knows you.")
    assert not any(cookie["name"] == "tailored_vid" for cookie in page.context.cookies())
    expect(why.locator("li").first).to_contain_text("You haven't chosen any topics")

    page.reload()
    expect(page.locator(".hero")).to_contain_text(WELCOME)
    expect(page.locator("[data-tailored-consent]")).to_be_visible()  # a new visitor: asked again


def test_stop_personalization_and_reset_my_choices_say_what_they_did(visitor: Page):
    page = visitor
    page.goto("/")
    answering(page, "Allow", tracking=True)
    page.get_by_role("button", name="Close").click()
    choose(page, "Sports")
    open_why(page)
    why = page.locator("[data-tailored-why]")
    expect(why).to_contain_text("What you read here is noted")

    with page.expect_response(lambda r: r.url.endswith("/tailored/api/v1/consent/") and r.request.method == "PUT"):
        why.get_by_role("button", name="Stop personalization").click()
    expect(why.locator("[role=status]")).to_contain_text("Personalization is off")
    expect(why).to_contain_text("What you read here is not noted.")
    assert page.evaluate("window.tailored.track('after_stop')") is False  # the beacon stopped

    with page.expect_response(
        lambda r: r.url.endswith("/tailored/api/v1/preferences/") and r.request.method == "DELETE"
    ):
        why.get_by_role("button", name="Reset my choices").click()
    expect(why.locator("[role=status]")).to_contain_text("back to the site's defaults")
    expect(why.locator("li").first).to_contain_text("You haven't chosen any topics")


def test_without_javascript_the_banner_answers_in_one_step_and_the_answer_sticks(
    chromium: Browser, demo_site: DemoSite
):
    context = new_context(chromium, demo_site, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    with page.expect_navigation():
        page.locator("[data-tailored-consent]").get_by_role("button", name="Allow").click()
    # Back on the page at once (the homepage in the browser's language), saying so.
    assert page.url == demo_site.url("/en/#tailored-consent-saved")
    saved = page.locator("#tailored-consent-saved")
    expect(saved).to_be_visible()
    expect(saved).to_contain_text("Your answer was saved.")
    expect(saved).to_be_focused()  # read out first (axe checks it in test_accessibility.py)
    expect(page.locator("[data-tailored-consent]")).to_have_count(0)
    expect(page.locator("script[data-tailored-beacon]")).to_have_count(1)
    # The widget's way in without JavaScript: the preferences page, which says where the visitor stands.
    page.locator("[data-tailored-why] summary").click()
    with page.expect_navigation():
        page.locator("[data-tailored-why]").get_by_role("link", name="Your choices and privacy settings").click()
    expect(page.locator(".tailored-consent-state")).to_contain_text("You allowed us to note what you read here")
    context.close()
