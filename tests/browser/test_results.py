"""Results in a real browser: a consenting visitor's beacon reports what a tailored area showed (the variant and
the path that chose it), the ingest counts it, and an editor opens the results from the CMS toolbar's
"Tailoring" menu and sees the chart and the tables."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from cms.api import add_plugin
from cms.models import Page as CMSPage
from django.utils import timezone
from playwright.sync_api import Browser, Request, expect

from tailored_cms import api
from tailored_cms.areas.selection import in_holdout
from tailored_cms.results.models import SegmentSize, VariantStats
from tailored_cms.rules.models import Segment
from tailored_cms.tracking import ingest_batch
from tailored_cms.visitors.models import Visitor

from .accessibility import ADMIN_CHROME, assert_accessible
from .editor_fixtures import (  # noqa: F401 - the fixtures are used by name
    CMSEditor,
    EditorSite,
    chromium_fixture,
    editor_site_fixture,
    new_context,
)

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "results.png"
EVENTS = "/tailored/api/v1/events/"


def is_events_post(request: Request) -> bool:
    return request.url.endswith(EVENTS) and request.method == "POST"


@pytest.fixture
def measured_site(editor_site: EditorSite):
    """The editor site's page with a tailored sidebar (goal "signup", 10% holdout) and four weeks of figures."""
    page = CMSPage.objects.get()
    sidebar = page.get_content_obj("en").get_placeholders().get(slot="sidebar")
    area = api.add_area(sidebar, strategy="customization", label="Sidebar offer", holdout_percent=10, goal="signup")
    sports = api.add_variant(area, "Sports fans", topics=["sports"])
    add_plugin(sidebar, "TextPlugin", "en", target=sports, body="<p>Tickets for Saturday's match</p>")
    everyone = api.add_variant(area, "Everyone", fallback=True)
    add_plugin(sidebar, "TextPlugin", "en", target=everyone, body="<p>Our newsletter, every Friday</p>")
    today = timezone.localdate()
    fans = Segment.objects.create(slug="sports-fans", name="Sports fans", rules={"all": []})
    regulars = Segment.objects.create(slug="regulars", name="Regulars", rules={"all": []})
    rows = []
    for offset in range(1, 29):  # the last four weeks before today, a figure that moves a little every day
        day = today - timedelta(days=offset)
        wave = offset % 7
        rows += [
            VariantStats(
                area=area.key,
                variant=sports.key,
                path="customized",
                day=day,
                impressions=120 + 3 * wave,
                clicks=17 + wave,
                conversions=5 + wave % 3,
            ),
            VariantStats(
                area=area.key,
                variant=everyone.key,
                path="fallback",
                day=day,
                impressions=200 - 2 * wave,
                clicks=18 - wave % 4,
                conversions=4 + wave % 2,
            ),
            VariantStats(
                area=area.key,
                variant=everyone.key,
                path="holdout",
                day=day,
                impressions=30 + wave,
                clicks=2 + wave % 2,
                conversions=wave % 2,
            ),
        ]
        SegmentSize.objects.create(segment=fans, day=day, size=400 + 9 * (28 - offset) + wave)
        SegmentSize.objects.create(segment=regulars, day=day, size=650 - 4 * (28 - offset))
    VariantStats.objects.bulk_create(rows)
    return editor_site, area, everyone


