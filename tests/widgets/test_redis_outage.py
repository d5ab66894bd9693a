"""Tailored pages while Redis is down: they answer from the database, and use Redis again once it is back.

The private redis-server is really stopped (and started again, empty, as a Redis without persistence). The
circuit breaker (``tailored_cms.connection``) makes the outage cost one failed attempt, not one per request.
Redis restarted empty has lost the active segments as well: until a worker publishes them again (its next drain
with events, or recompute), areas targeted at segments show their fallback.
"""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from tailored_cms import api
from tailored_cms import connection as tailored_connection
from tailored_cms.tracking import drain
from tailored_cms.visitors.models import Visitor

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
    # The active segments were lost too: the worker's next run (the fan's views to ingest) publishes them again.
    assert drain(max_seconds=5).new > 0
    assert shown(fan, url) == {"DARK", "REGULARS"}
    redis_round_trips.commands.clear()
    assert shown(fan, url) == {"DARK", "REGULARS"}
    assert len(redis_round_trips.commands) == 1  # from Redis again: one round trip for the snapshot
    assert shown(client, url) == {"CHOSEN FOR YOU", "EVERYONE"}
