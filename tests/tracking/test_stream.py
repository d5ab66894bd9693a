"""The stream contract: entry encoding, ``append`` on a caller's pipeline, ``enqueue`` and its spool."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from tailored_cms import connection
from tailored_cms.tracking import (
    PAGE_VIEW,
    InvalidEvent,
    TrackedEvent,
    append,
    enqueue,
    group_name,
    stream_key,
)
from tailored_cms.tracking.models import SpooledEvent

T0 = datetime(2026, 3, 2, 9, 0, 0, 123000, tzinfo=UTC)


def test_encode_and_decode_round_trip():
    event = TrackedEvent.page_view(
        str(uuid.uuid4()),
        "/sports/",
        referrer="https://news.example/",
        user_agent="Mozilla/5.0",
        host="example.com",
        params={"utm_source": "mail", "q": "ignored"},
        page_id=7,
        ts=T0,
    )
    assert TrackedEvent.decode(event.encode().encode()) == event
    assert event.props == {"utm_source": "mail"}
    assert event.name == PAGE_VIEW


def test_the_entry_is_compact_and_leaves_out_what_is_empty():
    event = TrackedEvent(str(uuid.uuid4()), "click", ts=T0)
    data = json.loads(event.encode())
    assert data == {"i": event.id, "v": event.visitor_id, "n": "click", "t": 1772442000123}
    assert " " not in event.encode()


def test_props_json_cannot_hold_are_written_as_text():
    event = TrackedEvent(str(uuid.uuid4()), "signup", ts=T0, props={"when": T0})
    assert TrackedEvent.decode(event.encode()).props == {"when": str(T0)}


def test_uuids_are_normalised():
    raw = json.dumps({"i": str(uuid.uuid4()).upper(), "v": uuid.uuid4().hex, "n": "x", "t": 0})
    event = TrackedEvent.decode(raw)
    assert event.id == str(uuid.UUID(event.id)) and event.visitor_id == str(uuid.UUID(event.visitor_id))


def entry(**fields) -> str:
    return json.dumps({"i": str(uuid.uuid4()), "v": str(uuid.uuid4()), "n": "x", "t": 0, **fields})


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff",
        "[]",
        "{}",
        entry(i="nope"),
        entry(n=""),
        entry(n="x" * 65),
        entry(t="yesterday"),
        entry(t=1e30),
        entry(p=["a"]),
        entry(g=1e99),
        entry(g=0),
        entry(u=5),
    ],
)
def test_garbage_raises_invalid_event(raw):
    with pytest.raises(InvalidEvent):
        TrackedEvent.decode(raw)


def test_append_adds_trimmed_xadds_to_the_callers_pipeline(tailored_redis, redis_round_trips, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "STREAM_MAXLEN": 1000}
    visitor = str(uuid.uuid4())
    pipeline = connection.get_redis().pipeline(transaction=False)
    pipeline.get("something-else-the-request-path-needs")
    assert append(pipeline, [TrackedEvent(visitor, "click"), TrackedEvent(visitor, "scroll")]) == 2
    assert redis_round_trips.round_trips == 0
    pipeline.execute()
    assert redis_round_trips.commands == ["PIPELINE[GET,XADD,XADD]"]
    entries = tailored_redis.xrange(stream_key())
    assert [json.loads(fields[b"e"])["n"] for _id, fields in entries] == ["click", "scroll"]
    assert stream_key() == "tailored:events" and group_name() == "tailored:ingest"


def test_the_stream_stays_near_its_maxlen(tailored_redis, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "STREAM_MAXLEN": 200}
    visitor = str(uuid.uuid4())
    pipeline = tailored_redis.pipeline(transaction=False)
    append(pipeline, [TrackedEvent(visitor, "click") for _ in range(2000)])
    pipeline.execute()
    assert 200 <= tailored_redis.xlen(stream_key()) < 400  # MAXLEN ~ trims whole nodes


@pytest.mark.django_db
def test_enqueue_sends_one_round_trip_and_no_sql(tailored_redis, redis_round_trips, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert enqueue([TrackedEvent(str(uuid.uuid4()), "click")]) is True
    assert redis_round_trips.round_trips == 1
    assert tailored_redis.xlen(stream_key()) == 1


@pytest.mark.django_db
def test_enqueue_spools_to_the_database_when_redis_is_down(settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "REDIS_URL": "redis://127.0.0.1:1/0"}
    event = TrackedEvent(str(uuid.uuid4()), "signup", ts=T0, props={"plan": "pro"})
    assert enqueue([event]) is False
    assert TrackedEvent.decode(SpooledEvent.objects.get().data) == event


@pytest.mark.parametrize(
    ("sent", "decoded"),
    [
        ("\\u0000", "\\u0000"),  # the six characters, as text: kept
        ("\\u0000n", "\\u0000n"),  # not a newline
        ("\\\x00", "\\"),  # a backslash, then a NUL character: the NUL goes
        ("a\x00b\x00", "ab"),  # NUL characters (only the server's own events can hold them): taken out
        ("\\\\u0000", "\\\\u0000"),
    ],
)
def test_the_decoder_takes_out_nul_characters_and_nothing_else(sent, decoded):
    event = TrackedEvent(str(uuid.uuid4()), "click", ts=T0, props={"label": sent, sent: 1})
    assert TrackedEvent.decode(event.encode()).props == {"label": decoded, decoded: 1}


def test_numbers_come_back_exactly():
    props = {"big": 2**64 + 1, "negative": -(2**70), "float": 0.1, "tiny": 5e-324, "nested": [{"n": 2**65, "f": 1.5}]}
    event = TrackedEvent(str(uuid.uuid4()), "click", ts=T0, props=props)
    assert TrackedEvent.decode(event.encode()).props == props


def test_a_server_side_event_with_a_number_json_cant_hold_is_written_with_null():
    event = TrackedEvent(str(uuid.uuid4()), "click", ts=T0, props={"a": float("inf"), "b": [float("nan"), 1]})
    assert TrackedEvent.decode(event.encode()).props == {"a": None, "b": [None, 1]}


def test_the_entry_is_what_json_dumps_writes():
    event = TrackedEvent.page_view(
        str(uuid.uuid4()), '/s"ö/', referrer="r", user_agent="ua", host="h", params={"utm_source": "é"}, page_id=3
    )
    event.props["when"] = T0  # what JSON can't hold: written with str()
    expected = {
        "i": event.id,
        "v": event.visitor_id,
        "n": "page_view",
        "t": int(event.ts.timestamp() * 1000),
        "p": {"utm_source": "é", "when": str(T0)},
        "u": '/s"ö/',
        "r": "r",
        "a": "ua",
        "h": "h",
        "g": 3,
    }
    assert event.encode() == json.dumps(expected, separators=(",", ":"), ensure_ascii=False)
