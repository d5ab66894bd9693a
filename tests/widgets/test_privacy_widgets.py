"""The consent banner and "Why am I seeing this?" on real CMS pages, with django CMS's caches on."""

from __future__ import annotations

import re

import pytest
from cms.api import add_plugin
from cms.toolbar.utils import get_object_edit_url
from django.core.exceptions import ValidationError

from tailored_cms import api
from tailored_cms.widgets.models import ConsentBanner

from .conftest import placeholder, text
from .test_caching import change_texts_behind_the_caches_back

pytestmark = pytest.mark.django_db

BANNER = "data-tailored-consent="
BEACON = "data-tailored-beacon"


@pytest.fixture
def banner_page(make_page):
    page = make_page("Plain", slug="plain")
    text(placeholder(page, "content"), "<p>PLAIN</p>")
    add_plugin(placeholder(page, "footer"), "ConsentBannerPlugin", "en", privacy_policy_url="/privacy/")
    return page


def banner_of(html: str) -> str:
    match = re.search(r'<section class="tailored-consent".*?</section>', html, re.DOTALL)
    return match.group(0) if match else ""


def test_a_visitor_who_has_not_answered_is_asked_and_the_banner_works_without_javascript(banner_page, client):
    html = client.get(banner_page.get_absolute_url()).content.decode()
    banner = banner_of(html)
    assert "May we note which pages and topics you read here?" in banner
    assert '<a href="/privacy/">Privacy policy</a>' in banner
    # Without JavaScript: one POST that saves the answer and leads back (tests/visitors/test_consent_page.py).
    assert '<form class="tailored-consent-form" method="post" action="/tailored/preferences/consent/">' in banner
    assert '<input type="hidden" name="next" value="/plain/">' in banner
    assert '<button type="submit" name="consent" value="yes">Allow</button>' in banner
    assert '<button type="submit" name="consent" value="no" class="secondary">No thanks</button>' in banner
    assert "csrfmiddlewaretoken" not in banner  # no visitor's token in a cacheable banner
    # With JavaScript: privacy.js answers through the API and starts the beacon from these attributes.
    assert (
        'data-tailored-beacon-src="/static/tailored_cms/tracking.js" data-tailored-events="/tailored/api/v1/events/"'
        ' data-tailored-batch="50" data-tailored-max-props="20" data-tailored-max-prop-bytes="2048"'
    ) in banner
    assert '<script src="/static/tailored_cms/privacy.js" defer></script>' in html
    assert BEACON + " " not in html.replace(banner, "")  # and no beacon yet


@pytest.mark.parametrize(
    "choices, headers, consent",
    [
        ({"tracking_consent": True}, {}, "required"),
        ({"tracking_consent": False}, {}, "required"),
        ({}, {"HTTP_SEC_GPC": "1"}, "required"),
        ({}, {"HTTP_DNT": "1"}, "required"),
        ({}, {}, "implied"),
    ],
    ids=["agreed", "refused", "global-privacy-control", "do-not-track", "implied-consent"],
)
def test_nobody_else_sees_the_banner(banner_page, visitor_client, settings, choices, headers, consent):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": consent}
    html = visitor_client(**choices).get(banner_page.get_absolute_url(), **headers).content.decode()
    assert "PLAIN" in html and BANNER not in html and "privacy.js" not in html


@pytest.mark.parametrize("source", ["tcf", "consent-mode", "klaro", "cookieconsent"])
def test_with_the_sites_consent_tool_the_banner_is_never_shown(banner_page, client, admin_user, settings, source):
    """The site's tool asks (consent_bridges.js follows it): not a second banner, not even for an editor, who is told
    why the plugin shows nothing."""
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT_SOURCE": source}
    html = client.get(banner_page.get_absolute_url()).content.decode()
    assert "PLAIN" in html and BANNER not in html and "privacy.js" not in html
    assert f'data-tailored-consent-bridge="{source}" data-tailored-consent-service="tailored_cms"' in html
    assert 'data-tailored-consent-state="ask"' in html
    client.force_login(admin_user)
    edit = client.get(get_object_edit_url(banner_page.get_content_obj("en"))).content.decode()
    assert BANNER not in edit and "data-tailored-consent-bridge" not in edit  # an editor at work is not tracked
    assert "Consent is asked by the site's own consent tool (the CONSENT_SOURCE setting)" in edit


