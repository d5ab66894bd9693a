"""With django CMS's page and placeholder caches on, no visitor ever gets another visitor's tailoring."""

from __future__ import annotations

import re

import pytest
from cms.models import CMSPlugin
from cms.utils.conf import get_cms_setting
from djangocms_text.models import Text

from tailored_cms import api

from .conftest import placeholder, text

pytestmark = pytest.mark.django_db


def test_the_example_settings_have_every_cms_cache_on():
    assert get_cms_setting("PAGE_CACHE") and get_cms_setting("PLACEHOLDER_CACHE") and get_cms_setting("PLUGIN_CACHE")


@pytest.fixture
def area_page(make_page):
    api.create_topic("sports")
    api.create_topic("cooking")
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph)
    for label, topic in (("Sports", "sports"), ("Cooking", "cooking")):
        variant = api.add_variant(area, label=label, topics=[topic])
        text(ph, f"<p>{label.upper()}</p>", target=variant)
    everyone = api.add_variant(area, label="Everyone", fallback=True)
    text(ph, "<p>EVERYONE</p>", target=everyone)
    return page


def change_texts_behind_the_caches_back():
    """Edits the DB without invalidating caches: what is served afterwards came from a cache."""
    for plugin in Text.objects.all():
        Text.objects.filter(pk=plugin.pk).update(body=plugin.body.replace("</p>", " (changed)</p>"))


VISITORS = {
    "sports": dict(topics=["sports"]),
    "cooking": dict(topics=["cooking"], theme="dark"),
    "anonymous": None,
}
EXPECTED = {"sports": "SPORTS", "cooking": "COOKING", "anonymous": "EVERYONE"}


@pytest.mark.parametrize(
    "order",
    [
        ("sports", "cooking", "anonymous"),
        ("anonymous", "cooking", "sports"),
        ("cooking", "anonymous", "sports"),
    ],
)
def test_visitors_with_different_choices_never_get_each_others_area(area_page, visitor_client, client, order):
    clients = {name: (visitor_client(**choices) if choices else client) for name, choices in VISITORS.items()}
    url = area_page.get_absolute_url()
    for name in order:
        html = clients[name].get(url).content.decode()
        assert sum(word in html for word in EXPECTED.values()) == 1, name
    change_texts_behind_the_caches_back()
    for name in reversed(order):  # now every page comes from the cache: each visitor still gets their own
        html = clients[name].get(url).content.decode()
        assert f"{EXPECTED[name]} (changed)" not in html, "the cache was not used"
        assert sum(word in html for word in EXPECTED.values()) == 1 and EXPECTED[name] in html, name


@pytest.mark.parametrize("page_cache", [True, False])
def test_the_placeholder_cache_alone_keeps_tailorings_apart(area_page, visitor_client, client, settings, page_cache):
    settings.CMS_PAGE_CACHE = page_cache
    fan, cook = visitor_client(topics=["sports"]), visitor_client(topics=["cooking"])
    url = area_page.get_absolute_url()
    for _ in range(2):
        assert "SPORTS" in fan.get(url).content.decode()
        assert "COOKING" in cook.get(url).content.decode()
        response = client.get(url)
        assert "EVERYONE" in response.content.decode()
        assert "Cookie" in response["Vary"]  # also when the placeholder came from the cache


@pytest.mark.parametrize("dark_first", [True, False])
def test_a_plain_page_with_body_attrs_and_no_tailored_plugin_does_not_leak_a_theme(
    make_page, visitor_client, client, dark_first
):
    page = make_page("Plain", slug="plain")
    text(placeholder(page, "content"), "<p>PLAIN</p>")
    assert not CMSPlugin.objects.exclude(plugin_type="TextPlugin").exists()
    url = page.get_absolute_url()
    dark = visitor_client(theme="dark", layout="grid")
    requests = [(dark, "dark", "grid"), (client, "light", "one-column")]
    if not dark_first:
        requests.reverse()
    for _ in range(2):
        for c, theme, layout in requests:
            response = c.get(url)
            html = response.content.decode()
            assert f'class="tailored-theme-{theme} tailored-layout-{layout} ' in html
            assert "Cookie" in response["Vary"]
    change_texts_behind_the_caches_back()
    assert "PLAIN (changed)" not in client.get(url).content.decode()  # the page cache was in use


