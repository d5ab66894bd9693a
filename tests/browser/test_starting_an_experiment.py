"""An editor starts an experiment in a real browser: on the page in edit mode, the area's menu on the structure
board switches it to Experiment, each variant's form sets its share (from the keyboard), and the page's labels
say the split. Then visitors: new ones are split between the variants in about those shares, each keeps theirs
on the next page, and the results list the area as an experiment. The forms pass axe-core."""

from __future__ import annotations

from collections import Counter

import pytest
from cms.api import add_plugin
from cms.models import Page as CMSPage
from playwright.sync_api import Browser, BrowserContext, Frame, expect

from tailored_cms import api
from tailored_cms.areas.models import TailoredArea, Variant

from .accessibility import assert_accessible
from .editor_fixtures import (  # noqa: F401 - the fixtures are used by name
    CMSEditor,
    EditorSite,
    chromium_fixture,
    editor_site_fixture,
    new_context,
    open_tailoring_menu_item,
)

AREA_LABEL = "Sidebar offer"
TEXTS = {"Standard": "Our newsletter", "Plain": "Plain offer", "Bold": "BOLD OFFER"}
VISITORS = 100  # Plain's share 3 of 4: 75 expected, a standard deviation of 4.3


@pytest.fixture
def offer_site(editor_site: EditorSite) -> EditorSite:
    """The editor site's sidebar: "Sidebar offer", a customization area with Standard (its fallback), and Plain
    and Bold, which target nobody yet: everyone sees Standard."""
    page = CMSPage.objects.get()
    sidebar = page.get_content_obj("en").get_placeholders().get(slot="sidebar")
    area = api.add_area(sidebar, strategy="customization", label=AREA_LABEL)
    for label, body in TEXTS.items():
        variant = api.add_variant(area, label, fallback=label == "Standard")
        add_plugin(sidebar, "TextPlugin", "en", target=variant, body=f"<p>{body}</p>")
    return editor_site


@pytest.mark.browser
def test_an_editor_starts_an_experiment_and_visitors_are_split_as_they_set(chromium: Browser, offer_site):
    site = offer_site
    context = new_context(chromium)
    editor = CMSEditor(context.new_page(), site)
    editor.log_in(site.page_path)
    editor.edit_page(site.page_path)
    sidebar = editor.placeholder("Sidebar")

    # 1. The area's menu on the structure board: Experiment.
    editor.choose_from_menu(editor.plugin(sidebar, "Tailored area", AREA_LABEL), "Strategy: Experiment")
    assert TailoredArea.objects.get(tailored_settings__label=AREA_LABEL).strategy == "experiment"

    # 2. Plain's share: 3 (Bold keeps 1), typed into the variant's form and saved with Enter.
    editor.edit_page(site.page_path)
    editor.expand_all(sidebar)
    form = editor.open_form(editor.plugin(sidebar, "Variant", "Plain"))
    share = form.get_by_label("Share in an experiment")
    expect(form.locator("form")).to_contain_text("visitors are split between its variants")
    assert_accessible(modal_frame(editor))
    share.focus()
    editor.page.keyboard.press("Control+A")
    editor.page.keyboard.type("3")
    editor.page.keyboard.press("Enter")
    expect(editor.modal).to_be_hidden()
    assert Variant.objects.get(tailored_settings__label="Plain").weight == 3

    # The page in edit mode says the split on each variant's label.
    editor.edit_page(site.page_path)
    labels = editor.page.locator(".tailored-slot .tailored-variant-label")
    expect(labels.filter(has_text="Plain")).to_contain_text("75% of the experiment")
    expect(labels.filter(has_text="Bold")).to_contain_text("25% of the experiment")
    expect(labels.filter(has_text="Standard")).not_to_contain_text("experiment")
    expect(editor.page.locator(".tailored-slot .tailored-area-label")).to_contain_text("Experiment")

    # 3. Visitors (each agrees to tracking, so the site knows them): about three in four see Plain, the rest
    # Bold, nobody the fallback; each keeps theirs on the next page.
    seen: Counter[str] = Counter()
    for number in range(VISITORS):
        visitor = known_visitor(chromium, site)
        page = visitor.new_page()
        page.goto(site.url(site.page_path))
        first = sidebar_offer(page)
        seen[first] += 1
        if number < 10:
            page.reload()
            assert sidebar_offer(page) == first, "a visitor's variant changed on reload"
        visitor.close()
    assert set(seen) == {TEXTS["Plain"], TEXTS["Bold"]}, seen
    assert 0.61 <= seen[TEXTS["Plain"]] / VISITORS <= 0.89, seen

    # 4. The results list the area as an experiment.
    page = editor.page
    page.goto(site.url(site.page_path))
    open_tailoring_menu_item(page, "Results")
    area = TailoredArea.objects.get(tailored_settings__label=AREA_LABEL)
    row = page.locator(f'[data-tailored-area-results="{area.key}"]')
    expect(row).to_contain_text(AREA_LABEL)
    expect(row).to_contain_text("Experiment")
    context.close()


def modal_frame(editor: CMSEditor) -> Frame:
    """The plugin form's frame in django CMS's modal (axe-core runs inside it)."""
    handle = editor.modal.locator(".cms-modal-frame iframe").element_handle()
    frame = handle.content_frame() if handle else None
    assert frame is not None
    return frame


def known_visitor(chromium: Browser, site: EditorSite) -> BrowserContext:
    """A new visitor who said yes to tracking through the consent API, as the banner does: the site knows them."""
    visitor = new_context(chromium)
    endpoint = site.url("/tailored/api/v1/consent/")
    assert visitor.request.get(endpoint).ok  # sets the csrftoken cookie
    token = next(c["value"] for c in visitor.cookies() if c["name"] == "csrftoken")
    answer = visitor.request.put(endpoint, data={"tracking": True}, headers={"X-CSRFToken": token})
    assert answer.ok, answer.text()
    return visitor


def sidebar_offer(page) -> str:
    """Which of the three texts the sidebar area shows the visitor (exactly one)."""
    area = page.locator(".tailored-slot[data-tailored-slot='sidebar'] .tailored-area")
    text = area.inner_text()
    shown = [body for body in TEXTS.values() if body in text]
    assert len(shown) == 1, text
    return shown[0]
