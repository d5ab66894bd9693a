"""Segment sizes over time: the full recompute records each segment's size once per day (the day's last wins)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tailored_cms import api
from tailored_cms.results.models import SegmentSize
from tailored_cms.results.report import segment_sizes
from tailored_cms.rules.recompute import recompute_segments

from ..rules.conftest import NOW, TODAY

pytestmark = pytest.mark.django_db

FANS = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}


def sizes() -> dict[tuple[str, object], int]:
    return {(s.segment.slug, s.day): s.size for s in SegmentSize.objects.select_related("segment")}


def test_each_recompute_records_todays_size_and_the_last_of_the_day_wins(make_visitor):
    make_visitor(views={"sports": [(0, 3)]})
    casual = make_visitor(views={"sports": [(0, 1)]})
    api.create_segment("sports-fans", "Sports fans", rules=FANS)
    api.create_segment("mobile", "On a phone", rules={"rule": "device", "is": "mobile"})  # request-time: no size

    recompute_segments(now=NOW)
    assert sizes() == {("sports-fans", TODAY): 1}

    make_visitor(views={"sports": [(0, 5)]})
    recompute_segments(now=NOW + timedelta(hours=1))
    assert sizes() == {("sports-fans", TODAY): 2}  # one row per day, updated

    casual.topic_views.update(count=4)
    recompute_segments(now=NOW + timedelta(days=1))
    assert sizes() == {("sports-fans", TODAY): 2, ("sports-fans", TODAY + timedelta(days=1)): 3}

    dates, histories = segment_sizes(7, today=TODAY + timedelta(days=1))
    assert [(h.slug, h.name, h.sizes) for h in histories] == [("sports-fans", "Sports fans", [None] * 5 + [2, 3])]
    assert dates[-1] == TODAY + timedelta(days=1)


def test_recording_sizes_is_one_statement_whatever_the_number_of_segments(make_visitor):
    make_visitor(views={"sports": [(0, 3)]})
    for n in range(1, 6):
        api.create_segment(f"fans-{n}", rules={**FANS, "min": n})
    with CaptureQueriesContext(connection) as queries:
        recompute_segments(now=NOW)
    assert sum("tailored_cms_segmentsize" in q["sql"] for q in queries) == 1
    assert sorted(sizes().values()) == [0, 0, 1, 1, 1]
