"""An editor makes a segment from scratch without meeting a slug, a rule's code or JSON: a name, rules and their
topic and country picked by name, saved; the JSON is one keyboard press away, behind "Developer view", and the
browser remembers that switch (Chromium, the admin of a live site)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tailored_cms import api
from tailored_cms.rules import registered_rules
from tailored_cms.rules.models import Segment
from tests.tracking.conftest import celery_app  # noqa: F401 - saving queues a recompute: to the private broker

from .accessibility import ADMIN_CHROME, assert_accessible
from .editor_fixtures import (  # noqa: F401 - the fixtures are used by name
    EditorSite,
    chromium_fixture,
    editor_site_fixture,
    new_context,
)
from .test_segment_builder import add_rule, log_in_to_admin

SLUG = "sports-readers-in-spain"
TOPIC_SLUG = "sport-news"  # unlike its name, so that showing it would show


def developers_words(text: str) -> list[str]:
    """What the editor must not read: the segment's or topic's slug, a rule's code (those that are no English
    word: topic_views, day_of_week…), JSON's braces."""
    codes = [name for name in registered_rules() if "_" in name]
    return re.findall(rf"{SLUG}|{TOPIC_SLUG}|[{{}}]|\b(?:{'|'.join(codes)})\b", text)


def assert_in_words(page: Page) -> None:
    shown = page.locator("body").inner_text()
    assert not developers_words(shown), shown


@pytest.mark.browser
def test_an_editor_makes_a_segment_in_words_and_finds_the_json_behind_developer_view(
    chromium: Browser,
    editor_site: EditorSite,
    celery_app,  # noqa: F811
):
    api.create_topic(TOPIC_SLUG, "Sports")
    context = new_context(chromium)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in_to_admin(page, editor_site, "/admin/tailored_cms/segment/add/")
    count = page.locator(".tailored-builder-count")
    expect(count).to_have_text("Add a rule to see how many visitors match.")
    developer_view = page.get_by_role("checkbox", name="Developer view")
    expect(developer_view).not_to_be_checked()  # off, the first time
    assert_in_words(page)

    page.locator("#id_name").fill("Sports readers in Spain")
    sports = add_rule(page, "Viewed pages about a topic", "topic_views")
    # What is still missing, in the builder's words.
    expect(count).to_have_text("Not valid yet: Rule “Viewed pages about a topic” needs the parameter “Topic”.")
    assert_in_words(page)
    sports.get_by_label("Topic").select_option(label="Sports")
    sports.get_by_label("At least (views)").fill("3")
    sports.get_by_label("Within the last (days) (optional)").fill("30")
    expect(count).to_have_text("0 of 1 visitor matches now.")  # the editor, signed in, is the one visitor
    assert_in_words(page)

    country = add_rule(page, "Country", "country")
    expect(country).to_contain_text("Visits from one of these countries.")
    country.get_by_label("Find by name").fill("spa")
    country.get_by_label("Spain", exact=True).check()
    words = page.locator(".tailored-builder-words")
    expect(words).to_have_text(
        "In words: every visitor who read at least 3 pages about Sports in the last 30 days and is in Spain."
    )
    assert_in_words(page)
    assert_accessible(page, exclude=ADMIN_CHROME)

    # The developer view, from the keyboard: the switch follows the builder, and Space turns it on.
    page.locator(".tailored-builder-root > .tailored-builder-add .tailored-builder-add-group").focus()
    page.keyboard.press("Tab")
    expect(developer_view).to_be_focused()
    page.keyboard.press("Space")
    expect(developer_view).to_be_checked()
    rules_json = page.locator("#id_rules")
    expect(rules_json).to_be_visible()
    expect(page.locator(".tailored-builder-tree")).to_be_hidden()
    assert '"rule": "topic_views"' in rules_json.input_value() and '"topic": "sport-news"' in rules_json.input_value()
    expect(page.locator(".tailored-builder-slug")).to_have_text(
        "Slug: made from the name when the segment is first saved."
    )
    assert_accessible(page, exclude=ADMIN_CHROME)
    page.keyboard.press("Space")  # and off again: the builder, as it was
    expect(rules_json).to_be_hidden()
    expect(page.locator(".tailored-builder-slug")).to_be_hidden()
    expect(words).to_have_text(
        "In words: every visitor who read at least 3 pages about Sports in the last 30 days and is in Spain."
    )
    assert_in_words(page)

    page.locator("input[name='_save']").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    segment = Segment.objects.get()
    assert segment.slug == SLUG
    assert segment.rules == {
        "all": [{"rule": "topic_views", "topic": TOPIC_SLUG, "min": 3, "days": 30}, {"rule": "country", "is": ["ES"]}]
    }
    assert_in_words(page)  # the list of segments: names and rules in words

    # Opened again: still in words; the developer view shows the slug it was given, and is remembered.
    page.locator("#result_list").get_by_role("link", name="Sports readers in Spain").click()
    expect(
        page.locator(".tailored-builder-rule[data-rule='country']").get_by_label("Spain", exact=True)
    ).to_be_checked()
    assert_in_words(page)
    developer_view.focus()
    page.keyboard.press("Space")
    expect(page.locator(".tailored-builder-slug")).to_contain_text(f"Slug: {SLUG} (")
    page.reload()
    expect(developer_view).to_be_checked()
    expect(rules_json).to_be_visible()
    expect(page.locator(".tailored-builder-slug")).to_be_visible()
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
