"""The request path: a visitor's segments on this request, from the snapshot and the process's copy of the active
segments, in the snapshot's single Redis round trip; switching a segment off takes effect at once."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from tailored_cms import api, connection
from tailored_cms.middleware import TailoredMiddleware
from tailored_cms.rules import request_time, segments_for
from tailored_cms.rules.active import publish_segments
from tailored_cms.rules.recompute import recompute_segments
from tailored_cms.tracking.models import TopicViews
from tailored_cms.visitors.models import Visitor
from tailored_cms.visitors.preferences import save_consent
from tailored_cms.visitors.snapshot import Snapshot
from tailored_cms.visitors.store import snapshot_from_db

from .conftest import NOW, TODAY

pytestmark = pytest.mark.django_db
factory = RequestFactory()
MOBILE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
FANS = {"rule": "topic_views", "topic": "sports", "min": 3}  # no window: the tests' NOW is in the past


def run(request, view=lambda r: HttpResponse("ok")):
    request.user = AnonymousUser()
    return TailoredMiddleware(view)(request)


def segments_of(request) -> tuple[str, ...]:
    """Run ``request`` through the middleware; the segments the view sees."""
    seen = {}

    def view(r):
        seen["segments"] = r.tailored.segments(r)
        return HttpResponse("ok")

    response = run(request, view)
    assert "Cookie" in response["Vary"]  # the response depends on the visitor
    return seen["segments"]


@pytest.fixture
def sports_fan(tailored_redis) -> str:
    """A consenting visitor with three sports views, their snapshot stored; returns the cookie value."""
    cookie = run(factory.post("/"), lambda r: save_consent(r, True) and HttpResponse()).cookies["tailored_vid"].value
    visitor = Visitor.objects.get()
    TopicViews.objects.create(visitor=visitor, topic="sports", day=TODAY, count=3)
    return cookie


def test_segments_for_filters_by_the_active_segments_and_checks_conditions():
    request_time.remember(
        "v1", ["#v", "v1", "fans", "", "mobile-fans", "", "mobile", '{"rule":"device","is":["mobile"]}']
    )
    snapshot = Snapshot(
        visitor_id="x",
        segments=("fans", "switched-off"),
        conditional_segments={
            "mobile-fans": {"rule": "device", "is": ["mobile"]},
            "gone": {"rule": "device", "is": ["mobile"]},
        },
    )
    on_mobile = factory.get("/", HTTP_USER_AGENT=MOBILE_UA)
    assert segments_for(snapshot, on_mobile) == ("fans", "mobile", "mobile-fans")
    assert segments_for(snapshot, factory.get("/")) == ("fans",)
    assert segments_for(Snapshot(), on_mobile) == ("mobile",)  # a visitor we know nothing about
    request_time.remember(None)  # Redis says nothing is published: nothing is active
    assert segments_for(snapshot, on_mobile) == ()


def test_a_visitors_segments_cost_one_round_trip_and_no_sql(sports_fan, redis_round_trips, django_assert_num_queries):
    api.create_segment("sports-fans", rules=FANS)
    api.create_segment("mobile-fans", rules={"all": [FANS, {"rule": "device", "is": "mobile"}]})
    for n in range(48):  # 50 segments cost what one does
        api.create_segment(f"other-{n}", rules={"rule": "visit_count", "min": 1000 + n})
    recompute_segments(now=NOW)  # memberships, the active segments published, the stored snapshot updated
    request = factory.get("/", HTTP_COOKIE=f"tailored_vid={sports_fan}", HTTP_USER_AGENT=MOBILE_UA)
    redis_round_trips.commands.clear()
    with django_assert_num_queries(0):
        assert segments_of(request) == ("mobile-fans", "sports-fans")
    assert redis_round_trips.round_trips == 1
    request = factory.get("/", HTTP_COOKIE=f"tailored_vid={sports_fan}")
    assert segments_of(request) == ("sports-fans",)


def test_switching_a_segment_off_or_deleting_it_takes_effect_at_once(
    sports_fan, celery_app, redis_round_trips, django_capture_on_commit_callbacks, tailored_redis
):
    # celery_app: the recompute a saved segment queues goes to the tests' private broker (no worker runs it).
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("sports-fans", rules=FANS)
        api.create_segment("mobile", rules={"rule": "device", "is": "mobile"})
    recompute_segments(now=NOW)
    cookie = f"tailored_vid={sports_fan}"
    assert segments_of(factory.get("/", HTTP_COOKIE=cookie, HTTP_USER_AGENT=MOBILE_UA)) == ("mobile", "sports-fans")

    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("sports-fans", rules=FANS, enabled=False)  # the admin's switch
    # No recompute ran: the stored snapshot still lists the segment, yet the next page view doesn't show it.
    stored = Snapshot.from_json(tailored_redis.get(connection.key("snap", str(Visitor.objects.get().pk))))
    assert stored.segments == ("sports-fans",)
    redis_round_trips.commands.clear()
    assert segments_of(factory.get("/", HTTP_COOKIE=cookie, HTTP_USER_AGENT=MOBILE_UA)) == ("mobile",)
    assert redis_round_trips.round_trips == 1  # the new definitions came with the snapshot

    from tailored_cms.rules.models import Segment

    with django_capture_on_commit_callbacks(execute=True):
        Segment.objects.get(slug="mobile").delete()
    assert segments_of(factory.get("/", HTTP_COOKIE=cookie, HTTP_USER_AGENT=MOBILE_UA)) == ()


def test_a_visitor_without_a_cookie_gets_request_time_segments_refreshed_at_most_once_a_second(
    redis_round_trips, django_assert_num_queries
):
    api.create_segment("mobile", rules={"rule": "device", "is": "mobile"})
    publish_segments()
    request_time.forget()
    redis_round_trips.commands.clear()
    with django_assert_num_queries(0):
        assert segments_of(factory.get("/", HTTP_USER_AGENT=MOBILE_UA)) == ("mobile",)
        assert redis_round_trips.round_trips == 1  # the process had no copy yet
        assert segments_of(factory.get("/", HTTP_USER_AGENT=MOBILE_UA)) == ("mobile",)
        assert segments_of(factory.get("/")) == ()
    assert redis_round_trips.round_trips == 1  # the copy is fresh: no more round trips
    run(factory.get("/"))  # a request that doesn't ask for segments makes none either
    assert redis_round_trips.round_trips == 1


def test_the_snapshot_read_from_the_db_has_the_segments_for_one_more_query(
    sports_fan, tailored_redis, django_assert_num_queries
):
    api.create_segment("sports-fans", rules=FANS)
    api.create_segment("mobile-fans", rules={"all": [FANS, {"rule": "device", "is": "mobile"}]})
    recompute_segments(now=NOW)
    visitor = Visitor.objects.get()
    tailored_redis.delete(connection.key("snap", str(visitor.pk)))
    with django_assert_num_queries(2):  # the visitor, their memberships
        snapshot = snapshot_from_db(str(visitor.pk))
    assert snapshot.segments == ("sports-fans",)
    assert snapshot.conditional_segments == {"mobile-fans": {"rule": "device", "is": ["mobile"]}}
    stored = Snapshot.from_json(tailored_redis.get(connection.key("snap", str(visitor.pk))))
    assert stored == snapshot


def test_an_old_format_snapshot_is_read_again_from_the_db(sports_fan, tailored_redis):
    visitor = Visitor.objects.get()
    key = connection.key("snap", str(visitor.pk))
    tailored_redis.set(key, json.dumps({"format": 1, "visitor_id": str(visitor.pk), "theme": "dark"}))
    api.create_segment("sports-fans", rules=FANS)
    recompute_segments(now=NOW)  # leaves the old-format snapshot alone
    assert segments_of(factory.get("/", HTTP_COOKIE=f"tailored_vid={sports_fan}")) == ("sports-fans",)
    assert Snapshot.from_json(tailored_redis.get(key)).segments == ("sports-fans",)
