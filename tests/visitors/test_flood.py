"""A flood of new visitors can't exhaust Redis: snapshots expire, and under a memory cap they are what goes.

The deployment docs/deployment.md recommends: ``maxmemory`` with ``maxmemory-policy volatile-lru``. Only keys with an
expiry can be evicted — snapshots (a cache of the database) and rate counters — never the event stream, so
memory stays under the cap and no accepted event is lost.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from tailored_cms import connection
from tailored_cms.conf import tailored_settings
from tailored_cms.middleware import TailoredMiddleware
from tailored_cms.tracking.models import SpooledEvent
from tailored_cms.tracking.stream import stream_key

pytestmark = pytest.mark.django_db
factory = RequestFactory()
NEW_VISITORS = 4000
CAP = 1536 * 1024  # bytes of Redis memory the flood may add


def first_visit() -> HttpResponse:
    request = factory.get("/news/", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0")
    request.user = AnonymousUser()
    return TailoredMiddleware(lambda r: HttpResponse("ok"))(request)


@pytest.fixture
def capped_redis(tailored_redis):
    """The test's private Redis with a memory cap just above what it holds now, as docs/deployment.md deploys it."""
    before = tailored_redis.config_get("maxmemory*")
    baseline = tailored_redis.info("memory")["used_memory"]
    tailored_redis.config_set("maxmemory", baseline + CAP)
    tailored_redis.config_set("maxmemory-policy", "volatile-lru")
    yield tailored_redis, baseline
    tailored_redis.config_set("maxmemory", before["maxmemory"])
    tailored_redis.config_set("maxmemory-policy", before["maxmemory-policy"])


def snapshot_keys(client) -> list[bytes]:
    return list(client.scan_iter(connection.key("snap", "*"), count=1000))


def test_every_key_a_new_visitor_leaves_in_redis_expires(settings, tailored_redis):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "implied"}
    for _ in range(20):
        assert "tailored_vid" in first_visit().cookies
    keys = [key for key in tailored_redis.scan_iter() if key != stream_key().encode()]
    assert len(keys) == 20  # one snapshot per new visitor, nothing else
    assert all(0 < tailored_redis.ttl(key) <= tailored_settings.SNAPSHOT_TTL for key in keys)
    assert tailored_redis.ttl(stream_key()) == -1  # the stream never expires: it holds accepted events


def test_a_flood_of_new_visitors_stays_under_the_memory_cap_and_loses_no_event(settings, capped_redis):
    client, baseline = capped_redis
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "implied"}
    peak = 0
    for n in range(NEW_VISITORS):
        assert first_visit().status_code == 200
        if n % 250 == 0:
            peak = max(peak, client.info("memory")["used_memory"])
    peak = max(peak, client.info("memory")["used_memory"])

    # Redis evicts before each write, so one write may overshoot the cap by its own size: allow 2%.
    assert peak <= baseline + CAP * 1.02
    # Every page view was accepted: in the stream, or (had Redis refused a write) in the database spool.
    assert client.xlen(stream_key()) + SpooledEvent.objects.count() == NEW_VISITORS
    assert SpooledEvent.objects.count() == 0  # the cap was met by evicting snapshots, not by refusing events
    assert 0 < len(snapshot_keys(client)) < NEW_VISITORS  # the oldest snapshots made room
    assert client.info("stats")["evicted_keys"] > 0
