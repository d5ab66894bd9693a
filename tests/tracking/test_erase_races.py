"""Erase and purge while the ingest is storing the same visitor's events: both finish, and no event outlives
its visitor.

The ingest holds its visitors locked from insert to commit; erase and purge lock a visitor before deleting it and
its events (before, an erase or a purge that met a batch in flight failed on the events' foreign key); a visitor
gone before the ingest's lock has their events dropped (before, the batch failed). Each race is run for real: the
ingest's transaction is held open (``before_commit``) while another thread erases or purges.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tailored_cms import bulk_sql as tracking_sql
from tailored_cms.privacy import erase_visitor
from tailored_cms.tracking import TrackedEvent, ingest_batch
from tailored_cms.tracking.models import Event, EventCounts
from tailored_cms.tracking.retention import purge
from tailored_cms.visitors.models import Visitor

from .conftest import DESKTOP_UA, add_events

WAIT = 0.5  # how long the ingest keeps its transaction open with the other thread waiting on it (seconds)


def views(visitor: str, n: int) -> list[TrackedEvent]:
    return [TrackedEvent.page_view(visitor, "/sports/", user_agent=DESKTOP_UA, host="example.com") for _ in range(n)]


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run)
    return thread, errors


def while_ingesting(work: Callable[[], object]) -> list[BaseException]:
    """Ingest one batch; before it commits, start ``work`` in another thread and check that it waits for the
    commit (it must not finish while the batch's visitors are locked). Returns the thread's errors."""
    thread, errors = in_thread(work)

    def before_commit() -> None:
        thread.start()
        thread.join(WAIT)
        assert thread.is_alive(), "erase/purge went ahead while the ingest held the visitor"

    ingest_batch(before_commit=before_commit)
    thread.join(30)
    assert not thread.is_alive()
    return errors


@pytest.mark.usefixtures("shared_db")
def test_an_erase_during_a_batch_waits_for_it_and_deletes_its_events_too(tagged_page, tailored_redis):
    tagged_page("sports", topics=["sports"])
    visitor = Visitor.objects.create(tracking_consent=True)
    Event.objects.create(id=uuid.uuid4(), visitor=visitor, name="click", ts=timezone.now())
    add_events(tailored_redis, views(str(visitor.pk), 3))

    errors = while_ingesting(lambda: erase_visitor(visitor.pk))

    assert errors == []
    assert not Visitor.objects.filter(pk=visitor.pk).exists()
    assert not Event.objects.filter(visitor_id=visitor.pk).exists()
    assert not EventCounts.objects.filter(visitor_id=visitor.pk).exists()


@pytest.mark.usefixtures("shared_db")
def test_a_visitor_the_batch_makes_active_again_is_not_purged_under_it(tagged_page, tailored_redis, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "RETENTION_DAYS": 30}
    tagged_page("sports", topics=["sports"])
    long_ago = timezone.now() - timedelta(days=40)
    returning = Visitor.objects.create(tracking_consent=True, last_seen=long_ago)
    Visitor.objects.filter(pk=returning.pk).update(updated_at=long_ago)
    add_events(tailored_redis, views(str(returning.pk), 2))

    errors = while_ingesting(purge)

    assert errors == []
    returning.refresh_from_db()
    assert returning.last_seen > long_ago
    assert Event.objects.filter(visitor_id=returning.pk).count() == 2


@pytest.mark.django_db
def test_events_of_a_visitor_erased_between_their_insert_and_their_lock_are_dropped(
    tagged_page, tailored_redis, monkeypatch
):
    """The erase committed after the ingest made sure the visitor exists and before it locked them."""
    tagged_page("sports", topics=["sports"])
    erased, staying = Visitor.objects.create(tracking_consent=True), Visitor.objects.create(tracking_consent=True)
    add_events(tailored_redis, views(str(erased.pk), 2) + views(str(staying.pk), 1))
    lock = tracking_sql.lock

    def erase_then_lock(model, keys, fields):  # type: ignore[no-untyped-def]
        Visitor.objects.filter(pk=erased.pk).delete()
        return lock(model, keys, fields)

    monkeypatch.setattr(tracking_sql, "lock", erase_then_lock)

    stats = ingest_batch()

    assert (stats.read, stats.new, stats.refused) == (3, 1, 2)
    assert [str(e.visitor_id) for e in Event.objects.all()] == [str(staying.pk)]
    assert not EventCounts.objects.filter(visitor_id=erased.pk).exists()
