"""The roll-up in the ingest: impressions, clicks and conversions per (area, variant, path, day), exactly once,
conversions attributed to the visitor's latest impression of the area; a constant number of queries per batch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tailored_cms.results.models import VariantStats
from tailored_cms.results.rollup import clicked, shown_in
from tailored_cms.tracking import TrackedEvent, ingest_batch

from .conftest import add_events, click, goal, impression, vid

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY0 = date(2026, 3, 2)


def stored() -> dict[tuple[str, str, str, date], tuple[int, int, int]]:
    """Every VariantStats row: (area, variant, path, day) -> (impressions, clicks, conversions)."""
    return {
        (s.area, s.variant, s.path, s.day): (s.impressions, s.clicks, s.conversions) for s in VariantStats.objects.all()
    }


def test_impressions_and_clicks_are_counted_per_variant_path_and_day(hero, tailored_redis):
    area, sports, everyone = hero.area.key, hero.sports.key, hero.everyone.key
    fan, holdout, other = vid(), vid(), vid()
    day1 = T0 + timedelta(days=1)
    add_events(
        tailored_redis,
        [
            impression(fan, area, [(sports, "customized")], T0),
            click(fan, area, sports, "customized", T0 + timedelta(seconds=5)),
            impression(fan, area, [(sports, "customized")], day1),
            impression(holdout, area, [(everyone, "holdout")], T0),
            impression(other, area, [(everyone, "fallback")], T0),
            impression(other, area, [(everyone, "fallback")], T0 + timedelta(minutes=1)),
            click(other, area, everyone, "fallback", T0 + timedelta(minutes=1)),
            click(other, area, everyone, "fallback", T0 + timedelta(minutes=2)),
            # A hybrid area showing two variants by two paths: one impression of each.
            impression(other, "hybrid-area", [("a", "customized"), ("b", "personalized")], T0),
            # An area that showed nothing to a held-out visitor (it has no fallback).
            impression(holdout, "bare-area", [("", "holdout")], T0),
        ],
    )
    stats = ingest_batch()
    assert stats.new == 10
    assert stored() == {
        (area, sports, "customized", DAY0): (1, 1, 0),
        (area, sports, "customized", DAY0 + timedelta(days=1)): (1, 0, 0),
        (area, everyone, "holdout", DAY0): (1, 0, 0),
        (area, everyone, "fallback", DAY0): (2, 2, 0),
        ("hybrid-area", "a", "customized", DAY0): (1, 0, 0),
        ("hybrid-area", "b", "personalized", DAY0): (1, 0, 0),
        ("bare-area", "", "holdout", DAY0): (1, 0, 0),
    }


def test_counters_add_up_over_batches(hero, tailored_redis):
    area, sports = hero.area.key, hero.sports.key
    for _ in range(3):
        visitor = vid()
        add_events(tailored_redis, [impression(visitor, area, [(sports, "customized")], T0)])
        add_events(tailored_redis, [click(visitor, area, sports, "customized", T0)])
        ingest_batch()
    assert stored() == {(area, sports, "customized", DAY0): (3, 3, 0)}


@pytest.mark.parametrize(
    "props",
    [
        {"area": "hero", "variants": ["a"], "paths": ["sideways"]},  # not a path
        {"area": "hero", "variants": ["a", "b"], "paths": ["fallback"]},  # lengths differ
        {"area": "hero", "variants": "a", "paths": "fallback"},  # not lists
        {"area": "hero", "variants": [], "paths": []},  # nothing at all
        {"area": "no spaces!", "variants": ["a"], "paths": ["fallback"]},  # not a key
        {"area": "hero", "variants": [7], "paths": ["fallback"]},
        {"area": "hero", "variants": ["a"] * 21, "paths": ["fallback"] * 21},  # more than an area shows
        {"variants": ["a"], "paths": ["fallback"]},
    ],
)
def test_malformed_impressions_are_stored_but_not_counted(tailored_redis, props):
    """The page's own script could send anything named "impression": it is kept as an event, never counted."""
    assert shown_in(props) is None
    add_events(tailored_redis, [TrackedEvent(vid(), "impression", ts=T0, props=props)])
    assert ingest_batch().new == 1
    assert stored() == {}


def test_clicks_outside_variants_are_not_counted(tailored_redis):
    widget_click = {"widget": "weather", "link": "/weather/"}
    no_path = {"area": "hero", "variant": "abc"}  # from a page cached before paths were in the markup
    assert clicked(widget_click) is None and clicked(no_path) is None
    add_events(tailored_redis, [TrackedEvent(vid(), "click", ts=T0, props=p) for p in (widget_click, no_path)])
    assert ingest_batch().new == 2
    assert stored() == {}


