"""``recommendations/``: a visitor's recommended pages for one plugin, with why, private to them."""

from __future__ import annotations

import pytest
from django.test import Client

from tailored_cms import privacy
from tailored_cms.recommendations.compute import compute_all

from .conftest import read

pytestmark = pytest.mark.django_db

URL = "/tailored/api/v1/recommendations/"


def listed(client: Client, plugin, **params) -> dict:
    response = client.get(URL, {"plugin": plugin.pk, **params})
    assert response.status_code == 200, response.content
    return response.json()


def titles(answer: dict) -> list[str]:
    return [page["title"] for page in answer["pages"]]


def test_a_reader_of_three_technology_articles_gets_unread_technology_pages_first_with_why(
    site, plugin, readers, visitor
):
    me, client = visitor(tracking_consent=True)
    read(me, [site["Chips"], site["Compilers"], site["Databases"]])
    compute_all()
    answer = listed(client, plugin, page=site["Home"].pk)
    assert answer["path"] == "personalized" and answer["variant"] == "recommended"
    assert titles(answer)[:2] == ["Editors", "Networks"]  # the unread technology pages, co-read one first
    assert answer["pages"][0]["reason"] in {f"Because you read “{t}”" for t in ("Chips", "Compilers", "Databases")}
    assert answer["pages"][1]["reason"] == "Popular in Technology"
    assert not {"Chips", "Compilers", "Databases"} & set(titles(answer))
    assert len(answer["pages"]) == 3  # the plugin's limit
    assert answer["area"] == f"recommended-{plugin.pk}"


def test_pages_read_never_come_back_when_the_list_is_short(site, plugin, readers, visitor):
    me, client = visitor(tracking_consent=True)
    read(me, [site[t] for t in ("Chips", "Compilers", "Databases", "Editors", "Derby", "Finals")])
    plugin.limit = 10
    plugin.save()
    compute_all()
    answer = listed(client, plugin, page=site["Home"].pk)
    assert answer["path"] == "personalized"
    assert set(titles(answer)) == {"Networks", "Marathon"}  # the only pages left: no popular page read pads it


def test_the_answer_is_private_to_the_visitor(site, plugin, readers, client):
    compute_all()
    response = client.get(URL, {"plugin": plugin.pk})
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_reading_them_makes_no_csrf_token_that_could_replace_the_one_a_script_is_about_to_send(
    site, plugin, readers, client
):
    """A first visitor's page reads recommendations/ while customize.js asks preferences/ for a token: a token from
    each would leave the cookie holding one and the script sending the other (a 403 on the visitor's first save)."""
    compute_all()
    response = client.get(URL, {"plugin": plugin.pk})
    assert response.status_code == 200
    assert "X-CSRFToken" not in response and "csrftoken" not in response.cookies
    assert client.get("/tailored/api/v1/preferences/")["X-CSRFToken"]  # the endpoint a script saves to gives one


def test_a_new_visitor_gets_the_popular_pages(site, plugin, readers, client):
    compute_all()
    answer = listed(client, plugin)
    assert answer["path"] == "fallback"
    assert set(titles(answer)) == {"Derby", "Finals", "Marathon"}
    assert {page["reason"] for page in answer["pages"]} == {"Popular on this site these days"}


def test_without_consent_what_they_read_is_not_used_only_their_topics(site, plugin, readers, visitor):
    me, client = visitor(tracking_consent=True, topics=["technology"])
    read(me, [site["Chips"], site["Compilers"], site["Databases"]])
    compute_all()
    answer = client.get(URL, {"plugin": plugin.pk}, HTTP_SEC_GPC="1").json()  # the browser opts out
    assert answer["path"] == "customized"
    assert set(titles(answer)) <= set(site) and "Chips" in titles(answer)  # their reads are not known here
    assert {page["reason"] for page in answer["pages"]} == {"New in Technology, a topic you follow"}


def test_the_holdout_gets_the_popular_list_under_its_own_path(site, plugin, readers, visitor):
    plugin.holdout_percent = 50
    plugin.save()
    compute_all()
    paths = set()
    for _ in range(30):
        me, client = visitor(tracking_consent=True)
        answer = listed(client, plugin)
        paths.add((answer["path"], answer["variant"]))
    assert paths == {("holdout", "popular"), ("fallback", "recommended")}


def test_editors_pin_and_filter_the_pages(site, plugin, readers, visitor):
    plugin.pinned.set([site["Networks"]])
    plugin.exclude_trees.set([site["Derby"]])
    plugin.save()
    compute_all()
    _me, client = visitor()
    pinned_first = titles(listed(client, plugin))
    assert pinned_first[0] == "Networks" and set(pinned_first[1:]) == {"Finals", "Marathon"}  # no Derby
    plugin.topics.set([])
    plugin.include_trees.set([site["Chips"]])
    assert titles(listed(client, plugin)) == ["Chips"]
    plugin.include_trees.set([])
    plugin.min_age_days = 3
    plugin.save()
    assert titles(listed(client, plugin)) == []  # every page was published today


def test_reasons_come_in_the_plugins_language(site, readers, visitor):
    from cms.api import add_plugin, create_page

    home = create_page("Inicio", "home.html", "es", slug="inicio")
    slot = home.get_content_obj("es").get_placeholders().get(slot="content")
    spanish = add_plugin(slot, "RecommendedPagesPlugin", "es")
    for title in ("Derby", "Chips"):
        from cms.api import create_page_content

        create_page_content("es", title, site[title])
    compute_all()
    _me, client = visitor(topics=["technology"])
    answer = listed(client, spanish)
    assert answer["pages"][0] == {
        "id": site["Chips"].pk,
        "title": "Chips",
        "url": answer["pages"][0]["url"],
        "reason": "Nuevo en Tecnología, un tema que sigues",
        "kind": "new",
    }


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({}, 400, "plugin"),
        ({"plugin": "x"}, 400, "plugin"),
        ({"plugin": "-3"}, 400, "plugin"),
        ({"plugin": "1", "page": "a"}, 400, "page"),
        ({"plugin": "999999"}, 404, "No recommended pages"),
    ],
)
def test_bad_requests_say_what_is_wrong(plugin, client, query, status, message):
    response = client.get(URL, query)
    assert response.status_code == status
    assert message in response.content.decode()


def test_the_list_is_exported_and_erased_with_the_visitor(site, plugin, readers, visitor, tailored_redis):
    me, _client = visitor(tracking_consent=True)
    read(me, [site["Chips"]])
    compute_all()
    exported = privacy.export_visitor(me)["recommendations"]
    assert exported and exported[0][0] == site["Compilers"].pk or exported
    assert all(pick[0] != site["Chips"].pk for pick in exported)
    privacy.erase_visitor(me)
    assert privacy.export_visitor(me)["recommendations"] == []
    assert not tailored_redis.keys("*recs:v:*" + me)
