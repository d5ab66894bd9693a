"""Tailored pages while Redis is down: they answer from the database, and use Redis again once it is back.

The private redis-server is really stopped (and started again, empty, as a Redis without persistence). The
circuit breaker (``tailored_cms.connection``) makes the outage cost one failed attempt, not one per request.
Redis restarted empty has lost the active segments as well: until the worker's next run publishes them again
(``rules.active.republish_if_lost``), areas targeted at segments show their fallback.
"""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from tailored_cms import api
from tailored_cms import connection as tailored_connection
from tailored_cms.tracking import drain, stream_key
from tailored_cms.visitors.models import StaleSnapshot, Visitor

from ..tracking.tcp_proxy import TcpProxy
from .conftest import placeholder, text

pytestmark = pytest.mark.django_db
PREFERENCES = "/tailored/api/v1/preferences/"
NAMES = ("SPORTS", "DARK", "CHOSEN FOR YOU", "REGULARS", "EVERYONE")


@pytest.fixture
def tailored_page(make_page, django_capture_on_commit_callbacks):
    """A page with a customization area (the visitor's choices) and a personalization area (their segments)."""
    api.create_topic("sports")
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("regulars", "Regulars", rules={"rule": "visit_count", "min": 3})
    page = make_page("Home", slug="home")
    content = placeholder(page, "content")
    chosen = api.add_area(content, strategy="customization", label="Chosen")
    text(content, "<p>SPORTS</p>", target=api.add_variant(chosen, label="Sports", topics=["sports"]))
    text(content, "<p>DARK</p>", target=api.add_variant(chosen, label="Dark", themes=["dark"]))
    text(content, "<p>CHOSEN FOR YOU</p>", target=api.add_variant(chosen, label="Default", fallback=True))
    targeted = api.add_area(content, strategy="personalization", label="Targeted")
    text(content, "<p>REGULARS</p>", target=api.add_variant(targeted, label="Regulars", segments=["regulars"]))
    text(content, "<p>EVERYONE</p>", target=api.add_variant(targeted, label="Everyone", fallback=True))
    return page.get_absolute_url()


def shown(client: Client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    return {name for name in NAMES if f"<p>{name}</p>" in html}


def choose(client: Client, **choices) -> None:
    client.get(PREFERENCES)  # the CSRF cookie
    response = client.patch(
        PREFERENCES,
        json.dumps(choices),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200, response.content


def test_with_redis_stopped_pages_answer_from_the_database_and_use_redis_again_once_it_is_back(
    tailored_page, visitor_client, client, redis_server, tailored_redis, redis_round_trips, settings
):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "REDIS_RETRY_AFTER": 0.5}
    url = tailored_page
    fan = visitor_client(topics=["sports"], visits=5, tracking_consent=True)
    api.recompute_segments()
    assert shown(fan, url) == {"SPORTS", "REGULARS"}
    assert shown(client, url) == {"CHOSEN FOR YOU", "EVERYONE"}

    redis_server.stop()
    try:
        failures = tailored_connection.failures
        redis_round_trips.commands.clear()
        # The visitor's choices and segments come from the database; a visitor without a cookie sees the defaults.
        assert shown(fan, url) == {"SPORTS", "REGULARS"}
        assert shown(client, url) == {"CHOSEN FOR YOU", "EVERYONE"}
        assert shown(fan, url) == {"SPORTS", "REGULARS"}
        # The breaker: the first request tried Redis and failed; the next ones didn't wait for it.
        assert len(redis_round_trips.commands) == 1 and tailored_connection.failures > failures
        choose(fan, topics=[], theme="dark")  # a choice saved while Redis is down: the database has it
        assert shown(fan, url) == {"DARK", "REGULARS"}
    finally:
        redis_server.start()

    time.sleep(0.6)  # REDIS_RETRY_AFTER: the breaker lets the next request try Redis again
    # Redis came back empty: the snapshot is read from the DB (the choice made meanwhile with it) and stored again.
    assert "DARK" in shown(fan, url)
    assert tailored_redis.exists(tailored_connection.key("snap", str(Visitor.objects.get(visits=5).pk)))
    # The active segments were lost too: the worker's next run publishes them again.
    assert drain(max_seconds=5).new > 0
    assert shown(fan, url) == {"DARK", "REGULARS"}
    redis_round_trips.commands.clear()
    assert shown(fan, url) == {"DARK", "REGULARS"}
    assert len(redis_round_trips.commands) == 1  # from Redis again: one round trip for the snapshot
    assert shown(client, url) == {"CHOSEN FOR YOU", "EVERYONE"}


@pytest.fixture
def redis_behind_a_proxy(redis_server, settings):
    """The site reaches the private Redis through a TCP proxy the test can cut: a partition, Redis keeps its data."""
    host, port = redis_server.url.split("//")[1].split("/")[0].split(":")
    proxy = TcpProxy(host, int(port))
    settings.TAILORED_CMS = {
        **settings.TAILORED_CMS,
        "REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0",
        "REDIS_RETRY_AFTER": 0.2,
    }
    yield proxy
    proxy.close()


def test_changes_saved_during_a_partition_are_not_undone_by_the_copy_redis_kept(
    tailored_page, visitor_client, tailored_redis, redis_behind_a_proxy
):
    """A choice and a refusal of tracking saved while the site can't reach Redis (which keeps its data): once the
    worker ran, the page shows the new choice and the refusal holds; before that, the ingest stores nothing of
    the visitor whatever the old copy says."""
    url = tailored_page
    fan = visitor_client(topics=["sports"], tracking_consent=True)
    visitor_id = str(Visitor.objects.get().pk)
    assert shown(fan, url) == {"SPORTS", "EVERYONE"}  # Redis holds the fan's snapshot now
    snap = tailored_connection.key("snap", visitor_id)
    assert tailored_redis.exists(snap)

    redis_behind_a_proxy.cut()
    choose(fan, topics=[], theme="dark")
    response = fan.put(
        "/tailored/api/v1/consent/",
        json.dumps({"tracking": False}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=fan.cookies["csrftoken"].value,
    )
    assert response.status_code == 200
    assert json.loads(tailored_redis.get(snap))["topics"] == ["sports"]  # the site could not overwrite it
    assert StaleSnapshot.objects.filter(visitor_id=visitor_id).exists()
    redis_behind_a_proxy.restore()
    time.sleep(0.3)  # REDIS_RETRY_AFTER

    drain(max_seconds=5)  # the worker's next run, every second with beat

    assert not tailored_redis.exists(snap) and not StaleSnapshot.objects.exists()
    before = tailored_redis.xlen(stream_key())
    assert shown(fan, url) == {"DARK", "EVERYONE"}
    assert shown(fan, url) == {"DARK", "EVERYONE"}
    assert tailored_redis.xlen(stream_key()) == before  # the refusal holds: no page view captured
    assert json.loads(tailored_redis.get(snap))["tracking_consent"] is False
