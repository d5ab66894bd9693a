"""Staff see whether tracking keeps up, and how often events took the database path because Redis was down."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tailored_cms import connection
from tailored_cms.tracking.health import tracking_health
from tailored_cms.tracking.ingest import drain
from tailored_cms.tracking.models import Event, SpooledEvent

from .conftest import consenting_client

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:tailored_cms_event_changelist"


def consenting_visitor() -> Client:
    return consenting_client()


def fallback_figures(html: str) -> tuple[int, int]:
    match = re.search(r'data-tailored-fallback-today="(\d+)" data-tailored-fallback-total="(\d+)"', html)
    assert match, html
    return int(match[1]), int(match[2])


def test_events_kept_in_the_database_while_redis_was_down_are_counted_for_staff(
    admin_client, redis_server, tagged_page
):
    tagged_page("news")
    visitor = consenting_visitor()
    redis_server.stop()
    try:
        assert visitor.get("/news/").status_code == 200
        assert visitor.get("/news/").status_code == 200
        assert SpooledEvent.objects.count() == 2
        down = admin_client.get(reverse(CHANGELIST)).content.decode()
        assert "Redis is unreachable" in down
    finally:
        redis_server.start()
        connection.reset()  # as if REDIS_RETRY_AFTER had passed

    stats = drain(max_seconds=5)
    assert stats.spooled == 2 and Event.objects.filter(name="page_view").count() == 2
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert fallback_figures(html) == (2, 2)
    assert "Redis is unreachable" not in html


def test_the_backlog_shows_events_waiting_in_the_stream(tailored_redis, tagged_page):
    tagged_page("news")
    visitor = consenting_visitor()
    visitor.get("/news/")
    visitor.get("/news/")
    health = tracking_health()
    assert (health.redis_reachable, health.waiting, health.pending, health.spooled) == (True, 2, 0, 0)
    assert health.fallback_total == 0
    drain(max_seconds=5)
    assert tracking_health().waiting == 0


def test_the_event_list_is_read_only_for_staff(admin_client, client):
    assert admin_client.get(reverse("admin:tailored_cms_event_add")).status_code == 403
    assert client.get(reverse(CHANGELIST)).status_code == 302  # visitors are sent to the login page
