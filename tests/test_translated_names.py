"""What editors type, in the visitor's language: topics' and segments' names (django-parler), read in the
request's language and falling back to the site's default (English here), never shown empty."""

from __future__ import annotations

import io
import re

import pytest
from cms.api import add_plugin, create_page, create_page_content
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.translation import override
from parler import appsettings

from tailored_cms import api
from tailored_cms.rules.models import Segment
from tailored_cms.translations import configure_languages
from tailored_cms.visitors.models import Topic
from tests.tracking.conftest import celery_app  # noqa: F401 - the demo's segments queue a recompute

pytestmark = pytest.mark.django_db

API = "/tailored/api/v1/"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


@pytest.fixture
def topics():
    api.create_topic(
        "sports",
        "Sports",
        description="Scores and fixtures",
        position=1,
        names={"es": "Deportes", "it": "Sport"},
        descriptions={"es": "Resultados y calendario", "it": "Risultati e calendario"},
    )
    api.create_topic("travel", "Travel", position=2, names={"es": "Viajes"})  # no Italian name


def spanish() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="es")


def page_in_spanish(slug: str):
    """A page in English and Spanish; the Spanish placeholder ``content`` to put plugins in."""
    page = create_page(slug.title(), "page.html", "en", slug=slug)
    content = create_page_content("es", slug.title(), page, slug=f"{slug}-es", template="page.html")
    return page, content.rescan_placeholders()["content"]


def test_the_topics_endpoint_names_and_describes_them_in_the_visitors_language(topics):
    assert spanish().get(API + "topics/").json() == [
        {"slug": "sports", "name": "Deportes", "description": "Resultados y calendario", "followed": False},
        {"slug": "travel", "name": "Viajes", "description": "", "followed": False},
    ]
    assert [t["name"] for t in Client().get(API + "topics/").json()] == ["Sports", "Travel"]


def test_a_topic_without_an_italian_name_shows_its_english_one_to_an_italian_visitor(topics):
    answer = Client(HTTP_ACCEPT_LANGUAGE="it").get(API + "topics/").json()
    assert [(t["name"], t["description"]) for t in answer] == [
        ("Sport", "Risultati e calendario"),
        ("Travel", ""),
    ]
    with override("it"):
        assert Topic.objects.names() == {"sports": "Sport", "travel": "Travel"}
        assert str(Topic.objects.get(slug="travel")) == "Travel"


def test_a_regional_language_reads_the_generic_ones_name_before_the_default_one(topics):
    # A site in Mexican Spanish too: a name written in Spanish, not for Mexico, is the Spanish one, not English.
    assert Topic.objects.names("es-mx") == {"sports": "Deportes", "travel": "Viajes"}
    assert Topic.objects.descriptions("es-mx")["sports"] == "Resultados y calendario"
    mexican = Topic.objects.get(slug="sports")  # once written, the Mexican name comes first
    mexican.set_current_language("es-mx")
    mexican.name = "Deportes MX"
    mexican.save()
    assert Topic.objects.names("es-mx")["sports"] == "Deportes MX"
    assert Topic.objects.names("es")["sports"] == "Deportes"
    assert Topic.objects.names("pt-br") == {"sports": "Sports", "travel": "Travel"}  # nothing in Portuguese


def test_a_name_written_only_in_spanish_is_shown_in_every_language():
    topic = Topic(slug="futbol")
    topic.set_current_language("es")
    topic.name = "Fútbol"
    topic.save()
    for language in ("en", "es", "it"):
        assert Topic.objects.names(language) == {"futbol": "Fútbol"}


def test_the_preferences_panel_of_a_spanish_page_names_the_topics_in_spanish(topics):
    page, slot = page_in_spanish("panel")
    add_plugin(slot, "PreferencesPanelPlugin", "es", title="Personalice este sitio")
    html = spanish().get("/panel-es/").content.decode()
    assert "Personalice este sitio" in html
    labels = re.findall(r'value="(\w+)" id="tailored-topics_\d"[^>]*>\s*(\w+)', html)
    assert labels == [("sports", "Deportes"), ("travel", "Viajes")], html