@pytest.mark.parametrize("page_cache", [True, False])
@pytest.mark.parametrize("asked_first", [True, False])
def test_the_banner_is_cached_once_per_consent_state_and_never_shown_to_the_wrong_visitor(
    banner_page, visitor_client, client, settings, page_cache, asked_first
):
    settings.CMS_PAGE_CACHE = page_cache
    url = banner_page.get_absolute_url()
    visitors = [
        (client, {}, True),
        (visitor_client(tracking_consent=True), {}, False),
        (client, {"HTTP_DNT": "1"}, False),
    ]
    if not asked_first:
        visitors.reverse()
    for c, headers, asked in visitors:
        assert (BANNER in c.get(url, **headers).content.decode()) == asked
    change_texts_behind_the_caches_back()
    ConsentBanner.objects.update(message="CHANGED BEHIND THE CACHES' BACK")
    for c, headers, asked in visitors:
        html = c.get(url, **headers).content.decode()
        assert "CHANGED BEHIND" not in html, "the banner did not come from a cache"
        assert (BANNER in html) == asked
        if page_cache:
            assert "PLAIN (changed)" not in html


def test_editors_see_the_banner_in_edit_mode_whatever_they_answered(banner_page, client, admin_user, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "implied"}  # nobody is asked
    client.force_login(admin_user)
    assert BANNER not in client.get(banner_page.get_absolute_url()).content.decode()
    edit = client.get(get_object_edit_url(banner_page.get_content_obj("en"))).content.decode()
    assert BANNER in edit and BEACON + " " not in edit  # an editor at work is not tracked


@pytest.mark.parametrize("link", ["/privacy/", "https://example.com/privacy", "http://example.com/p"])
def test_the_privacy_policy_link_may_be_a_path_or_a_web_address(link):
    ConsentBanner(privacy_policy_url=link).clean_fields(exclude=["placeholder", "language", "plugin_type"])


@pytest.mark.parametrize("link", ["javascript:alert(1)", "//evil.example/", "privacy", "data:text/html,hi"])
def test_the_privacy_policy_link_is_never_something_a_browser_would_run(link):
    with pytest.raises(ValidationError) as error:
        ConsentBanner(privacy_policy_url=link).clean_fields(exclude=["placeholder", "language", "plugin_type"])
    assert "privacy_policy_url" in error.value.message_dict


@pytest.fixture
def why_page(make_page):
    api.create_topic("sports", "Sports")
    page = make_page("Home", template="home.html", slug="home")
    area = api.add_area(placeholder(page, "hero"), label="Hero")
    text(placeholder(page, "hero"), "<p>SPORTS</p>", target=api.add_variant(area, "Sports fans", topics=["sports"]))
    text(placeholder(page, "hero"), "<p>EVERYONE</p>", target=api.add_variant(area, "Everyone", fallback=True))
    add_plugin(placeholder(page, "sidebar"), "ExplanationPlugin", "en")
    return page, area


def test_why_am_i_seeing_this_is_the_same_for_everyone_and_names_the_areas_it_explains(
    why_page, visitor_client, client
):
    page, area = why_page
    url = page.get_absolute_url()
    anonymous = client.get(url).content.decode()
    fan = visitor_client(topics=["sports"]).get(url).content.decode()
    widget = re.search(r'<details class="tailored-why".*?</details>', anonymous, re.DOTALL).group(0)
    assert widget in fan  # nothing of the visitor in it: one cached copy serves everyone
    assert '<summary class="tailored-why-summary">Why am I seeing this?</summary>' in widget
    assert 'href="/tailored/preferences/?next=%2Fhome%2F"' in widget  # without JavaScript
    assert 'href="/tailored/api/v1/me/" download="tailored-data.json"' in widget
    for label in ("Stop personalization", "Reset my choices", "Download my data", "Erase my data"):
        assert label in widget
    assert '<script src="/static/tailored_cms/privacy.js" defer></script>' in anonymous
    # What the widget asks explain/ about: the area's stable key, in the area's markup.
    assert f'data-tailored-area-key="{area.key}"' in anonymous and f'data-tailored-area-key="{area.key}"' in fan
