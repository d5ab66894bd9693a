"""Tailored areas on real CMS pages, rendered through the test client."""

from __future__ import annotations

import pytest
from cms.toolbar.utils import get_object_edit_url, get_object_structure_url
from django.contrib.auth import get_user_model
from django.core.cache import cache

from tailored_cms import api

from .conftest import placeholder, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def topics(db):
    for slug in ("sports", "cooking", "travel"):
        api.create_topic(slug)


def build_area(ph, *, strategy="customization", label="Hero", suffix=""):
    area = api.add_area(ph, strategy=strategy, label=label)
    sports = api.add_variant(area, label="Sports fans", topics=["sports"])
    text(ph, f"<p>SPORTS{suffix}</p>", target=sports)
    dark = api.add_variant(area, label="Night owls", themes=["dark"])
    text(ph, f"<p>DARK{suffix}</p>", target=dark)
    everyone = api.add_variant(area, label="Everyone", fallback=True)
    text(ph, f"<p>EVERYONE{suffix}</p>", target=everyone)
    return area


@pytest.fixture
def area_page(make_page, topics):
    page = make_page("Home", slug="home")
    build_area(placeholder(page, "content"))
    return page


def test_a_visitor_following_a_topic_sees_its_variant_others_the_fallback(area_page, visitor_client, client):
    url = area_page.get_absolute_url()
    sports_fan = visitor_client(topics=["sports"]).get(url).content.decode()
    assert "SPORTS" in sports_fan and "EVERYONE" not in sports_fan and "DARK" not in sports_fan
    anonymous = client.get(url).content.decode()
    assert "EVERYONE" in anonymous and "SPORTS" not in anonymous
    cook = visitor_client(topics=["cooking"]).get(url).content.decode()
    assert "EVERYONE" in cook and "SPORTS" not in cook
    night_owl = visitor_client(theme="dark").get(url).content.decode()
    assert "DARK" in night_owl and "EVERYONE" not in night_owl


def test_live_markup_names_area_and_variant_but_not_the_editors_labels(area_page, client):
    html = client.get(area_page.get_absolute_url()).content.decode()
    assert 'data-tailored-area="' in html and 'data-tailored-strategy="customization"' in html
    assert html.count('data-tailored-variant="') == 1
    assert "Everyone" not in html and "data-tailored-editor-label" not in html


def test_a_static_area_shows_the_fallback_to_everyone_and_does_not_vary(make_page, topics, visitor_client):
    page = make_page("Static")
    build_area(placeholder(page, "content"), strategy="static")
    response = visitor_client(topics=["sports"], theme="dark").get(page.get_absolute_url())
    html = response.content.decode()
    assert "EVERYONE" in html and "SPORTS" not in html and "DARK" not in html


def test_responses_that_depend_on_the_visitor_vary_on_cookie_and_are_private(area_page, visitor_client, client):
    for c in (client, visitor_client(topics=["sports"])):
        for _ in range(2):  # rendered, then from the page cache
            response = c.get(area_page.get_absolute_url())
            assert "Cookie" in response["Vary"]
            assert "private" in response["Cache-Control"]


def build_pages(make_page, count: int, name: str):
    page = make_page(name, slug=name)
    ph = placeholder(page, "content")
    for i in range(count):
        build_area(ph, label=f"Area {i}", suffix=str(i))
    return page


def count_queries(c, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # cold page, placeholder and menu caches: the most the page can cost
    with CaptureQueriesContext(connection) as queries:
        assert c.get(url).status_code == 200
    return len(queries)


def test_ten_areas_cost_the_same_queries_as_one(make_page, topics, visitor_client, client):
    one = build_pages(make_page, 1, "one")
    ten = build_pages(make_page, 10, "ten")
    fan = visitor_client(topics=["sports"])
    fan.get("/")  # the visitor's snapshot is in Redis from now on
    for c in (client, fan):
        for page in (one, ten):  # process-wide caches (Site, ContentType), the areas' settings are warm from now on
            count_queries(c, page.get_absolute_url())
        assert count_queries(c, one.get_absolute_url()) == count_queries(c, ten.get_absolute_url())
    html = fan.get(ten.get_absolute_url()).content.decode()
    assert all(f"SPORTS{i}" in html for i in range(10)) and "EVERYONE" not in html


def test_rendering_areas_makes_no_redis_calls(make_page, topics, visitor_client, redis_round_trips):
    empty = make_page("Empty", slug="empty")
    ten = build_pages(make_page, 10, "ten")
    fan = visitor_client(topics=["sports"])
    fan.get("/")  # snapshot now in Redis
    cache.clear()
    redis_round_trips.commands.clear()
    fan.get(empty.get_absolute_url())
    baseline = list(redis_round_trips.commands)
    redis_round_trips.commands.clear()
    html = fan.get(ten.get_absolute_url()).content.decode()
    assert "SPORTS9" in html
    assert redis_round_trips.commands == baseline  # only the middleware's snapshot read
    assert len(baseline) == 1


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_superuser("editor", "editor@example.com", "pw")


def test_edit_mode_shows_every_variant_labelled_with_its_targeting(area_page, editor, client):
    client.force_login(editor)
    content = area_page.get_content_obj("en")
    html = client.get(get_object_edit_url(content)).content.decode()
    for body in ("SPORTS", "DARK", "EVERYONE"):
        assert body in html
    assert "Sports fans" in html and "topics: sports" in html
    assert "Night owls" in html and "themes: Dark" in html
    assert "Everyone" in html and "fallback" in html
    assert html.count("data-tailored-editor-label") == 4  # the area and its three variants
    assert 'data-tailored-chosen="true"' in html  # the one the editor would see as a visitor


def test_structure_mode_renders(area_page, editor, client):
    client.force_login(editor)
    response = client.get(get_object_structure_url(area_page.get_content_obj("en")))
    assert response.status_code == 200
    assert "Sports fans" in response.content.decode()


def test_preview_and_live_views_of_an_editor_show_only_the_chosen_variant(area_page, editor, client):
    client.force_login(editor)
    html = client.get(area_page.get_absolute_url()).content.decode()
    assert "EVERYONE" in html and "SPORTS" not in html and "data-tailored-editor-label" not in html


def test_hostile_labels_and_text_are_escaped(make_page, topics, editor, client):
    page = make_page("Hostile")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label='<img src=x onerror="alert(1)">')
    api.add_variant(area, label='<script>alert("variant")</script>', topics=['"><script>x</script>'], fallback=True)
    client.force_login(editor)
    html = client.get(get_object_edit_url(page.get_content_obj("en"))).content.decode()
    assert '<script>alert("variant")</script>' not in html and "&lt;script&gt;alert(" in html
    assert '<img src=x onerror="alert(1)">' not in html and "&lt;img src=x" in html
    assert '"><script>x</script>' not in html
