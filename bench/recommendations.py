"""Recommendations measured offline: hit rate at 5 of the recommender against "most popular", and the time to
compute 100,000 visitors' lists.

A synthetic click log, the same for every run (seeded): ``PAGES`` pages, each about one of ``TOPICS`` topics and
published over the last 60 days; pages are Zipf-popular (exponent 1) within their topic and across the site.
Each visitor has hidden preferences, one to three topics, and reads pages from them 75% of the time, else
anything the site's popularity brings. The log is split in time: what visitors read up to ``SPLIT_DAYS`` days ago
trains, each visitor's reads after it are held out.

Hit rate at 5: the share of visitors with held-out reads for whom at least one of the 5 pages recommended (from
the training reads only, read pages left out) is among them. The baseline ranks the site's most popular pages of
the training log, also leaving out what the visitor read. The compute time is ``ranking.fit`` over every
visitor's reads plus ``ranking.recommend`` for each visitor (what the Celery task does between its query and its
Redis write), in this process.
"""

from __future__ import annotations

import os
import random
import time
from collections import defaultdict

from tailored_cms.recommendations import ranking

VISITORS = int(os.environ.get("TAILORED_BENCH_RECOMMENDATION_VISITORS", "100000"))
PAGES = 2000
TOPICS = 12
DAYS = 30.0
SPLIT_DAYS = 3.0  # the last days are held out
READS = (4, 24)  # reads per visitor, uniformly in this range
PREFERRED_SHARE = 0.75
SEED = 25


def _zipf_weights(n: int) -> list[float]:
    return [1.0 / rank for rank in range(1, n + 1)]


def click_log(visitors: int = VISITORS, seed: int = SEED):
    """(pages, reads): page facts, and per visitor their reads as (page id, days ago)."""
    rng = random.Random(seed)
    topics = [f"topic-{n}" for n in range(TOPICS)]
    pages: dict[int, ranking.PageFacts] = {}
    of_topic: dict[str, list[int]] = defaultdict(list)
    for pid in range(1, PAGES + 1):
        slug = topics[pid % TOPICS]
        pages[pid] = ranking.PageFacts((slug,), rng.uniform(0.0, 60.0))
        of_topic[slug].append(pid)
    site_order = list(pages)
    rng.shuffle(site_order)
    site_weights = _zipf_weights(len(site_order))
    topic_weights = {slug: _zipf_weights(len(ids)) for slug, ids in of_topic.items()}
    for ids in of_topic.values():
        rng.shuffle(ids)
    reads: dict[int, list[tuple[int, float]]] = {}
    for visitor in range(visitors):
        preferred = rng.sample(topics, rng.randint(1, 3))
        log = []
        for _ in range(rng.randint(*READS)):
            if rng.random() < PREFERRED_SHARE:
                slug = rng.choice(preferred)
                pid = rng.choices(of_topic[slug], topic_weights[slug])[0]
            else:
                pid = rng.choices(site_order, site_weights)[0]
            age = rng.uniform(0.0, DAYS)
            if pages[pid].age_days <= age + 60.0:  # nobody reads a page before it was published
                log.append((pid, age))
        reads[visitor] = log
    return pages, reads


def split(reads):
    """Training reads (page → days since, as of the split) and held-out pages, per visitor."""
    train: dict[int, dict[int, float]] = {}
    held: dict[int, set[int]] = {}
    for visitor, log in reads.items():
        before = {}
        for pid, age in log:
            if age > SPLIT_DAYS:
                before[pid] = min(before.get(pid, DAYS), age - SPLIT_DAYS)
        later = {pid for pid, age in log if age <= SPLIT_DAYS} - set(before)
        train[visitor] = before
        if later and before:
            held[visitor] = later
    return train, held


def affinity_of(pages, read: dict[int, float]) -> dict[str, float]:
    return ranking.topic_affinity((slug, age, 1) for pid, age in read.items() for slug in pages[pid].topics)


def hit_rates(pages, train, held) -> tuple[float, float]:
    model = ranking.fit(train, pages)
    popular = model.popular
    hits = baseline_hits = 0
    for visitor, later in held.items():
        read = train[visitor]
        picks = ranking.recommend(model, read=read, affinity=affinity_of(pages, read), limit=5)
        hits += any(pick.page_id in later for pick in picks)
        baseline = [pid for pid in popular if pid not in read][:5]
        baseline_hits += any(pid in later for pid in baseline)
    return hits / len(held), baseline_hits / len(held)


def compute_seconds(pages, train) -> float:
    start = time.perf_counter()
    model = ranking.fit(train, pages)
    for read in train.values():
        ranking.recommend(model, read=read, affinity=affinity_of(pages, read), limit=ranking.PER_TOPIC)
    return time.perf_counter() - start


def run() -> list[dict[str, str]]:
    started = time.perf_counter()
    pages, reads = click_log()
    train, held = split(reads)
    made = time.perf_counter() - started
    clicks = sum(len(log) for log in reads.values())
    print(f"recommendations bench: {len(reads):,} visitors, {PAGES:,} pages, {clicks:,} reads made in {made:.1f} s")
    recommended, popular = hit_rates(pages, train, held)
    seconds = compute_seconds(pages, train)
    return [
        {
            "figure": f"recommendations: hit rate at 5, {len(held):,} visitors' held-out reads",
            "tailored": f"{recommended:.1%}",
            "baseline": f"{popular:.1%} (most popular)",
            "ratio": f"{recommended / popular:.1f}×" if popular else "-",
            "target": "≥ 2×",
            "how": f"synthetic log, last {SPLIT_DAYS:g} of {DAYS:g} days held out (bench/recommendations.py)",
        },
        {
            "figure": f"recommendations: compute {len(train):,} visitors' lists",
            "tailored": f"{seconds:.1f} s",
            "baseline": "",
            "ratio": "",
            "target": "< 60 s",
            "how": "in-process: ranking.fit + ranking.recommend per visitor",
        },
    ]
