"""``explain/``: why the visitor sees what the page's tailored areas show ("Why am I seeing this?")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cms.api import create_page
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from tailored_cms import api
from tailored_cms.conf import tailored_settings
from tailored_cms.visitors.identity import set_visitor_cookie
from tailored_cms.visitors.models import Visitor

pytestmark = pytest.mark.django_db

URL = "/tailored/api/v1/explain/"


def content(page, slot):
    return page.get_content_obj("en").get_placeholders().get(slot=slot)


@pytest.fixture
def areas(db):
    """A hero by topic (with a fallback), a static banner, and picks by theme and layout without a fallback."""
    api.create_topic("sports", "Sports")
    api.create_topic("travel", "Travel")
    page = create_page("Home", "home.html", "en", slug="home")
    hero = api.add_area(content(page, "hero"), label="Hero")
    api.add_variant(hero, "Sports fans", topics=["sports"])
    api.add_variant(hero, "Everyone", fallback=True)
    banner = api.add_area(content(page, "content"), strategy="static", label="Banner")
    api.add_variant(banner, "Spring sale", topics=["sports"])
    api.add_variant(banner, "For all", fallback=True)
    picks = api.add_area(content(page, "content"), label="Picks", max_items=2)
    api.add_variant(picks, "Night reading", themes=["dark"])
    api.add_variant(picks, "Dashboards", layouts=["grid"])
    return {"hero": hero, "banner": banner, "picks": picks}


def visitor(**choices) -> Client:
    row = Visitor.objects.create(**choices)
    response = HttpResponse()
    set_visitor_cookie(response, str(row.pk))
    client = Client()
    client.cookies[tailored_settings.COOKIE_NAME] = response.cookies[tailored_settings.COOKIE_NAME].value
    return client


def explained(client: Client, *areas) -> dict:
    response = client.get(URL, {"areas": ",".join(area.key for area in areas)})
    assert response.status_code == 200, response.content
    assert "private" in response["Cache-Control"]
    return response.json()


def test_a_visitor_who_chose_nothing_learns_that_they_see_what_everyone_sees(areas, client):
    answer = explained(client, areas["hero"], areas["banner"])
    assert answer["tracking"] is False and answer["unknown"] == []
    hero, banner = answer["areas"]
    assert hero["key"] == areas["hero"].key and hero["strategy"] == "customization"
    assert hero["shown"] == [{"text": "It is what everyone sees.", "fallback": True}]
    assert [(r["kind"], r["because"]) for r in hero["reasons"]] == [("fallback", "no_choices")]
    assert hero["reasons"][0]["text"].startswith("You haven't chosen any topics")
    assert banner["shown"] == [{"text": "It is what everyone sees.", "fallback": True}]
    assert (
        banner["reasons"][0]["because"] == "static" and banner["reasons"][0]["text"] == "Everyone sees the same here."
    )


def test_a_visitor_is_told_which_of_their_choices_matched(areas):
    fan = visitor(topics=["sports", "travel"], theme="dark", layout="grid", tracking_consent=True)
    answer = explained(fan, areas["hero"], areas["picks"], areas["banner"])
    assert answer["tracking"] is True
    hero, picks, banner = answer["areas"]
    assert hero["shown"] == [{"text": "It is made for readers who follow Sports.", "fallback": False}]
    assert hero["reasons"] == [
        {
            "kind": "choices",
            "because": "",
            "topics": ["sports"],
            "theme": "",
            "layout": "",
            "segments": [],
            "text": "You follow Sports.",
        }
    ]
    assert [v["text"] for v in picks["shown"]] == ["It is made for the Dark theme.", "It is made for the Grid layout."]
    assert picks["reasons"][0]["theme"] == "dark" and picks["reasons"][0]["layout"] == "grid"
    assert picks["reasons"][0]["text"] == "You use the Dark theme. You use the Grid layout."
    assert banner["reasons"][0]["because"] == "static"  # choices don't matter to a static area


def test_choices_that_nothing_targets_give_the_fallback_because_nothing_matched(areas):
    answer = explained(visitor(topics=["travel"]), areas["hero"], areas["picks"])
    hero, picks = answer["areas"]
    assert hero["reasons"][0]["because"] == "nothing_matched" and hero["shown"][0]["fallback"] is True
    assert picks["shown"] == [] and picks["reasons"][0]["because"] == "nothing_matched"


def test_visitors_never_see_the_editors_labels_but_whom_a_variant_is_for_by_name(areas, db):
    api.create_segment("sports-fans", name="Sports fans", rules={"all": [{"rule": "follows_topic", "topic": "sports"}]})
    hero = areas["hero"]
    api.add_variant(hero, "Internal: SEG-42 retarget", segments=["sports-fans"], priority=10)
    fan = visitor(topics=["sports", "travel"], theme="dark", layout="grid")
    response = fan.get(URL, {"areas": ",".join(area.key for area in areas.values())})
    answer = response.json()
    assert all("label" not in area for area in answer["areas"])
    texts = [shown for area in answer["areas"] for shown in area["shown"]]
    assert all(set(shown) == {"text", "fallback"} for shown in texts)
    for label in ("Hero", "Spring sale", "Sports fans", "Everyone", "Night reading", "Dashboards", "SEG-42"):
        assert not [shown["text"] for shown in texts if label in shown["text"]]
    assert texts[0]["text"] == "It is made for readers who follow Sports."


def test_keys_of_areas_that_are_gone_are_listed_not_an_error(areas, client):
    response = client.get(URL, {"areas": f"gone-since-cached,{areas['hero'].key},{areas['hero'].key}"})
    assert response.status_code == 200
    answer = response.json()
    assert [a["key"] for a in answer["areas"]] == [areas["hero"].key]  # asked twice, explained once
    assert answer["unknown"] == ["gone-since-cached"]


def test_no_areas_means_nothing_to_explain(client):
    assert client.get(URL, {"areas": ""}).json() == {"areas": [], "unknown": [], "tracking": False}


def test_repeating_the_parameter_works_too(areas, client):
    response = client.get(f"{URL}?areas={areas['hero'].key}&areas={areas['picks'].key}")
    assert [a["key"] for a in response.json()["areas"]] == [areas["hero"].key, areas["picks"].key]


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "Name the areas to explain"),
        ("?areas=" + ",".join(f"k{i}" for i in range(51)), "At most 50 areas at once, not 51."),
        ("?areas=ok,%3Cscript%3E", "Not an area key: '<script>'."),
        ("?areas=" + "x" * 41, "Not an area key"),
        ("?areas=a%00b", "Not an area key"),
    ],
)
def test_bad_requests_are_a_400_naming_what_is_wrong(client, query, message):
    response = client.get(URL + query)
    assert response.status_code == 400
    assert message in response.json()["areas"][0]


def test_the_cost_is_three_queries_whatever_the_number_of_areas(areas, django_assert_num_queries, redis_round_trips):
    fan = visitor(topics=["sports"])
    fan.get(URL, {"areas": areas["hero"].key})  # the snapshot is in Redis from now on
    redis_round_trips.commands.clear()
    with django_assert_num_queries(3):  # the areas, their variants, the names of the topics
        explained(fan, *areas.values())
    assert redis_round_trips.round_trips == 1  # the middleware's snapshot read


def test_areas_sharing_a_key_explain_the_oldest(areas, client):
    """Copies (and versions) of an area keep its key; the first one made is explained."""
    page = create_page("Copy", "home.html", "en", slug="copy")
    copy = api.add_area(content(page, "hero"), label="Hero (copy)", strategy="static", key=areas["hero"].key)
    api.add_variant(copy, "Everyone", fallback=True)
    assert copy.key == areas["hero"].key
    assert [a["strategy"] for a in explained(client, areas["hero"])["areas"]] == ["customization"]


def test_the_schema_describes_the_endpoint(client):
    schema = client.get("/tailored/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    get = schema["paths"][URL]["get"]
    assert get["parameters"][0]["name"] == "areas" and get["parameters"][0]["required"] is True
    assert "400" in get["responses"]


def test_the_explanation_follows_campaign_windows(areas, client):
    now = timezone.now()
    placeholder = areas["banner"].placeholder
    sale = api.add_area(placeholder, strategy="static", label="Sale")
    api.add_variant(sale, "Black Friday", fallback=True, starts_at=now - timedelta(days=3), ends_at=now)
    api.add_variant(sale, "Everyone", fallback=True)
    later = api.add_area(placeholder, strategy="static", label="Later", starts_at=now + timedelta(days=1))
    api.add_variant(later, "Soon", fallback=True)
    answer = explained(client, sale, later)
    assert [area["key"] for area in answer["areas"]] == [sale.key]  # an area outside its window isn't on the page
    # One variant shown, the fallback that is live: Black Friday ended (tests/areas/test_windows.py picks it apart).
    assert answer["areas"][0]["shown"] == [{"text": "It is what everyone sees.", "fallback": True}]
