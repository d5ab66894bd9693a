"""The ingest, called as plain functions: what an event becomes, redelivery, claiming, spool, garbage, queries."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tailored_cms.tracking import PAGE_VIEW, TrackedEvent, drain, ingest_batch, ingest_spool, spool, stream_key
from tailored_cms.tracking.ingest import referrer_domain
from tailored_cms.tracking.models import Event, EventCounts, SpooledEvent, TopicViews
from tailored_cms.visitors.models import Visitor

from .conftest import BOT_UA, DESKTOP_UA, MOBILE_UA, add_events, stream_length

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def vid() -> str:
    return str(uuid.uuid4())


def view(visitor: str, path: str, ts: datetime = T0, **kwargs) -> TrackedEvent:
    kwargs.setdefault("user_agent", DESKTOP_UA)
    kwargs.setdefault("host", "example.com")
    return TrackedEvent.page_view(visitor, path, ts=ts, **kwargs)


def topic_counts(visitor: str) -> dict[tuple[str, date], int]:
    return {(t.topic, t.day): t.count for t in TopicViews.objects.filter(visitor_id=visitor)}


def test_a_page_view_becomes_an_event_a_topic_count_and_visitor_activity(tagged_page, tailored_redis):
    page = tagged_page("sports", topics=["sports", "football"])
    visitor = vid()
    event = view(
        visitor,
        "/sports/",
        user_agent=MOBILE_UA,
        referrer="https://www.news.example.org/article?id=1",
        params={"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring", "q": "x"},
    )
    add_events(tailored_redis, [event])

    stats = ingest_batch()

    assert (stats.read, stats.new, stats.duplicates, stats.dropped, stats.invalid) == (1, 1, 0, 0, 0)
    stored = Event.objects.get()
    assert str(stored.pk) == event.id
    assert str(stored.visitor_id) == visitor
    assert (stored.name, stored.ts, stored.page_id, stored.path) == (PAGE_VIEW, T0, page.pk, "/sports/")
    assert stored.props == {
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
        "referrer": "news.example.org",
        "device": "mobile",
    }
    assert topic_counts(visitor) == {("sports", T0.date()): 1, ("football", T0.date()): 1}
    assert EventCounts.objects.get(visitor_id=visitor).count == 1
    v = Visitor.objects.get(pk=visitor)
    assert (v.first_seen, v.last_seen, v.visits) == (T0, T0, 1)
    assert (v.device, v.referrer_domain) == ("mobile", "news.example.org")
    assert (v.utm_source, v.utm_medium, v.utm_campaign) == ("newsletter", "email", "spring")
    assert stream_length(tailored_redis) == 0  # acknowledged and deleted: the stream holds only the backlog


def test_counters_add_up_over_batches_and_days(tagged_page, tailored_redis):
    tagged_page("sports", topics=["sports"])
    tagged_page("news", topics=["news"])
    visitor = vid()
    day2 = T0 + timedelta(days=1)
    add_events(tailored_redis, [view(visitor, "/sports/"), view(visitor, "/sports", T0 + timedelta(minutes=1))])
    ingest_batch()
    add_events(tailored_redis, [view(visitor, "/sports/", day2), view(visitor, "/news/", day2)])
    add_events(tailored_redis, [TrackedEvent(visitor, "click", ts=day2, props={"target": "promo"})])
    ingest_batch()

    assert topic_counts(visitor) == {("sports", T0.date()): 2, ("sports", day2.date()): 1, ("news", day2.date()): 1}
    counts = {(c.name, c.day): c.count for c in EventCounts.objects.filter(visitor_id=visitor)}
    assert counts == {(PAGE_VIEW, T0.date()): 2, (PAGE_VIEW, day2.date()): 2, ("click", day2.date()): 1}
    assert Event.objects.count() == 5


def test_page_views_of_paths_outside_the_cms_are_dropped(tagged_page, tailored_redis):
    page = tagged_page("about")  # a page without topics still counts
    visitor, elsewhere = vid(), vid()
    add_events(
        tailored_redis,
        [view(visitor, "/about/"), view(visitor, "/admin/"), view(visitor, "/nowhere/"), view(elsewhere, "/shop/")],
    )
    add_events(tailored_redis, [TrackedEvent(elsewhere, "click", ts=T0, path="/shop/")])  # other events are kept
    stats = ingest_batch()
    assert (stats.read, stats.new, stats.not_pages) == (5, 2, 3)
    assert sorted(Event.objects.values_list("name", "page_id")) == [("click", None), (PAGE_VIEW, page.pk)]
    assert EventCounts.objects.get(visitor_id=visitor, name=PAGE_VIEW).count == 1
    assert not TopicViews.objects.exists()
    assert stream_length(tailored_redis) == 0  # acknowledged all the same
    add_events(tailored_redis, [view(vid(), "/nowhere/")])
    assert ingest_batch().not_pages == 1 and Visitor.objects.count() == 2  # no visitor made for it


def test_the_home_page_resolves(tagged_page, tailored_redis):
    home = tagged_page("home", topics=["welcome"])
    home.set_as_homepage()
    visitor = vid()
    add_events(tailored_redis, [view(visitor, "/")])
    ingest_batch()
    assert Event.objects.get().page_id == home.pk
    assert topic_counts(visitor) == {("welcome", T0.date()): 1}


def test_a_page_id_sent_with_the_event_is_used(tagged_page, tailored_redis):
    page = tagged_page("sports", topics=["sports"])
    visitor = vid()
    add_events(tailored_redis, [view(visitor, "/whatever/", page_id=page.pk)])
    ingest_batch()
    assert topic_counts(visitor) == {("sports", T0.date()): 1}


def test_visits_start_after_the_gap(tagged_page, tailored_redis, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "VISIT_GAP_MINUTES": 30}
    tagged_page("home").set_as_homepage()
    visitor = vid()
    times = [T0, T0 + timedelta(minutes=20), T0 + timedelta(minutes=45), T0 + timedelta(hours=3)]
    add_events(tailored_redis, [view(visitor, "/", times[0]), view(visitor, "/", times[1])])
    ingest_batch()
    assert Visitor.objects.get(pk=visitor).visits == 1
    # 25 minutes after the last event (same visit), then 2 h 15 later (a new one); sent out of order
    add_events(tailored_redis, [view(visitor, "/", times[3]), view(visitor, "/", times[2])])
    ingest_batch()
    v = Visitor.objects.get(pk=visitor)
    assert (v.visits, v.first_seen, v.last_seen) == (2, times[0], times[3])


def test_latest_device_referrer_and_utm_win(tagged_page, tailored_redis):
    tagged_page("home").set_as_homepage()
    tagged_page("b")
    tagged_page("c")
    visitor = vid()
    add_events(
        tailored_redis,
        [
            view(
                visitor, "/", T0, user_agent=MOBILE_UA, referrer="https://search.example/", params={"utm_source": "a"}
            ),
            view(visitor, "/b/", T0 + timedelta(minutes=1), referrer="https://example.com/"),  # internal: kept
            view(visitor, "/c/", T0 + timedelta(minutes=2), user_agent=DESKTOP_UA),
        ],
    )
    ingest_batch()
    v = Visitor.objects.get(pk=visitor)
    assert (v.device, v.referrer_domain, v.utm_source, v.utm_medium) == ("desktop", "search.example", "a", "")


def test_referrer_domain():
    assert referrer_domain("https://www.Google.com/search?q=x", "example.com") == "google.com"
    assert referrer_domain("https://example.com/page/", "www.example.com:8000") == ""
    assert referrer_domain("http://localhost:8000/", "") == ""  # ALLOWED_HOSTS, when no host was sent
    assert referrer_domain("not a url", "example.com") == ""
    assert referrer_domain("", "example.com") == ""


def test_bots_are_dropped_and_acknowledged(tagged_page, tailored_redis):
    tagged_page("sports", topics=["sports"])
    bot, person = vid(), vid()
    add_events(tailored_redis, [view(bot, "/sports/", user_agent=BOT_UA), view(person, "/sports/")])
    stats = ingest_batch()
    assert (stats.read, stats.new, stats.dropped) == (2, 1, 1)
    assert not Visitor.objects.filter(pk=bot).exists()
    assert not TopicViews.objects.filter(visitor_id=bot).exists()
    assert stream_length(tailored_redis) == 0


def test_garbled_entries_are_acknowledged_counted_and_never_block(tailored_redis, caplog):
    visitor = vid()
    key = stream_key()
    tailored_redis.xadd(key, {"e": b"\xff not json"})
    tailored_redis.xadd(key, {"other": "field"})
    tailored_redis.xadd(key, {"e": '{"i": "not-a-uuid", "v": "x", "n": "click", "t": 1}'})
    tailored_redis.xadd(key, {"e": json.dumps({"i": vid(), "v": visitor, "n": "x" * 65, "t": 1})})
    add_events(tailored_redis, [TrackedEvent(visitor, "click", ts=T0)])
    stats = ingest_batch()
    assert (stats.read, stats.new, stats.invalid) == (5, 1, 4)
    assert "Skipped 4 garbled stream entries" in caplog.text
    assert stream_length(tailored_redis) == 0
    assert ingest_batch().read == 0  # nothing left pending either


def test_a_nul_character_does_not_fail_the_batch(tailored_redis):
    visitor = vid()
    add_events(tailored_redis, [TrackedEvent(visitor, "click", ts=T0, props={"label": "a\x00b"})])
    assert ingest_batch().new == 1
    assert Event.objects.get().props == {"label": "ab"}


def test_an_event_sent_twice_is_counted_once(tagged_page, tailored_redis):
    tagged_page("sports", topics=["sports"])
    visitor = vid()
    event = view(visitor, "/sports/")
    add_events(tailored_redis, [event, event])  # one batch
    first = ingest_batch()
    add_events(tailored_redis, [event])  # a later batch
    second = ingest_batch()
    assert (first.new, first.duplicates, second.new, second.duplicates) == (1, 1, 0, 1)
    assert topic_counts(visitor) == {("sports", T0.date()): 1}
    assert Visitor.objects.get(pk=visitor).visits == 1


def test_a_batch_of_stored_and_new_events_stores_and_counts_only_the_new(tagged_page, tailored_redis):
    """Some events of a batch were stored by an earlier one (a beacon sent them again): only the others count."""
    tagged_page("sports", topics=["sports"])
    visitor = vid()
    first = [view(visitor, "/sports/", T0 + timedelta(minutes=i)) for i in range(2)]
    add_events(tailored_redis, first)
    ingest_batch()
    later = [view(visitor, "/sports/", T0 + timedelta(minutes=10 + i)) for i in range(3)]
    add_events(tailored_redis, [later[0], first[1], later[1], first[0], later[2]])

    stats = ingest_batch()

    assert (stats.read, stats.new, stats.duplicates) == (5, 3, 2)
    assert {str(pk) for pk in Event.objects.values_list("pk", flat=True)} == {e.id for e in first + later}
    assert topic_counts(visitor) == {("sports", T0.date()): 5}
    assert EventCounts.objects.get(visitor_id=visitor).count == 5
    v = Visitor.objects.get(pk=visitor)
    assert (v.first_seen, v.last_seen) == (T0, T0 + timedelta(minutes=12))


def test_names_and_props_with_quotes_and_backslashes_are_stored_as_sent(tailored_redis):
    visitor = vid()
    name = 'said "hi" \\ {x,y} NULL'
    props = {"label": 'a "b" \\ c', "tab": "a\tb\nc"}
    add_events(tailored_redis, [TrackedEvent(visitor, name, ts=T0, props=props)])
    assert ingest_batch().new == 1
    assert Event.objects.get().name == name and Event.objects.get().props == props
    assert EventCounts.objects.get(visitor_id=visitor).name == name


def test_a_visitor_first_seen_by_the_ingest_gets_the_models_defaults(tailored_redis):
    visitor = vid()
    add_events(tailored_redis, [TrackedEvent(visitor, "click", ts=T0)])
    before = timezone.now()
    ingest_batch()
    v = Visitor.objects.get(pk=visitor)
    default = Visitor()
    for name in ("user_id", "theme", "layout", "topics", "widgets", "choices_changed", "tracking_consent"):
        assert getattr(v, name) == getattr(default, name), name
    assert before <= v.created_at <= timezone.now() and before <= v.updated_at <= timezone.now()
    assert (v.visits, v.first_seen, v.last_seen) == (1, T0, T0)


class Crash(Exception):
    pass


def crash() -> None:
    raise Crash


def test_redelivery_after_a_crash_between_commit_and_ack_counts_nothing_twice(
    tagged_page, tailored_redis, claim_immediately
):
    tagged_page("sports", topics=["sports"])
    visitors = [vid() for _ in range(5)]
    add_events(tailored_redis, [view(v, "/sports/", T0 + timedelta(seconds=i)) for i, v in enumerate(visitors * 4)])

    with pytest.raises(Crash):
        ingest_batch("worker-1", before_ack=crash)  # committed, never acknowledged
    assert Event.objects.count() == 20
    assert stream_length(tailored_redis) == 20

    stats = ingest_batch("worker-2")  # claims worker-1's entries
    assert (stats.read, stats.claimed, stats.new, stats.duplicates) == (20, 20, 0, 20)
    assert stream_length(tailored_redis) == 0
    assert Event.objects.count() == 20
    assert {v: topic_counts(v) for v in visitors} == {v: {("sports", T0.date()): 4} for v in visitors}
    assert set(Visitor.objects.values_list("visits", flat=True)) == {1}


def test_a_crash_before_commit_stores_nothing_and_the_retry_stores_all(tailored_redis, claim_immediately):
    visitor = vid()
    add_events(tailored_redis, [TrackedEvent(visitor, "click", ts=T0 + timedelta(seconds=i)) for i in range(3)])
    with pytest.raises(Crash):
        ingest_batch("worker-1", before_commit=crash)
    assert not Event.objects.exists()
    assert not Visitor.objects.filter(pk=visitor).exists()
    stats = ingest_batch("worker-2")
    assert (stats.claimed, stats.new) == (3, 3)
    assert EventCounts.objects.get().count == 3


def test_entries_of_a_dead_consumer_are_claimed_after_the_idle_time(tailored_redis, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_CLAIM_IDLE_SECONDS": 0.3}
    visitor = vid()
    add_events(tailored_redis, [TrackedEvent(visitor, "click", ts=T0 + timedelta(seconds=i)) for i in range(4)])
    with pytest.raises(Crash):
        ingest_batch("dead", before_commit=crash)  # it read the entries, then died

    assert ingest_batch("alive").read == 0  # not idle long enough yet: still the dead one's
    time.sleep(0.35)
    stats = ingest_batch("alive")
    assert (stats.read, stats.claimed, stats.new) == (4, 4, 4)
    groups = tailored_redis.xinfo_consumers(stream_key(), "tailored:ingest")
    assert {c["name"]: c["pending"] for c in groups} == {b"dead": 0, b"alive": 0}


def test_spooled_events_are_ingested_and_removed(tagged_page, tailored_redis):
    tagged_page("sports", topics=["sports"])
    visitor = vid()
    spool([view(visitor, "/sports/"), TrackedEvent(visitor, "signup", ts=T0), view(vid(), "/", user_agent=BOT_UA)])
    SpooledEvent.objects.create(data="garbled")
    stats = ingest_spool()
    assert (stats.read, stats.spooled, stats.new, stats.dropped, stats.invalid) == (4, 4, 2, 1, 1)
    assert not SpooledEvent.objects.exists()
    assert topic_counts(visitor) == {("sports", T0.date()): 1}
    assert ingest_spool().read == 0


def test_drain_empties_spool_and_stream_in_batches(tailored_redis, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_BATCH": 10}
    visitor = vid()
    add_events(tailored_redis, [TrackedEvent(visitor, "click", ts=T0 + timedelta(seconds=i)) for i in range(35)])
    spool([TrackedEvent(visitor, "signup", ts=T0)])
    stats = drain(30)
    assert (stats.read, stats.new, stats.spooled, stats.batches) == (36, 36, 1, 5)
    assert stream_length(tailored_redis) == 0
    assert Event.objects.count() == 36


def test_future_times_are_clamped(tailored_redis):
    visitor = vid()
    add_events(tailored_redis, [TrackedEvent(visitor, "click", ts=timezone.now() + timedelta(days=300))])
    ingest_batch()
    assert Event.objects.get().ts <= timezone.now()


@pytest.mark.parametrize("backend_note", ["queries per batch don't grow with it"])
def test_query_count_per_batch_is_constant(tagged_page, tailored_redis, backend_note):
    pages = [tagged_page(f"page-{n}", topics=[f"topic-{n}", "common"]) for n in range(5)]

    def queries_for(n: int) -> int:
        visitors = [vid() for _ in range(max(1, n // 3))]
        events = []
        for i in range(n):
            visitor = visitors[i % len(visitors)]
            if i % 2:
                events.append(TrackedEvent(visitor, "click", ts=T0 + timedelta(seconds=i), props={"n": i}))
            else:
                events.append(view(visitor, f"/page-{i % len(pages)}/", T0 + timedelta(seconds=i)))
        add_events(tailored_redis, events)
        with CaptureQueriesContext(connection) as queries:
            stats = ingest_batch()
        assert stats.new == n
        return len(queries)

    small, large = queries_for(10), queries_for(500)
    assert small == large
    assert large <= 12


def test_an_event_the_database_refuses_is_set_aside_and_the_rest_stored(tailored_redis, monkeypatch, caplog):
    from django.db import DataError

    from tailored_cms.tracking.ingest import writing

    visitor = vid()
    events = [TrackedEvent(visitor, "click", ts=T0 + timedelta(seconds=i), props={"n": i}) for i in range(9)]
    poison = events[5].id
    write = writing.write

    def refusing_write(items, stats):
        write(items, stats)
        if any(item.event.id == poison for item in items):
            raise DataError("value refused")  # as PostgreSQL does for, e.g., a lone surrogate in JSON

    monkeypatch.setattr(writing, "write", refusing_write)
    add_events(tailored_redis, events)
    stats = ingest_batch()
    assert (stats.read, stats.new, stats.invalid) == (9, 8, 1)
    assert poison not in {str(pk) for pk in Event.objects.values_list("pk", flat=True)}
    assert EventCounts.objects.get().count == 8
    assert "refused by the database" in caplog.text
    assert stream_length(tailored_redis) == 0


def test_stopped_consumers_holding_nothing_are_forgotten(tailored_redis, monkeypatch, claim_immediately):
    from tailored_cms.tracking.ingest import consumer_group

    visitor = vid()
    add_events(tailored_redis, [TrackedEvent(visitor, "click", ts=T0)])
    ingest_batch("stopped")  # read and acknowledged: holds nothing
    add_events(tailored_redis, [TrackedEvent(visitor, "click", ts=T0)])
    with pytest.raises(Crash):
        ingest_batch("holding", before_commit=crash)  # holds one entry
    monkeypatch.setattr(consumer_group, "FORGET_CONSUMERS_AFTER", timedelta(0))
    monkeypatch.setattr(consumer_group, "_forgotten_at", 0.0)
    time.sleep(0.01)
    consumer_group.forget_idle_consumers(tailored_redis)
    consumers = tailored_redis.xinfo_consumers(stream_key(), "tailored:ingest")
    assert [(c["name"], c["pending"]) for c in consumers] == [(b"holding", 1)]


def test_a_visitor_who_refused_tracking_by_the_time_of_the_ingest_has_nothing_stored(tagged_page, tailored_redis):
    """The database's answer wins over the copy the request path read (Redis may have served an older one)."""
    tagged_page("sports", topics=["sports"])
    refusing, consenting = Visitor.objects.create(tracking_consent=False), Visitor.objects.create(tracking_consent=True)
    add_events(tailored_redis, [view(str(refusing.pk), "/sports/"), view(str(consenting.pk), "/sports/")])

    stats = ingest_batch()

    assert (stats.read, stats.new, stats.refused) == (2, 1, 1)
    assert [str(e.visitor_id) for e in Event.objects.all()] == [str(consenting.pk)]
    assert topic_counts(str(refusing.pk)) == {} and not EventCounts.objects.filter(visitor_id=refusing.pk).exists()
    refusing.refresh_from_db()
    assert (refusing.visits, refusing.last_seen) == (0, None)
    assert stream_length(tailored_redis) == 0  # acknowledged: not read again
