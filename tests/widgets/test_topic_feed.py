"""``TopicFeedPlugin``: published pages tagged with topics, the visitor's followed topics first."""

from __future__ import annotations

import re

import pytest
from cms.api import add_plugin
from cms.utils import get_current_site
from django.test import RequestFactory

from tailored_cms import api
from tailored_cms.visitors.models import Topic
from tailored_cms.widgets.feed import feed_entries

from .conftest import placeholder

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged_pages(make_page):
    for slug in ("sports", "cooking", "travel"):
        api.create_topic(slug)
    pages = {}
    for title, topics in (
        ("Match report", ["sports"]),
        ("Pasta night", ["cooking"]),
        ("Picnic in Rome", ["cooking", "travel"]),
        ("Untagged", []),
        ("Members only", ["cooking"]),
    ):
        page = make_page(title, slug=title.lower().replace(" ", "-"), login_required=title == "Members only")
        if topics:
            api.tag_page(page, topics)
        pages[title] = page
    return pages


def titles(entries) -> list[str]:
    return [entry.title for entry in entries]


def entries(**kwargs):
    site_id = get_current_site(RequestFactory().get("/")).pk
    return feed_entries(language="en", site_id=site_id, **{"followed": (), "limit": 10, **kwargs})


def test_followed_topics_first_then_the_newest(tagged_pages):
    assert titles(entries(followed=["cooking", "travel"])) == [
        "Picnic in Rome",
        "Pasta night",
        "Match report",
    ]
    assert titles(entries(followed=["sports"]))[0] == "Match report"
    assert titles(entries()) == ["Picnic in Rome", "Pasta night", "Match report"]  # newest first


def test_untagged_and_login_required_pages_are_not_listed(tagged_pages):
    listed = titles(entries(followed=["cooking"]))
    assert "Untagged" not in listed and "Members only" not in listed


def test_followed_only_and_limit(tagged_pages):
    assert titles(entries(followed=["travel"], followed_only=True)) == ["Picnic in Rome"]
    assert entries(followed=[], followed_only=True) == []
    assert len(entries(limit=2)) == 2


def test_entries_carry_url_topics_and_how_many_followed(tagged_pages):
    picnic = entries(followed=["cooking", "travel"])[0]
    assert picnic.url == tagged_pages["Picnic in Rome"].get_absolute_url()
    assert [slug for slug, _name in picnic.topics] == ["cooking", "travel"]
    assert picnic.followed == 2


def test_the_feed_costs_two_queries_whatever_the_limit(tagged_pages, django_assert_num_queries):
    for limit in (1, 50):
        with django_assert_num_queries(2):
            entries(followed=["cooking"], limit=limit)


def test_on_a_page_the_visitors_topics_come_first_and_the_current_page_is_left_out(
    tagged_pages, visitor_client, client
):
    home = tagged_pages["Match report"]
    add_plugin(placeholder(home, "content"), "TopicFeedPlugin", "en", title="For you", limit=5)
    url = home.get_absolute_url()

    def listed(c) -> list[str]:
        return re.findall(
            r'data-tailored-feed-page="\d+"[^>]*><a href="[^"]+">([^<]+)</a>', c.get(url).content.decode()
        )

    assert listed(visitor_client(topics=["travel"])) == ["Picnic in Rome", "Pasta night"]
    assert listed(client) == ["Picnic in Rome", "Pasta night"]
    assert "Match report" not in listed(visitor_client(topics=["sports"]))


def test_a_followed_only_feed_asks_visitors_without_topics_to_follow_some(make_page, client):
    page = make_page("Feed")
    add_plugin(placeholder(page, "content"), "TopicFeedPlugin", "en", followed_only=True)
    assert "Follow topics" in client.get(page.get_absolute_url()).content.decode()


def test_hostile_page_titles_are_escaped(make_page, client):
    api.create_topic("sports")
    evil = make_page("<script>alert(1)</script>", slug="evil")
    api.tag_page(evil, ["sports"])
    page = make_page("Feed", slug="feed")
    add_plugin(placeholder(page, "content"), "TopicFeedPlugin", "en", title="<b>Feed</b>")
    html = client.get(page.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Feed</b>" not in html


def test_tagging_a_page_or_renaming_a_topic_reaches_cached_feeds_and_panels_at_once(
    tagged_pages, make_page, visitor_client, django_capture_on_commit_callbacks
):
    """The CMS caches (all on here, as in the example site) keep rendered placeholders and pages for a minute;
    an editor who tags a page, or renames a topic, must not wait that long to see it on the site."""
    home = tagged_pages["Match report"]
    add_plugin(placeholder(home, "content"), "TopicFeedPlugin", "en", title="For you", limit=5)
    add_plugin(placeholder(home, "content"), "PreferencesPanelPlugin", "en")
    url = home.get_absolute_url()
    fan = visitor_client(topics=["travel"])
    assert "Tour de France" not in fan.get(url).content.decode()  # now in the caches

    tour = make_page("Tour de France", slug="tour")
    with django_capture_on_commit_callbacks(execute=True):
        api.tag_page(tour, ["travel", "sports"])
    assert "Tour de France" in fan.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        api.tag_page(tour, [])
    assert "Tour de France" not in fan.get(url).content.decode()

    travel = Topic.objects.get(slug="travel")
    travel.name = "Journeys"
    with django_capture_on_commit_callbacks(execute=True):
        travel.save()
    assert "Journeys" in fan.get(url).content.decode()
