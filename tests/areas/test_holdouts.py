"""Holdouts: a stable share of visitors sees an area's fallback, on real CMS pages, through django CMS's caches."""

from __future__ import annotations

import hashlib
import random
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import Client
from djangocms_text.models import Text

from tailored_cms import api
from tailored_cms.areas.explanation import FALLBACK, HOLDOUT, STATIC, Reason, describe, explain
from tailored_cms.areas.forms import TailoredAreaForm
from tailored_cms.areas.models import TailoredArea
from tailored_cms.areas.selection import holdout_bucket, in_holdout, select
from tailored_cms.conf import tailored_settings
from tailored_cms.visitors.identity import set_visitor_cookie
from tailored_cms.visitors.models import Visitor

from .conftest import placeholder, text
from .test_selection import EVERYONE, SPORTS, visitor

AREA_KEY = "hero"


def visitor_ids(count: int, seed: int = 6) -> list[str]:
    """``count`` version-4 UUIDs, the same on every run (a seeded generator: the test can't flake)."""
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def test_a_visitor_is_held_out_of_an_area_every_time_or_never():
    for visitor_id in visitor_ids(200):
        first = in_holdout(visitor_id, AREA_KEY, 10)
        assert all(in_holdout(visitor_id, AREA_KEY, 10) is first for _ in range(3))
        assert holdout_bucket(visitor_id) == holdout_bucket(visitor_id) and 0 <= holdout_bucket(visitor_id) < 100


def test_the_bucket_does_not_depend_on_the_process():
    """A hash every worker agrees on (not Python's per-process ``hash()``): pinned to its definition."""
    visitor_id = "3f2b9c4e-8d1a-4b6f-9e0c-7a5d2e1f4c3b"
    expected = int.from_bytes(hashlib.blake2b(visitor_id.encode(), digest_size=8).digest(), "big") % 100
    assert holdout_bucket(visitor_id) == expected


@pytest.mark.parametrize("percent", [1, 5, 20, 50])
def test_about_the_percentage_of_10000_visitors_is_held_out(percent):
    held_out = sum(in_holdout(visitor_id, AREA_KEY, percent) for visitor_id in visitor_ids(10_000))
    # Binomial: the standard deviation is at most 50 visitors; 5 of them is far beyond chance.
    assert abs(held_out - percent * 100) <= 250, held_out


def test_a_larger_holdout_keeps_the_visitors_of_a_smaller_one_and_areas_hold_out_different_visitors():
    ids = visitor_ids(10_000)
    five = {v for v in ids if in_holdout(v, AREA_KEY, 5)}
    ten = {v for v in ids if in_holdout(v, AREA_KEY, 10)}
    assert five < ten  # raising the percentage only adds visitors: nobody's experience flips back
    others = [key for key in ("sidebar", "picks", "footer-promo") if {v for v in ids if in_holdout(v, key, 5)} != five]
    assert others, "every area held out the same visitors"


def test_no_holdout_without_a_percentage_or_without_a_visitor_id():
    assert not any(in_holdout(visitor_id, AREA_KEY, 0) for visitor_id in visitor_ids(1000))
    assert not in_holdout(None, AREA_KEY, 50) and not in_holdout("", AREA_KEY, 50)


@pytest.mark.parametrize("strategy", ["static", "customization", "personalization", "hybrid"])
def test_a_held_out_visitor_sees_the_fallback_whatever_the_strategy(strategy):
    fan = visitor(["sports"])
    assert select(strategy, [SPORTS, EVERYONE], fan, 1, {"sports-fans"}, held_out=True).shown == [EVERYONE]


def test_the_explanation_says_holdout_except_for_a_static_area():
    fan = visitor(["sports"])
    held = explain("customization", [SPORTS, EVERYONE], fan, held_out=True)
    assert held.shown == [EVERYONE] and held.reasons == (Reason(HOLDOUT),)
    assert "small group that sees the standard version" in describe(held.reasons[0])
    static = explain("static", [SPORTS, EVERYONE], fan, held_out=True)
    assert static.reasons == (Reason(FALLBACK, because=STATIC),)
    assert explain("customization", [SPORTS, EVERYONE], fan).shown == [SPORTS]  # not held out: targeted


