"""The preferences panel plugin on a real CMS page, and the demo seeder that puts one on the homepage."""

from __future__ import annotations

import io
import re

import pytest
from cms.api import add_plugin
from cms.models import Page
from django.core.management import call_command
from django.test import Client

from tailored_cms import api
from tailored_cms.visitors.models import Visitor
from tailored_cms.widgets.cms_plugins import PreferencesPanelPlugin

from .conftest import placeholder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def topics():
    api.create_topic("sports", "Sports")
    api.create_topic("travel", "Travel")


@pytest.fixture
def panel_page(make_page):
    page = make_page("Panel", slug="panel")
    add_plugin(placeholder(page, "content"), "PreferencesPanelPlugin", "en", title="Make it yours")
    return page


def test_the_panel_is_the_no_js_form_in_a_wrapper_the_script_enhances(panel_page, client):
    html = client.get(panel_page.get_absolute_url()).content.decode()
    assert re.search(r'<section class="tailored-panel" data-tailored-panel="\d+"', html)
    assert ">Make it yours</h2>" in html
    # A GET form without a CSRF token: caches may keep it; without JS it leads to the page to confirm.
    assert 'method="get" action="/tailored/preferences/"' in html and "csrfmiddlewaretoken" not in html
    assert f'name="next" value="{panel_page.get_absolute_url()}"' in html
    assert 'name="topics" value="sports"' in html and 'name="theme"' in html and 'name="layout"' in html
    assert 'name="fields"' not in html  # every choice is shown: nothing to name
    assert 'role="status" aria-live="polite"' in html
    assert html.count("tailored_cms/customize.js") == 1 and 'customize.js" defer></script>' in html
    assert html.count("tailored_cms/customize.css") == 1


def test_the_script_is_added_once_with_a_panel_and_a_board(panel_page, client):
    board = api.add_widget_board(placeholder(panel_page, "content"))
    api.add_widget(board, "Weather")
    html = client.get(panel_page.get_absolute_url()).content.decode()
    assert html.count("tailored_cms/customize.js") == 1


def test_a_page_without_panel_or_board_has_no_script(make_page, client):
    assert "customize.js" not in client.get(make_page("Plain").get_absolute_url()).content.decode()


def test_the_panel_shows_what_the_visitor_sees_now_and_is_cached_per_tailoring(panel_page, visitor_client):
    url = panel_page.get_absolute_url()
    dark = visitor_client(theme="dark", topics=["travel"])
    for _ in range(2):  # the second time from the caches (the example settings have them all on)
        assert 'value="dark" id="tailored-theme_2" checked' in dark.get(url).content.decode()
        anonymous = Client().get(url).content.decode()  # must not be dark's copy
        assert 'value="" id="tailored-theme_0" checked' in anonymous
        assert 'value="travel" id="tailored-topics_1" checked' not in anonymous
    assert PreferencesPanelPlugin.cache is not False  # so a page with a panel stays in the page cache


def test_a_visitor_who_chose_the_default_theme_is_not_served_the_copy_of_one_who_chose_none(panel_page, visitor_client):
    url = panel_page.get_absolute_url()
    light = visitor_client(theme="light")  # the site's default, chosen
    for _ in range(2):  # the second time from the caches
        assert 'value="" id="tailored-theme_0" checked' in Client().get(url).content.decode()
        chosen = light.get(url).content.decode()
        assert 'value="light" id="tailored-theme_1" checked' in chosen and 'id="tailored-theme_0" checked' not in chosen
        assert "tailored-theme-auto" not in chosen  # the page no longer follows the browser's colour scheme


def test_without_javascript_the_panel_leads_to_the_page_to_confirm_and_save(panel_page):
    browser = Client(enforce_csrf_checks=True)
    url = panel_page.get_absolute_url()
    confirm = browser.get(
        "/tailored/preferences/", {"save": "1", "topics": ["sports"], "theme": "dark", "layout": "grid", "next": url}
    )
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "Check your choices, then press Save." in html
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    assert 'value="sports" id="tailored-topics_0" checked' in html and 'value="dark"' in html
    assert Visitor.objects.count() == 0  # nothing is saved by a GET
    saved = browser.post(
        "/tailored/preferences/",
        {
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
            "topics": ["sports"],
            "theme": "dark",
            "layout": "grid",
            "next": url,
        },
    )
    assert saved.status_code == 303 and saved["Location"] == url
    assert Visitor.objects.get().theme == "dark"


def test_an_invalid_choice_from_a_panel_is_shown_with_its_error(panel_page):
    response = Client().get("/tailored/preferences/", {"save": "1", "theme": "neon"})
    assert response.status_code == 400 and "light, dark, high-contrast" in response.content.decode()


