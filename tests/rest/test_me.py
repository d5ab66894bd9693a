"""``me/``: a visitor downloads everything stored about them (GET) and erases it everywhere (DELETE)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
import redis
from cms.api import create_page
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tailored_cms import api, connection, privacy
from tailored_cms.tracking import TrackedEvent, append, stream_key
from tailored_cms.tracking.delivery import spool
from tailored_cms.tracking.ingest import drain
from tailored_cms.tracking.models import Event, EventCounts, SpooledEvent, TopicViews
from tailored_cms.visitors.models import Visitor

pytestmark = pytest.mark.django_db

URL = "/tailored/api/v1/me/"
CONSENT = "/tailored/api/v1/consent/"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def token(client: Client) -> str:
    return client.cookies["csrftoken"].value


def new_browser() -> Client:
    client = Client(enforce_csrf_checks=True)
    assert client.get(CONSENT).status_code == 200
    return client


def consenting_visitor() -> tuple[Client, str]:
    """A browser whose visitor said yes to tracking; returns it and the visitor id."""
    client = new_browser()
    response = client.put(
        CONSENT, '{"tracking": true}', content_type="application/json", HTTP_X_CSRFTOKEN=token(client)
    )
    assert response.status_code == 200
    return client, str(Visitor.objects.order_by("-created_at").first().pk)


def page_view(visitor_id: str, path: str = "/sports/", ts: datetime = T0) -> TrackedEvent:
    return TrackedEvent.page_view(visitor_id, path, ts=ts, user_agent=UA, host="testserver")


def push(client: redis.Redis, events: list[TrackedEvent]) -> None:
    pipeline = client.pipeline(transaction=False)
    append(pipeline, events)
    pipeline.execute()


def stream_visitors(client: redis.Redis) -> list[str]:
    return [json.loads(fields[b"e"])["v"] for _id, fields in client.xrange(stream_key())]


@pytest.fixture
def sports_page():
    api.create_topic("sports", name="Sports")
    page = create_page("Sports", "page.html", "en", slug="sports")
    api.tag_page(page, ["sports"])
    return page


def give_history(client: redis.Redis, *visitor_ids: str, signup: bool = True) -> None:
    """Per visitor: ingested events and counters, plus events still waiting in the stream and in the spool."""
    for visitor_id in visitor_ids:
        events = [page_view(visitor_id), page_view(visitor_id, ts=T0.replace(day=3))]
        if signup:
            events.append(TrackedEvent(visitor_id=visitor_id, name="signup", ts=T0.replace(minute=5), props={"a": 1}))
        push(client, events)
    drain(5)
    for visitor_id in visitor_ids:
        push(client, [page_view(visitor_id, ts=T0.replace(day=4))])  # waiting in the stream
        spool([page_view(visitor_id, ts=T0.replace(day=5))])  # waiting in the spool (Redis was down)


def test_the_export_holds_the_row_events_counters_and_pending_events(sports_page, tailored_redis):
    browser, me = consenting_visitor()
    give_history(tailored_redis, me)
    response = browser.get(URL)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tailored-data.json"'
    assert response["Content-Type"].startswith("application/json")
    assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]
    data = response.json()
    assert set(data) == {
        "exported_at",
        "visitor",
        "events",
        "topic_views",
        "event_counts",
        "segments",
        "pending_events",
        "recommendations",
        "quiz_answers",
    }
    visitor = data["visitor"]
    assert visitor["id"] == me and visitor["tracking_consent"] is True
    assert visitor["visits"] == 2 and visitor["device"] == "desktop" and visitor["last_seen"].startswith("2026-03-03")
    assert {"theme", "layout", "topics", "widgets", "first_seen", "created_at", "updated_at"} <= set(visitor)
    assert [(e["name"], e["ts"][:10]) for e in data["events"]] == [
        ("page_view", "2026-03-02"),
        ("signup", "2026-03-02"),
        ("page_view", "2026-03-03"),
    ]
    assert {"a": 1} in [e["props"] for e in data["events"]]
    assert data["topic_views"] == [
        {"topic": "sports", "day": "2026-03-02", "count": 1},
        {"topic": "sports", "day": "2026-03-03", "count": 1},
    ]
    assert {"name": "signup", "day": "2026-03-02", "count": 1} in data["event_counts"]
    assert [(e["name"], e["ts"][:10], e["path"]) for e in data["pending_events"]] == [
        ("page_view", "2026-03-04", "/sports/"),
        ("page_view", "2026-03-05", "/sports/"),
    ]


def test_the_export_holds_only_this_visitors_data(sports_page, tailored_redis):
    browser, me = consenting_visitor()
    _other_browser, other = consenting_visitor()
    give_history(tailored_redis, me, other)
    text = browser.get(URL).content.decode()
    assert me in text and other not in text


def test_a_visitor_without_a_cookie_gets_an_empty_valid_document():
    client = Client()
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tailored-data.json"'
    data = response.json()
    assert data["visitor"] is None
    assert data["events"] == data["topic_views"] == data["event_counts"] == data["pending_events"] == []
    assert "tailored_vid" not in response.cookies and Visitor.objects.count() == 0


def test_erase_removes_exactly_that_visitor_everywhere(sports_page, tailored_redis):
    browser, me = consenting_visitor()
    _other_browser, other = consenting_visitor()
    give_history(tailored_redis, me, other)
    assert tailored_redis.exists(connection.key("snap", me))

    response = browser.delete(URL, HTTP_X_CSRFTOKEN=token(browser))
    assert response.status_code == 200
    assert response.json() == {
        "erased": {
            "visitors": 1,
            "events": 3,
            "topic_views": 2,
            "event_counts": 3,  # page_view on two days, signup
            "memberships": 0,
            "quiz_answers": 0,
            "spooled_events": 1,
            "stream_entries": 1,
            "snapshots": 1,
        }
    }
    # The cookie is deleted; the next request is a fresh anonymous visitor.
    assert response.cookies["tailored_vid"].value == "" and response.cookies["tailored_vid"]["max-age"] == 0
    assert browser.get(URL).json()["visitor"] is None

    for model in (Event, TopicViews, EventCounts):
        assert not model.objects.filter(visitor_id=me).exists()
        assert model.objects.filter(visitor_id=other).exists()
    assert list(Visitor.objects.values_list("pk", flat=True)) == [uuid.UUID(other)]
    assert [json.loads(row)["v"] for row in SpooledEvent.objects.values_list("data", flat=True)] == [other]
    assert stream_visitors(tailored_redis) == [other]
    assert not tailored_redis.exists(connection.key("snap", me))
    assert tailored_redis.exists(connection.key("snap", other))

    # What was still pending is gone too: ingesting it now brings nothing of the visitor back.
    drain(5)
    assert not Visitor.objects.filter(pk=me).exists() and not Event.objects.filter(visitor_id=me).exists()
    assert Event.objects.filter(visitor_id=other).count() == 5


def all_app_rows_mentioning(value: str) -> list[str]:
    """Every row of every tailored_cms table whose columns, as text, contain ``value`` (either UUID spelling)."""
    spellings = {value, value.replace("-", "")}
    found = []
    for model in apps.get_app_config("tailored_cms").get_models():
        for row in model.objects.values_list(*[f.attname for f in model._meta.concrete_fields]).iterator():
            text = json.dumps([str(column) for column in row])
            if any(spelling in text for spelling in spellings):
                found.append(f"{model._meta.label}: {text}")
    return found


def redis_mentions(client: redis.Redis, value: str) -> list[str]:
    """Every Redis key whose name or content (strings, streams, hashes, sets, lists) contains ``value``."""
    found = []
    needle = value.encode()
    for key in client.scan_iter():
        kind = client.type(key)
        if kind == b"string":
            content = [client.get(key) or b""]
        elif kind == b"stream":
            content = [b"".join(v for f in fields.items() for v in f) for _id, fields in client.xrange(key)]
        elif kind == b"hash":
            content = [k + v for k, v in client.hgetall(key).items()]
        elif kind in (b"set",):
            content = list(client.smembers(key))
        elif kind == b"list":
            content = list(client.lrange(key, 0, -1))
        elif kind == b"zset":
            content = list(client.zrange(key, 0, -1))
        else:
            content = []
        if needle in key or any(needle in part for part in content):
            found.append(key.decode())
    return found


def test_after_erase_no_table_of_the_app_and_no_redis_key_names_the_visitor(sports_page, tailored_redis):
    browser, me = consenting_visitor()
    _other_browser, other = consenting_visitor()
    browser.patch(
        "/tailored/api/v1/preferences/",
        '{"topics": ["sports"], "theme": "dark"}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token(browser),
    )
    give_history(tailored_redis, me, other)
    api.create_segment("sports-fans", rules={"rule": "topic_views", "topic": "sports", "min": 1})
    api.recompute_segments()  # a membership row, and the segments in the snapshot
    beacon = browser.post(  # the events/ rate counter names the visitor
        "/tailored/api/v1/events/",
        json.dumps({"events": [{"id": str(uuid.uuid4()), "name": "click", "ts": T0.isoformat()}]}),
        content_type="text/plain",
    )
    assert beacon.status_code == 202, beacon.content
    assert all_app_rows_mentioning(me) and redis_mentions(tailored_redis, me)  # the search finds what is there
    assert tailored_redis.exists(connection.key("rate", "visitor", me))

    assert browser.delete(URL, HTTP_X_CSRFTOKEN=token(browser)).status_code == 200

    assert all_app_rows_mentioning(me) == []
    assert redis_mentions(tailored_redis, me) == []
    assert all_app_rows_mentioning(other) and redis_mentions(tailored_redis, other)


def test_erase_needs_the_csrf_token():
    browser, me = consenting_visitor()
    response = browser.delete(URL)
    assert response.status_code == 403
    assert "X-CSRFToken" in response.json()["detail"]
    assert Visitor.objects.filter(pk=me).exists()


def test_erasing_a_visitor_without_a_cookie_is_harmless():
    browser = new_browser()
    response = browser.delete(URL, HTTP_X_CSRFTOKEN=token(browser))
    assert response.status_code == 200
    assert set(response.json()["erased"].values()) == {0}


def test_a_signed_in_users_visitor_is_erased_but_not_the_account(tailored_redis):
    user = get_user_model().objects.create_user("ada", password="pw")
    browser = new_browser()
    browser.force_login(user)
    response = browser.patch(
        "/tailored/api/v1/preferences/",
        '{"theme": "dark"}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token(browser),
    )
    assert response.status_code == 200
    mine = str(Visitor.objects.get(user=user).pk)
    push(tailored_redis, [TrackedEvent(visitor_id=mine, name="signup", ts=T0)])
    drain(5)
    assert Event.objects.filter(visitor_id=mine).exists()
    assert browser.get(URL).json()["visitor"]["theme"] == "dark"

    response = browser.delete(URL, HTTP_X_CSRFTOKEN=token(browser))
    assert response.status_code == 200 and response.json()["erased"]["visitors"] == 1
    assert not Visitor.objects.exists() and not Event.objects.exists()
    assert get_user_model().objects.filter(pk=user.pk).exists()
    assert browser.get(URL).json()["visitor"] is None  # still signed in, nothing stored


def test_with_redis_down_the_erase_says_it_is_incomplete_and_a_retry_finishes(sports_page, tailored_redis, settings):
    browser, me = consenting_visitor()
    give_history(tailored_redis, me)
    reachable = settings.TAILORED_CMS
    settings.TAILORED_CMS = {**reachable, "REDIS_URL": "redis://127.0.0.1:1/0"}
    response = browser.delete(URL, HTTP_X_CSRFTOKEN=token(browser))
    assert response.status_code == 503
    assert "again" in response.json()["detail"]
    assert response.json()["erased"]["visitors"] == 1  # the database part is done
    assert "tailored_vid" not in response.cookies  # the cookie is kept, so a retry erases the same visitor

    settings.TAILORED_CMS = reachable
    assert redis_mentions(tailored_redis, me)  # the snapshot and the pending entry are still there
    response = browser.delete(URL, HTTP_X_CSRFTOKEN=token(browser))
    assert response.status_code == 200
    assert redis_mentions(tailored_redis, me) == [] and all_app_rows_mentioning(me) == []


def test_the_stream_scan_pages_through_a_long_backlog(tailored_redis, monkeypatch):
    monkeypatch.setattr(privacy, "STREAM_SCAN_PAGE", 7)
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    push(tailored_redis, [page_view(me if i % 3 == 0 else other, ts=T0) for i in range(50)])
    assert len(privacy.export_visitor(me)["pending_events"]) == 17
    assert privacy.erase_visitor(me)["stream_entries"] == 17
    assert set(stream_visitors(tailored_redis)) == {other} and len(stream_visitors(tailored_redis)) == 33


def test_an_entry_mentioning_the_id_only_in_its_props_is_not_theirs(tailored_redis):
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    push(tailored_redis, [TrackedEvent(visitor_id=other, name="share", ts=T0, props={"v": me, "note": f'"v":"{me}"'})])
    assert privacy.erase_visitor(me)["stream_entries"] == 0
    assert stream_visitors(tailored_redis) == [other]


def test_the_schema_describes_me(client):
    from drf_spectacular.validation import validate_schema

    schema = client.get("/tailored/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    validate_schema(schema)
    assert set(schema["paths"][URL]) == {"get", "delete"}
    assert reverse("tailored_cms:api:me") == URL


def test_the_export_holds_the_segments_joined_and_left(sports_page, tailored_redis):
    browser, me = consenting_visitor()
    give_history(tailored_redis, me)
    api.create_segment("sports-fans", "Sports fans", rules={"rule": "topic_views", "topic": "sports", "min": 1})
    api.create_segment("loyal", "Loyal", rules={"rule": "visit_count", "min": 10})
    api.recompute_segments()
    [membership] = browser.get(URL).json()["segments"]
    assert (membership["segment"], membership["name"], membership["left"]) == ("sports-fans", "Sports fans", None)
    assert membership["joined"][:4] == str(timezone.now().year)


def test_a_users_traits_are_in_the_export_and_gone_with_the_erase():
    user = get_user_model().objects.create_user("ada", password="pw")
    api.set_traits(user, plan="pro", since=datetime(2024, 3, 1).date(), tags=["eu"])
    browser = new_browser()
    browser.force_login(user)
    exported = browser.get(URL).json()["visitor"]
    assert exported["traits"] == {"plan": "pro", "since": "2024-03-01", "tags": ["eu"]}
    assert set(exported["traits_changed"]) == {"plan", "since", "tags"}

    response = browser.delete(URL, HTTP_X_CSRFTOKEN=token(browser))
    assert response.status_code == 200 and response.json()["erased"]["visitors"] == 1
    assert api.get_traits(user) == {}
