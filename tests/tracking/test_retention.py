"""Retention: ``tailored_purge`` (and its daily task) removes exactly what is older than ``RETENTION_DAYS``."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from tailored_cms import api, connection
from tailored_cms.tasks import BEAT_SCHEDULE
from tailored_cms.tracking.models import Event, EventCounts, SpooledEvent, TopicViews
from tailored_cms.tracking.retention import cutoff, purge
from tailored_cms.tracking.stream import TrackedEvent
from tailored_cms.tracking.tasks import PURGE_TASK, purge_expired
from tailored_cms.visitors.models import Visitor
from tailored_cms.visitors.snapshot import Snapshot
from tailored_cms.visitors.store import get_store

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAYS = 30
CUTOFF = NOW - timedelta(days=DAYS)  # 2026-05-02 12:00 UTC
TICK = timedelta(microseconds=1)


@pytest.fixture(autouse=True)
def retention(settings) -> None:
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "RETENTION_DAYS": DAYS}
    settings.TIME_ZONE = "UTC"


def visitor(*, last_seen: datetime | None, updated: datetime, user=None) -> Visitor:
    row = Visitor.objects.create(user=user, last_seen=last_seen)
    Visitor.objects.filter(pk=row.pk).update(created_at=updated - timedelta(days=1), updated_at=updated)
    return row


def event(owner: Visitor, ts: datetime, name: str = "click") -> Event:
    return Event.objects.create(id=uuid.uuid4(), visitor=owner, name=name, ts=ts)


def spooled(created: datetime) -> SpooledEvent:
    row = SpooledEvent.objects.create(data=TrackedEvent(visitor_id=str(uuid.uuid4()), name="click").encode())
    SpooledEvent.objects.filter(pk=row.pk).update(created_at=created)
    return row


def test_the_cutoff_is_retention_days_before_now():
    assert cutoff(NOW) == CUTOFF


def test_events_older_than_the_cutoff_go_and_the_rest_stay():
    owner = visitor(last_seen=NOW, updated=NOW)
    old = [event(owner, CUTOFF - TICK), event(owner, CUTOFF - timedelta(days=400))]
    kept = [event(owner, CUTOFF), event(owner, CUTOFF + TICK), event(owner, NOW)]
    result = purge(NOW)
    assert result.events == len(old)
    assert set(Event.objects.values_list("pk", flat=True)) == {e.pk for e in kept}


@pytest.mark.parametrize("model, key", [(TopicViews, "topic"), (EventCounts, "name")])
def test_counters_of_days_wholly_before_the_cutoff_go(model, key):
    owner = visitor(last_seen=NOW, updated=NOW)
    days = [date(2026, 4, 1), date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3), date(2026, 6, 1)]
    for day in days:
        model.objects.create(visitor=owner, day=day, count=3, **{key: "sports"})
    result = purge(NOW)
    # 2026-05-02 is partly after the cutoff (12:00): kept; 2026-05-01 ended before it: gone.
    assert sorted(model.objects.values_list("day", flat=True)) == days[2:]
    assert result.topic_views + result.event_counts == 2


def test_spooled_rows_older_than_the_cutoff_go():
    old, edge, new = spooled(CUTOFF - TICK), spooled(CUTOFF), spooled(NOW)
    assert purge(NOW).spooled_events == 1
    assert set(SpooledEvent.objects.values_list("pk", flat=True)) == {edge.pk, new.pk}
    assert old.pk not in set(SpooledEvent.objects.values_list("pk", flat=True))


def test_only_anonymous_visitors_inactive_since_before_the_cutoff_go(tailored_redis):
    user = get_user_model().objects.create_user("ada")
    gone = [
        visitor(last_seen=CUTOFF - TICK, updated=CUTOFF - TICK),
        visitor(last_seen=None, updated=CUTOFF - TICK),  # chose something once, never tracked
        visitor(last_seen=CUTOFF - timedelta(days=300), updated=CUTOFF - timedelta(days=200)),
    ]
    kept = [
        visitor(last_seen=CUTOFF, updated=CUTOFF - timedelta(days=5)),  # at the boundary
        visitor(last_seen=NOW, updated=CUTOFF - timedelta(days=5)),  # seen recently
        visitor(last_seen=CUTOFF - timedelta(days=5), updated=NOW - timedelta(days=1)),  # changed a choice lately
        visitor(last_seen=None, updated=CUTOFF),  # at the boundary
        visitor(last_seen=CUTOFF - timedelta(days=300), updated=CUTOFF - timedelta(days=300), user=user),
    ]
    for row in gone + kept:
        get_store().set(Snapshot.from_visitor(row))
    event(gone[0], CUTOFF - timedelta(days=2))
    TopicViews.objects.create(visitor=gone[0], topic="sports", day=date(2026, 4, 1), count=1)

    result = purge(NOW, chunk=2)  # several chunks

    assert result.visitors == len(gone)
    assert set(Visitor.objects.values_list("pk", flat=True)) == {row.pk for row in kept}
    assert not Event.objects.exists() and not TopicViews.objects.exists()
    snapshots = {row.pk: tailored_redis.exists(connection.key("snap", str(row.pk))) for row in gone + kept}
    assert [snapshots[row.pk] for row in gone] == [0, 0, 0]
    assert [snapshots[row.pk] for row in kept] == [1] * len(kept)
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_chunked_deletes_remove_everything_expired():
    owner = visitor(last_seen=NOW, updated=NOW)
    Event.objects.bulk_create(
        Event(id=uuid.uuid4(), visitor=owner, name="click", ts=CUTOFF - timedelta(minutes=i + 1)) for i in range(25)
    )
    event(owner, NOW)
    assert purge(NOW, chunk=4).events == 25
    assert Event.objects.count() == 1


def test_nothing_expired_is_a_no_op():
    owner = visitor(last_seen=NOW, updated=NOW)
    event(owner, NOW)
    result = purge(NOW)
    counts = result.as_dict()
    assert counts.pop("cutoff") == CUTOFF.isoformat()
    assert set(counts.values()) == {0}
    assert Event.objects.count() == 1 and Visitor.objects.count() == 1


def test_the_command_purges_and_prints_a_summary():
    now = timezone.now()
    stale = visitor(last_seen=now - timedelta(days=DAYS + 1), updated=now - timedelta(days=DAYS + 1))
    fresh = visitor(last_seen=now, updated=now)
    event(stale, now - timedelta(days=DAYS + 1))
    event(fresh, now - timedelta(days=DAYS + 1))
    event(fresh, now)
    spooled(now - timedelta(days=DAYS + 2))
    out = io.StringIO()
    call_command("tailored_purge", stdout=out)
    text = out.getvalue()
    assert "2 events" in text and "1 spooled events" in text and "1 inactive anonymous visitors" in text
    assert "0 topic view counters" in text and "0 event counters" in text
    assert list(Visitor.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert Event.objects.count() == 1


def test_the_daily_task_runs_the_purge_and_is_scheduled():
    owner = visitor(last_seen=None, updated=timezone.now() - timedelta(days=DAYS + 1))
    counts = purge_expired()
    assert counts["visitors"] == 1 and not Visitor.objects.filter(pk=owner.pk).exists()
    scheduled = [entry for entry in BEAT_SCHEDULE.values() if entry["task"] == PURGE_TASK]
    assert len(scheduled) == 1
    assert scheduled[0]["schedule"].remaining_estimate(timezone.now()) <= timedelta(days=1)


def test_an_inactive_anonymous_visitors_traits_go_with_them_and_a_users_stay():
    user = get_user_model().objects.create_user("ada")
    anonymous = visitor(last_seen=None, updated=CUTOFF - TICK)
    Visitor.objects.filter(pk=anonymous.pk).update(traits={"plan": "free"})
    api.set_traits(user, plan="pro")
    Visitor.objects.filter(user=user).update(updated_at=CUTOFF - timedelta(days=300))

    purge(NOW)

    assert not Visitor.objects.filter(pk=anonymous.pk).exists()
    assert api.get_traits(user) == {"plan": "pro"}  # part of the account, as the user's choices are