def test_the_editor_sets_the_holdout_from_0_to_50_in_the_area_form():
    form = TailoredAreaForm(data={"label": "Hero", "strategy": "personalization", "max_items": 1, "holdout_percent": 5})
    assert form.is_valid(), form.errors
    assert 'max="50"' in str(form["holdout_percent"]) and 'min="0"' in str(form["holdout_percent"])
    too_many = TailoredAreaForm(data={"label": "x", "strategy": "hybrid", "max_items": 1, "holdout_percent": 51})
    assert "holdout_percent" in too_many.errors


@pytest.mark.django_db
def test_the_python_api_refuses_a_holdout_over_50(make_page):
    ph = placeholder(make_page("Home", slug="home"), "content")
    with pytest.raises(ValidationError, match="holdout_percent must be 0 to 50, not 60"):
        api.add_area(ph, holdout_percent=60)
    assert api.add_area(ph, holdout_percent=5).holdout_percent == 5


# On real pages


@pytest.fixture
def holdout_page(make_page):
    """A customization area holding out half of its visitors, on a page (the CMS caches are on)."""
    api.create_topic("sports")
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label="Hero", holdout_percent=50)
    text(ph, "<p>SPORTS</p>", target=api.add_variant(area, label="Sports", topics=["sports"]))
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    return page, area


def new_visitor(**choices) -> tuple[Client, str]:
    """A client whose cookie names a new saved visitor with these choices, and that visitor's id."""
    visitor = Visitor.objects.create(**choices)
    response = HttpResponse()
    set_visitor_cookie(response, str(visitor.pk))
    client = Client()
    client.cookies[tailored_settings.COOKIE_NAME] = response.cookies[tailored_settings.COOKIE_NAME].value
    return client, str(visitor.pk)


def held_out_and_not(area: TailoredArea, **choices) -> tuple[Client, Client]:
    """Two visitors with the same choices (so the same variant key): one in the area's holdout, one not."""
    found: dict[bool, Client] = {}
    while len(found) < 2:
        client, visitor_id = new_visitor(**choices)
        found.setdefault(in_holdout(visitor_id, area.key, area.holdout_percent), client)
    return found[True], found[False]


@pytest.fixture
def fans(holdout_page):
    """Two sports fans: the first held out of the hero, the second not."""
    return held_out_and_not(holdout_page[1], topics=["sports"])


def shown(client: Client, url: str) -> set[str]:
    html = client.get(url).content.decode()
    return {word for word in ("SPORTS", "EVERYONE") if word in html}


def test_a_held_out_fan_sees_the_fallback_and_the_other_fan_the_sports_variant(holdout_page, fans, client):
    url = holdout_page[0].get_absolute_url()
    held_out, targeted = fans
    assert shown(held_out, url) == {"EVERYONE"}
    assert shown(targeted, url) == {"SPORTS"}
    assert shown(client, url) == {"EVERYONE"}  # no cookie: nothing chosen, never held out


def change_texts_behind_the_caches_back():
    for plugin in Text.objects.all():
        Text.objects.filter(pk=plugin.pk).update(body=plugin.body.replace("</p>", " (changed)</p>"))


@pytest.mark.parametrize("held_out_first", [True, False])
def test_with_the_page_and_placeholder_caches_on_neither_gets_the_others_content(holdout_page, fans, held_out_first):
    """Same variant key, different holdout: the caches keep them apart (they vary on the holdout bucket too)."""
    url = holdout_page[0].get_absolute_url()
    held_out, targeted = fans
    order = [(held_out, "EVERYONE"), (targeted, "SPORTS")]
    if not held_out_first:
        order.reverse()
    for client, expected in order:
        assert shown(client, url) == {expected}
    change_texts_behind_the_caches_back()
    for client, expected in order * 2:
        html = client.get(url).content.decode()
        assert "(changed)" not in html, "not served from the caches"
        assert shown(client, url) == {expected}


