"""``{% tailored_tracking %}``: the beacon's script tag, only for visitors who may be tracked, and never from a
cached page to a visitor who may not."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from tailored_cms.context import VisitorContext
from tailored_cms.visitors.consent import ASK, NOT_TRACKED, TRACKED, consent_state
from tailored_cms.visitors.snapshot import Snapshot

from .conftest import placeholder, text
from .test_caching import change_texts_behind_the_caches_back

pytestmark = pytest.mark.django_db

BEACON = (
    '<script src="/static/tailored_cms/tracking.js" defer data-tailored-beacon'
    ' data-tailored-events="/tailored/api/v1/events/" data-tailored-batch="50" data-tailored-max-props="20"'
    ' data-tailored-max-prop-bytes="2048"></script>'
)
VISITOR = "0b8c8f3e-3f55-4e8f-9d0e-8a4f1c2b7d10"

# (the visitor's answer, the site's CONSENT, the browser's headers) -> consent state
CASES = [
    (True, "required", {}, TRACKED),
    (None, "required", {}, ASK),
    (False, "required", {}, NOT_TRACKED),
    (None, "implied", {}, TRACKED),
    (False, "implied", {}, NOT_TRACKED),
    (True, "required", {"HTTP_SEC_GPC": "1"}, NOT_TRACKED),
    (True, "implied", {"HTTP_DNT": "1"}, NOT_TRACKED),
    (None, "required", {"HTTP_SEC_GPC": "1"}, NOT_TRACKED),  # no banner either: the browser already said no
]


def render(request) -> str:
    return Template("{% load tailored %}{% tailored_tracking %}").render(Context({"request": request}))


@pytest.mark.parametrize("answer, consent, headers, state", CASES)
def test_the_beacon_is_written_only_for_a_visitor_who_may_be_tracked(
    settings, django_assert_num_queries, redis_round_trips, answer, consent, headers, state
):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": consent}
    request = RequestFactory().get("/", **headers)
    snapshot = Snapshot(visitor_id=VISITOR, tracking_consent=answer)
    request.tailored = VisitorContext(snapshot)
    assert consent_state(request, snapshot) == state
    with django_assert_num_queries(0):
        html = render(request)
    assert redis_round_trips.round_trips == 0
    assert html == (BEACON if state == TRACKED else "")
    assert request.tailored.depends_on_visitor  # the response is marked private to the visitor


def tracked_request(answer: bool | None = True):
    request = RequestFactory().get("/")
    request.tailored = VisitorContext(Snapshot(visitor_id=VISITOR, tracking_consent=answer))
    return request


def test_the_beacon_is_told_the_sites_analytics_tools(settings):
    settings.TAILORED_CMS = {
        **settings.TAILORED_CMS,
        "ANALYTICS": ["matomo", "datalayer", "events"],
        "ANALYTICS_MATOMO_DIMENSION": 3,
    }
    html = render(tracked_request())
    assert html == BEACON.replace(
        "></script>", ' data-tailored-analytics="matomo datalayer events" data-tailored-matomo-dimension="3"></script>'
    )
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "ANALYTICS": ["datalayer"]}  # no Matomo: no dimension
    assert 'data-tailored-analytics="datalayer"></script>' in render(tracked_request())
    assert render(tracked_request(None)) == ""  # measured only with consent, as tracked


def test_the_consent_bridge_is_told_which_measurement_consent_to_follow(settings):
    settings.TAILORED_CMS = {
        **settings.TAILORED_CMS,
        "CONSENT_SOURCE": "klaro",
        "ANALYTICS": ["datalayer"],
        "ANALYTICS_CONSENT_SERVICE": "matomo",
    }
    html = render(tracked_request(None))
    assert 'data-tailored-consent-bridge="klaro"' in html and 'data-tailored-analytics-service="matomo"' in html
    assert 'data-tailored-analytics="datalayer"' in html  # what the bridge gives tracking.js when it adds it
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "ANALYTICS": []}
    assert "analytics" not in render(tracked_request(None))


def test_nothing_without_the_middleware_or_without_our_urls(settings):
    assert render(RequestFactory().get("/")) == ""
    assert render(None) == ""
    settings.ROOT_URLCONF = "tests.widgets.urls_without_tailored"
    request = RequestFactory().get("/")
    request.tailored = VisitorContext(Snapshot(visitor_id=VISITOR, tracking_consent=True))
    assert render(request) == ""


def test_the_script_gets_the_sites_limits_of_the_events_endpoint(settings):
    """So the beacon never sends a batch the endpoint refuses for its size."""
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "EVENTS_MAX_BATCH": 10, "EVENT_MAX_PROPS": 5}
    request = RequestFactory().get("/")
    request.tailored = VisitorContext(Snapshot(visitor_id=VISITOR, tracking_consent=True))
    html = render(request)
    assert 'data-tailored-batch="10" data-tailored-max-props="5" data-tailored-max-prop-bytes="2048"' in html


def test_the_middleware_overwrites_a_consent_header_the_client_sends(client, visitor_client):
    """A client can't pick the cached copy it gets by sending the consent header itself."""
    seen = []
    response = client.get("/tailored/preferences/", HTTP_X_TAILORED_CONSENT=TRACKED)
    seen.append(response.wsgi_request.META["HTTP_X_TAILORED_CONSENT"])
    response = visitor_client(tracking_consent=True).get("/tailored/preferences/", HTTP_X_TAILORED_CONSENT=ASK)
    seen.append(response.wsgi_request.META["HTTP_X_TAILORED_CONSENT"])
    assert seen == [ASK, TRACKED]