def test_the_topic_feed_of_a_spanish_page_labels_the_topics_in_spanish(topics):
    page, slot = page_in_spanish("feed")
    add_plugin(slot, "TopicFeedPlugin", "es")
    tagged, _slot = page_in_spanish("partido")
    api.tag_page(tagged, ["sports", "travel"])
    html = spanish().get("/feed-es/").content.decode()
    assert '<span data-tailored-topic="sports">Deportes</span>, <span data-tailored-topic="travel">Viajes</span>' in (
        html
    )


def test_a_spanish_translation_saved_on_its_own_drops_the_cached_spanish_panel(
    topics, django_capture_on_commit_callbacks
):
    page, slot = page_in_spanish("panel")
    add_plugin(slot, "PreferencesPanelPlugin", "es", title="Personalice este sitio")
    assert "Deportes" in spanish().get("/panel-es/").content.decode()  # now in django CMS's caches
    sports = Topic.objects.get(slug="sports")
    sports.set_current_language("es")
    sports.name = "Fútbol y más"
    with django_capture_on_commit_callbacks(execute=True):
        sports.save_translations()  # only the translation: the topic's own row is not saved
    html = spanish().get("/panel-es/").content.decode()
    assert "Fútbol y más" in html and "Deportes" not in html


def test_why_am_i_seeing_this_names_the_segment_in_spanish(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the segments are published as after a save
        api.create_segment(
            "on-the-go",
            "People on the go",
            description="Visitors on a phone",
            rules={"rule": "device", "is": "mobile"},
            names={"es": "Gente en movimiento"},
            descriptions={"es": "Visitantes con un móvil"},
        )
    page = create_page("Home", "home.html", "en", slug="home")
    area = api.add_area(page.get_content_obj("en").get_placeholders().get(slot="hero"), strategy="personalization")
    api.add_variant(area, "Mobile", segments=["on-the-go"])
    api.add_variant(area, "Everyone", fallback=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="es", HTTP_USER_AGENT=IPHONE)
    answer = client.get(API + "explain/", {"areas": area.key}).json()
    [reason] = answer["areas"][0]["reasons"]
    assert reason["segments"] == ["on-the-go"]
    assert "Gente en movimiento" in reason["text"] and "People on the go" not in reason["text"]
    english = Client(HTTP_USER_AGENT=IPHONE).get(API + "explain/", {"areas": area.key}).json()
    assert english["areas"][0]["reasons"][0]["text"].endswith("you are among People on the go.")


TAB = re.compile(r'\?language=(\w+)"|class="language_button selected" name="(\w+)"')


def language_tabs(html: str) -> list[str]:
    """The language codes of parler's tabs in order, the current one (a hidden input, not a link) included."""
    tabs = re.search(r'<div class="parler-language-tabs">(.*?)</div>', html, re.S)
    assert tabs, "no language tabs"
    return [link or current for link, current in TAB.findall(tabs.group(1))]


def test_the_topic_admin_has_a_tab_per_language_and_saves_the_spanish_one_alone(admin_client, topics):
    sports = Topic.objects.get(slug="sports")
    change = reverse("admin:tailored_cms_topic_change", args=[sports.pk])
    html = admin_client.get(change, {"language": "es"}).content.decode()
    assert language_tabs(html) == ["en", "es", "it"]
    assert 'value="Deportes"' in html and 'value="Sports"' not in html
    response = admin_client.post(
        f"{change}?language=es",
        {"name": "Fútbol", "slug": "sports", "description": "Goles", "position": 1},
    )
    assert response.status_code == 302, response.content.decode()
    assert Topic.objects.names("es")["sports"] == "Fútbol"
    assert Topic.objects.descriptions("es")["sports"] == "Goles"
    assert Topic.objects.names("en")["sports"] == "Sports"
    assert Topic.objects.descriptions("en")["sports"] == "Scores and fixtures"


def test_the_segment_admin_saves_the_spanish_tab_with_the_rules_and_lists_the_editors_language(admin_client):
    api.create_segment("regulars", "Regulars", rules={"rule": "visit_count", "min": 3})
    segment = Segment.objects.get(slug="regulars")
    change = reverse("admin:tailored_cms_segment_change", args=[segment.pk])
    html = admin_client.get(change, {"language": "es"}).content.decode()
    assert language_tabs(html) == ["en", "es", "it"]
    assert 'id="id_rules_builder_config"' in html  # the builder is there in every tab
    rules = '{"rule": "visit_count", "min": 4}'
    data = {"name": "Habituales", "slug": "regulars", "description": "", "enabled": "on", "rules": rules}
    assert admin_client.post(f"{change}?language=es", data).status_code == 302
    assert Segment.objects.names("es") == {"regulars": "Habituales"}
    assert Segment.objects.names("en") == {"regulars": "Regulars"}
    assert Segment.objects.get(slug="regulars").rules == {"rule": "visit_count", "min": 4}
    listed = admin_client.get(reverse("admin:tailored_cms_segment_changelist"), HTTP_ACCEPT_LANGUAGE="es")
    assert "Habituales" in listed.content.decode()


def test_the_api_writes_names_in_the_languages_given_and_leaves_the_others_alone(topics):
    api.create_topic("sports", "Sports", position=1, names={"it": "Calcio"})
    assert Topic.objects.names("it")["sports"] == "Calcio"
    assert Topic.objects.names("es")["sports"] == "Deportes"
    with override("es"):
        api.create_topic("travel", "Viajes y escapadas", position=2)  # the current language's name
    assert Topic.objects.names("es")["travel"] == "Viajes y escapadas"
    assert Topic.objects.names("en")["travel"] == "Travel"


def test_the_api_refuses_a_language_the_site_does_not_have():
    with pytest.raises(ValidationError, match="Not a language of the site: fr"):
        api.create_topic("sports", "Sports", names={"fr": "Sports"})
    assert not Topic.objects.exists()


def test_the_admin_tabs_follow_the_sites_languages_each_falling_back_to_the_default():
    assert [language["code"] for language in appsettings.PARLER_LANGUAGES[1]] == ["en", "es", "it"]
    assert appsettings.PARLER_LANGUAGES.get_fallback_languages("it") == ["en"]


def test_a_site_that_sets_parler_languages_keeps_them(settings, monkeypatch):
    theirs = appsettings.PARLER_LANGUAGES
    settings.PARLER_LANGUAGES = {1: ({"code": "es"},), "default": {"fallbacks": ["es"]}}
    monkeypatch.setattr(appsettings, "PARLER_LANGUAGES", theirs)
    configure_languages()
    assert appsettings.PARLER_LANGUAGES is theirs


def test_the_demo_names_its_topics_and_segments_in_spanish_and_italian_and_keeps_an_editors_name(celery_app):  # noqa: F811
    call_command("tailored_demo", stdout=io.StringIO())
    assert Topic.objects.names("es") == {
        "sports": "Deportes",
        "technology": "Tecnología",
        "culture": "Cultura",
        "science": "Ciencia",
        "travel": "Viajes",
    }
    assert Topic.objects.descriptions("it")["travel"] == "Dove andare e come arrivarci."
    assert Segment.objects.names("it")["sports-fans"] == "Appassionati di sport"
    assert Segment.objects.descriptions("es")["returning"] == "Han vuelto: dos visitas o más."

    api.create_topic("sports", "Sports", position=0, names={"es": "Fútbol"})  # an editor's
    call_command("tailored_demo", stdout=io.StringIO())
    assert Topic.objects.names("es")["sports"] == "Fútbol"
