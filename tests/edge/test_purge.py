"""An editor's change purges the page at a real Varnish (the shipped VCL) in front of the live site."""

from __future__ import annotations

import pytest
import requests
from cms.api import add_plugin, create_page
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
