"""Render cost: the demo homepage (tailored areas, a widget board) against its content in plain placeholders.

In-process through Django's test client (middleware included), requests interleaved so drift hits both sides.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import redis
from cms.api import add_plugin, create_page
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from tailored_cms import api

REQUESTS = 300
CACHES_OFF = {"CMS_PAGE_CACHE": False, "CMS_PLACEHOLDER_CACHE": False, "CMS_PLUGIN_CACHE": False}


def build_plain_page() -> str:
    page = create_page("Plain", "home.html", "en", slug="plain")
    slots = {ph.slot: ph for ph in page.get_content_obj("en").rescan_placeholders().values()}
    add_plugin(slots["hero"], "TextPlugin", "en", body="<h2>Tonight's big match</h2><p>Live scores.</p>")
    add_plugin(slots["content"], "TextPlugin", "en", body="<h3>Cup final goes to extra time</h3><p>Late.</p>")
    add_plugin(slots["content"], "TextPlugin", "en", body="<h3>A phone that lasts a week</h3><p>Battery.</p>")
    for title in ("Quote of the day", "Scores", "Markets", "Weather"):
        add_plugin(slots["widgets"], "TextPlugin", "en", body=f"<h2>{title}</h2><p>Some text.</p>")
    # The same panel and feed as the homepage: the comparison is about areas and boards.
    add_plugin(slots["sidebar"], "PreferencesPanelPlugin", "en")
    add_plugin(slots["sidebar"], "TopicFeedPlugin", "en", title="For you", limit=6)
    return "/plain/"


def visitor_client() -> Client:
    client = Client()
    client.get("/tailored/api/v1/preferences/")
    token = client.cookies["csrftoken"].value
    widgets = client.get("/").content.decode()
    keys = [chunk.split('"')[0] for chunk in widgets.split('data-tailored-widget="')[1:]]
    response = client.patch(
        "/tailored/api/v1/preferences/",
        {
            "topics": ["sports", "technology"],
            "theme": "dark",
            "layout": "grid",
            "widgets": {"order": keys[::-1], "hidden": keys[:1]},
        },
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200, response.content
    return client


def median_ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


def measure(client: Client, url: str) -> tuple[float, int, int]:
    """One request: seconds, SQL queries, Redis round trips."""
    calls = [0]
    original = redis.Redis.execute_command

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return original(self, *args, **kwargs)

    redis.Redis.execute_command = counting  # type: ignore[method-assign]
    try:
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - start
    finally:
        redis.Redis.execute_command = original  # type: ignore[method-assign]
    assert response.status_code == 200
    return elapsed, len(queries), calls[0]


def compare(label: str, client_factory: Callable[[], Client], cache_settings: dict[str, bool]) -> list[dict[str, str]]:
    client = client_factory()
    with override_settings(**cache_settings):
        for url in ("/", "/plain/"):  # warm up (and fill the caches when they are on)
            measure(client, url)
        tailored, plain = [], []
        for _ in range(REQUESTS):
            tailored.append(measure(client, "/"))
            plain.append(measure(client, "/plain/"))
    t_ms, p_ms = median_ms([t[0] for t in tailored]), median_ms([p[0] for p in plain])
    return [
        {
            "figure": f"{label}: median latency",
            "tailored": f"{t_ms:.2f} ms",
            "baseline": f"{p_ms:.2f} ms",
            "ratio": f"{t_ms / p_ms:.2f}x",
            "target": "<= 1.15x" if "off" in label else "-",
        },
        {
            "figure": f"{label}: SQL queries",
            "tailored": str(max(t[1] for t in tailored)),
            "baseline": str(max(p[1] for p in plain)),
            "ratio": f"+{max(t[1] for t in tailored) - max(p[1] for p in plain)}",
            "target": "<= +2",
        },
        {
            "figure": f"{label}: Redis round trips",
            "tailored": str(max(t[2] for t in tailored)),
            "baseline": str(max(p[2] for p in plain)),
            "ratio": "-",
            "target": "<= 1",
        },
    ]


def run() -> list[dict[str, str]]:
    call_command("migrate", verbosity=0)
    call_command("tailored_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    api.create_topic("sports")
    build_plain_page()
    rows = []
    rows += compare("anonymous, caches off", Client, CACHES_OFF)
    rows += compare("visitor with choices, caches off", visitor_client, CACHES_OFF)
    rows += compare("visitor with choices, caches on", visitor_client, {})
    return rows