@pytest.mark.browser
def test_a_visitors_impression_is_counted_and_the_editor_reads_the_results(
    chromium: Browser, measured_site, tailored_redis: redis.Redis
):
    site, area, everyone = measured_site
    path = site.page_path

    # A visitor who agreed to tracking sees the fallback; the beacon says so: area, variant key, path, and the
    # page's language (the area's data-tailored-language, written by the server). The area
    # holds out 10% of visitors (ids are random): one who falls into the holdout is replaced by a new one.
    for _attempt in range(20):
        visitor = new_context(chromium).new_page()
        endpoint = site.url("/tailored/api/v1/consent/")
        assert visitor.context.request.get(endpoint).ok  # sets the csrftoken cookie, as customize.js's first call does
        token = next(c["value"] for c in visitor.context.cookies() if c["name"] == "csrftoken")
        consent = visitor.context.request.put(endpoint, data={"tracking": True}, headers={"X-CSRFToken": token})
        assert consent.ok, consent.text()
        if not in_holdout(str(Visitor.objects.latest("created_at").pk), area.key, area.holdout_percent):
            break
        visitor.context.close()
    with visitor.expect_request(is_events_post) as beacon:
        visitor.goto(site.url(path))
        visitor.wait_for_function("() => window.tailored && typeof window.tailored.flush === 'function'")
        visitor.evaluate("window.tailored.flush()")
    (impression,) = [e for e in json.loads(beacon.value.post_data or "{}")["events"] if e["name"] == "impression"]
    shown = visitor.locator(f'[data-tailored-area-key="{area.key}"] [data-tailored-variant]')
    expect(shown).to_have_attribute("data-tailored-variant", everyone.key)
    expect(shown).to_have_attribute("data-tailored-path", "fallback")
    expect(visitor.locator(f'[data-tailored-area-key="{area.key}"]')).to_have_attribute("data-tailored-language", "en")
    assert impression["props"] == {
        "area": area.key,
        "variants": [everyone.key],
        "paths": ["fallback"],
        "language": "en",
    }
    response = beacon.value.response()
    assert response is not None and response.status == 202, response and response.text()
    # An area swapped in (as customize.js does after a choice) is a new impression; the same element is not.
    with visitor.expect_request(is_events_post) as again:
        visitor.evaluate(
            """(key) => {
                const area = document.querySelector(`[data-tailored-area-key="${key}"]`);
                area.replaceWith(area.cloneNode(true));
                window.tailored.flush();
            }""",
            area.key,
        )
    names = [e["name"] for e in json.loads(again.value.post_data or "{}")["events"]]
    assert names.count("impression") == 1
    answer = again.value.response()  # sent is not stored: wait for the endpoint's answer before ingesting
    assert answer is not None and answer.status == 202, answer and answer.text()
    assert ingest_batch().new >= 2  # what the Celery worker does every second
    counted = VariantStats.objects.get(area=area.key, day=timezone.localdate())
    assert (counted.language, counted.impressions) == ("en", 2)
    visitor.context.close()

    # The editor: Tailoring → Results, then the area.
    context = new_context(chromium)
    editor = CMSEditor(context.new_page(), site)
    page = editor.page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    editor.log_in(path)
    page.goto(site.url(path))
    page.locator(".cms-toolbar-item-navigation > li > a", has_text="Tailoring").click()
    page.locator(".cms-toolbar-item-navigation a", has_text="Results").click()
    page.wait_for_url("**/admin/tailored_cms/variantstats/")
    row = page.locator(f'[data-tailored-area-results="{area.key}"]')
    expect(row).to_contain_text("Sidebar offer")
    expect(row).to_contain_text("signup")
    expect(page.locator("svg.tailored-chart")).to_have_count(1)  # the segments' sizes
    expect(page.get_by_role("img", name="Segment sizes per day, last 30 days")).to_be_visible()
    assert_accessible(page, exclude=ADMIN_CHROME)

    row.get_by_role("link", name="Sidebar offer").click()
    page.wait_for_url(f"**/admin/tailored_cms/variantstats/{area.key}/**")
    expect(page.get_by_role("img", name="Click-through rate per day, by path, Sidebar offer")).to_be_visible()
    expect(page.locator("svg.tailored-chart")).to_have_count(2)
    paths = page.locator("[data-tailored-results-paths]")
    for label in ("Customized: their choices", "Fallback: nothing matched", "Holdout"):
        expect(paths.get_by_role("rowheader", name=label)).to_be_visible()
    expect(page.locator("[data-tailored-results-variants]")).to_contain_text("Sports fans")
    expect(page.locator("[data-tailored-lift]")).to_contain_text("pts")
    assert_accessible(page, exclude=ADMIN_CHROME)
    # Today's figures are the visitor's two impressions of the fallback.
    page.get_by_text("The charts' figures as a table").click()
    today = page.locator("[data-tailored-results-daily] tr", has_text=timezone.localdate().isoformat())
    expect(today).to_be_visible()
    expect(today.locator("td").nth(4)).to_have_text("2")  # the fallback's impressions (after customized's 4 cells)
    if os.environ.get("TAILORED_SCREENSHOTS") == "1":  # `make screenshots`; test runs leave docs/ alone
        page.get_by_text("The charts' figures as a table").click()  # closed again: the charts are the picture
        page.locator("#toggle-nav-sidebar").click()  # the admin's list of models folded away
        page.set_viewport_size({"width": 1280, "height": 1640})  # the whole page (the admin's header is sticky)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT))

    # The CSV of the per-day rows.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the daily figures (CSV)").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "day,area,area_label,variant,variant_label,path,language,impressions,clicks,conversions"
    assert len(lines) == 1 + 28 * 3 + 1  # four weeks of three paths, and today's impressions
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
