"""An editor previews a page as a segment's visitor from the CMS toolbar's "Tailoring" menu, in a real browser:
the marker says whom they see the page as, the area shows that segment's variant, and "Stop" brings the page
back to what the editor gets as a visitor. Previewed "as on" a later date, a campaign's variant shows."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cms.api import add_plugin
from cms.models import Page as CMSPage
from playwright.sync_api import Browser, expect

from tailored_cms import api

from .accessibility import ADMIN_CHROME, assert_accessible
from .editor_fixtures import (  # noqa: F401 - the fixtures are used by name
    CMSEditor,
    EditorSite,
    chromium_fixture,
    editor_site_fixture,
    new_context,
    open_tailoring_menu_item,
)

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "toolbar-preview.png"
REGULARS_TEXT = "Welcome back: your member offer"
FALLBACK_TEXT = "New here? Start with our guide"
CAMPAIGN_TEXT = "Black Friday: everything half price"


@pytest.fixture
def personalized_site(editor_site: EditorSite) -> EditorSite:
    """The editor site's page with a personalization area in its sidebar: a variant for regulars, a fallback."""
    api.create_segment("regulars", "Regulars", rules={"all": [{"rule": "visit_count", "min": 3}]})
    page = CMSPage.objects.get()
    sidebar = page.get_content_obj("en").get_placeholders().get(slot="sidebar")
    area = api.add_area(sidebar, strategy="personalization", label="Welcome")
    regulars = api.add_variant(area, "Regulars", segments=["regulars"])
    add_plugin(sidebar, "TextPlugin", "en", target=regulars, body=f"<p>{REGULARS_TEXT}</p>")
    campaign = api.add_variant(
        area,
        "Black Friday",
        fallback=True,
        starts_at=datetime(2099, 11, 27, tzinfo=UTC),
        ends_at=datetime(2099, 11, 30, tzinfo=UTC),
    )
    add_plugin(sidebar, "TextPlugin", "en", target=campaign, body=f"<p>{CAMPAIGN_TEXT}</p>")
    everyone = api.add_variant(area, "Everyone", fallback=True)
    add_plugin(sidebar, "TextPlugin", "en", target=everyone, body=f"<p>{FALLBACK_TEXT}</p>")
    return editor_site


@pytest.mark.browser
def test_an_editor_previews_the_page_as_a_segment_and_stops(chromium: Browser, personalized_site: EditorSite):
    path = personalized_site.page_path
    context = new_context(chromium)
    editor = CMSEditor(context.new_page(), personalized_site)
    page = editor.page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    editor.log_in(path)
    page.goto(personalized_site.url(path))
    sidebar = page.locator(".tailored-slot")
    expect(sidebar).to_contain_text(FALLBACK_TEXT)
    marker = page.locator(".cms-toolbar [data-tailored-preview]")
    expect(marker).to_have_count(0)

    # Tailoring → Preview as…: the form, then back on the page as a regular.
    open_tailoring_menu_item(page, "Preview as…")
    page.wait_for_url("**/tailored/preview/**")
    assert_accessible(page, exclude=ADMIN_CHROME)
    page.get_by_label("Regulars").check()
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url(personalized_site.url(path))
    expect(marker).to_be_visible()
    expect(marker).to_contain_text("Previewing as: Regulars")
    expect(sidebar).to_contain_text(REGULARS_TEXT)
    expect(sidebar).not_to_contain_text(FALLBACK_TEXT)
    page.locator(".cms-toolbar-item-navigation > li > a", has_text="Tailoring").click()
    menu = page.locator(".cms-toolbar-item-navigation > li", has_text="Tailoring")
    for entry in ("Preview as…", "Stop preview", "Segments", "Topics", "Tailored areas"):
        expect(menu.locator("ul a", has_text=entry)).to_be_visible()
    if os.environ.get("TAILORED_SCREENSHOTS") == "1":  # `make screenshots`; test runs leave docs/ alone
        page.screenshot(path=str(SCREENSHOT))
    page.keyboard.press("Escape")

    # The form, opened again, says what the preview changes on the page.
    open_tailoring_menu_item(page, "Preview as…")
    page.wait_for_url("**/tailored/preview/**")
    changes = page.get_by_role("region", name="On this page")
    expect(changes).to_contain_text("Welcome: changes (shows “Regulars”, for this segment)")
    assert_accessible(page, exclude=ADMIN_CHROME)
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(personalized_site.url(path))

    # Another visitor meanwhile sees the page as ever.
    visitor = new_context(chromium).new_page()
    visitor.goto(personalized_site.url(path))
    expect(visitor.locator(".tailored-slot")).to_contain_text(FALLBACK_TEXT)
    expect(visitor.locator(".tailored-slot")).not_to_contain_text(REGULARS_TEXT)
    visitor.context.close()

    # Stop: the marker goes, the editor sees the fallback again.
    marker.get_by_role("button", name="Stop").click()
    page.wait_for_load_state()
    expect(marker).to_have_count(0)
    expect(sidebar).to_contain_text(FALLBACK_TEXT)
    expect(sidebar).not_to_contain_text(REGULARS_TEXT)

    # The menu's "Stop preview" does the same.
    open_tailoring_menu_item(page, "Preview as…")
    page.get_by_label("Regulars").check()
    page.get_by_role("button", name="Preview").click()
    expect(marker).to_be_visible()
    open_tailoring_menu_item(page, "Stop preview")
    expect(marker).to_have_count(0)
    expect(sidebar).to_contain_text(FALLBACK_TEXT)

    # As on a date in the campaign's window: the campaign's variant shows, and the marker says when.
    expect(sidebar).not_to_contain_text(CAMPAIGN_TEXT)
    open_tailoring_menu_item(page, "Preview as…")
    page.wait_for_url("**/tailored/preview/**")
    page.get_by_label("As on").fill("2099-11-28T10:00")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url(personalized_site.url(path))
    expect(marker).to_contain_text("as on Nov. 28, 2099, 10 a.m.")
    expect(sidebar).to_contain_text(CAMPAIGN_TEXT)
    expect(sidebar).not_to_contain_text(FALLBACK_TEXT)
    marker.get_by_role("button", name="Stop").click()
    page.wait_for_load_state()
    expect(sidebar).to_contain_text(FALLBACK_TEXT)
    assert not errors, f"JavaScript errors on the page: {errors}"
    context.close()