def test_a_placeholder_from_its_cache_still_makes_the_page_cache_vary_on_the_holdout(holdout_page, fans):
    """django CMS 5.1 leaves a placeholder served from its cache out of the page cache's vary headers: the area's
    declaration travels with the cached placeholder (sekizai) so the page cache still keeps the two apart."""
    url = holdout_page[0].get_absolute_url()
    held_out, targeted = fans
    assert shown(held_out, url) == {"EVERYONE"}  # caches the placeholder for this bucket, and the page
    change_texts_behind_the_caches_back()
    other_url = url + "?from=newsletter"  # another page cache entry, the same placeholder cache entries
    assert client_html(held_out, other_url).count("EVERYONE</p>") == 1  # the placeholder came from its cache...
    assert "SPORTS (changed)" in client_html(targeted, other_url)  # ...and the page cache kept the two apart


def client_html(client: Client, url: str, **headers: str) -> str:
    return client.get(url, **headers).content.decode()


def test_a_static_area_ignores_its_holdout(make_page, visitor_client):
    api.create_topic("sports")
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="static", holdout_percent=50)
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    from tailored_cms.areas.cms_plugins import TailoredAreaPlugin

    assert TailoredAreaPlugin().get_vary_cache_on(None, area, None) == []  # one cached copy for everyone


def test_explain_tells_a_held_out_visitor_why(holdout_page, fans):
    _page, area = holdout_page
    held_out, targeted = fans
    reasons = held_out.get("/tailored/api/v1/explain/", {"areas": area.key}).json()["areas"][0]["reasons"]
    assert [reason["kind"] for reason in reasons] == [HOLDOUT]
    assert "standard version" in reasons[0]["text"]
    reasons = targeted.get("/tailored/api/v1/explain/", {"areas": area.key}).json()["areas"][0]["reasons"]
    assert [reason["kind"] for reason in reasons] == ["choices"]


@pytest.mark.django_db
def test_a_personalization_area_holds_out_members_of_its_segment(
    make_page, settings, django_capture_on_commit_callbacks
):
    settings.CMS_PAGE_CACHE = settings.CMS_PLACEHOLDER_CACHE = False
    with django_capture_on_commit_callbacks(execute=True):  # as after the editor's save commits
        api.create_segment("mobile", "Mobile", rules={"rule": "device", "is": "mobile"})
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="personalization", holdout_percent=50)
    text(ph, "<p>MOBILE</p>", target=api.add_variant(area, label="Mobile", segments=["mobile"]))
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    held_out, member = held_out_and_not(area)
    assert "EVERYONE" in client_html(held_out, page.get_absolute_url(), HTTP_USER_AGENT=iphone)
    assert "MOBILE" in client_html(member, page.get_absolute_url(), HTTP_USER_AGENT=iphone)


def test_holdout_rendering_costs_no_query_or_round_trip_more(holdout_page, fans, settings, redis_round_trips):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.CMS_PAGE_CACHE = settings.CMS_PLACEHOLDER_CACHE = settings.CMS_PLUGIN_CACHE = False
    page, area = holdout_page
    held_out, _targeted = fans
    url = page.get_absolute_url()
    held_out.get(url)  # the snapshot is in Redis from now on

    def cost() -> tuple[int, int]:
        redis_round_trips.commands.clear()
        with CaptureQueriesContext(connection) as queries:
            held_out.get(url)
        return len(queries), redis_round_trips.round_trips

    with_holdout = cost()
    area.holdout_percent = 0
    area.save()
    held_out.get(url)  # the first view after an edit may read the rows twice (``areas.shown.predict``)
    assert cost() == with_holdout
    assert with_holdout[1] == 1
