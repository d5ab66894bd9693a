"""``events/``: a page's batch of events (the beacon), checked, rate limited, stored in one Redis round trip."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.db import connection as db_connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tailored_cms import connection
from tailored_cms.context import resolve_visitor
from tailored_cms.tracking import TrackedEvent, drain, stream_key
from tailored_cms.tracking.beacon_batch import parse_batch
from tailored_cms.tracking.models import Event, EventCounts, SpooledEvent
from tailored_cms.visitors.identity import set_visitor_cookie
from tailored_cms.visitors.models import Visitor

pytestmark = pytest.mark.django_db

URL = "/tailored/api/v1/events/"
CONSENT = "/tailored/api/v1/consent/"
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def event(**fields) -> dict:
    """One event as a page sends it; ``fields`` override (a value of ``...`` leaves the field out)."""
    body = {
        "id": str(uuid.uuid4()),
        "name": "click",
        "ts": timezone.now().isoformat().replace("+00:00", "Z"),
        "props": {"variant": "sports"},
        "path": "/sports/",
    }
    body.update(fields)
    return {name: value for name, value in body.items() if value is not ...}


def batch(n: int = 3, **fields) -> dict:
    return {"events": [event(**fields) for _ in range(n)]}


def post(client: Client, body, content_type: str = "application/json", **extra):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    extra.setdefault("HTTP_USER_AGENT", UA)
    return client.post(URL, data, content_type=content_type, **extra)


def answered(client: Client, consent: bool) -> tuple[Client, str]:
    """``client`` as a visitor who answered ``consent``; returns it and the visitor id."""
    client.get(CONSENT)
    response = client.put(
        CONSENT,
        json.dumps({"tracking": consent}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200
    return client, str(Visitor.objects.order_by("-created_at").values_list("pk", flat=True).first())


@pytest.fixture
def consenting() -> tuple[Client, str]:
    return answered(Client(), True)


def stream(client: redis.Redis) -> list[TrackedEvent]:
    return [TrackedEvent.decode(fields[b"e"]) for _, fields in client.xrange(stream_key())]


@pytest.fixture
def site_cached() -> None:
    """django CMS's toolbar middleware reads the current Site on a process's first request (then it is cached)."""
    Site.objects.get_current()


def implied(settings) -> None:
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "implied"}


def tailored(settings, **values) -> None:
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, **values}


# --- what a visitor's page gets --------------------------------------------------------------------------------


def test_a_consenting_visitors_batch_costs_one_redis_round_trip_and_no_sql(
    consenting, tailored_redis, redis_round_trips, django_assert_num_queries
):
    client, visitor_id = consenting
    body = batch(3, props={"variant": "sports", "n": 1})
    redis_round_trips.commands.clear()
    with django_assert_num_queries(0):
        response = post(client, body)
    assert response.status_code == 202
    assert response.json() == {"accepted": 3, "tracking": True}
    assert redis_round_trips.round_trips == 1, redis_round_trips.commands
    stored = stream(tailored_redis)
    assert [e.id for e in stored] == [e["id"] for e in body["events"]]
    first = stored[0]
    assert (first.visitor_id, first.name, first.path, first.props) == (
        visitor_id,
        "click",
        "/sports/",
        {"variant": "sports", "n": 1},
    )
    assert (first.user_agent, first.host) == (UA, "testserver")  # set by the server, not the page
    assert abs(first.ts - datetime.fromisoformat(body["events"][0]["ts"])) < timedelta(milliseconds=1)
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}


def test_sendbeacon_posts_text_plain_and_it_is_the_same_json(consenting, tailored_redis):
    client, visitor_id = consenting
    response = post(client, batch(2), content_type="text/plain;charset=UTF-8")
    assert response.status_code == 202 and response.json() == {"accepted": 2, "tracking": True}
    assert {e.visitor_id for e in stream(tailored_redis)} == {visitor_id}


def test_times_in_the_future_or_older_than_a_day_are_dated_when_received(consenting, tailored_redis):
    client, _ = consenting
    now = timezone.now()
    body = {
        "events": [
            event(ts=(now + timedelta(hours=3)).isoformat()),
            event(ts=(now - timedelta(days=2)).isoformat()),
            event(ts=(now - timedelta(hours=5)).isoformat()),
            event(ts=...),
        ]
    }
    assert post(client, body).status_code == 202
    future, old, recent, missing = stream(tailored_redis)
    after = timezone.now()
    for received in (future, old, missing):
        assert now - timedelta(seconds=1) <= received.ts <= after
    assert abs(recent.ts - (now - timedelta(hours=5))) < timedelta(milliseconds=1)


def test_an_id_in_capitals_is_the_same_event(consenting, tailored_redis):
    client, _ = consenting
    event_id = str(uuid.uuid4())
    post(client, {"events": [event(id=event_id.upper())]})
    assert [e.id for e in stream(tailored_redis)] == [event_id]


def test_the_stream_entries_are_what_tracked_event_encode_writes():
    """The endpoint builds its entries from parts made while checking: they must be encode()'s, to the byte."""
    body = {
        "events": [
            event(props={"label": 'a "quoted" café ✓', "n": 1.5, "nested": {"list": [1, None, True]}}),
            event(props={}, path='/a "b"/ü/'),
            event(props=..., path=..., ts=...),
        ]
    }
    batch = parse_batch(
        json.dumps(body).encode(), now=timezone.now(), user_agent='Mozilla "quoted" ü', host="example.com:8000"
    )
    visitor_id = str(uuid.uuid4())
    entries = batch.entries(visitor_id)
    assert entries == [e.encode() for e in batch.events]
    assert [TrackedEvent.decode(entry).visitor_id for entry in entries] == [visitor_id] * 3
    bare = parse_batch(json.dumps(batch_of_one := {"events": [event()]}).encode(), now=timezone.now())
    assert bare.entries(visitor_id) == [bare.events[0].encode()]  # no user agent, no host
    assert bare.events[0].id == batch_of_one["events"][0]["id"]


