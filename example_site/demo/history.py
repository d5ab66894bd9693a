"""Thirty days of simulated visits to the demo's homepage, for ``tailored_demo --history``: results to read.

The visits go through the real ingest: the events a beacon would have sent (page views, an impression per area,
clicks in variants, newsletter sign-ups), dated over the last 30 days, are appended to the event stream (or spooled
in the database when Redis is down, as the ``events/`` endpoint does) and drained by the ingest, whose roll-up
builds the daily results. What each visitor is shown is what the strategies would show them: their chosen topics
(customization), their segment (personalization), the optimize area's allocation of their bucket, recomputed each
simulated day from the days before with the strategy's own maths (so it converges on the variant visitors click
most), the experiment's fixed split, the holdout.

Visitors behave by fixed rates (below), drawn with a seeded generator; the areas' keys, new on each site, still
decide which visitors each area holds out and which bucket they are in, so two sites' histories differ a little.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from cms.models import Page, PageContent
from django.utils import timezone

from tailored_cms.areas.matching import SelectionPath
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.areas.optimize import (
    DAYS,
    allocate,
    best_probabilities,
    bucket_counts,
    eligible,
    experiment_variant,
    optimized_variant,
)
from tailored_cms.conf import tailored_settings
from tailored_cms.results.allocations import refresh_allocations
from tailored_cms.tracking import TrackedEvent, drain, enqueue, ingest_spool
from tailored_cms.tracking.stream import CLICK, IMPRESSION
from tailored_cms.visitors.buckets import in_holdout
from tailored_cms.visitors.models import Visitor

from .content import LANGUAGES, NEWSLETTER_GOAL

__all__ = ["HISTORY_DAYS", "seed_history"]

HISTORY_DAYS = 30
VISITORS = 600
VISIT_CHANCE = 0.25  # each visitor's chance of coming on a given day: about 150 visits a day
LANGUAGE_SHARES = {"en": 0.6, "es": 0.25, "it": 0.15}
SEGMENT_SHARES = {"sports-fans": 0.25, "tech-fans": 0.15, "returning": 0.2, "mobile": 0.1}  # the rest: none
CHOOSES_TOPICS = 0.35  # visitors who picked topics in the preferences panel
# Chance that an impression is clicked, by what put the variant there; the optimize area's by variant position.
CLICK_RATE = {
    SelectionPath.CUSTOMIZED: 0.09,
    SelectionPath.PERSONALIZED: 0.08,
    SelectionPath.EXPERIMENT: 0.05,
    SelectionPath.FALLBACK: 0.03,
    SelectionPath.HOLDOUT: 0.02,
}
OPTIMIZED_CLICK_RATES = (0.03, 0.11, 0.045)  # the second teaser wins
SIGN_UP_RATES = (0.03, 0.09)  # per experiment impression: the second invitation wins
CHUNK = 1000  # events per Redis round trip
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@dataclass
class SimulatedVisitor:
    """A visitor of the simulation: their id, the language they read in, their segment, their chosen topics."""

    id: str
    language: str
    segment: str | None
    topics: list[str]


@dataclass
class Area:
    """A homepage area with its variants, and what its optimize allocation learns from (optimized views and
    clicks per variant and day)."""

    area: TailoredArea
    variants: list[Variant]
    allocation: list[str] | None = None
    optimized: dict[int, dict[str, list[int]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))


def seed_history(home: Page, *, seed: int = 24) -> int:
    """Simulate ``HISTORY_DAYS`` days of visits to ``home`` in every language, ingest them; return the event count."""
    rng = random.Random(seed)
    visitors = _visitors(rng)
    areas = {language: _areas(home, language) for language in LANGUAGES}
    paths = {language: home.get_absolute_url(language) for language in LANGUAGES}
    events: list[TrackedEvent] = []
    today = timezone.localdate()
    now = timezone.now()
    for day_index in range(HISTORY_DAYS):
        day = today - timedelta(days=HISTORY_DAYS - 1 - day_index)
        start = timezone.make_aware(datetime.combine(day, time.min))
        end = min(start + timedelta(days=1), now - timedelta(minutes=1))
        for language_areas in areas.values():
            for area in language_areas:
                if area.area.strategy == "optimize":
                    _reallocate(area, day_index, rng)
        for visitor in visitors:
            if rng.random() < VISIT_CHANCE:
                ts = start + (end - start) * rng.random()
                events.extend(_visit(visitor, areas[visitor.language], paths[visitor.language], ts, day_index, rng))
    reached_redis = [enqueue(chunk) for chunk in _chunks(events)]
    if all(reached_redis):
        while drain(max_seconds=30).read:
            pass
    else:  # Redis is down: the events were spooled in the database, which the ingest reads without Redis
        while ingest_spool().read:
            pass
    refresh_allocations()  # the optimize areas' allocations now, as the worker's beat would
    return len(events)


def _visitors(rng: random.Random) -> list[SimulatedVisitor]:
    """``VISITORS`` consenting visitors (rows, as the consent banner's Allow makes), each with a language, maybe a
    segment and chosen topics."""
    topics = ["sports", "technology", "culture", "science", "travel"]
    simulated = []
    for _ in range(VISITORS):
        language = rng.choices(list(LANGUAGE_SHARES), weights=list(LANGUAGE_SHARES.values()))[0]
        roll, segment = rng.random(), None
        for slug, share in SEGMENT_SHARES.items():
            if roll < share:
                segment = slug
                break
            roll -= share
        chosen = rng.sample(topics, 2) if rng.random() < CHOOSES_TOPICS else []
        visitor_id = uuid.UUID(int=rng.getrandbits(128), version=4)  # from the seed too: the same buckets every time
        simulated.append(SimulatedVisitor(str(visitor_id), language, segment, chosen))
    Visitor.objects.bulk_create(Visitor(id=v.id, tracking_consent=True, topics=v.topics) for v in simulated)
    return simulated


def _areas(home: Page, language: str) -> list[Area]:
    content = PageContent.objects.get(page=home, language=language)
    areas = TailoredArea.objects.filter(placeholder__in=content.get_placeholders()).order_by("placeholder", "position")
    return [Area(area, list(Variant.objects.filter(parent=area).order_by("position"))) for area in areas]


def _reallocate(area: Area, day_index: int, rng: random.Random) -> None:
    """The optimize area's allocation for the day: the strategy's, from the views and clicks of the ``DAYS`` days
    before (what ``results.allocations`` computes every few minutes on a live site)."""
    if day_index == 0:
        return  # a new area: its variants split the buckets evenly
    counts: dict[str, tuple[int, int]] = {}
    for variant in eligible(area.variants):
        views = clicks = 0
        for past in range(max(0, day_index - DAYS), day_index):
            day_views, day_clicks = area.optimized[past].get(variant.key) or (0, 0)
            views, clicks = views + day_views, clicks + day_clicks
        counts[variant.key] = (views, clicks)
    shares = best_probabilities(counts, rng)
    area.allocation = allocate(bucket_counts(shares, tailored_settings.OPTIMIZE_MIN_SHARE), area.allocation)


def _visit(
    visitor: SimulatedVisitor, areas: list[Area], path: str, ts: datetime, day_index: int, rng: random.Random
) -> Iterator[TrackedEvent]:
    """The events of one visit to the homepage: its page view, what each area showed, the clicks, a sign-up."""
    agent = MOBILE_UA if visitor.segment == "mobile" else DESKTOP_UA
    yield TrackedEvent.page_view(visitor.id, path, user_agent=agent, ts=ts)
    for area in areas:
        shown = _shown(visitor, area)
        if not shown:
            continue
        key = area.area.key
        yield TrackedEvent(
            visitor_id=visitor.id,
            name=IMPRESSION,
            ts=ts,
            props={
                "area": key,
                "variants": [variant.key for variant, _path in shown],
                "paths": [str(selection) for _variant, selection in shown],
                "language": visitor.language,
            },
        )
        for variant, selection in shown:
            position = area.variants.index(variant)
            optimized = selection == SelectionPath.OPTIMIZED
            rate = OPTIMIZED_CLICK_RATES[position % 3] if optimized else CLICK_RATE[selection]
            clicked = rng.random() < rate
            if optimized:
                tally = area.optimized[day_index].setdefault(variant.key, [0, 0])
                tally[0], tally[1] = tally[0] + 1, tally[1] + clicked
            later = ts + timedelta(seconds=rng.randint(5, 120))
            if clicked:
                props = {"area": key, "variant": variant.key, "path": str(selection), "language": visitor.language}
                yield TrackedEvent(visitor_id=visitor.id, name=CLICK, ts=later, props=props)
            experiment = area.area.goal == NEWSLETTER_GOAL and selection == SelectionPath.EXPERIMENT
            if experiment and rng.random() < SIGN_UP_RATES[position % len(SIGN_UP_RATES)]:
                yield TrackedEvent(visitor_id=visitor.id, name=NEWSLETTER_GOAL, ts=later + timedelta(seconds=30))


def _shown(visitor: SimulatedVisitor, area: Area) -> list[tuple[Variant, SelectionPath]]:
    """What the area's strategy shows the visitor, each variant with what put it there."""
    tailored = area.area
    standard = [variant for variant in area.variants if variant.fallback]
    if tailored.holdout_percent and in_holdout(visitor.id, tailored.key, tailored.holdout_percent):
        return [(variant, SelectionPath.HOLDOUT) for variant in standard[: tailored.max_items]]
    if tailored.strategy == "customization":
        matched = [variant for variant in area.variants if set(variant.topics) & set(visitor.topics)]
        if matched:
            return [(variant, SelectionPath.CUSTOMIZED) for variant in matched[: tailored.max_items]]
    elif tailored.strategy == "personalization":
        matched = [variant for variant in area.variants if visitor.segment in variant.segments]
        if matched:
            return [(matched[0], SelectionPath.PERSONALIZED)]
    elif tailored.strategy == "optimize":
        chosen = optimized_variant(area.variants, tailored.key, visitor.id, area.allocation)
        if chosen is not None:
            return [(chosen, SelectionPath.OPTIMIZED)]
    elif tailored.strategy == "experiment":
        chosen = experiment_variant(area.variants, tailored.key, visitor.id)
        if chosen is not None:
            return [(chosen, SelectionPath.EXPERIMENT)]
    return [(variant, SelectionPath.FALLBACK) for variant in standard[: tailored.max_items]]


def _chunks(events: list[TrackedEvent]) -> Iterator[list[TrackedEvent]]:
    for start in range(0, len(events), CHUNK):
        yield events[start : start + CHUNK]
