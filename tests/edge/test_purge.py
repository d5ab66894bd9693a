"""An editor's change purges the page at a real Varnish (the shipped VCL) in front of the live site."""

from __future__ import annotations

import pytest
import requests
from cms.api import add_plugin, create_page
from cms.models import Page, PageContent
from django.urls import reverse

from tailored_cms import api
from tests.areas.conftest import placeholder, text

pytestmark = pytest.mark.django_db(transaction=True)


def test_editing_a_page_purges_its_copies_at_the_edge(varnish, admin_client):
    page = create_page("News", "page.html", "en", slug="news")
    body = add_plugin(placeholder(page, "content"), "TextPlugin", "en", body="<p>BEFORE</p>")
    url = varnish.url + page.get_absolute_url()
    assert requests.get(url).headers["X-Cache"] == "MISS"
    cached = requests.get(url)
    assert cached.headers["X-Cache"] == "HIT" and "BEFORE" in cached.text
    # As the editor's frame posts it: django CMS signals the change only with the page it came from (cms_path).
    edit = reverse("admin:cms_placeholder_edit_plugin", args=[body.pk]) + "?cms_path=" + page.get_absolute_url()
    assert admin_client.post(edit, {"body": "<p>AFTER</p>"}).status_code == 200
    page_now = requests.get(url)
    assert page_now.headers["X-Cache"] == "MISS" and "AFTER" in page_now.text


def test_a_segment_saved_purges_every_tailored_page(varnish):
    # Both pages are tailored: one has an area, and the other's template puts the visitor's theme into <body>.
    with_area = create_page("Tailored", "page.html", "en", slug="tailored")
    ph = placeholder(with_area, "content")
    area = api.add_area(ph, label="Hero")
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    themed = create_page("Themed", "page.html", "en", slug="themed")
    add_plugin(placeholder(themed, "content"), "TextPlugin", "en", body="<p>THEMED</p>")
    urls = [varnish.url + with_area.get_absolute_url(), varnish.url + themed.get_absolute_url()]
    for url in urls:
        requests.get(url)
    assert [requests.get(url).headers["X-Cache"] for url in urls] == ["HIT", "HIT"]
    api.create_segment("regulars", "Regulars", rules={"rule": "visit_count", "min": 3})
    assert [requests.get(url).headers["X-Cache"] for url in urls] == ["MISS", "MISS"]


def cached(url: str) -> bool:
    """The page at ``url`` is (now) a copy at the edge."""
    requests.get(url)
    return requests.get(url).headers["X-Cache"] == "HIT"


def family(varnish) -> tuple[Page, dict[str, str]]:
    """A page with a page under it, both at the edge: the page under it, and their URLs through Varnish."""
    parent = create_page("Guides", "page.html", "en", slug="guides")
    child = create_page("Hiking", "page.html", "en", slug="hiking", parent=parent)
    for page, words in ((parent, "ALL GUIDES"), (child, "HIKING GUIDE")):
        add_plugin(placeholder(page, "content"), "TextPlugin", "en", body=f"<p>{words}</p>")
    urls = {"Guides": varnish.url + parent.get_absolute_url(), "Hiking": varnish.url + child.get_absolute_url()}
    assert urls["Hiking"].endswith("/guides/hiking/")
    assert [cached(url) for url in urls.values()] == [True, True]
    return child, urls


def url_now(varnish, page: Page) -> str:
    return varnish.url + Page.objects.get(pk=page.pk).get_absolute_url()


def change_form_data(admin_client, content) -> dict[str, object]:
    """What the page settings form (django CMS's change view of a page's content) posts as it stands."""
    response = admin_client.get(reverse("admin:cms_pagecontent_change", args=[content.pk]))
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    return {name: value for name, value in data.items() if value not in (None, False)}


def test_a_new_slug_purges_the_urls_the_page_and_the_pages_under_it_answered_at(varnish, admin_client):
    child, urls = family(varnish)
    content = PageContent.objects.get(page=child.parent, language="en")
    data = {**change_form_data(admin_client, content), "slug": "trails"}
    assert admin_client.post(reverse("admin:cms_pagecontent_change", args=[content.pk]), data).status_code == 302
    assert [requests.get(url).status_code for url in urls.values()] == [404, 404]  # not the copies of before
    assert url_now(varnish, child).endswith("/trails/hiking/")
    assert "HIKING GUIDE" in requests.get(url_now(varnish, child)).text


def test_a_new_title_purges_the_page_alone(varnish, admin_client):
    child, urls = family(varnish)
    content = PageContent.objects.get(page=child.parent, language="en")
    data = {**change_form_data(admin_client, content), "title": "All our guides"}
    assert admin_client.post(reverse("admin:cms_pagecontent_change", args=[content.pk]), data).status_code == 302
    parent_now, child_now = (requests.get(url) for url in urls.values())
    assert parent_now.headers["X-Cache"] == "MISS" and "All our guides" in parent_now.text
    assert child_now.headers["X-Cache"] == "HIT"  # its URL didn't move: its copy is still right


def test_moving_a_page_purges_the_urls_it_and_the_pages_under_it_answered_at(varnish, admin_client):
    child, urls = family(varnish)
    places = create_page("Places", "page.html", "en", slug="places")
    move = reverse("admin:cms_page_move_page", args=[child.parent_id])
    assert admin_client.post(move, {"target": places.pk, "position": 0}).status_code == 200
    assert [requests.get(url).status_code for url in urls.values()] == [404, 404]
    assert url_now(varnish, child).endswith("/places/guides/hiking/")
    assert "HIKING GUIDE" in requests.get(url_now(varnish, child)).text


def test_deleting_a_page_purges_it_and_the_pages_under_it(varnish, admin_client):
    child, urls = family(varnish)
    response = admin_client.post(reverse("admin:cms_page_delete", args=[child.parent_id]), {"post": "yes"})
    assert response.status_code == 302
    assert [requests.get(url).status_code for url in urls.values()] == [404, 404]
