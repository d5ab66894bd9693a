"""Visitors in Chromium browse the example site through a real Varnish: the pages Varnish serves are counted
(their beacon sends the page view), each view once, only with consent; and an optimize area's variants are kept
apart by the visitor's bucket, however alike the visitors are otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect, sync_playwright

from ..browser.beacon import settled
from ..browser.chromium import VIEWPORT, launch_for_test
from ..browser.conftest import TIMEOUT_MS, eventually, tabs
from ..browser.test_consent_and_tracking import answering, is_events_post
from .conftest import Edge, serve_edge
from .test_through_varnish import DEVICES, SPORTS, origin_page, save_choices

pytestmark = [pytest.mark.browser, pytest.mark.workers]  # Chromium; a Celery worker ingests the page views

ME = "/tailored/api/v1/me/"
SPORTS_FANS = "sports-fans"  # the demo's segment: three views of pages about sports in 30 days
WITHIN_SECONDS = 20  # beat runs the ingest every second


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    """The site behind Varnish, the key cookie living a minute (as by default): a visitor's pages come from the
    cache for as long as their tailoring stays."""
    with serve_edge(tmp_path_factory.mktemp("edge-counted"), key_max_age=60) as served:
        yield served


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_for_test(playwright)
        yield browser
        browser.close()


@pytest.fixture
def new_visitor(chromium: Browser, edge: Edge) -> Iterator[Callable[..., Page]]:
    """New visitors' tabs, each a fresh profile in a desktop Chrome browsing through Varnish; a script error on a
    page fails the test."""

    def desktop(**options) -> BrowserContext:
        context = chromium.new_context(
            viewport=VIEWPORT, base_url=edge.varnish.url, user_agent=DEVICES["desktop"], **options
        )
        context.set_default_timeout(TIMEOUT_MS)
        return context

    with tabs(desktop) as open_tab:
        yield open_tab


def view_three_times(page: Page, path: str) -> tuple[list[str], list[Request]]:
    """View ``path`` three times, each page's events sent before the next: how Varnish answered each time, and the
    events/ requests the pages sent."""
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if is_events_post(request) else None)
    answers = []
    for _ in range(3):
        response = page.goto(path)
        assert response is not None and response.ok
        answers.append(response.headers.get("x-cache", ""))
        settled(page)
    return answers, sent


def export(edge: Edge, page: Page) -> dict:
    """What the site stores about the page's visitor (their me/), asked of the site directly."""
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    return requests.get(edge.site.url(ME), cookies=cookies).json()


def sports_views(document: dict) -> int:
    return sum(row["count"] for row in document["topic_views"] if row["topic"] == "sports")


def test_a_consenting_visitors_views_from_the_cache_are_counted_once_each_and_the_others_not_at_all(
    new_visitor, edge: Edge
):
    refusing = new_visitor()
    refusing.goto("/en/")
    answering(refusing, "No thanks", tracking=False)
    refused_answers, refused_sent = view_three_times(refusing, SPORTS[1])

    opted_out = new_visitor(extra_http_headers={"Sec-GPC": "1"})  # agreed, but the browser says no to tracking
    opted_out.goto("/en/")
    token = opted_out.request.get("/tailored/api/v1/preferences/").headers["x-csrftoken"]
    agreed = opted_out.request.put("/tailored/api/v1/consent/", data={"tracking": True}, headers={"X-CSRFToken": token})
    assert agreed.ok, agreed.text()
    _, opted_out_sent = view_three_times(opted_out, SPORTS[1])

    reader = new_visitor()
    reader.goto("/en/")
    answering(reader, "Allow", tracking=True)
    answers, sent = view_three_times(reader, SPORTS[0])  # a page nobody viewed under the reader's key
    assert answers == ["MISS", "HIT", "HIT"]  # the first from the site, counted once, not twice
    events = [event for request in sent for event in json.loads(request.post_data or "{}")["events"]]
    page_views = [event for event in events if event["name"] == "page_view"]
    assert [event["path"] for event in page_views] == [SPORTS[0]] * 3

    sent_ids = {event["id"] for event in page_views}
    document = eventually(
        lambda: export(edge, reader), lambda d: sent_ids <= {event["id"] for event in d["events"]}, WITHIN_SECONDS
    )
    assert [event["name"] for event in document["events"]].count("page_view") == 3, document["events"]
    assert sports_views(document) == 3, document["topic_views"]
    document = eventually(
        lambda: export(edge, reader), lambda d: any(s["segment"] == SPORTS_FANS for s in d["segments"]), WITHIN_SECONDS
    )
    assert [s["segment"] for s in document["segments"] if s["left"] is None] == [SPORTS_FANS]

    # The reader's views were ingested: so were any the others' pages sent before them. None was.
    assert refused_answers[1:] == ["HIT", "HIT"]
    assert refused_sent == [] and opted_out_sent == []  # no beacon on their pages, cached or not
    expect(refusing.locator("script[data-tailored-beacon]")).to_have_count(0)
    expect(opted_out.locator("script[data-tailored-beacon]")).to_have_count(0)
    for other in (refusing, opted_out):
        assert sports_views(export(edge, other)) == 0


