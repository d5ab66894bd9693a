from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from tailored_cms import api
from tailored_cms.context import VisitorContext
from tailored_cms.visitors.forms import preferences_form_context
from tailored_cms.visitors.models import Visitor
from tailored_cms.visitors.snapshot import Snapshot

pytestmark = pytest.mark.django_db

PAGE = "/tailored/preferences/"


@pytest.fixture(autouse=True)
def topics():
    api.create_topic("sports", "Sports")
    api.create_topic("travel", "Travel")


@pytest.fixture
def browser() -> Client:
    """A visitor's browser: CSRF is checked, and it holds the csrftoken cookie from a first visit."""
    client = Client(enforce_csrf_checks=True)
    assert client.get(PAGE).status_code == 200
    return client


def submit(client: Client, data: dict, **extra):
    return client.post(PAGE, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, **data}, **extra)


def test_the_page_shows_the_form_with_what_the_visitor_sees_now():
    response = Client().get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert response.templates[0].name == "tailored_cms/preferences_page.html"
    assert "tailored_cms/includes/preferences_form.html" in [t.name for t in response.templates]
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'type="checkbox" name="topics" value="sports"' in html and " Sports</label>" in html
    assert html.count('type="radio" name="theme"') == 4 and html.count('type="radio" name="layout"') == 3
    # No theme chosen: the page follows the device's colour scheme, and the form says so, not "Light".
    assert 'name="theme" value="" id="tailored-theme_0" checked' in html and "As my device says" in html
    assert 'value="light" id="tailored-theme_1" checked' not in html
    assert 'name="layout" value="one-column" id="tailored-layout_0" checked' in html  # the site's default
    assert html.count('type="radio" name="motion"') == 2 and html.count('type="radio" name="text_size"') == 2
    assert 'name="reset"' in html and "Reset to defaults" in html
    assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]


def test_saving_redirects_back_to_the_page_with_a_message_and_the_choices_stay(browser):
    response = submit(browser, {"topics": ["travel"], "theme": "dark", "layout": "grid"})
    assert response.status_code == 303
    assert response["Location"] == PAGE
    assert response.cookies["tailored_vid"]["httponly"]
    page = browser.get(PAGE).content.decode()
    assert "Your preferences were saved." in page
    assert 'value="travel" id="tailored-topics_1" checked' in page
    assert 'value="dark" id="tailored-theme_2" checked' in page
    assert 'value="grid" id="tailored-layout_2" checked' in page
    assert "Your preferences were saved." not in browser.get(PAGE).content.decode()  # shown once


def test_saving_leaves_the_widget_arrangement_alone(browser):
    browser.patch(
        "/tailored/api/v1/preferences/",
        '{"widgets": {"order": ["news"], "hidden": ["ads"]}}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )
    submit(browser, {"theme": "dark"})
    visitor = Visitor.objects.get()
    assert visitor.widgets == {"order": ["news"], "hidden": ["ads"]} and visitor.theme == "dark"


def test_unticking_every_topic_follows_none(browser):
    submit(browser, {"topics": ["sports", "travel"]})
    submit(browser, {"theme": "light"})
    assert Visitor.objects.get().topics == []


def test_saving_goes_back_to_a_same_site_next_url(browser):
    response = submit(browser, {"theme": "dark", "next": "/en/news/?page=2"})
    assert response.status_code == 303 and response["Location"] == "/en/news/?page=2"
    # No message waits for the next visit to this page: the site page (maybe from the cache) showed the change.
    assert "Your preferences were saved." not in browser.get(PAGE).content.decode()


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "http://testserver.evil/"]
)
def test_an_off_site_next_url_is_ignored(browser, next_url):
    response = submit(browser, {"theme": "dark", "next": next_url})
    assert response.status_code == 303 and response["Location"] == PAGE
    assert next_url not in browser.get(PAGE, {"next": next_url}).content.decode()


def test_the_page_carries_next_through_the_form(browser):
    html = browser.get(PAGE, {"next": "/en/"}).content.decode()
    assert '<input type="hidden" name="next" value="/en/">' in html
    assert '<a href="/en/">Back</a>' in html


