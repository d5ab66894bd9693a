"""The cache cardinality budget: areas count the copies the caches keep of them; the admin warns past the budget."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tailored_cms import api
from tailored_cms.areas import cache_budget
from tailored_cms.areas.cache_budget import observed_copies, take_notes

from .conftest import placeholder, text

pytestmark = pytest.mark.django_db
CACHES_OFF = {"CMS_PAGE_CACHE": False, "CMS_PLACEHOLDER_CACHE": False, "CMS_PLUGIN_CACHE": False}
CHANGELIST = "admin:tailored_cms_tailoredarea_changelist"


@pytest.fixture(autouse=True)
def no_notes_of_other_tests():
    take_notes()
    cache_budget._sent.clear()
    yield
    take_notes()


@pytest.fixture
def page(make_page):
    for slug in ("sports", "cooking", "travel"):
        api.create_topic(slug)
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label="Hero")
    text(ph, "<p>SPORTS</p>", target=api.add_variant(area, label="Sports", topics=["sports"]))
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    static = api.add_area(ph, strategy="static", label="Footer")
    text(ph, "<p>STATIC</p>", target=api.add_variant(static, label="All", fallback=True))
    page.hero, page.static = area, static
    return page


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    return client


def visit_with(visitor_client, url: str, choices: list[dict]) -> None:
    """Each choice set is a visitor who views the page twice (the second view flushes what the first noted)."""
    for topics in choices:
        visitor = visitor_client(**topics)
        assert visitor.get(url).status_code == 200
        assert visitor.get(url).status_code == 200


@override_settings(**CACHES_OFF)
def test_renders_count_distinct_variant_keys_per_area_in_the_snapshot_round_trip(
    page, visitor_client, redis_round_trips
):
    url = page.get_absolute_url()
    visit_with(visitor_client, url, [{"topics": ["sports"]}, {"topics": ["cooking"]}, {"topics": ["sports"]}])
    last = visitor_client(topics=["travel"])
    assert last.get(url).status_code == 200  # a store miss (the DB, then the snapshot written): notes a copy
    redis_round_trips.commands.clear()
    assert last.get(url).status_code == 200  # reads the snapshot and carries the notes: still one round trip
    assert redis_round_trips.commands == ["EVAL"]
    copies = observed_copies([page.hero.key, page.static.key])
    assert copies[page.hero.key] == 3  # sports, cooking, travel: the second sports fan adds no copy
    assert copies[page.static.key] == 0  # a static area is cached once, whoever asks


@override_settings(**CACHES_OFF)
def test_a_copy_this_process_sent_today_is_not_sent_again_until_tomorrow(page, visitor_client, monkeypatch):
    url = page.get_absolute_url()
    sports_fan = visitor_client(topics=["sports"])
    assert sports_fan.get(url).status_code == 200
    assert sports_fan.get(url).status_code == 200  # sends the copy the first view noted
    assert sports_fan.get(url).status_code == 200
    assert take_notes() == []  # the same copy again: nothing more for the round trip to carry
    assert observed_copies([page.hero.key])[page.hero.key] == 1
    assert visitor_client(topics=["sports"]).get(url).status_code == 200
    assert take_notes() == []  # another visitor with the same choices: the same copy
    assert visitor_client(topics=["cooking"]).get(url).status_code == 200
    assert [key for key, _values in take_notes()] == [cache_budget.hll_key(page.hero.key, timezone.now().date())]
    monkeypatch.setattr(cache_budget, "_sent_until", 0.0)  # midnight (UTC) passed: a new day's count
    assert sports_fan.get(url).status_code == 200
    assert [key for key, _values in take_notes()] == [cache_budget.hll_key(page.hero.key, timezone.now().date())]


@override_settings(CMS_PAGE_CACHE=True, CMS_PLACEHOLDER_CACHE=True, CMS_PLUGIN_CACHE=True)
def test_copies_served_from_the_cache_are_not_counted_again(page, visitor_client):
    url = page.get_absolute_url()
    visit_with(visitor_client, url, [{"topics": ["sports"]}] * 3)
    visit_with(visitor_client, url, [{"topics": ["cooking"]}])
    assert observed_copies([page.hero.key])[page.hero.key] == 2


@override_settings(**CACHES_OFF)
def test_the_admin_warns_about_areas_cached_in_more_copies_than_the_budget(
    page, visitor_client, admin_client, settings, redis_round_trips
):
    url = page.get_absolute_url()
    visit_with(visitor_client, url, [{"topics": ["sports"]}, {"topics": ["cooking"]}, {"topics": ["travel"]}])
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CACHE_VARIANT_BUDGET": 2}

    redis_round_trips.commands.clear()
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    counts = [command for command in redis_round_trips.commands if "PFCOUNT" in command]
    assert counts == ["PIPELINE[PFCOUNT,PFCOUNT]"]  # every area of the list in one round trip
    assert '<strong class="tailored-over-budget">~3 in 7 days over the budget of 2</strong>' in html
    assert "tailored_cms/admin.css" in html and " style=" not in html.split("<table", 1)[1]  # a strict CSP's list
    assert "1 area is cached in more copies than the budget of 2: Hero." in html
    assert "1 (static: the same for everyone)" in html

    change = admin_client.get(reverse("admin:tailored_cms_tailoredarea_change", args=[page.hero.pk]))
    assert "This area is cached in 3 copies, more than the budget of 2." in change.content.decode()

    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CACHE_VARIANT_BUDGET": 1000}
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "~3 in 7 days" in html and "over the budget" not in html and "more copies than the budget" not in html


@override_settings(**CACHES_OFF)
def test_areas_with_a_holdout_count_each_bucket_as_a_copy(page, visitor_client):
    page.hero.holdout_percent = 10
    page.hero.save()
    url = page.get_absolute_url()
    visit_with(visitor_client, url, [{"topics": ["sports"]}] * 4)  # four visitors, most likely four buckets
    copies = observed_copies([page.hero.key])[page.hero.key]
    assert 2 <= copies <= 4


def test_without_redis_the_admin_shows_no_count_and_still_answers(page, admin_client, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_TIMEOUT": 0.05}
    response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert "over the budget" not in response.content.decode()
