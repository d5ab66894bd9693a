"""Edge mode at the origin: the page asks its beacon to send the page view (a page the edge serves never reaches
the site), the middleware captures none, and events/ takes a page view only as the middleware would have made it:
ingest finds its topics from its path."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from tailored_cms import api
from tailored_cms.tracking import TrackedEvent, drain, stream_key
from tailored_cms.tracking.models import Event, TopicViews
from tests.areas.conftest import make_page, placeholder, text, visitor_client  # noqa: F401

pytestmark = pytest.mark.django_db
EVENTS = "/tailored/api/v1/events/"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture(autouse=True)
def edge_mode(settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "EDGE_MODE": True}


@pytest.fixture
def sports_page(make_page) -> str:  # noqa: F811
    api.create_topic("sports")
    page = make_page("Derby", slug="derby")
    api.tag_page(page, topics=["sports"])
    text(placeholder(page, "content"), "<p>DERBY</p>")
    return page.get_absolute_url()


@pytest.fixture
def reader(visitor_client) -> Client:  # noqa: F811
    return visitor_client(tracking_consent=True)


def page_view(path: str, **props) -> dict:
    """A page view as tracking.js sends it."""
    return {
        "id": str(uuid.uuid4()),
        "name": "page_view",
        "ts": timezone.now().isoformat(),
        "path": path,
        "props": props,
    }


def post(client: Client, *events: dict, **headers):
    headers.setdefault("HTTP_USER_AGENT", DESKTOP)
    return client.post(EVENTS, json.dumps({"events": list(events)}), content_type="application/json", **headers)


def stream(tailored_redis) -> list[TrackedEvent]:
    return [TrackedEvent.decode(fields[b"e"]) for _, fields in tailored_redis.xrange(stream_key())]


def sports_views() -> int:
    return sum(TopicViews.objects.filter(topic="sports").values_list("count", flat=True))


def test_the_page_asks_its_beacon_for_the_view_and_the_middleware_captures_none(
    reader, sports_page, tailored_redis, redis_round_trips
):
    reader.get(sports_page, HTTP_USER_AGENT=DESKTOP)  # the visitor's snapshot from the database, into Redis
    redis_round_trips.commands.clear()
    response = reader.get(sports_page, HTTP_USER_AGENT=DESKTOP)
    assert response.status_code == 200
    assert redis_round_trips.round_trips == 1, redis_round_trips.commands  # the snapshot, still one trip
    assert stream(tailored_redis) == []
    html = response.content.decode()
    assert f'data-tailored-page-view="{sports_page}"' in html  # the page's path: the same for all its visitors


def test_a_page_view_from_the_beacon_is_counted_once_with_the_topics_of_its_page(
    reader, sports_page, tailored_redis, redis_round_trips, django_assert_num_queries
):
    reader.get(sports_page, HTTP_USER_AGENT=DESKTOP)  # from the site: nothing counted there
    redis_round_trips.commands.clear()
    sent = page_view(sports_page, referrer="https://search.example/?q=derby", utm_source="mail")
    with django_assert_num_queries(0):
        answer = post(reader, sent)
    assert answer.status_code == 202 and answer.json() == {"accepted": 1, "tracking": True}
    assert redis_round_trips.round_trips == 1, redis_round_trips.commands
    [event] = stream(tailored_redis)
    assert (event.name, event.path, event.props) == ("page_view", sports_page, {"utm_source": "mail"})
    assert (event.referrer, event.user_agent, event.host) == ("https://search.example/?q=derby", DESKTOP, "testserver")
    drain()
    assert sports_views() == 1
    stored = Event.objects.get(pk=sent["id"])
    assert stored.page_id is not None and stored.props["referrer"] == "search.example"


def test_a_forged_page_view_can_name_no_topic_and_a_path_that_is_no_page_counts_nothing(
    reader, sports_page, tailored_redis
):
    topics = post(reader, page_view(sports_page, topics="sports"))
    assert topics.status_code == 400
    assert topics.json()["field"] == "props" and "referrer, utm_source" in topics.json()["detail"]
    not_text = post(reader, page_view(sports_page, referrer=["https://a.example/"]))
    assert not_text.status_code == 400 and not_text.json()["field"] == "props"
    no_path = post(reader, {**page_view(sports_page), "path": None})
    assert no_path.status_code == 400 and no_path.json()["field"] == "path"
    assert stream(tailored_redis) == []
    bogus = post(reader, page_view("/no-such-page/"))
    assert bogus.json() == {"accepted": 1, "tracking": True}  # taken, and harmless:
    stats = drain()
    assert stats.not_pages == 1 and sports_views() == 0 and not Event.objects.exists()


def test_a_crawlers_page_view_and_one_of_an_untracked_path_are_left_out(reader, sports_page, tailored_redis, settings):
    crawler = post(reader, page_view(sports_page), HTTP_USER_AGENT="Googlebot/2.1 (+http://www.google.com/bot.html)")
    assert crawler.json() == {"accepted": 0, "tracking": True}
    static = post(reader, page_view(settings.STATIC_URL + "tailored_cms/tracking.js"), page_view(sports_page))
    assert static.json() == {"accepted": 1, "tracking": True}
    assert [event.path for event in stream(tailored_redis)] == [sports_page]


@pytest.mark.parametrize("header", [{"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}])
def test_gpc_and_dnt_keep_the_beacons_page_view_out_as_they_keep_the_page_view_out(
    reader, sports_page, tailored_redis, header
):
    answer = post(reader, page_view(sports_page), **header)
    assert answer.json() == {"accepted": 0, "tracking": False}
    assert stream(tailored_redis) == []


def test_a_visitor_who_did_not_agree_is_not_counted(visitor_client, sports_page, tailored_redis):  # noqa: F811
    for visitor in (Client(), visitor_client(tracking_consent=False), visitor_client(theme="dark")):
        page = visitor.get(sports_page, HTTP_USER_AGENT=DESKTOP)
        assert "data-tailored-beacon" not in page.content.decode()  # no beacon on their page
        assert post(visitor, page_view(sports_page)).json() == {"accepted": 0, "tracking": False}
    assert stream(tailored_redis) == []


def test_outside_edge_mode_the_middleware_counts_and_the_beacon_may_not(reader, sports_page, tailored_redis, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "EDGE_MODE": False}
    page = reader.get(sports_page, HTTP_USER_AGENT=DESKTOP)
    assert "data-tailored-beacon" in page.content.decode()
    assert "data-tailored-page-view" not in page.content.decode()
    refused = post(reader, page_view(sports_page))
    assert refused.status_code == 400 and "reserved" in refused.json()["detail"]
    assert [event.name for event in stream(tailored_redis)] == ["page_view"]  # the middleware's


def test_under_implied_consent_a_first_page_is_shared_and_its_beacon_gives_the_visitor_their_id(
    client, sports_page, tailored_redis, settings
):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "implied"}
    page = client.get(sports_page, HTTP_USER_AGENT=DESKTOP)
    assert "public" in page["Cache-Control"] and "tailored_vid" not in page.cookies  # everyone's first page
    assert f'data-tailored-page-view="{sports_page}"' in page.content.decode()
    answer = post(client, page_view(sports_page))
    assert answer.json() == {"accepted": 1, "tracking": True}
    [event] = stream(tailored_redis)
    assert event.visitor_id in answer.cookies["tailored_vid"].value
