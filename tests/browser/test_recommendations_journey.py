"""Recommended pages as a visitor meets them: after three technology articles, the homepage's "Read next" (the
Recommended pages plugin the demo seeds) lists the technology pages they haven't read first, each with why.

The demo site runs with a Celery worker and beat (``conftest.demo_site``): the ingest turns the page views into
topic views and computes the visitor's list into Redis; ``recommendations.js`` asks for it after the page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from example_site.demo.content import ARTICLES

from .accessibility import assert_accessible
from .conftest import eventually
from .test_consent_and_tracking import answering, open_why
from .test_personalization_journey import new_visitor  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

TECHNOLOGY = [texts["en"][0] for topic, texts in ARTICLES if topic == "technology"]
WITHIN_SECONDS = 15  # beat runs the ingest every second; the visitor's list is computed after it


def read_next(page: Page) -> list[str]:
    """The pages "Read next" lists on a fresh load of the homepage, once recommendations.js has had its say."""
    with page.expect_response(lambda r: "/tailored/api/v1/recommendations/?" in r.url):
        page.goto("/")
    return page.locator("[data-tailored-recommendations] li").all_inner_texts()


def open_article(page: Page, title: str) -> None:
    """Follow the homepage's or an article's link to ``title`` (its list of articles), and see the article."""
    with page.expect_navigation():
        page.locator("[data-tailored-feed]").get_by_role("link", name=title, exact=True).first.click()
    expect(page.locator("h1")).to_have_text(title)


def test_a_visitor_who_reads_three_technology_articles_is_recommended_the_others_first(new_visitor):  # noqa: F811
    reader = new_visitor()
    assert len(TECHNOLOGY) == 5
    read_next(reader)
    answering(reader, "Allow", tracking=True)
    # Two the homepage's "For you" lists (the newest articles), then one of the oldest.
    read, unread = [TECHNOLOGY[4], TECHNOLOGY[3], TECHNOLOGY[0]], TECHNOLOGY[1:3]
    for title in read:  # from the homepage, then from each article's "More to read"
        open_article(reader, title)

    listed = eventually(
        lambda: read_next(reader),
        until=lambda items: len(items) >= 2 and all(any(t in item for t in unread) for item in items[:2]),
        seconds=WITHIN_SECONDS,
    )
    top = listed[:2]
    assert all(any(t in item for t in unread) for item in top), f"Read next lists: {listed}"
    assert all("Popular in Technology" in item or "Because you read" in item for item in top), top
    assert not any(title in item for item in listed for title in read)  # never what they read
    assert_accessible(reader)

    # "Why am I seeing this?" says how the list was made.
    open_why(reader)
    expect(reader.locator("[data-tailored-why]")).to_contain_text("Recommended pages: from the pages you read here")

    # The keyboard reaches the first recommended page and follows it.
    first = reader.locator("[data-tailored-recommendations] li a").first
    title = first.inner_text()
    reader.goto("/")
    reader.wait_for_load_state("networkidle")
    for _ in range(60):
        reader.keyboard.press("Tab")
        if first.evaluate("link => link === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the first recommended page")
    with reader.expect_navigation():
        reader.keyboard.press("Enter")
    expect(reader.locator("h1")).to_have_text(title)