# --- bad batches: a 400 naming the event and field, and nothing stored ---------------------------------------


ID = b"0b9e6ab8-6c37-4a3e-9a0e-5d2d7e9c1f00"


def too_many_props() -> dict:
    return {f"p{i}": i for i in range(21)}


@pytest.mark.parametrize(
    "body, index, field, words",
    [
        (b"{not json", None, None, "not JSON"),
        (b'{"events": [{"props": {"x": NaN}}]}', None, None, "not JSON"),
        # Too deep for the json module on every supported Python (3.13 parses 5,000 levels), within the body limit:
        # still a 400, not a 500.
        (b"[" * 30_000 + b"]" * 30_000, None, None, "not JSON"),
        ([event()], None, None, "JSON object"),
        ({"events": [event()], "extra": 1}, None, "extra", "unknown key"),
        ({}, None, "events", "list of events"),
        ({"events": []}, None, "events", "1 to 50"),
        ({"events": [event() for _ in range(51)]}, None, "events", "not 51"),
        ({"events": [event(), "click"]}, 1, None, "not an object"),
        ({"events": [event(), event(colour="red")]}, 1, "colour", "unknown field"),
        ({"events": [event(id=...)]}, 0, "id", "missing"),
        ({"events": [event(id="1234")]}, 0, "id", "not a UUID"),
        ({"events": [event(id="12345678123456781234567812345678")]}, 0, "id", "not a UUID"),
        ({"events": [event(id=7)]}, 0, "id", "not a UUID"),
        ({"events": [event(id="0b9e6ab8-6c37-4a3e-9a0e-5d2d7e9c1f00")] * 2}, 1, "id", "same id as events[0]"),
        ({"events": [event(name=...)]}, 0, "name", "missing"),
        ({"events": [event(name="add to cart")]}, 0, "name", "letters, digits"),
        ({"events": [event(name="x" * 65)]}, 0, "name", "1 to 64"),
        ({"events": [event(name="")]}, 0, "name", "1 to 64"),
        ({"events": [event(name="page_view")]}, 0, "name", "reserved"),
        ({"events": [event(ts="yesterday")]}, 0, "ts", "ISO 8601"),
        ({"events": [event(ts=1767225600)]}, 0, "ts", "ISO 8601"),
        ({"events": [event(ts="2026-03-02T09:00:00")]}, 0, "ts", "time zone"),
        ({"events": [event(props=["a"])]}, 0, "props", "object"),
        ({"events": [event(), event(), event(), event(props=too_many_props())]}, 3, "props", "more than 20"),
        ({"events": [event(props={"text": "é" * 1100})]}, 0, "props", "more than 2048"),
        (b'{"events": [{"id": "%s", "name": "x", "props": {"a": "\\ud800"}}]}' % ID, 0, "props", "not valid Unicode"),
        (b'{"events": [{"id": "%s", "name": "x", "path": "/\\udfff"}]}' % ID, 0, "path", "not valid Unicode"),
        ({"events": [event(path="sports/")]}, 0, "path", "starting with /"),
        ({"events": [event(path="/" + "a" * 500)]}, 0, "path", "at most 500"),
    ],
)
def test_a_bad_batch_is_a_400_naming_the_event_and_field_and_nothing_is_stored(
    consenting, tailored_redis, body, index, field, words
):
    client, _ = consenting
    response = post(client, body)
    assert response.status_code == 400
    answer = response.json()
    assert set(answer) == {"detail", "event", "field"}
    assert (answer["event"], answer["field"]) == (index, field)
    assert words in answer["detail"]
    if index is not None:
        assert answer["detail"].startswith(f"events[{index}]" + (f".{field}:" if field else ":"))
    assert stream(tailored_redis) == []