def test_a_goal_event_converts_the_latest_impression_of_the_area(hero, tailored_redis):
    area, sports, everyone = hero.area.key, hero.sports.key, hero.everyone.key
    switched, twice, never_saw, too_late, before, later = (vid() for _ in range(6))
    add_events(
        tailored_redis,
        [
            # Saw the fallback, chose sports, saw the sports variant, signed up: the sports variant converted.
            impression(switched, area, [(everyone, "fallback")], T0),
            impression(switched, area, [(sports, "customized")], T0 + timedelta(hours=1)),
            goal(switched, "signup", T0 + timedelta(hours=2)),
            # Signed up twice after one impression: one conversion (an impression converts once).
            impression(twice, area, [(everyone, "holdout")], T0),
            goal(twice, "signup", T0 + timedelta(minutes=1)),
            goal(twice, "signup", T0 + timedelta(minutes=2)),
            # Never saw the area: nothing to attribute.
            goal(never_saw, "signup", T0),
            # Saw it longer ago than the window (30 days).
            impression(too_late, area, [(everyone, "fallback")], T0 - timedelta(days=31)),
            goal(too_late, "signup", T0),
            # Signed up before seeing it.
            goal(before, "signup", T0),
            impression(before, area, [(sports, "customized")], T0 + timedelta(minutes=1)),
            # Another event than the goal converts nothing.
            impression(later, area, [(everyone, "fallback")], T0),
            goal(later, "newsletter", T0 + timedelta(minutes=1)),
        ],
    )
    ingest_batch()
    conversions = {key: value[2] for key, value in stored().items() if value[2]}
    assert conversions == {
        (area, sports, "customized", DAY0): 1,
        (area, everyone, "holdout", DAY0): 1,
    }
    # The impressions themselves are all counted, on their days.
    assert stored()[(area, everyone, "fallback", DAY0)][0] == 2
    assert stored()[(area, everyone, "fallback", DAY0 - timedelta(days=31))][0] == 1


def test_a_conversion_in_a_later_batch_counts_on_its_own_day_and_once(hero, tailored_redis):
    area, everyone = hero.area.key, hero.everyone.key
    visitor = vid()
    add_events(tailored_redis, [impression(visitor, area, [(everyone, "fallback")], T0)])
    ingest_batch()
    add_events(tailored_redis, [goal(visitor, "signup", T0 + timedelta(days=2))])
    ingest_batch()
    add_events(tailored_redis, [goal(visitor, "signup", T0 + timedelta(days=2, hours=1))])  # converted already
    ingest_batch()
    assert stored() == {
        (area, everyone, "fallback", DAY0): (1, 0, 0),
        (area, everyone, "fallback", DAY0 + timedelta(days=2)): (0, 0, 1),
    }


def test_a_late_goal_event_does_not_convert_an_impression_twice(hero, tailored_redis):
    """Goal events arriving out of order: the impression was converted by the later one already."""
    area, everyone = hero.area.key, hero.everyone.key
    visitor = vid()
    add_events(tailored_redis, [impression(visitor, area, [(everyone, "fallback")], T0)])
    add_events(tailored_redis, [goal(visitor, "signup", T0 + timedelta(minutes=10))])
    ingest_batch()
    add_events(tailored_redis, [goal(visitor, "signup", T0 + timedelta(minutes=5))])  # sent late
    ingest_batch()
    assert stored() == {(area, everyone, "fallback", DAY0): (1, 0, 1)}


def test_each_area_with_that_goal_converts(hero, tailored_redis):
    """Two areas with the goal "signup": a signup converts the visitor's latest impression of each."""
    from tailored_cms import api

    placeholder = hero.page.get_content_obj("en").get_placeholders().get(slot="content")
    banner = api.add_area(placeholder, strategy="static", label="Banner", goal="signup")
    only = api.add_variant(banner, "Only", fallback=True)
    visitor = vid()
    add_events(
        tailored_redis,
        [
            impression(visitor, hero.area.key, [(hero.everyone.key, "fallback")], T0),
            impression(visitor, banner.key, [(only.key, "fallback")], T0),
            goal(visitor, "signup", T0 + timedelta(minutes=1)),
        ],
    )
    ingest_batch()
    assert {key[:3]: value[2] for key, value in stored().items()} == {
        (hero.area.key, hero.everyone.key, "fallback"): 1,
        (banner.key, only.key, "fallback"): 1,
    }