def test_a_panel_without_the_theme_leaves_the_theme_alone(make_page):
    page = make_page("Partial", slug="partial")
    add_plugin(placeholder(page, "content"), "PreferencesPanelPlugin", "en", show_theme=False)
    browser = Client(enforce_csrf_checks=True)
    html = browser.get(page.get_absolute_url()).content.decode()
    assert 'name="theme"' not in html
    assert re.findall(r'name="fields" value="(\w+)"', html) == ["topics", "layout", "motion", "text_size"]
    browser.get("/tailored/preferences/")  # the form that posts (and the csrftoken cookie)
    visitor_page = browser.post(
        "/tailored/preferences/",
        {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value, "fields": ["theme"], "theme": "dark"},
    )
    assert visitor_page.status_code == 303
    visitor = Visitor.objects.get()
    assert visitor.theme == "dark"
    browser.post(
        "/tailored/preferences/",
        {
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
            "fields": ["topics", "layout"],
            "topics": ["sports"],
            "layout": "grid",
            "next": page.get_absolute_url(),
        },
    )
    visitor.refresh_from_db()
    assert (visitor.theme, visitor.layout, visitor.topics) == ("dark", "grid", ["sports"])


def test_a_panel_showing_nothing_offers_only_the_reset(make_page, client):
    page = make_page("Empty", slug="empty")
    add_plugin(
        placeholder(page, "content"),
        "PreferencesPanelPlugin",
        "en",
        show_topics=False,
        show_theme=False,
        show_layout=False,
        show_accessibility=False,
    )
    html = client.get(page.get_absolute_url()).content.decode()
    assert "<fieldset" not in html and 'name="save"' not in html and 'name="reset"' in html


def test_the_panel_offers_reduced_motion_and_larger_text_beside_theme_and_layout(make_page):
    page = make_page("Look", slug="look")
    add_plugin(placeholder(page, "content"), "PreferencesPanelPlugin", "en")
    html = Client().get(page.get_absolute_url()).content.decode()
    assert "<legend>Motion</legend>" in html and "<legend>Text size</legend>" in html
    assert 'name="motion" value="" id="tailored-motion_0" checked' in html and "As my device says" in html
    assert 'name="motion" value="reduced"' in html and "Reduced motion" in html
    assert 'name="text_size" value="large"' in html and "Larger text" in html
    # Saved without any tracking consent asked or needed, as a theme is.
    browser = Client(enforce_csrf_checks=True)
    browser.get("/tailored/preferences/")
    saved = browser.post(
        "/tailored/preferences/",
        {
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
            "fields": ["motion", "text_size"],
            "motion": "reduced",
            "text_size": "large",
            "next": page.get_absolute_url(),
        },
    )
    assert saved.status_code == 303
    visitor = Visitor.objects.get()
    assert (visitor.motion, visitor.text_size, visitor.tracking_consent) == ("reduced", "large", None)
    again = browser.get(page.get_absolute_url()).content.decode()
    assert re.search(r'<body class="[^"]*tailored-motion-reduced tailored-text-large"', again)
    assert 'name="motion" value="reduced" id="tailored-motion_1" checked' in again  # the panel, not a cached one
    assert 'name="text_size" value="large" id="tailored-text_size_1" checked' in again
    others = Client().get(page.get_absolute_url()).content.decode()
    assert "tailored-text-large" not in others and 'id="tailored-motion_0" checked' in others


def test_a_visitor_without_accessibility_choices_keeps_the_variant_key_they_had():
    from tailored_cms.visitors.snapshot import Snapshot

    plain = Snapshot(topics=("sports",), theme="dark")
    assert plain.variant_key == Snapshot()._key("variant", "dark", "one-column", ["sports"])  # as it always was
    assert Snapshot(topics=("sports",), theme="dark", motion="reduced").variant_key != plain.variant_key
    assert Snapshot(topics=("sports",), theme="dark", text_size="huge").variant_key == plain.variant_key
    # The default theme, chosen, is not the same as none: the panel checks it, and the page stops following the device.
    unchosen = Snapshot(topics=("sports",))
    assert unchosen.variant_key == Snapshot()._key("variant", "light", "one-column", ["sports"])  # as it always was
    assert Snapshot(topics=("sports",), theme="light").variant_key != unchosen.variant_key


def seed() -> None:
    call_command("tailored_demo", stdout=io.StringIO())


def sidebar_plugins(home: Page) -> list[str]:
    plugins = placeholder(home, "sidebar").get_plugins("en").filter(parent=None).order_by("position")
    return [plugin.plugin_type for plugin in plugins]


def test_the_demo_puts_the_panel_above_the_feed_and_is_safe_to_run_twice():
    seed()
    seed()
    home = Page.objects.get(reverse_id="home")
    assert sidebar_plugins(home) == ["PreferencesPanelPlugin", "TopicFeedPlugin", "ExplanationPlugin", "QuizPlugin"]
    html = Client().get(home.get_absolute_url()).content.decode()
    assert html.index("data-tailored-panel") < html.index("data-tailored-feed")


def test_the_demo_adds_the_panel_to_a_homepage_seeded_before_it_existed():
    seed()
    home = Page.objects.get(reverse_id="home")
    sidebar = placeholder(home, "sidebar")
    sidebar.delete_plugin(sidebar.get_plugins("en").get(plugin_type="PreferencesPanelPlugin"))
    assert sidebar_plugins(home) == ["TopicFeedPlugin", "ExplanationPlugin", "QuizPlugin"]
    seed()
    assert sidebar_plugins(home) == ["PreferencesPanelPlugin", "TopicFeedPlugin", "ExplanationPlugin", "QuizPlugin"]
