"""Capture on the request path: page views and server-side events go to the Redis stream, never SQL."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from tailored_cms import api
from tailored_cms.middleware import TailoredMiddleware
from tailored_cms.tracking import TrackedEvent, stream_key
from tailored_cms.tracking.models import SpooledEvent
from tailored_cms.visitors.preferences import save_consent

pytestmark = pytest.mark.django_db
factory = RequestFactory()


def run(request, view=lambda r: HttpResponse("ok")):
    request.user = AnonymousUser()
    return TailoredMiddleware(view)(request)


def visitor_cookie(consent: bool | None) -> str:
    """A visitor who answered ``consent`` (None: a visitor with a choice who was never asked)."""

    def view(request):
        if consent is None:
            api.set_preferences(request, theme="dark")
        else:
            save_consent(request, consent)
        return HttpResponse()

    return run(factory.post("/tailored/api/v1/consent/"), view).cookies["tailored_vid"].value


def stream(redis_client) -> list[TrackedEvent]:
    return [TrackedEvent.decode(fields[b"e"]) for _, fields in redis_client.xrange(stream_key())]


def test_a_consenting_visitors_page_view_costs_one_round_trip_and_no_sql(
    tailored_redis, redis_round_trips, django_assert_num_queries
):
    cookie = visitor_cookie(True)
    redis_round_trips.commands.clear()
    request = factory.get(
        "/news/?utm_source=mail&x=1",
        HTTP_COOKIE=f"tailored_vid={cookie}",
        HTTP_REFERER="https://example.org/a",
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone)",
    )
    with django_assert_num_queries(0):
        response = run(request)
    assert response.status_code == 200
    assert redis_round_trips.round_trips == 1
    [event] = stream(tailored_redis)
    assert event.name == "page_view" and event.path == "/news/"
    assert event.props == {"utm_source": "mail"} and event.referrer == "https://example.org/a"
    assert event.user_agent == "Mozilla/5.0 (iPhone)"


def test_nothing_is_stored_before_the_visitor_agrees(tailored_redis):
    run(factory.get("/news/"))  # no cookie
    run(factory.get("/news/", HTTP_COOKIE=f"tailored_vid={visitor_cookie(None)}"))  # never asked
    run(factory.get("/news/", HTTP_COOKIE=f"tailored_vid={visitor_cookie(False)}"))  # refused
    assert stream(tailored_redis) == []


@pytest.mark.parametrize("header", [{"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}])
def test_gpc_and_dnt_stop_tracking_even_with_consent(tailored_redis, header):
    run(factory.get("/news/", HTTP_COOKIE=f"tailored_vid={visitor_cookie(True)}", **header))
    assert stream(tailored_redis) == []


def test_implied_consent_tracks_a_new_visitor_under_a_new_cookie(tailored_redis, settings, redis_round_trips):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "implied"}
    response = run(factory.get("/news/"))
    cookie = response.cookies["tailored_vid"].value
    [first] = stream(tailored_redis)
    assert first.visitor_id in cookie
    redis_round_trips.commands.clear()
    run(factory.get("/sport/", HTTP_COOKIE=f"tailored_vid={cookie}"))
    assert redis_round_trips.round_trips == 1  # the snapshot written for the new id is found, and captures
    assert [e.path for e in stream(tailored_redis)] == ["/news/", "/sport/"]
    assert {e.visitor_id for e in stream(tailored_redis)} == {first.visitor_id}


def test_implied_consent_respects_a_refusal(tailored_redis, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "implied"}
    run(factory.get("/news/", HTTP_COOKIE=f"tailored_vid={visitor_cookie(False)}"))
    assert stream(tailored_redis) == []


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"path": "/news/", "method": "post"},
        {"path": "/news/", "HTTP_SEC_FETCH_DEST": "empty"},  # fetch(), e.g. customize.js refreshing the page
        {"path": "/news/", "HTTP_SEC_PURPOSE": "prefetch"},
        {"path": "/news/?edit"},
        {"path": "/static/site.css"},
        {"path": "/admin/"},
        {"path": "/tailored/api/v1/preferences/"},
        {"path": "/news/", "HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Googlebot/2.1)"},
    ],
)
def test_what_is_not_a_page_view_is_not_captured(tailored_redis, request_kwargs):
    kwargs = dict(request_kwargs)
    method, path = kwargs.pop("method", "get"), kwargs.pop("path")
    run(getattr(factory, method)(path, HTTP_COOKIE=f"tailored_vid={visitor_cookie(True)}", **kwargs))
    assert stream(tailored_redis) == []


def test_with_redis_down_the_page_answers_and_the_view_is_spooled_to_the_database(redis_server):
    cookie = visitor_cookie(True)
    redis_server.stop()
    try:
        response = run(factory.get("/news/", HTTP_COOKIE=f"tailored_vid={cookie}"))
    finally:
        redis_server.start()
    assert response.status_code == 200
    [row] = SpooledEvent.objects.all()
    event = TrackedEvent.decode(row.data)
    assert event.name == "page_view" and event.path == "/news/" and event.visitor_id in cookie


def test_record_event_sends_a_server_side_event_when_the_response_is_done(tailored_redis, redis_round_trips):
    cookie = visitor_cookie(True)

    def signup(request):
        assert api.record_event(request, "signup", plan="pro") is not None
        assert stream(tailored_redis) == []  # not yet: it goes out with the response
        return HttpResponse()

    redis_round_trips.commands.clear()
    run(factory.post("/signup/", HTTP_COOKIE=f"tailored_vid={cookie}"), signup)
    [event] = stream(tailored_redis)
    assert event.name == "signup" and event.props == {"plan": "pro"}
    ours = [c for c in redis_round_trips.commands if c != "XRANGE"]  # XRANGE: the test's own look
    assert len(ours) == 2  # the snapshot, then the event


def test_record_event_records_nothing_without_consent(tailored_redis):
    def signup(request):
        assert api.record_event(request, "signup") is None
        return HttpResponse()

    run(factory.post("/signup/"), signup)
    assert stream(tailored_redis) == []


def test_the_stream_entry_is_compact_json(tailored_redis):
    run(factory.get("/news/", HTTP_COOKIE=f"tailored_vid={visitor_cookie(True)}"))
    [(_, fields)] = tailored_redis.xrange(stream_key())
    assert set(json.loads(fields[b"e"])) >= {"i", "v", "n", "t", "u"}
