"""The widget board on a real CMS page: rendered server-side in the visitor's arrangement."""

from __future__ import annotations

import re

import pytest
from cms.api import add_plugin
from cms.toolbar.utils import get_object_edit_url
from django.contrib.auth import get_user_model

from tailored_cms import api
from tailored_cms.widgets.models import Widget

from .conftest import placeholder, text

pytestmark = pytest.mark.django_db


def widget_keys(html: str) -> list[str]:
    """Keys of every widget in the markup, hidden ones included, in order."""
    return re.findall(r'data-tailored-widget="([^"]+)"', html)


def visible_keys(html: str) -> list[str]:
    """Keys of the widgets a visitor sees (not rendered with the ``hidden`` attribute)."""
    widgets = re.findall(r'<section class="tailored-widget" data-tailored-widget="([^"]+)"[^>]*?( hidden)?>', html)
    return [key for key, hidden in widgets if not hidden]


@pytest.fixture
def board_page(make_page):
    page = make_page("Board", slug="board")
    ph = placeholder(page, "content")
    board = api.add_widget_board(ph, label="My widgets")
    for key in ("news", "weather", "sports", "stocks"):
        widget = api.add_widget(board, key.title(), key=key, hideable=key != "news")
        text(ph, f"<p>{key} body</p>", target=widget)
    return page


def test_without_choices_the_editors_order(board_page, client):
    html = client.get(board_page.get_absolute_url()).content.decode()
    assert widget_keys(html) == ["news", "weather", "sports", "stocks"]
    assert 'data-tailored-hideable="false"' in html and 'data-tailored-hideable="true"' in html
    assert "<p>weather body</p>" in html


def test_the_board_is_rendered_in_the_visitors_arrangement(board_page, visitor_client):
    c = visitor_client(widgets={"order": ["stocks", "news"], "hidden": ["weather", "news"]})
    html = c.get(board_page.get_absolute_url()).content.decode()
    # stocks and news swap their slots; weather is hidden; news may not be hidden (not hideable).
    assert visible_keys(html) == ["stocks", "sports", "news"]
    # The hidden one stays in place with the hidden attribute, so the front end shows it again without a reload.
    assert widget_keys(html) == ["stocks", "weather", "sports", "news"]
    assert re.search(r'data-tailored-widget="weather" data-tailored-title="Weather"[^>]* hidden>', html)
    assert html.count(" hidden>") == 1


def test_every_widget_is_titled_for_the_front_end(board_page, client):
    html = client.get(board_page.get_absolute_url()).content.decode()
    for key in ("news", "weather", "sports", "stocks"):
        assert f'data-tailored-widget="{key}" data-tailored-title="{key.title()}"' in html
    assert 'src="/static/tailored_cms/customize.js" defer' in html


def test_a_widget_the_editor_adds_later_appears_at_its_place(board_page, visitor_client):
    c = visitor_client(widgets={"order": ["stocks", "sports", "weather", "news"]})
    url = board_page.get_absolute_url()
    assert widget_keys(c.get(url).content.decode()) == ["stocks", "sports", "weather", "news"]
    ph = placeholder(board_page, "content")
    weather = Widget.objects.get(placeholder=ph, tailored_settings__key="weather")
    add_plugin(ph, "WidgetPlugin", "en", target=weather, position="left", label="Traffic", key="traffic")
    ph.clear_cache("en")  # what the CMS's plugin views do after an edit (cms.api.add_plugin does not)
    # Editor order is now news, traffic, weather, sports, stocks: traffic keeps slot 1.
    assert widget_keys(c.get(url).content.decode()) == ["stocks", "traffic", "sports", "weather", "news"]


def test_hostile_widget_titles_are_escaped(make_page, client):
    page = make_page("Hostile board")
    board = api.add_widget_board(placeholder(page, "content"))
    api.add_widget(board, "<script>alert(1)</script>", key="evil")
    html = client.get(page.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_edit_mode_shows_every_widget_in_the_editors_order(board_page, client):
    editor = get_user_model().objects.create_superuser("editor", "e@example.com", "pw")
    client.force_login(editor)
    html = client.get(get_object_edit_url(board_page.get_content_obj("en"))).content.decode()
    assert widget_keys(html) == ["news", "weather", "sports", "stocks"]
    assert "data-tailored-editing" in html  # customize.js leaves the editor's board alone
    assert " hidden>" not in html


def test_rendering_a_board_makes_no_queries_of_its_own(make_page, visitor_client):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small, big = make_page("Small", slug="small"), make_page("Big", slug="big")
    for page, count in ((small, 1), (big, 12)):
        board = api.add_widget_board(placeholder(page, "content"))
        for i in range(count):
            text(placeholder(page, "content"), f"<p>{i}</p>", target=api.add_widget(board, f"W{i}"))
    c = visitor_client(widgets={"order": ["x"], "hidden": ["y"]})
    counts = []
    for url in (small.get_absolute_url(), small.get_absolute_url(), big.get_absolute_url()):
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            c.get(url)
        counts.append(len(queries))
    assert counts[1] == counts[2]  # the first request also warms process-wide caches (Site, ContentType)
