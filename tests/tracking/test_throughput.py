"""How fast the ingest stores events (printed; tests never assert timings).

20,000 events (70 % page views of tagged pages, 30 % clicks) of 200 or 2,000 visitors, interleaved, read from
the stream by ``ingest_batch`` with the default batch size; the visitors are new (created by the first batches).
"""

from __future__ import annotations

import time

import pytest
from django.db import connection

from tailored_cms.tracking import ingest_batch

from .conftest import add_events
from .test_workers import TOPICS, make_events


@pytest.mark.parametrize("visitors", [200, 2000])
def test_ingest_throughput(visitors, tagged_page, tailored_redis, transactional_db, capsys):
    for slug, topics in TOPICS.items():
        tagged_page(slug, topics=topics)
    add_events(tailored_redis, make_events(20_000, visitors=visitors))

    started = time.perf_counter()
    new = 0
    while (stats := ingest_batch()).read:
        new += stats.new
    seconds = time.perf_counter() - started

    assert new == 20_000
    with capsys.disabled():
        print(
            f"\ningest into {connection.vendor}, {visitors} visitors: 20,000 events in {seconds:.2f} s"
            f" = {20_000 / seconds:,.0f} events/s"
        )
