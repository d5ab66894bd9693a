"""With djangocms-versioning, publishing and unpublishing a version purge the page at a real Varnish.

Run by ``tests/test_versioned_site.py`` with ``tests.versioned.settings`` (versioning needs its app installed from
the start: its tables, its managers); the suite's own run leaves this package out (``conftest.py``).
"""

from __future__ import annotations

import pytest
import requests
from cms.api import add_plugin, create_page, create_page_content
from cms.models import PageContent
from django.contrib.auth import get_user_model
from djangocms_versioning.models import Version

pytestmark = pytest.mark.django_db(transaction=True)


def content_slot(content: PageContent):
    """The ``content`` placeholder of a page content (a draft's too)."""
    return content.rescan_placeholders()["content"]


def draft_with(page, language: str, body: str, user) -> Version:
    """A new draft of the page's ``language`` content (a copy of the published one), its text replaced."""
    published = Version.objects.get_for_content(PageContent.objects.get(page=page, language=language))
    draft = published.copy(user)
    text, _plugin_class = content_slot(draft.content).get_plugins(language).get().get_plugin_instance()
    text.body = body
    text.save()
    return draft


def test_publishing_and_unpublishing_a_version_purge_the_page_in_every_language(varnish):
    editor = get_user_model().objects.create_superuser("editor", "editor@example.com", "editor")
    page = create_page("News", "page.html", "en", slug="news", created_by=editor)
    create_page_content("es", "Noticias", page, slug="noticias", created_by=editor)
    for language, words in (("en", "FIRST NEWS"), ("es", "PRIMERAS NOTICIAS")):
        content = PageContent.admin_manager.get(page=page, language=language)
        add_plugin(content_slot(content), "TextPlugin", language, body=f"<p>{words}</p>")
        Version.objects.get_for_content(content).publish(editor)
    urls = {language: varnish.url + page.get_absolute_url(language) for language in ("en", "es")}
    assert urls == {"en": varnish.url + "/en/news/", "es": varnish.url + "/es/noticias/"}
    for url in urls.values():
        assert requests.get(url).headers["X-Cache"] == "MISS"
    assert [requests.get(url).headers["X-Cache"] for url in urls.values()] == ["HIT", "HIT"]

    draft = draft_with(page, "en", "<p>SECOND NEWS</p>", editor)
    kept = requests.get(urls["en"])  # a draft is the editor's: visitors still get the published copy
    assert kept.headers["X-Cache"] == "HIT" and "FIRST NEWS" in kept.text

    draft.publish(editor)
    assert [requests.get(url).headers["X-Cache"] for url in urls.values()] == ["MISS", "MISS"]
    assert "SECOND NEWS" in requests.get(urls["en"]).text
    assert [requests.get(url).headers["X-Cache"] for url in urls.values()] == ["HIT", "HIT"]

    Version.objects.get_for_content(PageContent.objects.get(page=page, language="es")).unpublish(editor)
    assert requests.get(urls["es"]).status_code == 404  # not the copy of the page as it was
    assert requests.get(urls["en"]).headers["X-Cache"] == "MISS"  # the page's every URL is purged
    assert requests.get(urls["en"]).headers["X-Cache"] == "HIT"

    sport = create_page("Sport", "page.html", "en", slug="sport", parent=page, created_by=editor)
    sport_content = PageContent.admin_manager.get(page=sport, language="en")
    add_plugin(content_slot(sport_content), "TextPlugin", "en", body="<p>SPORT NEWS</p>")
    Version.objects.get_for_content(sport_content).publish(editor)
    sport_url = varnish.url + "/en/news/sport/"
    requests.get(sport_url)
    assert requests.get(sport_url).headers["X-Cache"] == "HIT"

    moved = draft_with(page, "en", "<p>THIRD NEWS</p>", editor)
    moved.content.slug = "latest"
    moved.content.save()
    moved.publish(editor)
    assert requests.get(urls["en"]).status_code == 404  # the URL it answered at before is purged too
    assert requests.get(sport_url).status_code == 404  # and those of the pages under it
    assert "THIRD NEWS" in requests.get(varnish.url + "/en/latest/").text
    assert "SPORT NEWS" in requests.get(varnish.url + "/en/latest/sport/").text