def test_posting_without_the_csrf_token_is_403_and_saves_nothing(browser):
    response = browser.post(PAGE, {"theme": "dark"})
    assert response.status_code == 403
    assert Visitor.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"theme": "neon"}, "Valid themes: light, dark, high-contrast"),
        ({"layout": "masonry"}, "Valid layouts: one-column, two-columns, grid"),
        ({"topics": ["knitting"]}, "Valid topics: sports, travel"),
    ],
)
def test_invalid_input_is_shown_again_with_errors_naming_the_valid_values(browser, data, words):
    response = submit(browser, data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert Visitor.objects.count() == 0


def test_hostile_input_is_escaped(browser):
    attack = "<script>alert(1)</script>"
    response = submit(browser, {"theme": attack, "topics": [attack], "next": '/"><script>alert(2)</script>'})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'value="/&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in html


def test_topic_names_from_the_database_are_escaped():
    api.create_topic("xss", '<img src=x onerror="alert(1)">')
    html = Client().get(PAGE).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_reset_puts_every_choice_back_to_the_defaults(browser):
    submit(browser, {"topics": ["sports"], "theme": "dark", "layout": "grid"})
    response = submit(browser, {"reset": "1", "theme": "neon"})  # the rest of the form is ignored
    assert response.status_code == 303 and response["Location"] == PAGE
    visitor = Visitor.objects.get()
    assert (visitor.topics, visitor.theme, visitor.layout) == ([], "", "")
    page = browser.get(PAGE).content.decode()
    assert "Your preferences were reset to the site&#x27;s defaults." in page
    assert 'value="" id="tailored-theme_0" checked' in page


def test_reset_by_a_visitor_without_choices_stores_nothing(browser):
    response = submit(browser, {"reset": "1"})
    assert response.status_code == 303
    assert "tailored_vid" not in response.cookies
    assert Visitor.objects.count() == 0


def test_a_tampered_cookie_gets_a_fresh_visitor(browser):
    submit(browser, {"theme": "dark"})
    value = browser.cookies["tailored_vid"].value
    browser.cookies["tailored_vid"] = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    response = browser.get(PAGE)
    assert 'value="" id="tailored-theme_0" checked' in response.content.decode()
    assert response.cookies["tailored_vid"].value == ""  # dropped
    submit(browser, {"theme": "high-contrast"})
    assert sorted(Visitor.objects.values_list("theme", flat=True)) == ["dark", "high-contrast"]


def test_the_form_include_renders_for_a_plugin_with_its_own_next_url():
    request = RequestFactory().get("/en/home/")
    request.tailored = VisitorContext(Snapshot(theme="dark", topics=("travel",)))
    html = render_to_string(
        "tailored_cms/includes/preferences_form.html",
        preferences_form_context(request, next_url="/en/home/"),
        request=request,
    )
    assert 'action="/tailored/preferences/"' in html
    assert '<input type="hidden" name="next" value="/en/home/">' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'value="dark" id="tailored-theme_2" checked' in html
    assert 'value="travel" id="tailored-topics_1" checked' in html


def test_the_page_is_framed_by_the_sites_own_base_template_with_its_header_and_the_visitors_theme(browser):
    submit(browser, {"theme": "dark", "motion": "reduced", "text_size": "large"})
    response = browser.get(PAGE)
    html = response.content.decode()
    assert "base.html" in [t.name for t in response.templates]  # example_site/templates/base.html
    assert '<header class="site-header">' in html and "/static/example_site/site.css" in html
    assert re.search(r'<body class="tailored-theme-dark [^"]*tailored-motion-reduced tailored-text-large"', html)
    assert "<title>Your preferences · Tailored News</title>" in html
    assert html.count("<h1") == 1
    assert '<link rel="stylesheet" href="/static/tailored_cms/customize.css">' in html
    assert response["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize("base", ["", "no/such/base.html"])
def test_without_a_base_template_of_the_sites_the_page_has_a_plain_frame_of_its_own(settings, base):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "PREFERENCES_BASE_TEMPLATE": base}
    response = Client().get(PAGE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "tailored_cms/preferences_base.html" in [t.name for t in response.templates]
    assert "site-header" not in html and "/static/tailored_cms/preferences_page.css" in html
    assert "<title>Your preferences</title>" in html and html.count("<h1") == 1
    assert 'name="theme"' in html and 'name="consent"' in html


@pytest.mark.parametrize("source", ["tcf", "consent-mode", "klaro", "cookieconsent"])
def test_with_the_sites_own_consent_tool_the_page_offers_no_answer_of_its_own(settings, browser, source):
    submit(browser, {"consent": "yes"})  # given before the site had its tool
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT_SOURCE": source}
    html = browser.get(PAGE).content.decode()
    assert "Noting what you read" in html
    assert "You allowed us to note what you read here" in html  # where the visitor stands
    assert "Your consent to this is managed in this site's cookie settings." in html
    assert 'name="consent"' not in html  # no Allow / No thanks that the tool would overrule
    assert 'name="theme"' in html  # the visitor's own choices stay


def test_with_the_built_in_banner_the_page_asks_itself(browser):
    html = browser.get(PAGE).content.decode()
    assert 'name="consent" value="yes"' in html and 'name="consent" value="no"' in html
    assert "cookie settings" not in html
