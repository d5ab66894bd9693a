"""A visitor customizes the demo homepage in a real browser: the panel, the widget board, without JavaScript,
and across a login.

The site is the example site seeded by ``tailored_demo`` (``conftest.demo_site``): a hero area with a variant
per topic, a board with the widgets Weather, Markets, Scores and Quote of the day, the panel in the sidebar.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import new_context
from .demo_server import READER, DemoSite

pytestmark = pytest.mark.browser

WELCOME = "Welcome to Tailored News"  # the hero's fallback
SPORTS = "Tonight's big match"  # the hero's variant for sports fans
EDITOR_ORDER = ["Weather", "Markets", "Scores", "Quote of the day"]
DARK = "rgb(15, 19, 24)"  # the dark theme's background


# --- what the page shows --------------------------------------------------------------------------------------


def widgets(page: Page) -> list[tuple[str, bool]]:
    """(title, hidden) of every widget on the board, in page order."""
    pairs = page.locator("[data-tailored-board] > [data-tailored-widget]").evaluate_all(
        "widgets => widgets.map(w => [w.dataset.tailoredTitle, w.hidden])"
    )
    return [(title, hidden) for title, hidden in pairs]


def shown_widgets(page: Page) -> list[str]:
    return [title for title, hidden in widgets(page) if not hidden]


def expect_look(page: Page, theme: str, layout: str) -> None:
    body = page.locator("body")
    expect(body).to_have_class(re.compile(rf"(^|\s)tailored-theme-{theme}(\s|$)"))
    expect(body).to_have_class(re.compile(rf"(^|\s)tailored-layout-{layout}(\s|$)"))


def expect_panel(page: Page, topics: list[str], theme: str, layout: str) -> None:
    panel = page.locator("[data-tailored-panel]")
    for box in panel.locator("input[type=checkbox][name=topics]").all():
        value = box.get_attribute("value")
        assert box.is_checked() == (value in topics), f"topic {value}"
    expect(panel.locator(f'input[name=theme][value="{theme}"]')).to_be_checked()  # "": as the device says
    expect(panel.locator(f"input[name=layout][value={layout}]")).to_be_checked()


def open_home(page: Page) -> None:
    """The homepage, once its script has enhanced the panel and the board."""
    page.goto("/")
    expect(page.locator("[data-tailored-panel][data-tailored-ready]")).to_have_count(1)
    expect(page.locator(".tailored-widget-controls")).to_have_count(len(EDITOR_ORDER))


def saving(page: Page, action: Callable[[], Any], method: str = "PATCH") -> None:
    """Do ``action`` and wait until the save it causes was answered with success."""
    with page.expect_response(
        lambda r: r.url.endswith("/tailored/api/v1/preferences/") and r.request.method == method
    ) as answer:
        action()
    assert answer.value.ok, answer.value.text()


def choose(page: Page, label: str) -> None:
    """Tick a topic or pick a theme/layout in the panel, as a visitor does: clicking its label."""
    saving(page, lambda: page.locator("[data-tailored-panel]").get_by_label(label, exact=True).check())


def mark_document(page: Page) -> None:
    """Mark this document: ``still_same_document`` then tells whether the page was reloaded since."""
    page.evaluate("window.tailoredTestMark = 'no reload'")


def still_same_document(page: Page) -> bool:
    return page.evaluate("window.tailoredTestMark") == "no reload"


def drag(page: Page, title: str, onto: str) -> None:
    """Drag the widget ``title`` by its heading with the mouse and drop it onto the top-left of ``onto``."""
    source = page.locator(f"[data-tailored-title='{title}'] .tailored-widget-title")
    target = page.locator(f"[data-tailored-title='{onto}']")
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = target.bounding_box()
    assert start and end
    x, y = end["x"] + end["width"] / 4, end["y"] + end["height"] / 4
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, y, steps=12)
    # Browsers repeat dragover while the button is held still (the HTML spec says every 350 ms); Playwright
    # sends one per mouse move, and Chromium delivers it with the next one. So: hold still, a pixel at a time,
    # until the page shows where the widget will land.
    landing = re.compile(r"\btailored-drop-before\b")
    for wiggle in range(20):
        page.mouse.move(x + wiggle % 2, y)
        if landing.search(target.get_attribute("class") or ""):
            break
        page.wait_for_timeout(50)
    expect(target).to_have_class(landing)
    page.mouse.up()


# --- journeys ---------------------------------------------------------------------------------------------------


def test_a_visitor_customizes_the_homepage_without_a_reload_and_it_stays(visitor: Page):
    page = visitor
    open_home(page)
    expect(page.locator(".hero")).to_contain_text(WELCOME)
    expect_look(page, "light", "one-column")
    assert shown_widgets(page) == EDITOR_ORDER
    mark_document(page)

    choose(page, "Sports")
    expect(page.locator(".hero")).to_contain_text(SPORTS)  # the area was swapped in
    choose(page, "Dark")
    expect_look(page, "dark", "one-column")
    choose(page, "Grid")
    expect_look(page, "dark", "grid")
    expect(page.locator("[data-tailored-panel] [role=status]")).to_contain_text("Saved")
    expect(page.locator(".hero")).to_contain_text(SPORTS)

    saving(page, lambda: drag(page, "Quote of the day", onto="Weather"))
    assert shown_widgets(page) == ["Quote of the day", "Weather", "Markets", "Scores"]
    expect(page.locator(".tailored-dragging")).to_have_count(0)

    saving(page, lambda: page.get_by_role("button", name="Hide Markets").click())
    expect(page.locator("[data-tailored-title=Markets]")).to_be_hidden()
    show = page.get_by_role("button", name="Show Markets")
    expect(show).to_be_focused()  # the way back is where the focus is
    assert still_same_document(page)

    page.reload()
    expect_look(page, "dark", "grid")
    expect_panel(page, ["sports"], "dark", "grid")
    expect(page.locator(".hero")).to_contain_text(SPORTS)
    expect(page.get_by_role("button", name="Show Markets")).to_be_visible()
    assert widgets(page) == [("Quote of the day", False), ("Weather", False), ("Markets", True), ("Scores", False)]

    # Shown again without a reload, in its place.
    saving(page, lambda: page.get_by_role("button", name="Show Markets").click())
    assert shown_widgets(page) == ["Quote of the day", "Weather", "Markets", "Scores"]
    expect(page.get_by_role("button", name="Hide Markets")).to_be_focused()
    expect(page.locator(".tailored-hidden-widgets")).to_be_hidden()


def test_quick_successive_choices_are_all_saved(visitor: Page):
    page = visitor
    open_home(page)
    panel = page.locator("[data-tailored-panel]")
    for label in ("Sports", "Technology", "Culture", "Dark"):
        panel.get_by_label(label, exact=True).check()  # without waiting for the saves
    expect_look(page, "dark", "one-column")
    expect(page.locator(".hero")).to_contain_text(SPORTS)
    expect_panel(page, ["sports", "technology", "culture"], "dark", "one-column")
    page.wait_for_load_state("networkidle")
    page.reload()
    expect_panel(page, ["sports", "technology", "culture"], "dark", "one-column")


def test_a_widget_moves_with_the_keyboard_only(visitor: Page):
    page = visitor
    open_home(page)
    down = page.get_by_role("button", name="Move Weather down")
    for _ in range(30):
        page.keyboard.press("Tab")
        if down.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the button that moves Weather down")

    saving(page, lambda: page.keyboard.press("Enter"))
    assert shown_widgets(page) == ["Markets", "Weather", "Scores", "Quote of the day"]
    expect(down).to_be_focused()  # the visitor can press again
    board_status = page.locator(".tailored-hidden-widgets + [data-tailored-status]")
    expect(board_status).to_have_text("Weather moved to position 2 of 4.")
    saving(page, lambda: page.keyboard.press("Enter"))
    assert shown_widgets(page) == ["Markets", "Scores", "Weather", "Quote of the day"]

    page.reload()
    assert shown_widgets(page) == ["Markets", "Scores", "Weather", "Quote of the day"]


def test_reset_to_defaults_brings_everything_back(visitor: Page):
    page = visitor
    open_home(page)
    for label in ("Sports", "High contrast", "Two columns"):
        choose(page, label)
    saving(page, lambda: page.get_by_role("button", name="Move Weather down").click())
    saving(page, lambda: page.get_by_role("button", name="Hide Scores").click())
    expect_look(page, "high-contrast", "two-columns")
    expect(page.locator(".hero")).to_contain_text(SPORTS)
    assert shown_widgets(page) == ["Markets", "Weather", "Quote of the day"]

    reset = page.get_by_role("button", name="Reset to defaults")
    saving(page, reset.click, method="DELETE")
    expect_look(page, "light", "one-column")
    expect(page.locator(".hero")).to_contain_text(WELCOME)
    expect_panel(page, [], "", "one-column")
    expect(page.locator("[data-tailored-panel] [role=status]")).to_contain_text("defaults")
    expect(page.locator(".tailored-widget-controls")).to_have_count(4)  # the fresh board is enhanced
    assert widgets(page) == [(title, False) for title in EDITOR_ORDER]
    expect(page.locator(".tailored-hidden-widgets")).to_have_count(1)
    expect(page.locator(".tailored-hidden-widgets")).to_be_hidden()
    expect(reset).to_be_focused()

    page.reload()
    expect_look(page, "light", "one-column")
    expect_panel(page, [], "", "one-column")
    assert widgets(page) == [(title, False) for title in EDITOR_ORDER]


def test_a_visitor_who_chose_no_theme_sees_their_devices_choice_checked_not_light(visitor: Page):
    page = visitor
    page.emulate_media(color_scheme="dark")
    open_home(page)
    body = page.locator("body")
    theme = page.locator("[data-tailored-panel] .tailored-preferences-theme")
    expect(theme.get_by_label("As my device says")).to_be_checked()
    expect(theme.get_by_label("Light", exact=True)).not_to_be_checked()
    expect(body).to_have_css("background-color", DARK)  # following the device

    saving(page, lambda: theme.get_by_label("Light", exact=True).check())
    expect(body).not_to_have_class(re.compile(r"(^|\s)tailored-theme-auto(\s|$)"))
    expect(body).not_to_have_css("background-color", DARK)
    page.reload()
    expect(theme.get_by_label("Light", exact=True)).to_be_checked()

    saving(page, lambda: theme.get_by_label("As my device says").check())
    expect(body).to_have_css("background-color", DARK)
    page.reload()
    expect(theme.get_by_label("As my device says")).to_be_checked()
    page.goto("/tailored/preferences/")  # the page without JavaScript's form says the same
    expect(page.locator(".tailored-preferences-theme").get_by_label("As my device says")).to_be_checked()


def test_without_javascript_the_panel_is_a_form_that_saves(chromium: Browser, demo_site: DemoSite):
    context = new_context(chromium, demo_site, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    panel = page.locator("[data-tailored-panel]")
    expect(panel).not_to_have_attribute("data-tailored-ready", "")
    assert widgets(page) == [(title, False) for title in EDITOR_ORDER]
    for label in ("Sports", "Dark", "Grid"):
        panel.get_by_label(label, exact=True).check()
    with page.expect_navigation():
        panel.get_by_role("button", name="Save").click()
    # The panel is cacheable (no CSRF token in it): the preferences page shows the choices to confirm.
    expect(page.locator(".notice")).to_contain_text("Check your choices, then press Save.")
    for label in ("Sports", "Dark", "Grid"):
        expect(page.get_by_label(label, exact=True)).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()

    assert page.url == demo_site.url("/en/")  # back where the visitor was (POST, 303, GET)
    expect_look(page, "dark", "grid")
    expect_panel(page, ["sports"], "dark", "grid")
    expect(page.locator(".hero")).to_contain_text(SPORTS)

    with page.expect_navigation():
        panel.get_by_role("button", name="Reset to defaults").click()
    expect(page.locator(".notice")).to_contain_text("Reset to defaults")
    with page.expect_navigation():
        page.get_by_role("button", name="Reset to defaults").click()
    expect_look(page, "light", "one-column")
    expect(page.locator(".hero")).to_contain_text(WELCOME)
    context.close()


def test_an_anonymous_visitors_choices_survive_logging_in_and_follow_the_user(
    chromium: Browser, demo_site: DemoSite, visitor: Page
):
    page = visitor
    open_home(page)
    choose(page, "Sports")
    choose(page, "Dark")
    log_in(page)
    expect_look(page, "dark", "one-column")
    expect_panel(page, ["sports"], "dark", "one-column")
    expect(page.locator(".hero")).to_contain_text(SPORTS)

    elsewhere = new_context(chromium, demo_site)  # another browser: nothing chosen there yet
    other = elsewhere.new_page()
    other.goto("/")
    expect_look(other, "light", "one-column")
    log_in(other)
    expect_look(other, "dark", "one-column")
    expect_panel(other, ["sports"], "dark", "one-column")
    expect(other.locator(".hero")).to_contain_text(SPORTS)
    elsewhere.close()


def log_in(page: Page) -> None:
    """Log in as ``READER`` through the admin's login page, coming back to the homepage."""
    page.goto("/admin/login/?next=/")
    page.get_by_label("Username").fill(READER[0])
    page.get_by_label("Password").fill(READER[1])
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert page.url.endswith("/"), page.url
