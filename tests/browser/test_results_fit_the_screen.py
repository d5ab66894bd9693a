"""Every results table fits a 1280 px screen: the columns that matter first, the rest behind a disclosure. The
results index and an area's page, with the admin's list of models open, long labels and large figures, don't
scroll sideways; both pass axe-core."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cms.models import Page as CMSPage
from django.utils import timezone
from playwright.sync_api import Browser, expect

from tailored_cms import api
from tailored_cms.results.models import VariantStats

from .accessibility import ADMIN_CHROME, assert_accessible
from .editor_fixtures import (  # noqa: F401 - the fixtures are used by name
    CMSEditor,
    EditorSite,
    chromium_fixture,
    editor_site_fixture,
    new_context,
)

WIDTH = 1280


@pytest.fixture
def busy_area(editor_site: EditorSite):
    """A hybrid area with a goal and a holdout, long labels, four paths in three languages, six-figure counts."""
    page = CMSPage.objects.get()
    sidebar = page.get_content_obj("en").get_placeholders().get(slot="sidebar")
    area = api.add_area(
        sidebar,
        strategy="hybrid",
        label="Weekend offer for readers of the match reports",
        holdout_percent=10,
        goal="newsletter_signup",
    )
    variants = [
        api.add_variant(area, "Season tickets for the most loyal supporters", topics=["sports"]),
        api.add_variant(area, "Travel packages to the away matches", topics=["travel"]),
        api.add_variant(area, "Everyone else: the weekly newsletter", fallback=True),
    ]
    today = timezone.localdate()
    rows = []
    for offset in range(0, 30):
        for language in ("en", "es", "it"):
            for variant, path in zip(variants, ("customized", "personalized", "fallback"), strict=True):
                rows.append(
                    VariantStats(
                        area=area.key,
                        variant=variant.key,
                        path=path,
                        day=today - timedelta(days=offset),
                        language=language,
                        impressions=41_234,
                        clicks=5_321,
                        conversions=1_234,
                    )
                )
            rows.append(
                VariantStats(
                    area=area.key,
                    variant=variants[2].key,
                    path="holdout",
                    day=today - timedelta(days=offset),
                    language=language,
                    impressions=4_123,
                    clicks=432,
                    conversions=99,
                )
            )
    VariantStats.objects.bulk_create(rows)
    return editor_site, area


@pytest.mark.browser
def test_the_results_pages_fit_a_1280_px_screen(chromium: Browser, busy_area):
    site, area = busy_area
    context = new_context(chromium)
    editor = CMSEditor(context.new_page(), site)
    page = editor.page
    page.set_viewport_size({"width": WIDTH, "height": 900})
    editor.log_in(site.page_path)
    for url in ("/admin/tailored_cms/variantstats/", f"/admin/tailored_cms/variantstats/{area.key}/"):
        page.goto(site.url(url))
        expect(page.locator("#nav-sidebar")).to_be_visible()  # the admin's list of models takes its share
        for disclosure in ("closed", "open"):
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= WIDTH, f"{url}, disclosures {disclosure}: {width} px wide"
            wider = page.evaluate(WIDER_THAN_THE_CONTENT)
            assert not wider, f"{url}, disclosures {disclosure}: tables wider than the page's content: {wider}"
            assert_accessible(page, exclude=ADMIN_CHROME)
            page.evaluate("document.querySelectorAll('details').forEach((details) => { details.open = true; })")
    context.close()


# The tables wider than the content's column, but for those in a region that scrolls on its own (many days).
WIDER_THAN_THE_CONTENT = """() => {
    const room = document.querySelector("#content-main").clientWidth;
    return [...document.querySelectorAll("#content-main table")]
        .filter((table) => !table.closest(".tailored-scroll") && table.offsetWidth > room)
        .map((table) => `${table.querySelector("caption")?.textContent}: ${table.offsetWidth} > ${room}`);
}"""
