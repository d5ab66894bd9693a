"""The optimize strategy: allocation maths, a seeded simulation, and optimize areas on real CMS pages."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djangocms_text.models import Text

from tailored_cms import api
from tailored_cms.areas.cms_plugins import TailoredAreaPlugin
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.areas.optimize import (
    allocate,
    area_bucket,
    best_probabilities,
    bucket_counts,
    eligible,
    optimized_variant,
)
from tailored_cms.areas.selection import OPTIMIZED
from tailored_cms.results.allocations import refresh_allocations
from tailored_cms.results.models import VariantStats
from tailored_cms.results.tasks import OPTIMIZE_TASK
from tailored_cms.results.tasks import refresh_allocations as refresh_allocations_task
from tailored_cms.rules import request_time
from tailored_cms.rules.active import publish_allocations, publish_segments, refresh_active_segments
from tailored_cms.rules.evaluation import Plans
from tailored_cms.tasks import BEAT_SCHEDULE

from .conftest import placeholder, text
from .test_holdouts import new_visitor, visitor_ids

# The maths


def test_the_buckets_add_up_to_100_and_every_variant_keeps_its_minimum_share():
    assert bucket_counts({"a": 1.0, "b": 0.0, "c": 0.0}, 0.05) == {"a": 90, "b": 5, "c": 5}
    assert bucket_counts({"a": 1.0, "b": 0.0}, 0.0) == {"a": 100, "b": 0}
    assert bucket_counts({"a": 0.5, "b": 0.3, "c": 0.2}, 0.05) == {
        "a": 48,
        "b": 30,
        "c": 22,
    }  # 5 each + 85 × share, a tie to the first
    for count in (1, 3, 7, 19, 25, 40):
        shares = {f"v{i}": random.Random(count).random() for i in range(count)}
        counts = bucket_counts(shares, 0.05)
        assert sum(counts.values()) == 100
        assert min(counts.values()) >= min(5, 100 // count)  # more variants than 20: an even split at least


def test_no_data_at_all_splits_the_buckets_evenly():
    assert bucket_counts({"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0}, 0.05) == {"a": 25, "b": 25, "c": 25, "d": 25}


def test_a_small_change_of_shares_moves_few_buckets():
    before = allocate({"a": 50, "b": 50})
    after = allocate({"a": 45, "b": 55}, before)
    moved = [bucket for bucket in range(100) if before[bucket] != after[bucket]]
    assert len(moved) == 5 and all(before[b] == "a" and after[b] == "b" for b in moved)
    assert Counter(after) == {"a": 45, "b": 55}
    assert allocate({"a": 45, "b": 55}, after) == after  # the same shares: nobody moves


def test_the_buckets_of_a_removed_variant_go_to_the_others_and_nobody_else_moves():
    before = allocate({"a": 40, "b": 30, "c": 30})
    after = allocate({"a": 55, "b": 45}, before)
    assert Counter(after) == {"a": 55, "b": 45}
    assert all(after[bucket] == key for bucket, key in enumerate(before) if key != "c")


def test_the_probability_of_being_best_follows_the_evidence_and_a_seed_repeats_it():
    counts = {"a": (1000, 40), "b": (1000, 80), "c": (10, 0)}
    first = best_probabilities(counts, random.Random(3))
    assert first == best_probabilities(counts, random.Random(3))
    assert sum(first.values()) == pytest.approx(1.0)
    assert first["b"] > 0.5 and first["a"] < 0.01
    assert first["c"] > 0.1  # 0 clicks of 10 views: too little to tell, so it still has a good chance
    settled = best_probabilities({**counts, "c": (1000, 50)}, random.Random(3))
    assert settled["b"] > 0.95
    even = best_probabilities({"a": (0, 0), "b": (0, 0)}, random.Random(3))
    assert abs(even["a"] - 0.5) < 0.05


class Keyed:
    def __init__(self, key: str, fallback: bool = False) -> None:
        self.key, self.fallback = key, fallback
        self.topics, self.themes, self.layouts, self.segments, self.priority = [], [], [], [], 0


def test_the_fallback_is_tested_only_when_the_area_has_nothing_else():
    standard, a, b = Keyed("standard", fallback=True), Keyed("a"), Keyed("b")
    assert eligible([standard, a, b]) == [a, b]
    assert eligible([standard]) == [standard]


def test_without_an_allocation_the_variants_split_the_buckets_evenly_and_without_an_id_nobody_is_picked():
    variants = [Keyed("standard", fallback=True), Keyed("a"), Keyed("b")]
    picks = Counter(optimized_variant(variants, "hero", v, None).key for v in visitor_ids(4000))
    assert set(picks) == {"a", "b"} and abs(picks["a"] - 2000) < 200
    assert optimized_variant(variants, "hero", None, None) is None
    allocation = ["b"] * 100
    assert {optimized_variant(variants, "hero", v, allocation).key for v in visitor_ids(50)} == {"b"}
    assert {optimized_variant(variants, "hero", v, ["gone"] * 100).key for v in visitor_ids(50)} == {"a", "b"}


def test_a_visitor_keeps_their_bucket_and_areas_split_visitors_differently():
    ids = visitor_ids(1000)
    assert all(area_bucket(v, "hero") == area_bucket(v, "hero") for v in ids)
    assert [area_bucket(v, "hero") for v in ids] != [area_bucket(v, "sidebar") for v in ids]


# Refreshing from results


@pytest.fixture
def optimize_page(make_page):
    """An optimize area with a fallback and three variants to test, on a page (the CMS caches are on)."""
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label="Hero", strategy="optimize")
    text(ph, "<p>STANDARD</p>", target=api.add_variant(area, label="Standard", fallback=True))
    for name in ("A", "B", "C"):
        text(ph, f"<p>VERSION {name}</p>", target=api.add_variant(area, label=name))
    return page, area


def variant_keys(area: TailoredArea) -> dict[str, str]:
    return dict(
        Variant.objects.filter(parent_id=area.pk).values_list("tailored_settings__label", "tailored_settings__key")
    )


def add_results(area: TailoredArea, variant: str, impressions: int, clicks: int, conversions: int = 0) -> None:
    row, _ = VariantStats.objects.get_or_create(
        area=area.key, variant=variant, path=OPTIMIZED, day=timezone.localdate()
    )
    VariantStats.objects.filter(pk=row.pk).update(
        impressions=row.impressions + impressions, clicks=row.clicks + clicks, conversions=row.conversions + conversions
    )


def test_a_seeded_simulation_sends_most_traffic_to_the_best_variant(optimize_page):
    """20 refreshes, 2,000 visitors between each: B has the best click rate, and ends with most of the visitors."""
    _page, area = optimize_page
    keys = variant_keys(area)
    true_rates = {keys["A"]: 0.04, keys["B"]: 0.07, keys["C"]: 0.05}
    variants = list(Variant.objects.filter(parent_id=area.pk).order_by("position"))
    rng = random.Random(20)
    shown_to_b = []
    for round_number in range(20):
        allocation = request_time.active_segments().allocations.get(area.key)
        seen: Counter[str] = Counter()
        clicked: Counter[str] = Counter()
        for visitor_id in visitor_ids(2000, seed=round_number):
            key = optimized_variant(variants, area.key, visitor_id, allocation).key
            seen[key] += 1
            clicked[key] += rng.random() < true_rates[key]
        shown_to_b.append(seen[keys["B"]] / 2000)
        for key in true_rates:
            add_results(area, key, seen[key], clicked[key])
        refresh_allocations(rng=random.Random(round_number))
    final = Counter(request_time.active_segments().allocations[area.key])
    assert final[keys["B"]] > 70, final
    assert final[keys["A"]] >= 5 and final[keys["C"]] >= 5  # the minimum share: the others can still catch up
    assert shown_to_b[0] < 0.4 and shown_to_b[-1] > 0.7  # what visitors saw: a third each at first, then mostly B


def test_an_area_with_a_goal_learns_from_its_conversions_and_only_from_recent_optimized_results(optimize_page):
    _page, area = optimize_page
    area.goal = "signup"
    area.save()
    keys = variant_keys(area)
    add_results(area, keys["A"], 5000, clicks=900, conversions=10)
    add_results(area, keys["B"], 5000, clicks=100, conversions=200)
    add_results(area, keys["C"], 5000, clicks=100, conversions=10)
    old = timezone.localdate() - timedelta(days=30)
    VariantStats.objects.create(area=area.key, variant=keys["C"], path=OPTIMIZED, day=old, impressions=9, clicks=9)
    VariantStats.objects.create(
        area=area.key, variant=keys["C"], path="fallback", day=timezone.localdate(), impressions=9, conversions=9
    )
    allocation = Counter(refresh_allocations(rng=random.Random(1))[area.key])
    assert allocation == {keys["B"]: 90, keys["A"]: 5, keys["C"]: 5}


def test_the_allocations_and_the_segments_replace_only_their_own_fields(tailored_redis):
    publish_allocations({"hero": ["x"] * 100})
    publish_segments(Plans(()))
    refresh_active_segments()
    assert request_time.active_segments().allocations == {"hero": ("x",) * 100}
    publish_allocations({"other": ["y"] * 100})
    refresh_active_segments()
    assert set(request_time.active_segments().allocations) == {"other"}  # an area no longer optimized is gone


def test_the_task_refreshes_the_allocations_and_beat_runs_it_every_few_minutes(optimize_page):
    _page, area = optimize_page
    assert refresh_allocations_task() == {"areas": 1}
    refresh_active_segments()
    assert len(request_time.active_segments().allocations[area.key]) == 100
    scheduled = [entry for entry in BEAT_SCHEDULE.values() if entry["task"] == OPTIMIZE_TASK]
    assert len(scheduled) == 1 and 60 <= scheduled[0]["schedule"] <= 600


# On real pages


def visitors_in_buckets(area: TailoredArea, *ranges: range) -> list[Client]:
    """One visitor (a client with their cookie) whose bucket in the area is in each of ``ranges``."""
    found: dict[int, Client] = {}
    while len(found) < len(ranges):
        client, visitor_id = new_visitor()
        bucket = area_bucket(visitor_id, area.key)
        for index, wanted in enumerate(ranges):
            if bucket in wanted:
                found.setdefault(index, client)
    return [found[index] for index in range(len(ranges))]


def shown(client: Client, url: str) -> set[str]:
    html = client.get(url).content.decode()
    return {word for word in ("STANDARD", "VERSION A", "VERSION B", "VERSION C") if word in html}


def test_visitors_see_the_variant_their_bucket_is_allocated_and_the_caches_keep_them_apart(optimize_page, client):
    page, area = optimize_page
    keys = variant_keys(area)
    publish_allocations({area.key: [keys["A"]] * 50 + [keys["C"]] * 50})
    low, high = visitors_in_buckets(area, range(50), range(50, 100))
    url = page.get_absolute_url()
    assert shown(low, url) == {"VERSION A"}
    assert shown(high, url) == {"VERSION C"}
    assert shown(client, url) == {"STANDARD"}  # no cookie: no bucket
    for plugin in Text.objects.all():  # behind the caches' back: what follows comes from them
        Text.objects.filter(pk=plugin.pk).update(body=plugin.body.replace("</p>", " (changed)</p>"))
    assert "(changed)" not in low.get(url).content.decode()
    assert shown(low, url) == {"VERSION A"} and shown(high, url) == {"VERSION C"}
    assert TailoredAreaPlugin().get_vary_cache_on(None, area, None) == ["X-Tailored-Holdout"]


def test_a_new_optimize_area_splits_visitors_and_the_holdout_still_comes_first(optimize_page, settings):
    settings.CMS_PAGE_CACHE = settings.CMS_PLACEHOLDER_CACHE = False
    page, area = optimize_page
    url = page.get_absolute_url()
    first, last = visitors_in_buckets(area, range(33), range(67, 100))  # 3 variants: a third of the buckets each
    assert shown(first, url) == {"VERSION A"} and shown(last, url) == {"VERSION C"}
    area.holdout_percent = 50
    area.save()
    seen = {frozenset(shown(new_visitor()[0], url)) for _ in range(30)}
    assert frozenset({"STANDARD"}) in seen and len(seen) > 1


def test_the_explanation_says_the_area_tests_which_version_works_best(optimize_page):
    _page, area = optimize_page
    (visitor,) = visitors_in_buckets(area, range(100))
    reply = visitor.get("/tailored/api/v1/explain/", {"areas": area.key}).json()["areas"][0]
    assert [reason["kind"] for reason in reply["reasons"]] == ["optimized"]
    assert "testing which version" in reply["reasons"][0]["text"]
    assert reply["shown"][0]["text"] == "It is what everyone sees."  # by whom it is for, never its label


def test_rendering_an_optimize_area_costs_no_query_more_and_one_round_trip(optimize_page, settings, redis_round_trips):
    settings.CMS_PAGE_CACHE = settings.CMS_PLACEHOLDER_CACHE = settings.CMS_PLUGIN_CACHE = False
    page, area = optimize_page
    keys = variant_keys(area)
    (visitor,) = visitors_in_buckets(area, range(100))
    url = page.get_absolute_url()
    visitor.get(url)  # the snapshot is in Redis from now on

    def cost() -> tuple[int, int, set[str]]:
        redis_round_trips.commands.clear()
        with CaptureQueriesContext(connection) as queries:
            words = shown(visitor, url)
        return len(queries), redis_round_trips.round_trips, words

    publish_allocations({area.key: [keys["B"]] * 100})  # new allocations: they come with the snapshot
    optimized = cost()
    assert optimized[1:] == (1, {"VERSION B"})
    area.strategy = "customization"
    area.save()
    shown(visitor, url)  # the first view after an edit may read the rows twice (``areas.shown.predict``)
    assert cost()[:2] == optimized[:2]  # no query more than an area of another strategy


def test_a_variant_outside_its_campaign_window_is_not_allocated_visitors(optimize_page):
    _page, area = optimize_page
    keys = variant_keys(area)
    ended = Variant.objects.get(tailored_settings__label="C")
    ended.ends_at = timezone.now() - timedelta(hours=1)
    ended.save()
    api.add_variant(area, label="D", starts_at=timezone.now() + timedelta(days=1))
    allocation = Counter(refresh_allocations(rng=random.Random(1))[area.key])
    assert set(allocation) == {keys["A"], keys["B"]} and sum(allocation.values()) == 100