def test_the_limits_are_settings(consenting, settings, tailored_redis):
    tailored(settings, EVENTS_MAX_BATCH=2, EVENT_MAX_PROPS=1, EVENT_MAX_PROP_BYTES=20)
    client, _ = consenting
    assert post(client, batch(3)).json()["detail"] == "events: send 1 to 2 events per request, not 3"
    assert post(client, batch(1, props={"a": 1, "b": 2})).json()["detail"] == "events[0].props: more than 1 property"
    assert "more than 20" in post(client, batch(1, props={"a": "x" * 20})).json()["detail"]
    assert post(client, batch(2, props={"a": "x"})).status_code == 202


def test_a_body_over_the_size_limit_is_a_413(consenting, settings, tailored_redis):
    tailored(settings, EVENTS_MAX_BODY_BYTES=1000)
    client, _ = consenting
    response = post(client, batch(10))
    assert response.status_code == 413 and "larger than 1000 bytes" in response.json()["detail"]
    assert post(client, batch(1)).status_code == 202


def test_other_content_types_are_a_415(consenting, tailored_redis):
    client, _ = consenting
    response = post(client, "events=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and "text/plain" in response.json()["detail"]
    assert stream(tailored_redis) == []


def test_only_post_is_allowed(consenting):
    client, _ = consenting
    assert client.get(URL).status_code == 405


# --- another site ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},  # sandboxed frames, file: pages
        {"HTTP_ORIGIN": "https://testserver"},  # another scheme is another origin
        {"HTTP_REFERER": "https://evil.example/page"},  # no Origin: the Referer's origin counts
    ],
)
def test_a_batch_sent_from_another_site_is_a_403(consenting, tailored_redis, headers):
    client, _ = consenting
    response = post(client, batch(1), **headers)
    assert response.status_code == 403
    assert "another site" in response.json()["detail"]
    assert stream(tailored_redis) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "http://testserver"},
        {"HTTP_REFERER": "http://testserver/sports/"},
        {"HTTP_ORIGIN": "https://shop.example.com"},  # CSRF_TRUSTED_ORIGINS, wildcard
        {"HTTP_ORIGIN": "https://example.org"},  # CSRF_TRUSTED_ORIGINS, exact
        {},  # neither: not a browser, so no visitor's cookie but its own
    ],
)
def test_this_site_trusted_origins_and_non_browser_clients_are_taken(consenting, tailored_redis, settings, headers):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com", "https://example.org"]
    client, _ = consenting
    response = post(client, batch(1), **headers)
    assert response.status_code == 202 and response.json()["accepted"] == 1


