"""Where a page view's time goes: cProfile over the render bench's pages, in-process (``python -m bench profile``).

The same pages, segments and visitor as bench/render.py, requested through Django's test client (the whole
middleware stack) with django CMS's caches off; then the events/ endpoint with 20-event batches. Prints, per page,
the time per request and the functions of tailored_cms (and the ones they call) by cumulative time. Not part of
the table: profiling slows everything down, so its figures are shares, not speeds.

``TAILORED_BENCH_PROFILE=variants``: the pages of one area with 100 and 2 variants instead (bench/render.py's
``variant_rows``, on Django's own PostgreSQL backend), against the plain page: what each variant costs.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import time
import uuid

from django.test import override_settings
from django.utils import timezone

from .render import (
    CACHES_OFF,
    CHOSEN_URL,
    PLAIN_URL,
    TAILORED_URL,
    VARIANTS_PLAIN_URL,
    build_variant_pages,
    djangos_backend,
    setup,
    variant_url,
    visitor_client,
)

REQUESTS = int(os.environ.get("TAILORED_BENCH_PROFILE_REQUESTS", "300"))
TOP = int(os.environ.get("TAILORED_BENCH_PROFILE_TOP", "40"))


def timings(client, urls: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """Median time per request of each page, unprofiled, the pages interleaved."""
    seconds: dict[str, list[float]] = {url: [] for url in urls}
    for round_number in range(REQUESTS + 20):
        for url in urls:
            started = time.perf_counter()
            client.get(url)
            if round_number >= 20:  # the first rounds warm up
                seconds[url].append(time.perf_counter() - started)
    medians = {url: statistics.median(times) * 1000 for url, times in seconds.items()}
    print(f"\n=== unprofiled medians, {REQUESTS} interleaved requests each ===")
    for url, median in medians.items():
        print(f"  {url:20} {median:6.2f} ms  {median / medians[urls[-1]]:.2f}x")


def profile_page(client, url: str) -> None:  # type: ignore[no-untyped-def]
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(REQUESTS):
        client.get(url)
    profiler.disable()
    report(url, profiler)


def profile_events(client) -> None:  # type: ignore[no-untyped-def]
    token = client.get("/tailored/api/v1/consent/").cookies.get("csrftoken")
    del token
    ts = timezone.now().isoformat()

    def batch() -> bytes:
        events = ",".join(
            f'{{"id":"{uuid.uuid4()}","name":"click","ts":"{ts}","props":{{"variant":"v1"}},"path":"/"}}'
            for _ in range(20)
        )
        return f'{{"events":[{events}]}}'.encode()

    bodies = [batch() for _ in range(REQUESTS)]
    profiler = cProfile.Profile()
    profiler.enable()
    for data in bodies:
        response = client.post(
            "/tailored/api/v1/events/", data, content_type="text/plain", HTTP_ORIGIN="http://testserver"
        )
        assert response.status_code == 202, response.content
    profiler.disable()
    report("events/ (20-event batches)", profiler)


def report(title: str, profiler: cProfile.Profile) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"tailored_cms|cms/(plugin_rendering|cache|middleware)", TOP)
    print(f"\n=== {title}, {REQUESTS} requests, cumulative ===")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(TOP)
    print(f"\n=== {title}, own time ===")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def run() -> list[dict[str, str]]:
    cookie, _labels = setup()
    client = visitor_client(cookie)
    if os.environ.get("TAILORED_BENCH_PROFILE") == "variants":
        build_variant_pages()
        urls = (variant_url(100), variant_url(2), VARIANTS_PLAIN_URL)
        with override_settings(**CACHES_OFF), djangos_backend():
            timings(client, urls)
            for url in urls[:2]:
                profile_page(client, url)
        return []
    with override_settings(**CACHES_OFF):
        timings(client, (TAILORED_URL, CHOSEN_URL, PLAIN_URL))
        if os.environ.get("TAILORED_BENCH_PROFILE") != "timings":
            for url in (TAILORED_URL, CHOSEN_URL, PLAIN_URL):
                profile_page(client, url)
    if os.environ.get("TAILORED_BENCH_PROFILE") != "timings":
        profile_events(client)
    return []