def test_widget_boards_vary_on_the_arrangement_not_on_topics(make_page, visitor_client, client):
    page = make_page("Board", slug="board")
    ph = placeholder(page, "content")
    board = api.add_widget_board(ph)
    for key in ("news", "weather"):
        api.add_widget(board, key.title(), key=key)
    url = page.get_absolute_url()
    reordered = visitor_client(widgets={"order": ["weather", "news"]})
    hides = visitor_client(widgets={"hidden": ["news"]})
    expectations = [(client, ["news", "weather"]), (reordered, ["weather", "news"]), (hides, ["weather"])]
    for _ in range(2):
        for c, keys in expectations:
            assert widget_keys(c.get(url).content.decode()) == keys


def widget_keys(html: str) -> list[str]:
    """Keys of the widgets the visitor sees (hidden ones are rendered with the ``hidden`` attribute)."""
    widgets = re.findall(r'data-tailored-widget="([^"]+)"[^>]*?( hidden)?>', html)
    return [key for key, hidden in widgets if not hidden]


def test_a_page_served_from_the_page_cache_is_private_to_the_visitor(area_page, visitor_client, client):
    url = area_page.get_absolute_url()
    fan = visitor_client(topics=["sports"])
    fan.get(url)  # fills the page cache
    for response in (fan.get(url), client.get(url)):
        assert "Cookie" in response["Vary"]
        assert "private" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]
        assert not response.has_header("Expires")  # a browser or proxy must not reuse one visitor's copy


def test_a_board_from_the_placeholder_cache_still_makes_the_page_cache_vary(make_page, visitor_client, client):
    """django CMS 5.1 leaves a placeholder served from its cache out of the page cache's vary headers."""
    api.create_topic("sports")
    page = make_page("Board and area", slug="board-and-area")
    area = api.add_area(placeholder(page, "sidebar"))  # re-rendered for each variant key...
    text(placeholder(page, "sidebar"), "<p>EVERYONE</p>", target=api.add_variant(area, "Everyone", fallback=True))
    board = api.add_widget_board(placeholder(page, "content"))  # ...while this placeholder comes from its cache
    for key in ("news", "weather"):
        api.add_widget(board, key.title(), key=key)
    url = page.get_absolute_url()
    assert widget_keys(client.get(url).content.decode()) == ["news", "weather"]  # caches the board's placeholder
    fan = visitor_client(topics=["sports"])  # same arrangement: the board comes from the placeholder cache...
    assert widget_keys(fan.get(url).content.decode()) == ["news", "weather"]  # ...and this page is cached
    reordered = visitor_client(topics=["sports"], widgets={"order": ["weather", "news"]})
    assert widget_keys(reordered.get(url).content.decode()) == ["weather", "news"]


HINTS = {"HTTP_SEC_CH_PREFERS_COLOR_SCHEME": '"dark"', "HTTP_SEC_CH_PREFERS_REDUCED_MOTION": '"reduce"'}


def body_tag(html: str) -> str:
    return re.search(r"<body [^>]*>", html).group(0)


@pytest.mark.parametrize("hinted_first", [True, False])
def test_what_a_browsers_client_hints_ask_for_never_leaks_to_another_visitor_through_the_page_cache(
    make_page, visitor_client, hinted_first
):
    from django.test import Client

    page = make_page("Plain", slug="plain")
    text(placeholder(page, "content"), "<p>PLAIN</p>")
    url = page.get_absolute_url()
    requests = [("hinted", HINTS), ("plain", {})]
    if not hinted_first:
        requests.reverse()
    for _round in range(2):  # the second round comes from the page cache
        for name, headers in requests:
            response = Client().get(url, **headers)
            body = body_tag(response.content.decode())
            assert ("tailored-theme-dark" in body) == (name == "hinted"), body
            assert ("tailored-motion-reduced" in body) == (name == "hinted"), body
            assert "tailored-theme-auto" in body  # CSS media queries follow the browser too
            assert response["Accept-CH"] == "Sec-CH-Prefers-Color-Scheme, Sec-CH-Prefers-Reduced-Motion"
            assert "Sec-CH-Prefers-Color-Scheme" in response["Vary"] and "Cookie" in response["Vary"]
        change_texts_behind_the_caches_back()
    # A visitor who chose gets their choice whatever their browser's hints say, from the cache or not.
    chooser = visitor_client(theme="light")
    for _round in range(2):
        body = body_tag(chooser.get(url, **HINTS).content.decode())
        assert "tailored-theme-light" in body and "tailored-theme-auto" not in body
        assert "tailored-motion-reduced" in body  # no motion chosen: the browser's
