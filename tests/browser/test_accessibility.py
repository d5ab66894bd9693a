"""What tailored_cms shows visitors passes axe-core's WCAG 2.2 A and AA rules, in every theme, with the visitor's
accessibility choices (reduced motion, larger text) too; and what axe-core does not check: the banner never hides
the focused control (2.4.11), focus is visible, reduced motion is honoured, a first visit follows the browser.

The demo homepage as a first visit shows it (the consent banner, the panel, the widget board, the tailored areas),
then with "Why am I seeing this?" open; and the preferences page a visitor without JavaScript saves from.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .accessibility import assert_accessible
from .demo_server import DemoSite
from .test_consent_and_tracking import open_why
from .test_visitor_customizes import choose, open_home

pytestmark = pytest.mark.browser

THEMES = {"light": "Light", "dark": "Dark", "high-contrast": "High contrast"}


@pytest.mark.parametrize("theme", THEMES)
def test_the_homepage_with_the_banner_the_panel_and_the_explanation(visitor: Page, theme: str):
    page = visitor
    open_home(page)
    expect(page.locator("[data-tailored-consent]")).to_be_visible()
    choose(page, THEMES[theme])
    choose(page, "Sports")
    expect(page.locator("body")).to_have_class(re.compile(rf"(^|\s)tailored-theme-{theme}(\s|$)"))
    assert_accessible(page)

    open_why(page)
    expect(page.locator("[data-tailored-why] li").first).to_be_visible()
    assert_accessible(page)

    # The visitor's accessibility choices, in the same theme.
    choose(page, "Reduced motion")
    choose(page, "Larger text")
    body = page.locator("body")
    expect(body).to_have_class(re.compile(r"(^|\s)tailored-motion-reduced(\s|$)"))
    expect(body).to_have_class(re.compile(r"(^|\s)tailored-text-large(\s|$)"))
    assert page.evaluate("getComputedStyle(document.body).fontSize") in ("21px", "23px")
    assert transition_seconds(page) < 0.001
    assert_accessible(page)


def test_the_preferences_page_before_a_choice(visitor: Page):
    page = visitor
    page.goto("/tailored/preferences/")
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    expect(page.locator(".site-header")).to_be_visible()  # the site's own base template
    assert_accessible(page)


@pytest.mark.parametrize("theme", THEMES)
def test_the_preferences_page_in_every_theme(visitor: Page, theme: str):
    page = visitor
    page.goto("/tailored/preferences/")
    page.locator(".tailored-preferences-theme").get_by_label(THEMES[theme], exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Your preferences were saved.")
    expect(page.locator("body")).to_have_class(re.compile(rf"(^|\s)tailored-theme-{theme}(\s|$)"))
    assert_accessible(page)


FOCUSED_BOX = """() => {
    const element = document.activeElement;
    if (!element || element === document.body) return null;
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    return {
        top: box.top, bottom: box.bottom, left: box.left, right: box.right,
        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
        name: element.outerHTML.slice(0, 120),
        inBanner: !!element.closest("[data-tailored-consent]"),
    };
}"""


def banner_box(page: Page) -> dict | None:
    return page.evaluate(
        """() => {
            const banner = document.querySelector("[data-tailored-consent]");
            if (!banner || banner.hidden) return null;
            const box = banner.getBoundingClientRect();
            return {top: box.top, bottom: box.bottom, left: box.left, right: box.right};
        }"""
    )


@pytest.mark.parametrize("size", [(1280, 720), (390, 700)], ids=["desktop", "phone"])
def test_the_banner_never_hides_the_focused_control_and_comes_first_in_the_keyboard_order(visitor: Page, size):
    """Tab through the homepage's controls (up to 40) with the banner showing: none is ever under it."""
    page = visitor
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_home(page)
    expect(page.locator("[data-tailored-consent][data-tailored-ready]")).to_be_visible()
    order = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_BOX)
        if focused is None:  # past the page's last control: the browser's own
            break
        order.append(focused)
        assert focused["outline"], f"no visible focus on {focused['name']}"
        banner = banner_box(page)
        if banner is None or focused["inBanner"]:
            continue
        overlaps = (
            focused["top"] < banner["bottom"]
            and focused["bottom"] > banner["top"]
            and focused["left"] < banner["right"]
            and focused["right"] > banner["left"]
        )
        assert not overlaps, f"the banner covers {focused['name']}: {focused} under {banner}"
    assert len(order) > 30, [focused["name"] for focused in order]  # the whole homepage
    # The skip link first, then the banner: where a visitor meets it, not after the footer.
    assert "skip-link" in order[0]["name"]
    assert order[1]["inBanner"], order[1]["name"]