def test_no_csrf_token_is_needed(tailored_redis):
    client, _ = answered(Client(enforce_csrf_checks=True), True)
    response = post(client, batch(1), HTTP_ORIGIN="http://testserver")
    assert response.status_code == 202 and response.json()["accepted"] == 1


# --- rate limits -------------------------------------------------------------------------------------------------


def test_over_the_visitors_rate_limit_is_a_429_with_retry_after(consenting, settings, tailored_redis):
    tailored(settings, EVENTS_RATE_PER_VISITOR=5)
    client, _ = consenting
    assert post(client, batch(3)).status_code == 202
    response = post(client, batch(3))
    assert response.status_code == 429
    answer = response.json()
    assert answer["limit"] == "visitor" and "this visitor" in answer["detail"] and "at most 5" in answer["detail"]
    assert 1 <= int(response["Retry-After"]) <= 60 and answer["retry_after"] == int(response["Retry-After"])
    # A refused batch counts nothing: a smaller one still fits, then nothing more this minute.
    assert post(client, batch(2)).json() == {"accepted": 2, "tracking": True}
    assert post(client, batch(1)).status_code == 429
    assert len(stream(tailored_redis)) == 5
    other, _ = answered(Client(), True)
    assert post(other, batch(3)).status_code == 202  # another visitor has a limit of their own


def test_over_the_ip_rate_limit_is_a_429_naming_the_ip_limit(settings, tailored_redis):
    tailored(settings, EVENTS_RATE_PER_IP=4)
    first, _ = answered(Client(), True)
    second, _ = answered(Client(), True)
    assert post(first, batch(3)).status_code == 202
    response = post(second, batch(3))
    assert response.status_code == 429
    assert response.json()["limit"] == "ip" and "this IP address" in response.json()["detail"]
    assert post(second, batch(3), REMOTE_ADDR="192.0.2.7").status_code == 202  # another address