OPTIMIZE_PAGE = """
from cms.api import add_plugin, create_page
from tailored_cms import api
page = create_page("Optimize at the edge", "page.html", "en", slug="optimize-at-the-edge")
placeholder = page.get_content_obj("en").get_placeholders().get(slot="content")
area = api.add_area(placeholder, language="en", strategy="optimize", label="Teaser at the edge")
for label in ("FALLBACK", "ALPHA", "BETA"):  # the fallback is not tested: those without a bucket see it
    variant = api.add_variant(area, label=label, fallback=label == "FALLBACK")
    add_plugin(placeholder, "TextPlugin", "en", target=variant, body=f"<p>Teaser {label}</p>")
print(page.get_absolute_url("en"))
"""


def teaser(html: str) -> str:
    return next((label for label in ("FALLBACK", "ALPHA", "BETA") if f"Teaser {label}" in html), "none")


def test_visitors_in_other_optimize_buckets_never_get_each_others_cached_variant(edge: Edge):
    path = edge.run(OPTIMIZE_PAGE).strip().splitlines()[-1]
    seen: dict[str, requests.Session] = {}  # a visitor per variant, all with the same choices, so the same key
    for _ in range(30):
        visitor = requests.Session()
        visitor.headers["User-Agent"] = DEVICES["desktop"]
        save_choices(visitor, edge.varnish.url, {"theme": "dark"})
        seen.setdefault(teaser(origin_page(edge, visitor, path)), visitor)
        if {"ALPHA", "BETA"} <= seen.keys():
            break
    assert {"ALPHA", "BETA"} <= seen.keys(), seen.keys()
    alpha, beta = seen["ALPHA"], seen["BETA"]
    alpha_key, _, alpha_bucket = alpha.cookies["tailored_key"].partition(".")
    beta_key, _, beta_bucket = beta.cookies["tailored_key"].partition(".")
    assert alpha_key == beta_key and alpha_bucket != beta_bucket  # alike but for the bucket

    first = alpha.get(edge.varnish.url + path)
    again = alpha.get(edge.varnish.url + path)
    assert (teaser(first.text), teaser(again.text), again.headers["X-Cache"]) == ("ALPHA", "ALPHA", "HIT")
    other = beta.get(edge.varnish.url + path)  # the same key: only the bucket keeps alpha's copy from them
    assert (teaser(other.text), other.headers["X-Cache"]) == ("BETA", "MISS")
    assert teaser(beta.get(edge.varnish.url + path).text) == "BETA"
    assert teaser(alpha.get(edge.varnish.url + path).text) == "ALPHA"
    assert "x-tailored-bucket" in again.headers["Vary"].lower()  # how: Varnish keeps a copy per bucket