class Crash(Exception):
    pass


def crash() -> None:
    raise Crash


@pytest.fixture
def claim_immediately(settings) -> None:
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "INGEST_CLAIM_IDLE_SECONDS": 0}


def test_a_batch_redelivered_after_a_crash_counts_nothing_twice(hero, tailored_redis, claim_immediately):
    area, sports = hero.area.key, hero.sports.key
    visitor = vid()
    add_events(
        tailored_redis,
        [
            impression(visitor, area, [(sports, "customized")], T0),
            click(visitor, area, sports, "customized", T0 + timedelta(seconds=3)),
            goal(visitor, "signup", T0 + timedelta(minutes=1)),
        ],
    )
    with pytest.raises(Crash):
        ingest_batch("worker-1", before_ack=crash)  # committed, never acknowledged
    assert stored() == {(area, sports, "customized", DAY0): (1, 1, 1)}

    stats = ingest_batch("worker-2")  # takes worker-1's entries over
    assert (stats.claimed, stats.new, stats.duplicates) == (3, 0, 3)
    assert stored() == {(area, sports, "customized", DAY0): (1, 1, 1)}


def test_a_crash_before_the_commit_counts_nothing_and_the_retry_counts_all(hero, tailored_redis, claim_immediately):
    area, sports = hero.area.key, hero.sports.key
    visitor = vid()
    add_events(tailored_redis, [impression(visitor, area, [(sports, "customized")], T0)])
    with pytest.raises(Crash):
        ingest_batch("worker-1", before_commit=crash)
    assert stored() == {}
    ingest_batch("worker-2")
    assert stored() == {(area, sports, "customized", DAY0): (1, 0, 0)}


def test_queries_per_batch_do_not_grow_with_it(hero, tailored_redis):
    """Impressions, clicks and goal events of many visitors: the roll-up adds three statements, whatever the size."""
    area, sports, everyone = hero.area.key, hero.sports.key, hero.everyone.key

    def queries_for(visitors: int) -> tuple[int, int]:
        events = []
        for n in range(visitors):
            visitor, ts = vid(), T0 + timedelta(seconds=n)
            shown = (sports, "customized") if n % 2 else (everyone, "holdout")
            events += [
                impression(visitor, area, [shown], ts),
                click(visitor, area, *shown, ts + timedelta(seconds=1)),
                goal(visitor, "signup", ts + timedelta(seconds=2)),
            ]
        add_events(tailored_redis, events)
        with CaptureQueriesContext(connection) as queries:
            stats = ingest_batch()
        assert stats.new == len(events)
        return len(queries), sum(1 for q in queries if "tailored_cms_variantstats" in q["sql"])

    small, large = queries_for(3), queries_for(300)
    assert small == large
    assert large[1] == 1  # one upsert of the counters
    total = stored()
    assert total[(area, sports, "customized", DAY0)] == (151, 151, 151)
    assert total[(area, everyone, "holdout", DAY0)] == (152, 152, 152)


def test_figures_are_counted_per_language_of_the_page_and_an_unknown_one_under_none(hero, tailored_redis):
    area, sports = hero.area.key, hero.sports.key
    spanish, italian, odd = vid(), vid(), vid()
    add_events(
        tailored_redis,
        [
            impression(spanish, area, [(sports, "customized")], T0, language="es"),
            click(spanish, area, sports, "customized", T0 + timedelta(seconds=5), language="es"),
            impression(italian, area, [(sports, "customized")], T0, language="it"),
            impression(italian, area, [(sports, "customized")], T0, language="es-AR"),  # a variant: its language
            # Not a language of the site (en, es, it), or not a code at all: counted, under no language.
            impression(odd, area, [(sports, "customized")], T0, language="pt"),
            click(odd, area, sports, "customized", T0, language=["es"]),  # type: ignore[arg-type]
            # The goal event (sent from a page in any language) converts the impression in its page's language.
            goal(spanish, "signup", T0 + timedelta(minutes=1)),
        ],
    )
    ingest_batch()
    rows = {
        (s.language, s.impressions, s.clicks, s.conversions)
        for s in VariantStats.objects.filter(area=area, variant=sports, path="customized", day=DAY0)
    }
    assert rows == {("es", 2, 1, 1), ("it", 1, 0, 0), ("", 1, 1, 0)}
