"""The example site in English, Spanish and Italian, as ``tailored_demo`` seeds it and ``make demo`` serves it.

A visitor picks a language in the chooser and stays in it, page after page (django CMS's language prefixes and
Django's language cookie); what they chose to follow, and the segments they are in, hold in every language
(one visitor, one profile). And, without JavaScript, a Spanish or an Italian page has none of tailored_cms's
English on it: ``tests/english.py`` looks for every string of the package's catalog that the language
translates differently. The browser tests (``tests/browser/test_scripts_in_other_languages.py``) do the same
for what the scripts write.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from gettext import GNUTranslations
from pathlib import Path

import pytest
from cms.models import Page
from django.test import Client

import example_site
from tailored_cms.tracking.ingest import drain
from tests.english import english_in, visible_text
from tests.test_catalogs import SITE_LANGUAGES, extract_msgids, msgids, tool
from tests.test_tailored_demo import consenting, seed, sports_articles
from tests.tracking.conftest import DESKTOP_UA, MOBILE_UA, celery_app  # noqa: F401 - segments queue a recompute

pytestmark = pytest.mark.urls("example_site.urls")  # the example site's: pages under /en/, /es/, /it/

CHOOSER = re.compile(r'<nav class="language-chooser".*?</nav>', re.DOTALL)
HERO = re.compile(r'<section class="hero">.*?</section>', re.DOTALL)


@pytest.fixture
def demo(db) -> None:
    seed()


def html_of(client: Client, path: str, **headers: str) -> str:
    response = client.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def chooser_links(html: str) -> dict[str, tuple[str, bool]]:
    """The language chooser's links: language -> (href, marked as the current one)."""
    (nav,) = CHOOSER.findall(html)
    links = {}
    for attributes, _name in re.findall(r"<a ([^>]*)>([^<]*)</a>", nav):
        fields = dict(re.findall(r'([\w-]+)(?:="([^"]*)")?', attributes))
        assert fields["lang"] == fields["hreflang"]
        links[fields["lang"]] = (fields["href"], "aria-current" in fields)
    return links


def text_of(html: str, section: re.Pattern[str]) -> str:
    (found,) = section.findall(html)
    return " ".join(visible_text(found).split())


@pytest.mark.usefixtures("demo")
def test_the_chooser_offers_each_language_named_in_itself_the_current_one_marked():
    home = html_of(Client(), "/it/")
    assert '<html lang="it">' in home
    assert '<nav class="language-chooser" aria-label="Lingua">' in home
    assert chooser_links(home) == {"en": ("/en/", False), "es": ("/es/", False), "it": ("/it/", True)}
    for code, name in (("en", "English"), ("es", "Español"), ("it", "Italiano")):
        assert re.search(rf'lang="{code}"[^>]*>{name}</a>', home)

    article = Page.objects.get(pagecontent_set__title="Night trains are back", pagecontent_set__language="en")
    english = html_of(Client(), article.get_absolute_url("en"))
    assert '<html lang="en">' in english and "<h1>Night trains are back</h1>" in english
    links = chooser_links(english)
    assert links["en"] == (article.get_absolute_url("en"), True)
    assert links["es"] == ("/es/vuelven-los-trenes-nocturnos/", False)
    assert links["it"] == ("/it/tornano-i-treni-notturni/", False)


@pytest.mark.usefixtures("demo")
def test_a_visitor_who_picked_italian_stays_in_italian():
    visitor = Client(HTTP_ACCEPT_LANGUAGE="en")  # a browser that asks for English
    english = html_of(visitor, "/", follow=True)
    assert '<html lang="en">' in english
    italian_url, _current = chooser_links(english)["it"]
    italian = html_of(visitor, italian_url)
    assert '<html lang="it">' in italian and "Le diamo il benvenuto su Tailored News" in italian
    assert visitor.cookies["django_language"].value == "it"

    # The next page, from a link of the Italian one: still Italian.
    article = re.search(r'href="(/it/[^"]+/)"', text_of_section(italian, "layout-side"))
    assert article is not None
    next_page = html_of(visitor, article[1])
    assert '<html lang="it">' in next_page and "Altre letture" in next_page
    # The site's root, and tailored_cms's own pages (no language in their URL), follow the choice too.
    root = visitor.get("/")
    assert (root.status_code, root["Location"]) == (302, "/it/")
    preferences = html_of(visitor, "/tailored/preferences/")
    assert '<html lang="it">' in preferences and "Le Sue preferenze" in preferences


def text_of_section(html: str, css_class: str) -> str:
    """The markup of the first element with ``css_class`` (a sidebar, a section), up to its closing tag."""
    match = re.search(rf'<(aside|section|div) class="{css_class}".*?</\1>', html, re.DOTALL)
    assert match is not None, css_class
    return match[0]


