"""Render cost: a page of four tailored areas against the same content in plain placeholders.

The tailored page (``/bench-tailored/``): four tailored areas of five variants each, with every strategy that reads
the visitor (customization, personalization, hybrid), variants targeted at topics, themes, layouts and segments;
twenty active segments (behavioural, request-time and mixed ones), recomputed so that the bench's visitor is in
eight of them. The visitor has chosen topics, a theme and a layout and agreed to tracking (so each page view is
also captured into the event stream, in the snapshot's round trip). The plain page (``/bench-plain/``): the same
template, its placeholders holding text plugins with exactly what that visitor sees on the tailored page.

1. Served: gunicorn (bench/served.py) on loopback, with the visitor's cookie, the tables analyzed; on a VM whose
   speed changes from one second to the next, only pages measured in the same moments compare. With django CMS's
   caches off: the median latency of each page, each served by a gunicorn of its own (2 sync workers), one
   request at a time, the pages in turn (tailored, chosen, plain, tailored, …) for 12 s, from a raw socket
   (``served.alternate``); the run's ratio is the tailored page's median over the plain page's. Five runs, each
   with new servers (one run's ratio moves by a few percent with where its processes land): the median of their
   ratios. Each response also says the CPU time its view took (bench/cpu_time.py): the same ratios of CPU time,
   without the waits. With the caches on (the page then comes from the CMS page cache): requests per second
   (2 gthread workers × 2 threads, 4 connections a worker), both pages loaded at once by ``wrk`` with 4
   connections each, in rounds of a second, the median of the rounds' ratios. On PostgreSQL, the tailored and
   plain pages again with caches off, served with Django's own PostgreSQL backend instead of the bench's
   (bench/postgresql/, which parses timestamps in C): what that saves.
2. In-process (Django's test client, ``CaptureQueriesContext``, a Redis command counter): SQL queries and Redis
   round trips per request, with caches off and on, and with 1, 20 and 50 active segments.
3. In-process, what a page costs by the variants its areas hold (``variant_rows``): pages of one area with 2, 10, 40
   and 100 variants, each variant a heading, a text and a link (three text plugins), against the plain page with
   what the visitor sees there; with caches off, the tables analyzed, the pages in turn (in a new order each
   round) through Django's test client, the median latency of each over the plain page's; and the plugins built
   (instances of a plugin model of their own) and SQL queries per request.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import statistics
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from string import Template
from typing import Any

import redis
from cms.api import add_plugin, create_page
from cms.models import CMSPlugin, Page, Placeholder
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_init
from django.http import HttpResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tailored_cms import api
from tailored_cms.areas.models import Variant
from tailored_cms.conf import tailored_settings
from tailored_cms.rules.active import publish_segments
from tailored_cms.rules.models import Segment
from tailored_cms.tracking.models import EventCounts, TopicViews
from tailored_cms.tracking.stream import stream_key
from tailored_cms.visitors.identity import set_visitor_cookie
from tailored_cms.visitors.models import Visitor

from .served import Load, Served, Timed, alternate, load

TAILORED_URL, PLAIN_URL, CHOSEN_URL = "/bench-tailored/", "/bench-plain/", "/bench-chosen/"
# Latency: a gunicorn of 2 sync workers a page, one request at a time (served.alternate): none waits for another.
# Throughput: 2 gthread workers × 2 threads (keep-alive), 8 connections, 4 a worker, as the events bench.
LATENCY_SHAPE, THROUGHPUT_SHAPE = (2, 1), (2, 2)
THROUGHPUT_CONNECTIONS = 8
# Latency: the pages in turn for 12 s, five times, each with servers of their own: on this kind of VM one run's
# ratio moves by a few percent with where its processes land; the median of five runs' ratios is steadier.
LATENCY_SECONDS, LATENCY_RUNS = 12, 5
LATENCY_SLICES = 6  # the in-process variant rows: the ratios printed for each sixth of the run
ROUNDS, ROUND_SECONDS, WARMUP_SECONDS = 16, 1, 2  # throughput: rounds of a second (see the docstring)
IN_PROCESS_REQUESTS = 20
# One area of this many variants against the plain page (variant_rows), each page requested this many times.
VARIANT_COUNTS = (2, 10, 40, 100)
VARIANT_REQUESTS = int(os.environ.get("TAILORED_BENCH_VARIANT_REQUESTS", "800"))
VARIANTS_PLAIN_URL = "/bench-variants-plain/"
# Django's own PostgreSQL backend in place of the bench's (bench/settings.py reads it).
STOCK = {"TAILORED_BENCH_DB_ENGINE": "django.db.backends.postgresql"}
CPU_OR_LATENCY = {"latencies": "median latency", "cpu": "median CPU time per view"}  # Timed's figures
CACHES_OFF = {"CMS_PAGE_CACHE": False, "CMS_PLACEHOLDER_CACHE": False, "CMS_PLUGIN_CACHE": False}
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
TEXT = (
    "Readers who follow this get the long version: background, numbers, what changed since yesterday and what "
    "to watch next. A few sentences of body copy, as an editor would write for a teaser on a homepage."
)

# (placeholder, strategy, max_items, variants): four areas of five variants, every strategy that reads the visitor.
AREAS: list[tuple[str, str, int, list[dict[str, Any]]]] = [
    (
        "first",
        "customization",
        1,
        [
            {"label": "Sports", "topics": ["sports"], "priority": 1},
            {"label": "Technology", "topics": ["technology"]},
            {"label": "Politics", "topics": ["politics"]},
            {"label": "Dark theme", "themes": ["dark"]},
            {"label": "Everyone", "fallback": True},
        ],
    ),
    (
        "second",
        "personalization",
        1,
        [
            {"label": "Newcomers", "segments": ["newcomers"], "priority": 3},
            {"label": "Regulars", "segments": ["regulars"], "priority": 2},
            {"label": "Sports readers", "segments": ["sports-readers"], "priority": 1},
            {"label": "Phones", "segments": ["phones", "tablets"]},
            {"label": "Everyone", "fallback": True},
        ],
    ),
    (
        "third",
        "hybrid",
        2,
        [
            {"label": "Technology", "topics": ["technology"], "layouts": ["grid"]},
            {"label": "Clickers", "segments": ["clickers"], "priority": 1},
            {"label": "Lapsed", "segments": ["lapsed"], "priority": 2},
            {"label": "Campaign", "segments": ["campaign", "from-news"]},
            {"label": "Everyone", "fallback": True},
        ],
    ),
    (
        "fourth",
        "hybrid",
        3,
        [
            {"label": "Politics", "topics": ["politics"]},
            {"label": "Desktop", "segments": ["desktop"]},
            {"label": "Mobile regulars", "segments": ["mobile-regulars"], "priority": 5},
            {"label": "Sports followers", "segments": ["sports-followers", "tech-followers"], "priority": 2},
            {"label": "Everyone", "fallback": True},
        ],
    ),
]

# Twenty segments in the shapes editors build; the visitor is in the first eight.
SEGMENTS: dict[str, dict[str, Any]] = {
    "regulars": {"rule": "visit_count", "min": 3},
    "sports-readers": {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30},
    "clickers": {"rule": "event_count", "name": "click", "min": 2, "days": 14},
    "sports-followers": {"rule": "follows_topic", "topic": "sports"},
    "tech-followers": {"rule": "follows_topic", "topic": "technology"},
    "anonymous": {"rule": "logged_in", "is": False},
    "desktop": {"rule": "device", "is": "desktop"},
    "recent": {"rule": "days_since_last_visit", "max": 3},
    "newcomers": {"rule": "visit_count", "max": 1},
    "lapsed": {"rule": "days_since_last_visit", "min": 30},
    "phones": {"rule": "device", "is": "mobile"},
    "tablets": {"rule": "device", "is": "tablet"},
    "politics-followers": {"rule": "follows_topic", "topic": "politics"},
    "politics-readers": {"rule": "topic_views", "topic": "politics", "min": 1, "days": 7},
    "signed-up": {"rule": "event_count", "name": "signup", "min": 1},
    "loyal": {"rule": "visit_count", "min": 50},
    "from-news": {"rule": "referrer_domain", "is": "news.example"},
    "campaign": {"rule": "utm", "source": "newsletter"},
    "not-regulars": {"not": {"rule": "segment", "slug": "regulars"}},
    "mobile-regulars": {"all": [{"rule": "segment", "slug": "regulars"}, {"rule": "device", "is": "mobile"}]},
}
VISITOR_SEGMENTS = 8

# wrk's Lua: GETs with the visitor's cookie; load() adds the counting of the answers.
WRK_SCRIPT = Template(
    """
