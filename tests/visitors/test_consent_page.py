"""Consent without JavaScript: the banner's form answers in one POST; the preferences page asks and confirms too."""

from __future__ import annotations

import pytest
from cms.api import add_plugin, create_page
from django.test import Client

from tailored_cms.visitors.models import Visitor

pytestmark = pytest.mark.django_db

PAGE = "/tailored/preferences/"


@pytest.fixture
def browser() -> Client:
    """A visitor's browser: CSRF is checked, and it holds the csrftoken cookie from a first visit."""
    client = Client(enforce_csrf_checks=True)
    assert client.get(PAGE).status_code == 200
    return client


def answer(client: Client, value: str, **data):
    token = client.cookies["csrftoken"].value
    return client.post(PAGE, {"csrfmiddlewaretoken": token, "consent": value, **data})


def banner_page():
    page = create_page("Plain", "page.html", "en", slug="plain")
    footer = page.get_content_obj("en").get_placeholders().get(slot="footer")
    add_plugin(footer, "ConsentBannerPlugin", "en")
    return page


ANSWER = "/tailored/preferences/consent/"


@pytest.mark.parametrize("value, consent", [("yes", True), ("no", False)])
@pytest.mark.parametrize("headers", [{"HTTP_SEC_FETCH_SITE": "same-origin"}, {"HTTP_ORIGIN": "http://testserver"}])
def test_the_banner_without_javascript_answers_in_one_step_and_goes_back_to_the_page(browser, value, consent, headers):
    banner_page()
    assert 'action="/tailored/preferences/consent/"' in browser.get("/plain/").content.decode()
    saved = browser.post(ANSWER, {"consent": value, "next": "/plain/"}, **headers)  # no CSRF token in the banner
    assert saved.status_code == 303 and saved["Location"] == "/plain/#tailored-consent-saved"
    assert Visitor.objects.get().tracking_consent is consent
    back = browser.get("/plain/").content.decode()
    assert "data-tailored-consent=" not in back
    # The status the fragment shows (customize.css shows it as the target; hidden otherwise)
    assert '<p class="tailored-consent-saved" id="tailored-consent-saved" role="status" tabindex="-1" hidden>' in back
    assert "Your answer was saved." in back


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {},
    ],
    ids=["cross-site", "same-site", "other-origin", "opaque-origin", "browser-says-nothing"],
)
def test_an_answer_from_another_site_or_an_unknown_form_is_only_asked_to_confirm(browser, headers):
    response = browser.post(ANSWER, {"consent": "yes", "next": "/plain/"}, **headers)
    html = response.content.decode()
    assert response.status_code == 200 and "Press “Allow” to confirm." in html
    assert 'name="csrfmiddlewaretoken"' in html and 'name="consent" value="yes" autofocus' in html
    assert Visitor.objects.count() == 0


def test_the_one_step_answer_checks_the_answer_and_where_it_goes_back_to(browser):
    same = {"HTTP_SEC_FETCH_SITE": "same-origin"}
    bad = browser.post(ANSWER, {"consent": "maybe"}, **same)
    assert bad.status_code == 400 and "Answer “Allow” or “No thanks”." in bad.content.decode()
    away = browser.post(ANSWER, {"consent": "no", "next": "https://evil.example/"}, **same)
    assert away.status_code == 303 and away["Location"] == PAGE  # no page to go back to: a message there
    assert "Your answer was saved." in browser.get(PAGE).content.decode()
    assert browser.get(ANSWER).status_code == 405


def test_a_page_cached_with_the_older_get_form_still_asks_to_confirm(browser):
    banner_page()
    assert "data-tailored-consent=" in browser.get("/plain/").content.decode()

    # What the banner's form sent before it posted: a GET, answered by a confirmation.
    confirm = browser.get(PAGE, {"consent": "yes", "next": "/plain/"})
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Press “Allow” to confirm." in html
    assert 'name="csrfmiddlewaretoken"' in html and 'name="next" value="/plain/"' in html
    assert 'name="consent" value="yes" autofocus' in html
    assert 'name="topics"' not in html  # only the question asked, not the whole preferences form
    assert Visitor.objects.count() == 0  # a GET changes nothing

    saved = answer(browser, "yes", next="/plain/")
    assert saved.status_code == 303 and saved["Location"] == "/plain/"
    assert Visitor.objects.get().tracking_consent is True
    back = browser.get("/plain/").content.decode()
    assert "data-tailored-consent=" not in back and "data-tailored-beacon " in back


def test_no_thanks_is_remembered_and_the_page_says_where_the_visitor_stands(browser):
    assert "answered yet: nothing you read here is noted unless you allow it" in browser.get(PAGE).content.decode()
    response = answer(browser, "no")
    assert response.status_code == 303 and response["Location"] == PAGE
    assert Visitor.objects.get().tracking_consent is False
    html = browser.get(PAGE).content.decode()
    assert "Your answer was saved." in html and "You asked us not to note what you read here." in html
    answer(browser, "yes")
    assert "You allowed us to note what you read here" in browser.get(PAGE).content.decode()


def test_the_page_says_when_the_browser_already_opted_out(browser):
    html = browser.get(PAGE, HTTP_SEC_GPC="1").content.decode()
    assert "Your browser asks sites not to track you" in html


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_answer_that_is_neither_yes_nor_no_is_a_400_saying_so(browser, method):
    response = browser.get(PAGE, {"consent": "maybe"}) if method == "get" else answer(browser, "maybe")
    assert response.status_code == 400
    assert "Answer “Allow” or “No thanks”." in response.content.decode()
    assert Visitor.objects.count() == 0


def test_answering_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.get(PAGE)
    assert client.post(PAGE, {"consent": "yes"}).status_code == 403
    assert Visitor.objects.count() == 0


def test_next_must_be_on_this_site(browser):
    response = answer(browser, "yes", next="https://evil.example/")
    assert response["Location"] == PAGE


@pytest.mark.parametrize("source", ["tcf", "consent-mode", "klaro", "cookieconsent"])
def test_with_the_sites_own_consent_tool_an_answer_sent_here_is_refused_saying_where_consent_is_given(
    settings, browser, source
):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT_SOURCE": source}
    same_site = {"HTTP_SEC_FETCH_SITE": "same-origin"}
    refused = [
        browser.post(ANSWER, {"consent": "yes", "next": "/plain/"}, **same_site),  # a banner cached before the tool
        browser.post(ANSWER, {"consent": "yes"}, HTTP_SEC_FETCH_SITE="cross-site"),  # would be asked to confirm
        answer(browser, "yes", next="/plain/"),  # the preferences page's form, cached before the tool
        browser.get(PAGE, {"consent": "yes"}),  # the older banner's GET form
    ]
    for response in refused:
        html = response.content.decode()
        assert response.status_code == 403
        assert "Consent on this site is managed by its cookie settings." in html
        assert "Your consent to this is managed in this site's cookie settings." in html
        assert 'name="consent"' not in html  # nothing to press that the tool would overrule
    assert Visitor.objects.filter(tracking_consent__isnull=False).count() == 0
    assert browser.get(PAGE).status_code == 200  # the visitor's own choices stay theirs to save