def test_the_status_an_answer_without_javascript_comes_back_to(visitor: Page, demo_site: DemoSite):
    page = visitor
    open_home(page)
    # What the banner's form sends without JavaScript (test_consent_and_tracking.py follows it with JS off).
    answer = page.request.post(
        "/tailored/preferences/consent/",
        form={"consent": "no", "next": "/en/"},
        headers={"Origin": demo_site.base_url.rstrip("/")},
        max_redirects=0,
    )
    assert answer.status == 303 and answer.headers["location"] == "/en/#tailored-consent-saved"
    page.goto("about:blank")  # a new document: from /en/ to /en/#… would only scroll
    page.goto("/en/#tailored-consent-saved")
    expect(page.locator("#tailored-consent-saved")).to_be_visible()
    expect(page.locator("[data-tailored-consent]")).to_have_count(0)
    assert_accessible(page)
    page.goto("/en/")
    expect(page.locator("#tailored-consent-saved")).to_be_hidden()  # only as the target


def test_the_customize_link_leads_to_the_panel(visitor: Page):
    page = visitor
    open_home(page)
    page.locator(".site-header").get_by_role("link", name="Customize").click()
    title = page.locator("[data-tailored-panel] .tailored-panel-title")
    expect(title).to_be_focused()
    expect(title).to_be_in_viewport()
    assert page.url.rstrip("/").endswith("/en")  # no navigation to the bare form


def transition_seconds(page: Page) -> float:
    return page.locator(".tailored-widget-button").first.evaluate(
        "b => parseFloat(getComputedStyle(b).transitionDuration)"
    )


def test_a_first_visit_follows_the_browsers_colour_scheme_contrast_and_motion(visitor: Page):
    page = visitor
    open_home(page)
    assert transition_seconds(page) > 0.1  # the demo's buttons fade, unless motion is reduced
    page.emulate_media(color_scheme="dark", reduced_motion="reduce")
    body = page.locator("body")
    expect(body).to_have_class(re.compile(r"(^|\s)tailored-theme-auto(\s|$)"))
    expect(body).to_have_class(re.compile(r"(^|\s)tailored-motion-auto(\s|$)"))
    expect(body).to_have_css("background-color", "rgb(15, 19, 24)")  # the dark theme's
    assert transition_seconds(page) < 0.001
    assert_accessible(page)
    page.emulate_media(color_scheme="light", contrast="more", reduced_motion="no-preference")
    expect(body).to_have_css("background-color", "rgb(0, 0, 0)")  # the high-contrast theme's
    assert transition_seconds(page) > 0.1
    assert_accessible(page)
    # The visitor's own choice wins over the browser's.
    choose(page, "Dark")
    expect(body).not_to_have_class(re.compile(r"(^|\s)tailored-theme-auto(\s|$)"))
    expect(body).to_have_css("background-color", "rgb(15, 19, 24)")


def test_a_violation_fails_the_check_with_what_a_person_meets(visitor: Page):
    page = visitor
    page.goto("/tailored/preferences/")
    page.evaluate("document.body.append(Object.assign(document.createElement('input'), {id: 'x'}))")
    with pytest.raises(AssertionError, match=r"label \(critical\): Form elements must have labels\n    #x"):
        assert_accessible(page)
