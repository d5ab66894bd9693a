"""An editor ends an experiment from its results in a real browser: Tailoring → Results, the area, the sentence
naming the winner, the button, the confirmation; the results then say the experiment ended, and visitors see the
winner. Each page passes axe-core."""

from __future__ import annotations

import pytest
from cms.api import add_plugin
from cms.models import Page as CMSPage
from playwright.sync_api import Browser, expect

from tailored_cms import api
from tests.results.experiments import decided_experiment

from .accessibility import ADMIN_CHROME, assert_accessible
from .editor_fixtures import (  # noqa: F401 - the fixtures are used by name
    CMSEditor,
    EditorSite,
    chromium_fixture,
    editor_site_fixture,
    new_context,
    open_tailoring_menu_item,
)


@pytest.fixture
def experiment_site(editor_site: EditorSite):
    """The editor site's sidebar: an experiment "Sidebar offer" between Plain (the winner by far) and Bold, with
    Standard as its fallback, and ten days of figures."""
    page = CMSPage.objects.get()
    sidebar = page.get_content_obj("en").get_placeholders().get(slot="sidebar")
    area = api.add_area(sidebar, strategy="experiment", label="Sidebar offer")
    variants = {}
    for label, body, fallback in (
        ("Standard", "Our newsletter", True),
        ("Plain", "Plain offer", False),
        ("Bold", "BOLD OFFER", False),
    ):
        variants[label] = api.add_variant(area, label, fallback=fallback)
        add_plugin(sidebar, "TextPlugin", "en", target=variants[label], body=f"<p>{body}</p>")
    decided_experiment(area, variants["Plain"], variants["Bold"])
    return editor_site, area


@pytest.mark.browser
def test_an_editor_ends_the_experiment_with_its_winner(chromium: Browser, experiment_site):
    site, area = experiment_site
    context = new_context(chromium)
    editor = CMSEditor(context.new_page(), site)
    page = editor.page
    editor.log_in(site.page_path)
    page.goto(site.url(site.page_path))
    open_tailoring_menu_item(page, "Results")
    page.get_by_role("link", name="Sidebar offer").click()
    page.wait_for_url(f"**/admin/tailored_cms/variantstats/{area.key}/**")
    expect(page.locator("[data-tailored-verdict-sentence]")).to_contain_text(
        "Plain beats Bold with > 99% probability on clicks (n = 6,000). The experiment can end"
    )
    assert_accessible(page, exclude=ADMIN_CHROME)

    page.get_by_role("link", name="Make “Plain” the fallback and end the experiment").click()
    expect(page.get_by_role("heading", name="End the experiment “Sidebar offer”")).to_be_visible()
    expect(page.locator("#content-main")).to_contain_text("everyone sees “Plain”")
    assert_accessible(page, exclude=ADMIN_CHROME)
    confirm = page.get_by_role("button", name="Make “Plain” the fallback and end the experiment")
    confirm.focus()
    page.keyboard.press("Enter")  # the keyboard is enough

    page.wait_for_url(f"**/admin/tailored_cms/variantstats/{area.key}/**")
    expect(page.locator(".messagelist")).to_contain_text(
        "“Plain” is its fallback, shown to everyone (strategy: Static)"
    )
    expect(page.locator("[data-tailored-experiment-ended]")).to_contain_text(
        "by editor: “Plain” became the fallback, shown to everyone."
    )
    expect(page.locator("[data-tailored-verdict-sentence]")).to_contain_text("Plain beats Bold")  # the figures stay
    expect(page.locator("[data-tailored-end-experiment]")).to_have_count(0)
    assert_accessible(page, exclude=ADMIN_CHROME)
    context.close()

    visitor = new_context(chromium).new_page()
    visitor.goto(site.url(site.page_path))
    expect(visitor.locator(f'[data-tailored-area-key="{area.key}"]')).to_contain_text("Plain offer")
    visitor.context.close()