@pytest.mark.usefixtures("demo", "tailored_redis")
def test_topics_followed_on_the_english_page_are_followed_on_the_italian_one():
    visitor = Client()
    visitor.get("/tailored/api/v1/preferences/")  # the CSRF cookie
    chose = visitor.patch(
        "/tailored/api/v1/preferences/",
        json.dumps({"topics": ["sports"]}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=visitor.cookies["csrftoken"].value,
    )
    assert chose.status_code == 200, chose.content
    assert "Tonight's big match" in text_of(html_of(visitor, "/en/"), HERO)

    italian = html_of(visitor, "/it/")
    assert "La grande partita di stasera" in text_of(italian, HERO)
    assert re.search(r'<input type="checkbox" name="topics" value="sports"[^>]* checked', italian)
    assert "Le diamo il benvenuto" not in text_of(italian, HERO)  # not the fallback: the same profile
    assert "La grande partita di stasera" not in text_of(html_of(Client(), "/it/"), HERO)  # another visitor's


@pytest.mark.usefixtures("celery_app")
def test_a_segment_applies_in_every_language(transactional_db):
    seed()
    assert "In movimento: la giornata in due minuti" in html_of(Client(HTTP_USER_AGENT=MOBILE_UA), "/it/")
    assert "Sobre la marcha: el día en dos minutos" in html_of(Client(HTTP_USER_AGENT=MOBILE_UA), "/es/")

    fan = consenting(HTTP_USER_AGENT=DESKTOP_UA)
    for path in sports_articles()[:3]:  # read in English
        assert fan.get(path).status_code == 200
    assert drain(max_seconds=10).read >= 3
    assert "Per gli appassionati di sport: le partite del fine settimana" in html_of(fan, "/it/")
    assert "Para aficionados al deporte: los partidos del fin de semana" in html_of(fan, "/es/")


def pages_in(language: str) -> list[str]:
    """The demo's pages in ``language``: the homepage and every article."""
    return [page.get_absolute_url(language) for page in Page.objects.order_by("path")]


@pytest.mark.parametrize("language", ["es", "it"])
@pytest.mark.usefixtures("demo", "tailored_redis")
def test_without_javascript_no_english_of_tailored_cms_is_on_the_page(language):
    visitor = Client(HTTP_ACCEPT_LANGUAGE=language)
    seen: dict[str, str] = {}
    for path in pages_in(language):
        seen[path] = html_of(visitor, path)
    seen["preferences"] = html_of(visitor, "/tailored/preferences/?next=/")
    seen["the banner's answer without JavaScript"] = html_of(visitor, "/tailored/preferences/?consent=yes&next=/")
    home = seen[f"/{language}/"]
    keys = re.findall(r'data-tailored-area-key="([^"]+)"', home)
    assert len(keys) == 3  # the hero, "Recommended for you" and "Today's picks"
    explained = visitor.get("/tailored/api/v1/explain/?areas=" + ",".join(keys))
    assert explained.status_code == 200
    why = "\n".join(  # what privacy.js writes of the answer: whom the shown variants are for, the reasons
        [shown["text"] for area in explained.json()["areas"] for shown in area["shown"]]
        + [reason["text"] for area in explained.json()["areas"] for reason in area["reasons"]]
    )

    for name, html in seen.items():
        assert f'<html lang="{language}">' in html, name
        assert not english_in(visible_text(html), language), (
            f"English on {name}: {english_in(visible_text(html), language)}"
        )
    assert not english_in(why, language), f"English in why: {english_in(why, language)}"
    # The check finds English where there is some: on the English homepage, the panel's and the banner's.
    found = english_in(visible_text(html_of(Client(), "/en/")), language)
    assert {"Customize this site", "Why am I seeing this?", "Download my data", "Allow", "No thanks"} <= set(found)
    # What was looked at: the panel, the board, the banner, "Why am I seeing this?" and the feeds are there.
    for words in {
        "es": ("Adapte este sitio", "No, gracias", "¿Por qué veo esto?", "Descargar mis datos", "Más para leer"),
        "it": ("Personalizzi questo sito", "No, grazie", "Perché vedo questo?", "Scarica i miei dati", "Altre letture"),
    }[language]:
        assert any(words in visible_text(html) for html in seen.values()), words


@pytest.mark.parametrize("language", ["de", "fr"])
@pytest.mark.usefixtures("tailored_redis")
def test_tailored_cms_s_own_pages_have_no_english_in_the_languages_the_demo_has_no_pages_in(db, settings, language):
    """The demo has no German or French pages; a site that offers those languages gets tailored_cms's own pages
    (the preferences page, the banner's answer without JavaScript) in them all the same."""
    settings.LANGUAGES = SITE_LANGUAGES
    seed()
    visitor = Client(HTTP_ACCEPT_LANGUAGE=language)
    for path in ("/tailored/preferences/?next=/", "/tailored/preferences/?consent=no&next=/"):
        html = html_of(visitor, path)
        assert f'<html lang="{language}">' in html
        assert not english_in(visible_text(html), language), path
    english = visible_text(html_of(Client(), path))
    assert {"Your preferences", "Allow", "No thanks"} <= set(english_in(english, language))


def test_the_example_sites_own_catalogs_translate_every_string_of_its_templates(tmp_path):
    """makemessages over a copy of the example site's templates: each catalog of the site has every string, all
    translated, and its .mo is compiled from it."""
    site = Path(example_site.__file__).resolve().parent
    copy = tmp_path / "example_site"
    shutil.copytree(site / "templates", copy / "templates")
    extracted = extract_msgids(copy)
    assert ("", "Skip to content", "") in extracted
    for language in ("es", "it", "de", "fr"):
        po = site / "locale" / language / "LC_MESSAGES" / "django.po"
        assert msgids(po) == extracted, language
        checked = subprocess.run(
            [tool("msgfmt"), "--check", "--statistics", "-o", str(tmp_path / f"{language}.mo"), str(po)],
            capture_output=True,
            text=True,
        )
        assert re.search(rf"^{len(extracted)} translated messages\.$", checked.stderr, re.MULTILINE), checked.stderr
        with (tmp_path / f"{language}.mo").open("rb") as fresh, po.with_suffix(".mo").open("rb") as shipped:
            assert GNUTranslations(fresh)._catalog == GNUTranslations(shipped)._catalog  # type: ignore[attr-defined]
