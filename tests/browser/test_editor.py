"""The editor's journey in a real browser: django CMS's own editor UI builds a tailored area, the area's menu and
the admin list switch its strategy, and visitors see what the editor meant, through the CMS's page and
placeholder caches; then the editor previews the page as a segment from the toolbar's Tailoring menu and opens
the results.

Everything an editor does goes through the CMS's UI: the structure board's "+" menus, the plugin forms in the
modal (the Text plugin's rich text editor included), the toolbar's Page menu and the admin's list of
tailored areas.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FrameLocator, expect

from tailored_cms import api
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.widgets.models import PageTopics

from .chromium import VIEWPORT
from .editor_fixtures import (  # noqa: F401 - the fixtures are used by name
    CMSEditor,
    EditorSite,
    Visitor,
    chromium_fixture,
    editor_site_fixture,
    new_context,
    open_tailoring_menu_item,
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCREENSHOT = SCREENSHOTS / "editor-structure.png"
AREA_LABEL = "Match-day promo"
SPORTS_TEXT = "Derby tickets on sale now"
FALLBACK_TEXT = "Read our weekly digest"
VARIANTS = [
    # label, topic and segment to tick, fallback, text
    ("Sports fans", "sports", False, SPORTS_TEXT),
    ("Everyone else", None, True, FALLBACK_TEXT),
]
SEGMENT = ("sports-fans", "Sports fans")


@pytest.mark.browser
def test_an_editor_builds_a_tailored_area_and_switches_its_strategy(chromium: Browser, editor_site: EditorSite):
    path = editor_site.page_path
    newcomer = Visitor(chromium, editor_site)
    fan = Visitor(chromium, editor_site)
    fan.follow("sports")
    # Both visit before the editor starts: the CMS caches hold the page without an area.
    assert SPORTS_TEXT not in fan.sidebar() and FALLBACK_TEXT not in newcomer.sidebar()

    api.create_segment(*SEGMENT, rules={"rule": "topic_views", "topic": "sports", "min": 3, "days": 30})
    context = new_context(chromium)
    editor = CMSEditor(context.new_page(), editor_site)
    editor.log_in(path)
    editor.edit_page(path)
    sidebar = editor.placeholder("Sidebar")

    # 1. A tailored area with two variants, each holding a Text plugin, all through the CMS's editor UI.
    form = editor.add_to_placeholder(sidebar, "TailoredAreaPlugin")
    form.locator("#id_label").fill(AREA_LABEL)
    form.locator("#id_strategy").select_option("customization")
    screenshot_form(editor, form, "area-settings.png")
    editor.save()
    area = editor.plugin(sidebar, "Tailored area", AREA_LABEL)
    expect(area).to_have_count(1)
    for label, topic, fallback, text in VARIANTS:
        form = editor.add_child(area, "VariantPlugin")
        form.locator("#id_label").fill(label)
        if topic:
            form.locator(f"#id_topics input[value='{topic}']").check()
            form.locator(f"#id_segments input[value='{SEGMENT[0]}']").check()
            screenshot_form(editor, form, "variant-settings.png")
        if fallback:
            form.locator("#id_fallback").check()
        editor.save()
        variant = editor.plugin(sidebar, "Variant", label)
        expect(variant).to_have_count(1)
        editor.expand_all(sidebar)
        form = editor.add_child(variant, "TextPlugin")
        editor.type_text(form, text)
        editor.save()
        expect(editor.plugin(variant, "Text", text.split()[0])).to_have_count(1)

    # The CMS re-rendered only the variant the Text went into: it still says what a visitor would see.
    chosen = editor.page.locator(".tailored-slot .tailored-variant[data-tailored-chosen='true']")
    expect(chosen).to_have_count(1)
    expect(chosen).to_contain_text("Everyone else")
    expect(chosen).to_contain_text("what you see as a visitor")

    # The page's topics, from the toolbar's Page menu.
    form = editor.open_toolbar_item("Page", "Topics")
    form.get_by_label("Sports").check()
    editor.save()
    assert list(PageTopics.objects.values_list("topics__slug", flat=True)) == ["sports"]

    saved = TailoredArea.objects.get(tailored_settings__label=AREA_LABEL)
    assert saved.strategy == "customization" and saved.placeholder.slot == "sidebar"
    variants = {v.label: v for v in Variant.objects.filter(parent=saved)}
    assert variants["Sports fans"].topics == ["sports"] and not variants["Sports fans"].fallback
    assert variants["Sports fans"].segments == [SEGMENT[0]]
    assert variants["Everyone else"].topics == [] and variants["Everyone else"].fallback

    # 2. Both variants are labelled with their targeting: on the structure board and in the content.
    editor.edit_page(path)  # a fresh load, as the editor sees it next time
    editor.expand_all(sidebar)
    sports_row = editor.row_text(editor.plugin(sidebar, "Variant", "Sports fans"))
    fallback_row = editor.row_text(editor.plugin(sidebar, "Variant", "Everyone else"))
    expect(sports_row).to_contain_text("topics: sports")
    expect(fallback_row).to_contain_text("fallback")
    for row in (sports_row, fallback_row):  # wrapped, not cut off with an ellipsis (tailored_cms/editor.css)
        assert row.evaluate("e => e.scrollWidth <= e.clientWidth && getComputedStyle(e).whiteSpace == 'normal'")
    labels = editor.page.locator(".tailored-slot .tailored-variant-label")
    expect(labels).to_have_count(2)
    expect(labels.filter(has_text="Sports fans")).to_contain_text("topics: sports")
    expect(labels.filter(has_text="Everyone else")).to_contain_text("fallback")
    expect(labels.filter(has_text="Everyone else")).to_contain_text("what you see as a visitor")
    if os.environ.get("TAILORED_SCREENSHOTS") == "1":  # `make screenshots`; test runs leave docs/ alone
        editor.page.screenshot(path=str(SCREENSHOT))

    # 4. Visitors: the fan sees the sports variant, a newcomer the fallback (the caches held the empty page).
    assert_sidebar(fan, shows=SPORTS_TEXT, hides=FALLBACK_TEXT)
    assert_sidebar(newcomer, shows=FALLBACK_TEXT, hides=SPORTS_TEXT)

    # 3. The strategy, changed from the area's menu on the structure board, then from the admin's list of
    # tailored areas, and what the plugin form shows.
    for strategy in ("static", "customization"):
        if strategy == "static":
            editor.edit_page(path)
            editor.choose_from_menu(editor.plugin(sidebar, "Tailored area", AREA_LABEL), "Strategy: Static")
            assert TailoredArea.objects.get(tailored_settings__label=AREA_LABEL).strategy == "static"
        else:
            set_strategy_in_admin_list(editor, AREA_LABEL, strategy)
        editor.edit_page(path)
        form = editor.open_form(editor.plugin(sidebar, "Tailored area", AREA_LABEL))
        expect(form.locator("#id_strategy")).to_have_value(strategy)
        editor.cancel()
        # 4. While static, everyone sees the fallback; back on customization, the fan sees sports again.
        assert_sidebar(fan, shows=SPORTS_TEXT if strategy == "customization" else FALLBACK_TEXT)
        assert_sidebar(newcomer, shows=FALLBACK_TEXT, hides=SPORTS_TEXT)
        assert_sidebar(Visitor(chromium, editor_site), shows=FALLBACK_TEXT, hides=SPORTS_TEXT)

    # 5. Personalization: nobody is in the segment yet, so visitors see the fallback; the editor previews the
    # page as the segment's visitor from the toolbar's Tailoring menu, and sees the sports variant.
    set_strategy_in_admin_list(editor, AREA_LABEL, "personalization")
    assert_sidebar(fan, shows=FALLBACK_TEXT, hides=SPORTS_TEXT)
    page = editor.page
    page.goto(editor_site.url(path))
    open_tailoring_menu_item(page, "Preview as…")
    page.wait_for_url("**/tailored/preview/**")
    page.get_by_label(SEGMENT[1]).check()
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url(editor_site.url(path))
    expect(page.locator(".cms-toolbar [data-tailored-preview]")).to_contain_text(f"Previewing as: {SEGMENT[1]}")
    expect(page.locator(".tailored-slot[data-tailored-slot='sidebar']")).to_contain_text(SPORTS_TEXT)
    assert_sidebar(newcomer, shows=FALLBACK_TEXT, hides=SPORTS_TEXT)  # the preview reaches nobody else
    open_tailoring_menu_item(page, "Stop preview")
    expect(page.locator(".cms-toolbar [data-tailored-preview]")).to_have_count(0)

    # 6. The results, from the same menu: the area is listed with its strategy.
    open_tailoring_menu_item(page, "Results")
    area_key = TailoredArea.objects.get(tailored_settings__label=AREA_LABEL).key
    expect(page.locator(f'[data-tailored-area-results="{area_key}"]')).to_contain_text(AREA_LABEL)

    for visitor in (fan, newcomer):
        visitor.close()
    context.close()


def screenshot_form(editor: CMSEditor, form: FrameLocator, name: str) -> None:
    """`make screenshots`: the plugin form in the CMS's modal, maximized and as tall as the form, 1280 wide."""
    if os.environ.get("TAILORED_SCREENSHOTS") != "1":  # test runs leave docs/ alone
        return
    page = editor.page
    root = page.locator("html")  # django CMS marks the maximized modal there
    maximize = editor.modal.locator(".cms-modal-maximize")
    maximize.click()
    expect(root).to_have_class(re.compile(r"\bcms-modal-maximized\b"))
    maximize.blur()
    frame = editor.modal.locator(".cms-modal-frame iframe")
    chrome = editor.modal.bounding_box()["height"] - frame.bounding_box()["height"]
    content = form.locator("html").evaluate(
        "e => { scrollTo(0, 0); return document.querySelector('form').scrollHeight; }"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": int(chrome + content + 40)})
    editor.modal.screenshot(path=str(SCREENSHOTS / name))
    page.set_viewport_size(VIEWPORT)
    maximize.click()
    expect(root).not_to_have_class(re.compile(r"\bcms-modal-maximized\b"))


def set_strategy_in_admin_list(editor: CMSEditor, label: str, strategy: str) -> None:
    """Admin home → Tailored content → Tailored areas, pick the strategy in the area's row, Save."""
    page = editor.page
    page.goto(editor.site.url("/admin/"))
    page.locator(".app-tailored_cms").get_by_role("link", name="Tailored areas").click()
    row = page.locator("#result_list tbody tr").filter(has_text=label)
    row.locator("select[name$='-strategy']").select_option(strategy)
    page.locator("#changelist-form input[name='_save']").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(row.locator("select[name$='-strategy']")).to_have_value(strategy)


def assert_sidebar(visitor: Visitor, shows: str, hides: str | None = None) -> None:
    text = visitor.sidebar()
    assert shows in text, text
    if hides:
        assert hides not in text, text