@pytest.fixture
def plain_page(make_page):
    page = make_page("Plain", slug="plain")
    text(placeholder(page, "content"), "<p>PLAIN</p>")
    return page


@pytest.mark.parametrize("agreed_first", [True, False])
def test_a_page_cached_for_a_visitor_who_agreed_never_gives_the_beacon_to_another(
    plain_page, visitor_client, client, settings, agreed_first
):
    url = plain_page.get_absolute_url()
    agreed = visitor_client(tracking_consent=True)
    refused = visitor_client(tracking_consent=False)
    visitors = [(agreed, {}, True), (client, {}, False), (refused, {}, False), (agreed, {"HTTP_SEC_GPC": "1"}, False)]
    if not agreed_first:
        visitors.reverse()
    for c, headers, tracked in visitors:
        html = c.get(url, **headers).content.decode()
        assert (BEACON in html) == tracked
    change_texts_behind_the_caches_back()
    for c, headers, tracked in visitors:  # now every one of them gets a cached copy...
        response = c.get(url, **headers)
        html = response.content.decode()
        assert "PLAIN (changed)" not in html, "the page cache was not used"
        assert (BEACON in html) == tracked  # ...and the right one
        assert "Cookie" in response["Vary"] and "private" in response["Cache-Control"]


def bridge(source: str, state: str, service: str = "tailored_cms") -> str:
    return (
        '<script src="/static/tailored_cms/consent_bridges.js" defer'
        f' data-tailored-consent-bridge="{source}" data-tailored-consent-service="{service}"'
        f' data-tailored-consent-state="{state}" data-tailored-consent-url="/tailored/api/v1/consent/"'
        ' data-tailored-beacon-src="/static/tailored_cms/tracking.js" data-tailored-events="/tailored/api/v1/events/"'
        ' data-tailored-batch="50" data-tailored-max-props="20" data-tailored-max-prop-bytes="2048"></script>'
    )


@pytest.mark.parametrize("source", ["tcf", "consent-mode", "klaro", "cookieconsent"])
@pytest.mark.parametrize("answer, consent, headers, state", CASES)
def test_with_the_sites_consent_tool_every_visitor_gets_the_bridge_told_their_consent_state(
    settings, django_assert_num_queries, redis_round_trips, source, answer, consent, headers, state
):
    """The bridge follows the tool for every visitor, so a change of mind reaches the server from any state; it is
    told the state only (what the page cache varies on), so a cached copy tells every visitor sharing it the truth.
    With Sec-GPC or DNT it is written too (the state is "not-tracked", as for a refusal): the server refuses."""
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": consent, "CONSENT_SOURCE": source}
    request = RequestFactory().get("/", **headers)
    request.tailored = VisitorContext(Snapshot(visitor_id=VISITOR, tracking_consent=answer))
    with django_assert_num_queries(0):
        html = render(request)
    assert redis_round_trips.round_trips == 0
    assert html == (BEACON if state == TRACKED else "") + bridge(source, state)
    assert "<script>" not in html  # no inline script: a strict Content-Security-Policy is enough


def test_the_bridge_names_tailored_cms_as_the_site_calls_it_in_its_tool(settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT_SOURCE": "cookieconsent", "CONSENT_SERVICE": "analytics"}
    request = RequestFactory().get("/")
    request.tailored = VisitorContext(Snapshot(visitor_id=VISITOR))
    assert render(request) == bridge("cookieconsent", ASK, service="analytics")


def test_no_bridge_with_the_builtin_banner_nor_without_our_urls(settings):
    request = RequestFactory().get("/")
    request.tailored = VisitorContext(Snapshot(visitor_id=VISITOR))
    assert render(request) == ""  # CONSENT_SOURCE "builtin": the banner asks
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT_SOURCE": "klaro"}
    settings.ROOT_URLCONF = "tests.widgets.urls_without_tailored"
    assert render(request) == ""  # no consent/ to report to
