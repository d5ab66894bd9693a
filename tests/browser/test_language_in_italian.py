"""Tailoring by language, as an editor whose admin speaks Italian (the browser asks for ``it-IT``): they build a
segment of visitors reading in Spanish with the segment builder, reading every label in Italian, then open the
results and find the figures split by the language of the pages, and filtered to one language."""

from __future__ import annotations

import re

import pytest
from cms.api import add_plugin
from cms.models import Page as CMSPage
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from tailored_cms import api
from tailored_cms.results.models import VariantStats
from tailored_cms.rules.models import Segment
from tests.tracking.conftest import celery_app  # noqa: F401 - saving queues a recompute: to the private broker

from .chromium import VIEWPORT
from .conftest import tab
from .editor_fixtures import (  # noqa: F401 - the fixtures are used by name
    TIMEOUT_MS,
    EditorSite,
    chromium_fixture,
    editor_site_fixture,
)
from .test_segment_builder import log_in_to_admin

ENGLISH = re.compile(r"\b(Language|Spanish|Italian|English|Add rule|checked on each page view|reads in)\b")


@pytest.fixture
def italian_editor(chromium: Browser, editor_site: EditorSite) -> Page:
    context = chromium.new_context(viewport=VIEWPORT, locale="it-IT")
    context.set_default_timeout(TIMEOUT_MS)
    with tab(context) as page:
        yield page


@pytest.fixture
def figures_in_two_languages(editor_site: EditorSite) -> str:
    """A tailored area with today's figures on Spanish pages (400 impressions, 60 clicks) and Italian ones (100, 5)."""
    page = CMSPage.objects.get()
    content = page.get_content_obj("en").get_placeholders().get(slot="content")
    area = api.add_area(content, strategy="customization", label="Offerta")
    everyone = api.add_variant(area, "Tutti", fallback=True)
    add_plugin(content, "TextPlugin", "en", target=everyone, body="<p>La nostra newsletter</p>")
    for language, impressions, clicks in (("es", 400, 60), ("it", 100, 5)):
        VariantStats.objects.create(
            area=area.key,
            variant=everyone.key,
            path="fallback",
            day=timezone.localdate(),
            language=language,
            impressions=impressions,
            clicks=clicks,
        )
    return area.key


@pytest.mark.browser
def test_an_italian_editor_targets_spanish_readers_and_reads_results_by_language(
    italian_editor: Page,
    editor_site: EditorSite,
    figures_in_two_languages: str,
    celery_app,  # noqa: F811
):
    page = italian_editor
    add_path = "/admin/tailored_cms/segment/add/"
    log_in_to_admin(page, editor_site, add_path)
    expect(page.locator("html")).to_have_attribute("lang", "it")

    page.locator("#id_name").press_sequentially("Lettori spagnoli")
    root = page.locator(".tailored-builder-root")
    root.get_by_label("Aggiungi una regola:").select_option(label="Lingua")
    root.get_by_role("button", name="Aggiungi regola", exact=True).click()
    rule = root.locator(".tailored-builder-rule[data-rule='language']")
    expect(rule.locator(".tailored-builder-rule-label")).to_have_text("Lingua")
    expect(rule.locator(".tailored-builder-kind")).to_have_text("verificata a ogni visualizzazione di pagina")
    choices = rule.locator("[data-param='is']")
    expect(choices.locator("legend")).to_have_text("Lingua")
    # The site's languages, named in the editor's language.
    expect(choices.locator("label")).to_have_text(["Inglese", "Spagnolo", "Italiano"])
    choices.get_by_label("Spagnolo", exact=True).check()
    words = page.locator(".tailored-builder-words")
    expect(words).to_have_text("In parole: ogni visitatore che legge in spagnolo.")
    expect(page.locator(".tailored-builder-count")).to_contain_text("«Lingua» viene verificata a ogni visualizzazione")
    builder = page.locator(".tailored-builder").inner_text()
    assert not ENGLISH.search(builder), builder

    page.locator("input[name='_save']").click()
    expect(page.locator(".messagelist")).to_contain_text("Lettori spagnoli")
    assert Segment.objects.get(slug="lettori-spagnoli").rules == {"all": [{"rule": "language", "is": ["es"]}]}
    row = page.locator("#result_list tbody tr").filter(has_text="Lettori spagnoli")
    expect(row).to_contain_text("legge in spagnolo")

    # Results: every area together by language, then the area's own split, then Spanish pages only.
    page.goto(editor_site.url("/admin/tailored_cms/variantstats/"))
    languages = page.locator("[data-tailored-results-languages]")
    expect(languages.locator("caption")).to_have_text("Per lingua: tutte le aree insieme")
    expect(languages.get_by_role("rowheader")).to_have_text(["Spagnolo", "Italiano"])
    expect(languages.locator("tr[data-language='es'] td").first).to_have_text("400")
    expect(languages.locator("tr[data-language='es'] td.tailored-rate").first).to_contain_text("15,0%")
    page.get_by_role("link", name="Offerta").click()
    page.wait_for_url(f"**/admin/tailored_cms/variantstats/{figures_in_two_languages}/**")
    split = page.locator("[data-tailored-results-language-variants]")
    expect(split.locator("caption")).to_have_text("Per lingua, variante e percorso")
    expect(split.get_by_role("rowheader")).to_have_text(["Spagnolo", "Italiano"])
    expect(split.locator("tr[data-language='it'] td").nth(2)).to_have_text("100")
    filters = page.get_by_role("navigation", name="Lingua delle pagine")
    expect(filters.locator("[aria-current='page']")).to_have_text("Tutte le lingue")
    filters.get_by_role("link", name="Spagnolo").click()
    expect(filters.locator("[aria-current='page']")).to_have_text("Spagnolo")
    expect(page.locator("[data-tailored-results-paths] tr[data-path='fallback'] td").first).to_have_text("400")
    expect(page.locator("[data-tailored-results-languages]").get_by_role("rowheader")).to_have_text(["Spagnolo"])