local threads = {}
sent, answered, ok = 0, 0, 0  -- globals: done() reads them with thread:get()

function setup(thread)
  table.insert(threads, thread)
end

function request()
  sent = sent + 1
  return wrk.format("GET", nil, {["Cookie"] = "$cookie", ["User-Agent"] = "$ua"})
end
"""
)


# --- the pages, the segments, the visitor --------------------------------------------------------------------------


def slots(page: Page) -> dict[str, Placeholder]:
    return {ph.slot: ph for ph in page.get_content_obj("en").rescan_placeholders().values()}


def body(area: str, label: str) -> str:
    return f"<h3>{area}: {label}</h3><p>{TEXT}</p>"


def create_segments(extra: int = 0) -> None:
    """The twenty segments, and ``extra`` more that nobody is in: these enabled, any other (the demo's) not."""
    slugs = [*SEGMENTS, *(f"extra-{n}" for n in range(extra))]
    for slug, tree in SEGMENTS.items():
        api.create_segment(slug, rules=tree)
    for n in range(extra):
        api.create_segment(f"extra-{n}", rules={"all": [{"rule": "visit_count", "min": 1000 + n}]})
    Segment.objects.filter(slug__in=slugs).update(enabled=True)
    Segment.objects.exclude(slug__in=slugs).update(enabled=False)
    publish_segments()
    if Segment.objects.filter(enabled=True).count() != len(slugs):
        raise AssertionError(f"expected {len(slugs)} active segments")


def build_tailored_page(url: str, content_for: set[str] | None = None) -> None:
    """The four areas; each variant holds a text plugin (only those named ``slot: label`` in ``content_for``)."""
    page = create_page(url.strip("/"), "bench_page.html", "en", slug=url.strip("/"))
    placeholders = slots(page)
    for slot, strategy, max_items, variants in AREAS:
        area = api.add_area(placeholders[slot], strategy=strategy, max_items=max_items, label=slot)
        for spec in variants:
            variant = api.add_variant(area, **spec)
            if content_for is None or f"{slot}: {spec['label']}" in content_for:
                add_plugin(placeholders[slot], "TextPlugin", "en", target=variant, body=body(slot, spec["label"]))


def make_visitor() -> str:
    """The bench's visitor: choices, consent, activity that puts them in eight segments. Returns their cookie."""
    now = timezone.now()
    visitor = Visitor.objects.create(
        theme="dark",
        layout="grid",
        topics=["sports", "technology"],
        tracking_consent=True,
        visits=5,
        first_seen=now - timedelta(days=20),
        last_seen=now - timedelta(hours=1),
    )
    TopicViews.objects.create(visitor=visitor, topic="sports", day=now.date(), count=4)
    EventCounts.objects.create(visitor=visitor, name="click", day=now.date(), count=3)
    response = HttpResponse()
    set_visitor_cookie(response, str(visitor.pk))
    return response.cookies[tailored_settings.COOKIE_NAME].value


def visitor_client(cookie: str) -> Client:
    client = Client(HTTP_USER_AGENT=UA)
    client.cookies[tailored_settings.COOKIE_NAME] = cookie
    return client


def shown_variants(html: str) -> list[Variant]:
    """The variants a page shows, in page order."""
    keys = re.findall(r'data-tailored-variant="([^"]+)"', html)
    by_key = {variant.key: variant for variant in Variant.objects.filter(tailored_settings__key__in=keys)}
    return [by_key[key] for key in keys]


def build_plain_page(shown: list[Variant]) -> None:
    """The same template, each placeholder holding text plugins with what the visitor sees in that area."""
    page = create_page("Bench plain", "bench_page.html", "en", slug=PLAIN_URL.strip("/"))
    placeholders = slots(page)
    for variant in shown:
        slot = variant.placeholder.slot
        add_plugin(placeholders[slot], "TextPlugin", "en", body=body(slot, variant.label))


def setup() -> tuple[str, list[str]]:
    """Both pages, the segments and the visitor; returns the visitor's cookie and the labels they see."""
    call_command("migrate", verbosity=0)
    call_command("tailored_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - the site's menu and pages
    for slug in ("sports", "technology", "politics"):
        api.create_topic(slug)
    create_segments()
    build_tailored_page(TAILORED_URL)
    cookie = make_visitor()
    summary = api.recompute_segments()
    client = visitor_client(cookie)
    html = client.get(TAILORED_URL).content.decode()
    shown = shown_variants(html)
    if len(shown) < len(AREAS):
        raise AssertionError(f"the bench visitor sees {len(shown)} variants on {TAILORED_URL}")
    build_plain_page(shown)
    labels = [f"{v.placeholder.slot}: {v.label}" for v in shown]
    # The same areas and variants, but only the variants the visitor sees hold content: what the hidden variants'
    # content still costs (a row each in django CMS's query, read without timestamps: areas/fetch.py).
    build_tailored_page(CHOSEN_URL, content_for=set(labels))
    request = client.get(TAILORED_URL).wsgi_request
    segments = request.tailored.segments(request)
    if len(segments) != VISITOR_SEGMENTS:
        raise AssertionError(f"the bench visitor is in {segments} ({summary}), expected {VISITOR_SEGMENTS} segments")
    for url in (PLAIN_URL, CHOSEN_URL):
        seen = re.findall(r"<h3>([^<]*)</h3>", client.get(url).content.decode())
        if seen != labels:
            raise AssertionError(f"{url} shows {seen}, the tailored page {labels}")
    analyze()
    return cookie, labels


def analyze() -> None:
    """On PostgreSQL, the statistics a site's tables have (autovacuum's), not none: the planner then reads a page's
    plugin rows by placeholder, not every row in the page's language."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --- served: gunicorn, loaded by wrk or in turns -------------------------------------------------------------------


def measure_throughput(cookie: str, urls: tuple[str, ...]) -> tuple[dict[str, list[Load]], str]:
    """wrk rounds against ``urls`` at once, each with its share of the connections, on gunicorn's gthread
    workers with django CMS's caches on: the machine's speed of the moment is the same for all pages."""
    script = WRK_SCRIPT.substitute(cookie=f"{tailored_settings.COOKIE_NAME}={cookie}", ua=UA)
    loads: dict[str, list[Load]] = {url: [] for url in urls}
    connection.close()  # gunicorn's workers use the database; this process doesn't hold it meanwhile
    share = THROUGHPUT_CONNECTIONS // len(urls)
    per_worker = THROUGHPUT_CONNECTIONS // THROUGHPUT_SHAPE[0]
    served = Served(*THROUGHPUT_SHAPE, env={"TAILORED_BENCH_CMS_CACHES": "on"}, connections_per_worker=per_worker)
    with served, ThreadPoolExecutor(len(urls)) as pool:
        check_served(served.url, cookie)
        for round_number in range(ROUNDS + 1):  # the first round warms up: imports, connections, templates, caches
            seconds = WARMUP_SECONDS if round_number == 0 else ROUND_SECONDS
            results = list(
                pool.map(lambda url: load(served.url + url, script, seconds=seconds, connections=share), urls)  # noqa: B023
            )
            if round_number == 0:
                continue
            for url, result in zip(urls, results, strict=True):
                if result.ok != result.answered:
                    raise AssertionError(f"{url}: {result.answered - result.ok} answers were not 200")
                loads[url].append(result)
        return loads, served.kind


def measure_latency(
    cookie: str, urls: tuple[str, ...], env: dict[str, str] | None = None
) -> tuple[list[dict[str, Timed]], str]:
    """Each page's latencies and CPU times per view (ms) with django CMS's caches off and ``env`` more, in each of
    ``LATENCY_RUNS`` runs: each page served by a gunicorn of its own (2 sync workers, new for each run), one request
    at a time, the pages in turn (``served.alternate``), for ``LATENCY_SECONDS`` after a warm-up."""
    runs = []
    for _run in range(LATENCY_RUNS):
        connection.close()  # gunicorn's workers use the database; this process doesn't hold it meanwhile
        with contextlib.ExitStack() as stack:
            servers = {
                url: stack.enter_context(
                    Served(*LATENCY_SHAPE, env={"TAILORED_BENCH_CMS_CACHES": "off", **(env or {})})
                )
                for url in urls
            }
            check_served(servers[TAILORED_URL].url, cookie)
            requests = {
                url: (
                    served.port,
                    (
                        f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nUser-Agent: {UA}\r\n"
                        f"Cookie: {tailored_settings.COOKIE_NAME}={cookie}\r\nConnection: close\r\n\r\n"
                    ).encode(),
                )
                for url, served in servers.items()
            }
            alternate(requests, WARMUP_SECONDS)  # imports, connections, templates, caches
            runs.append(alternate(requests, LATENCY_SECONDS))
            kind = f"{servers[TAILORED_URL].kind} a page"
    return runs, kind


def check_served(base: str, cookie: str) -> None:
    """The served tailored page shows the visitor's variants (the cookie, the segments and Redis reach gunicorn)."""
    request = urllib.request.Request(
        base + TAILORED_URL, headers={"Cookie": f"{tailored_settings.COOKIE_NAME}={cookie}", "User-Agent": UA}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        html = response.read().decode()
    expected = visitor_client(cookie).get(TAILORED_URL).content.decode()
    if re.findall(r"<h3>[^<]*</h3>", html) != re.findall(r"<h3>[^<]*</h3>", expected):
        raise AssertionError("gunicorn serves the tailored page with other variants than the visitor's")


def median(values: list[float]) -> float:
    return statistics.median(values)


def round_ratios(loads: dict[str, list[Load]], url: str, base: str, figure: str) -> float:
    """The median over rounds of ``url``'s figure over ``base``'s in the same round: load that changes between
    rounds weighs on both sides of each ratio alike."""
    return median([getattr(a, figure) / getattr(b, figure) for a, b in zip(loads[url], loads[base], strict=True)])


def latency_ratio(timed: dict[str, Timed], url: str, base: str, figure: str = "latencies") -> float:
    """``url``'s median latency (or other ``figure`` of ``Timed``) over ``base``'s, both measured in turn over the
    same seconds."""
    return median(getattr(timed[url], figure)) / median(getattr(timed[base], figure))


def runs_ratio(runs: list[dict[str, Timed]], url: str, base: str, figure: str = "latencies") -> float:
    """The median over ``runs`` of ``latency_ratio``."""
    return median([latency_ratio(timed, url, base, figure) for timed in runs])


def slice_ratios(latencies: dict[str, list[float]], url: str, base: str) -> str:
    """The same ratio in each of ``LATENCY_SLICES`` consecutive parts of the run: how steady it was."""
    size = len(latencies[base]) // LATENCY_SLICES
    parts = [
        median(latencies[url][n * size : (n + 1) * size]) / median(latencies[base][n * size : (n + 1) * size])
        for n in range(LATENCY_SLICES)
    ]
    return ", ".join(f"{ratio:.2f}" for ratio in parts)


def served_rows(cookie: str) -> list[dict[str, str]]:
    off, kind_off = measure_latency(cookie, (TAILORED_URL, CHOSEN_URL, PLAIN_URL))
    on, kind_on = measure_throughput(cookie, (TAILORED_URL, PLAIN_URL))
    # On PostgreSQL, the same with Django's own backend: what the bench's backend (psycopg's C timestamp
    # loader, bench/postgresql/base.py) saves each page, in the same machine's hour.
    stock = measure_latency(cookie, (TAILORED_URL, PLAIN_URL), STOCK)[0] if connection.vendor == "postgresql" else []
    rate = {url: median([x.requests_per_second for x in rounds]) for url, rounds in on.items()}
    how_off = (
        f"served: gunicorn {kind_off}, one request at a time, the pages in turn for {LATENCY_SECONDS} s "
        f"({len(off[0][PLAIN_URL].latencies)} requests each), {LATENCY_RUNS} runs with new servers, the median of "
        "the runs' ratios of median latencies"
    )
    rounds = f"{ROUNDS} rounds of {ROUND_SECONDS} s, median of the rounds' ratios"
    how_on = f"served: gunicorn {kind_on}, both pages at once, wrk -c {THROUGHPUT_CONNECTIONS // 2} each, {rounds}"
    for name, runs in (("caches off", off), ("caches off, Django's backend", stock)):
        for url in runs[0] if runs else ():
            if url != PLAIN_URL:
                for figure in ("latencies", "cpu"):
                    ratios = ", ".join(f"{latency_ratio(timed, url, PLAIN_URL, figure):.3f}" for timed in runs)
                    print(f"  {name}, {url} over {PLAIN_URL} in each run, {CPU_OR_LATENCY[figure]}: {ratios}")
    for url, results in on.items():
        print(f"  cache on, requests/s {url}: {', '.join(f'{x.requests_per_second:.1f}' for x in results)}")

    def latency_row(
        figure: str, runs: list[dict[str, Timed]], url: str, target: str, how: str, measured: str = "latencies"
    ) -> dict[str, str]:
        tailored, plain = (median([median(getattr(run[page], measured)) for run in runs]) for page in (url, PLAIN_URL))
        return {
            "figure": figure,
            "tailored": f"{tailored:.2f} ms",
            "baseline": f"{plain:.2f} ms (plain page)",
            "ratio": f"{runs_ratio(runs, url, PLAIN_URL, measured):.2f}x",
            "target": target,
            "how": how,
        }

    rows = [latency_row("render, caches off: median latency", off, TAILORED_URL, "<= 1.15x", how_off)]
    if stock:
        how_stock = how_off + " (its timestamps parsed in pure Python: Django ticket #36960)"
        rows.append(
            latency_row("  the same with Django's PostgreSQL backend", stock, TAILORED_URL, "<= 1.05x", how_stock)
        )
        how_cpu = how_stock.replace("median latencies", "median CPU times per view (bench/cpu_time.py)")
        rows.append(latency_row("  ↳ its workers' CPU time per view", stock, TAILORED_URL, "-", how_cpu, "cpu"))
    how_chosen = how_off + " (the tailored page's hidden content: left out of its query; this page has none)"
    rows.append(latency_row("  the same areas, content only in the variants shown", off, CHOSEN_URL, "-", how_chosen))
    rows.append(
        {
            "figure": "render, CMS page cache on: requests/s",
            "tailored": f"{rate[TAILORED_URL]:,.0f}",
            "baseline": f"{rate[PLAIN_URL]:,.0f} (plain page)",
            "ratio": f"{round_ratios(on, TAILORED_URL, PLAIN_URL, 'requests_per_second'):.2f}x",
            "target": ">= 0.9x",
            "how": how_on,
        }
    )
    return rows


# --- in-process: queries and round trips ---------------------------------------------------------------------------


@contextlib.contextmanager
def counting_round_trips() -> Iterator[list[int]]:
    """Counts Redis round trips (a command, or a pipeline) made by any client in this process."""
    calls = [0]
    command, pipeline = redis.Redis.execute_command, redis.client.Pipeline.execute

    def counting_command(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return command(self, *args, **kwargs)

    def counting_pipeline(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return pipeline(self, *args, **kwargs)

    redis.Redis.execute_command = counting_command  # type: ignore[method-assign]
    redis.client.Pipeline.execute = counting_pipeline  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        redis.Redis.execute_command = command  # type: ignore[method-assign]
        redis.client.Pipeline.execute = pipeline  # type: ignore[method-assign]


def costs(client: Client, url: str) -> tuple[int, int]:
    """The most SQL queries and Redis round trips of ``IN_PROCESS_REQUESTS`` requests (after two warm-ups)."""
    for _ in range(2):
        client.get(url)
    worst = (0, 0)
    for _ in range(IN_PROCESS_REQUESTS):
        with counting_round_trips() as calls, CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        worst = (max(worst[0], len(queries)), max(worst[1], calls[0]))
    return worst


def in_process_rows(cookie: str) -> list[dict[str, str]]:
    client = visitor_client(cookie)
    how = f"in-process: test client, worst of {IN_PROCESS_REQUESTS} requests"
    with override_settings(**CACHES_OFF):
        tailored, plain = costs(client, TAILORED_URL), costs(client, PLAIN_URL)
    with override_settings(CMS_PAGE_CACHE=True, CMS_PLACEHOLDER_CACHE=True, CMS_PLUGIN_CACHE=True):
        tailored_cached, plain_cached = costs(client, TAILORED_URL), costs(client, PLAIN_URL)
    by_segments = {20: tailored[0]}
    with override_settings(**CACHES_OFF):
        Segment.objects.exclude(slug="regulars").update(enabled=False)
        publish_segments()  # the processes learn it in the snapshot's round trip
        api.recompute_segments()
        by_segments[1] = costs(client, TAILORED_URL)[0]
        create_segments(extra=30)
        api.recompute_segments()
        by_segments[50] = costs(client, TAILORED_URL)[0]
    # Leave the database as the other benches expect it: the demo's segments only, enabled.
    Segment.objects.filter(slug__in=[*SEGMENTS, *(f"extra-{n}" for n in range(30))]).delete()
    Segment.objects.update(enabled=True)
    publish_segments()
    worker = redis.Redis.from_url(tailored_settings.REDIS_URL)
    worker.delete(stream_key())  # the page views the bench captured
    return [
        {
            "figure": "render, caches off: SQL queries per request",
            "tailored": str(tailored[0]),
            "baseline": f"{plain[0]} (plain page)",
            "ratio": f"+{tailored[0] - plain[0]}",
            "target": "<= +2",
            "how": how,
        },
        {
            "figure": "render, caches off: SQL queries with 1 / 20 / 50 segments",
            "tailored": " / ".join(str(by_segments[n]) for n in (1, 20, 50)),
            "baseline": "-",
            "ratio": "same" if len(set(by_segments.values())) == 1 else "differ",
            "target": "the same",
            "how": how,
        },
        {
            "figure": "render: Redis round trips per request (caches off / on)",
            "tailored": f"{tailored[1]} / {tailored_cached[1]}",
            "baseline": f"{plain[1]} / {plain_cached[1]} (plain page)",
            "ratio": "-",
            "target": "<= 1",
            "how": how,
        },
        {
            "figure": "render, CMS page cache on: SQL queries per request",
            "tailored": str(tailored_cached[0]),
            "baseline": f"{plain_cached[0]} (plain page)",
            "ratio": f"+{tailored_cached[0] - plain_cached[0]}",
            "target": "-",
            "how": how,
        },
    ]


# --- in-process: the cost of an area by the variants it holds --------------------------------------------------------


def variant_url(count: int) -> str:
    return f"/bench-variants-{count}/"


def variant_content(n: int) -> list[str]:
    """A variant's content: a heading, a text and a link, each a text plugin."""
    return [f"<h3>Variant {n}</h3>", f"<p>{TEXT}</p>", f'<p><a href="/variant-{n}/">Read more about {n}</a></p>']


def build_variant_pages() -> None:
    """A page of one area per count in ``VARIANT_COUNTS`` (the first variant for sports readers, whom the bench's
    visitor is, the last the fallback, the others for other topics), and the plain page with the first's content."""
    for count in VARIANT_COUNTS:
        url = variant_url(count)
        placeholders = slots(create_page(url.strip("/"), "bench_page.html", "en", slug=url.strip("/")))
        area = api.add_area(placeholders["first"], strategy="customization", label=f"{count} variants")
        for n in range(count):
            topics = ["sports"] if n == 0 else [] if n == count - 1 else [f"topic-{n}"]
            variant = api.add_variant(area, label=f"Variant {n}", topics=topics, fallback=n == count - 1)
            for html in variant_content(n):
                add_plugin(placeholders["first"], "TextPlugin", "en", target=variant, body=html)
    plain = slots(create_page("Bench variants plain", "bench_page.html", "en", slug=VARIANTS_PLAIN_URL.strip("/")))
    for html in variant_content(0):
        add_plugin(plain["first"], "TextPlugin", "en", body=html)


@contextlib.contextmanager
def counting_built() -> Iterator[list[int]]:
    """Counts the plugin instances built: instances of a plugin model of its own (a ``Text``, not a bare row)."""
    built = [0]

    def count(sender: type, **kwargs: Any) -> None:
        if issubclass(sender, CMSPlugin) and sender._meta.concrete_model is not CMSPlugin:
            built[0] += 1

    post_init.connect(count, weak=False)
    try:
        yield built
    finally:
        post_init.disconnect(count)


@contextlib.contextmanager
def djangos_backend() -> Iterator[str]:
    """This process on Django's own PostgreSQL backend (timestamps parsed in Python), on a new connection, when it
    runs the bench's (bench/postgresql/); yields the database as the rows name it."""
    if not hasattr(connection, "c_timestamps"):
        yield connection.vendor
        return
    from psycopg.pq import Format

    from .postgresql.base import TIMESTAMPTZ_OID, CTzLoader

    connection.close()
    connection.c_timestamps = False
    try:
        with connection.cursor() as cursor:
            loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if issubclass(loader, CTzLoader):
            raise AssertionError("still the bench's PostgreSQL backend")
        yield "Django's PostgreSQL backend"
    finally:
        connection.close()
        connection.c_timestamps = True


def variant_rows(cookie: str) -> list[dict[str, str]]:
    """Rows: each page of one area against the plain page (median latencies, in-process, caches off, on Django's
    own PostgreSQL backend, as sites run), and the plugins built and SQL queries per request by the number of
    variants."""
    build_variant_pages()
    analyze()
    client = visitor_client(cookie)
    urls = [VARIANTS_PLAIN_URL, *(variant_url(count) for count in VARIANT_COUNTS)]
    latencies: dict[str, list[float]] = {url: [] for url in urls}
    built: dict[str, int] = {}
    queries: dict[str, int] = {}
    with override_settings(**CACHES_OFF), djangos_backend() as backend:
        for url in urls:
            html = client.get(url).content.decode()  # warm: templates, the variants' settings, connections
            if "<h3>Variant 0</h3>" not in html or html.count("<h3>") != 1:
                raise AssertionError(f"{url} doesn't show the bench visitor the first variant alone")
            with counting_built() as counted, CaptureQueriesContext(connection) as captured:
                client.get(url)
            built[url], queries[url] = counted[0], len(captured)
        # the pages in turn, the machine's speed of the moment the same for all; in a new order each round, so
        # that none is always the one that makes Python's garbage collector run (each runs after as many objects)
        shuffled = random.Random(0)
        for _ in range(VARIANT_REQUESTS):
            shuffled.shuffle(urls)
            for url in urls:
                start = time.perf_counter()
                client.get(url)
                latencies[url].append((time.perf_counter() - start) * 1000)
    plain = median(latencies[VARIANTS_PLAIN_URL])
    how = (
        f"in-process: test client, caches off, {backend}, the pages in turn (shuffled), {VARIANT_REQUESTS} requests "
        "each, median over median"
    )
    for count in VARIANT_COUNTS:
        ratios = slice_ratios(latencies, variant_url(count), VARIANTS_PLAIN_URL)
        print(f"  one area of {count} variants over the plain page in each sixth of the run: {ratios}")
    rows = [
        {
            "figure": f"one area of {count} variants, caches off: median latency",
            "tailored": f"{median(latencies[variant_url(count)]):.2f} ms",
            "baseline": f"{plain:.2f} ms (plain page)",
            "ratio": f"{median(latencies[variant_url(count)]) / plain:.2f}x",
            "target": "the same ratio (± 0.03) for all",
            "how": how,
        }
        for count in VARIANT_COUNTS
    ]
    counts = " / ".join(str(count) for count in VARIANT_COUNTS)
    for figure, measured in (("plugins built", built), ("SQL queries", queries)):
        figures = [measured[variant_url(count)] for count in VARIANT_COUNTS]
        rows.append(
            {
                "figure": f"one area of {counts} variants: {figure} per request",
                "tailored": " / ".join(str(n) for n in figures),
                "baseline": f"{measured[VARIANTS_PLAIN_URL]} (plain page)",
                "ratio": "same" if len(set(figures)) == 1 else "differ",
                "target": "the same",
                "how": "in-process: test client, caches off, one request after a warm one",
            }
        )
    return rows


def run(parts: tuple[str, ...] = ("served", "in-process", "variants")) -> list[dict[str, str]]:
    """The rows of ``parts``: ``served`` (1.), ``in-process`` (2.) and ``variants`` (3., see the docstring)."""
    cookie, labels = setup()
    print(f"  render: the visitor sees {len(labels)} variants: {'; '.join(labels)}")
    rows = served_rows(cookie) if "served" in parts else []
    rows += in_process_rows(cookie) if "in-process" in parts else []
    return rows + (variant_rows(cookie) if "variants" in parts else [])