def test_behind_a_proxy_the_right_most_forwarded_address_is_the_clients(settings, tailored_redis):
    tailored(settings, EVENTS_RATE_PER_IP=3, CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR")
    client, _ = answered(Client(), True)
    assert post(client, batch(3), HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.9").status_code == 202
    # The left part is whatever the client sent: changing it doesn't escape the limit.
    assert post(client, batch(1), HTTP_X_FORWARDED_FOR="203.0.113.2, 198.51.100.9").status_code == 429
    assert post(client, batch(1), HTTP_X_FORWARDED_FOR="198.51.100.10").status_code == 202


def test_without_limits_nothing_is_counted(consenting, settings, tailored_redis):
    tailored(settings, EVENTS_RATE_PER_VISITOR=None, EVENTS_RATE_PER_IP=None)
    client, _ = consenting
    for _ in range(3):
        assert post(client, batch(50)).status_code == 202
    assert tailored_redis.keys(connection.key("rate", "*")) == []


# --- consent -----------------------------------------------------------------------------------------------------

NOT_TRACKED = {"accepted": 0, "tracking": False}


def test_under_required_consent_an_anonymous_visitor_is_not_tracked_and_costs_no_redis(
    tailored_redis, redis_round_trips, django_assert_num_queries, site_cached
):
    with django_assert_num_queries(0):
        response = post(Client(), batch(2))
    assert response.status_code == 202 and response.json() == NOT_TRACKED
    assert "tailored_vid" not in response.cookies
    assert redis_round_trips.round_trips == 0 and stream(tailored_redis) == []


def test_a_visitor_who_refused_is_not_tracked(tailored_redis, settings):
    implied(settings)  # the visitor's own answer wins over the site's default
    client, _ = answered(Client(), False)
    assert post(client, batch(2)).json() == NOT_TRACKED
    assert stream(tailored_redis) == []


def test_a_visitor_with_choices_who_was_never_asked_is_not_tracked(tailored_redis):
    client = Client()
    client.get("/tailored/api/v1/preferences/")
    client.patch(
        "/tailored/api/v1/preferences/",
        '{"theme": "dark"}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert "tailored_vid" in client.cookies
    assert post(client, batch(2)).json() == NOT_TRACKED
    assert stream(tailored_redis) == []


@pytest.mark.parametrize("header", [{"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}])
def test_gpc_and_dnt_stop_tracking_even_with_consent(consenting, tailored_redis, redis_round_trips, header):
    client, _ = consenting
    redis_round_trips.commands.clear()
    response = post(client, batch(2), **header)
    assert response.status_code == 202 and response.json() == NOT_TRACKED
    assert redis_round_trips.round_trips == 0 and stream(tailored_redis) == []


def test_implied_consent_tracks_a_new_visitor_under_a_new_cookie_in_one_round_trip(
    tailored_redis, settings, redis_round_trips, django_assert_num_queries, site_cached
):
    implied(settings)
    client = Client()
    with django_assert_num_queries(0):
        response = post(client, batch(2))
    assert response.json() == {"accepted": 2, "tracking": True}
    assert response.cookies["tailored_vid"]["httponly"]
    assert redis_round_trips.round_trips == 1  # the new visitor's snapshot went in with the events
    redis_round_trips.commands.clear()
    assert post(client, batch(1)).json() == {"accepted": 1, "tracking": True}
    assert redis_round_trips.round_trips == 1
    visitors = {e.visitor_id for e in stream(tailored_redis)}
    assert len(visitors) == 1 and visitors.pop() in client.cookies["tailored_vid"].value


# --- the slow paths: a snapshot Redis no longer holds, an unknown visitor, Redis down -----------------------


def test_a_visitor_redis_no_longer_holds_is_read_from_the_database_once(
    consenting, tailored_redis, redis_round_trips, django_assert_num_queries
):
    client, visitor_id = consenting
    tailored_redis.delete(connection.key("snap", visitor_id))  # expired
    with CaptureQueriesContext(db_connection) as queries:
        response = post(client, batch(2))
    assert response.json() == {"accepted": 2, "tracking": True}
    assert queries and all(q["sql"].startswith("SELECT") for q in queries)  # the visitor's row: read, not written
    assert {e.visitor_id for e in stream(tailored_redis)} == {visitor_id}
    assert tailored_redis.exists(connection.key("snap", visitor_id))  # written back: the next batch is fast
    redis_round_trips.commands.clear()
    with django_assert_num_queries(0):
        post(client, batch(1))
    assert redis_round_trips.round_trips == 1


def test_a_visitor_unknown_everywhere_starts_again(tailored_redis, settings):
    response = HttpResponse()
    set_visitor_cookie(response, str(uuid.uuid4()))  # signed by us, but erased since
    client = Client()
    client.cookies["tailored_vid"] = response.cookies["tailored_vid"].value
    answer = post(client, batch(1))
    assert answer.json() == NOT_TRACKED
    assert answer.cookies["tailored_vid"].value == ""  # deleted
    implied(settings)
    client.cookies["tailored_vid"] = response.cookies["tailored_vid"].value
    answer = post(client, batch(1))
    assert answer.json() == {"accepted": 1, "tracking": True}
    [stored] = stream(tailored_redis)
    assert stored.visitor_id in answer.cookies["tailored_vid"].value  # a new visitor


def test_a_signed_in_users_visitor_without_a_session_is_not_tracked_as_that_user(tailored_redis):
    user = get_user_model().objects.create_user("ann", password="pw")
    client, visitor_id = answered(Client(), True)
    client.force_login(user)
    answered(client, True)  # the consent moves to the user's visitor
    user_visitor = str(Visitor.objects.get(user=user).pk)
    assert post(client, batch(1)).json()["accepted"] == 1
    del client.cookies["sessionid"]  # the session ended, the visitor cookie stayed
    response = post(client, batch(1))
    assert response.json() == NOT_TRACKED
    assert response.cookies["tailored_vid"].value == ""
    assert [e.visitor_id for e in stream(tailored_redis)] == [user_visitor]


def test_with_redis_down_events_are_spooled_answered_as_taken_and_ingested_later(redis_server, settings):
    tailored(settings, EVENTS_RATE_PER_VISITOR=1)  # not enforced without Redis
    client, visitor_id = answered(Client(), True)
    body = batch(3)
    redis_server.stop()
    try:
        response = post(client, body)
    finally:
        redis_server.start()
        connection.reset()
    assert response.status_code == 202 and response.json() == {"accepted": 3, "tracking": True}
    assert SpooledEvent.objects.count() == 3
    stats = drain()
    assert stats.spooled == 3 and stats.new == 3
    assert {str(pk) for pk in Event.objects.filter(visitor_id=visitor_id).values_list("pk", flat=True)} == {
        e["id"] for e in body["events"]
    }


def test_end_to_end_events_become_rows_and_counters_of_the_visitor(consenting, tailored_redis):
    client, visitor_id = consenting
    ts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    body = {
        "events": [
            event(name="click", ts=ts.isoformat(), props={"variant": "sports"}),
            event(name="click", ts=ts.isoformat()),
            event(name="signup", ts=ts.isoformat(), props={"plan": "pro"}, path="/join/"),
        ]
    }
    assert post(client, body).json()["accepted"] == 3
    stats = drain()
    assert stats.new == 3 and stats.invalid == 0
    rows = {str(e.pk): e for e in Event.objects.all()}
    assert set(rows) == {e["id"] for e in body["events"]}
    signup = rows[body["events"][2]["id"]]
    assert (str(signup.visitor_id), signup.name, signup.ts) == (visitor_id, "signup", ts)
    assert (signup.path, signup.props) == ("/join/", {"plan": "pro"})
    counts = {(str(c.visitor_id), c.name): c.count for c in EventCounts.objects.all()}
    assert counts == {(visitor_id, "click"): 2, (visitor_id, "signup"): 1}
    visitor = Visitor.objects.get(pk=visitor_id)
    assert visitor.last_seen == ts and visitor.device == "desktop"
    assert post(client, body).json()["accepted"] == 3  # sent again (a retried beacon)
    assert drain().duplicates == 3 and Event.objects.count() == 3


# --- the middleware leaves the snapshot to the view ------------------------------------------------------------


def test_the_middleware_reads_no_snapshot_for_events_but_loads_it_if_asked(
    consenting, tailored_redis, redis_round_trips
):
    client, visitor_id = consenting
    request = RequestFactory().post(URL, HTTP_COOKIE=f"tailored_vid={client.cookies['tailored_vid'].value}")
    redis_round_trips.commands.clear()
    context = resolve_visitor(request)
    assert context.visitor_id == visitor_id and redis_round_trips.round_trips == 0
    assert context.snapshot.tracking_consent is True  # loaded on first use
    assert redis_round_trips.round_trips == 1


def test_events_are_in_the_schema_with_both_content_types():
    schema = Client().get("/tailored/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/tailored/api/v1/events/"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert set(operation["responses"]) >= {"202", "400", "403", "413", "415", "429"}
    error = schema["components"]["schemas"]["EventsError"]["properties"]
    assert set(error) == {"detail", "event", "field"}
