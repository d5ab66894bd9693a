"""The optimize strategy: Thompson sampling over an area's variants, sticky per visitor and area.

Every visitor with an id has a bucket per area, 0–99 (``area_bucket``: ``visitors.buckets.split_bucket``, their
place in the area spread so that the holdout, the first places, takes its share from every variant). An
**allocation** gives each of the 100 buckets a variant key. Celery refreshes the allocations every few minutes
(``results.allocations``, which reads the results): for each optimize area, the probability that each eligible
variant is the best, drawn from Beta(1 + successes, 1 + failures) posteriors (successes: clicks, or conversions of
the area's goal), becomes its share of buckets, each variant keeping at least ``OPTIMIZE_MIN_SHARE``; buckets move
from one variant to another only as far as the shares changed, so most visitors keep seeing what they saw. The
allocations travel with the active segments (``rules.active.publish_allocations``): rendering reads them from
memory, no extra I/O.

The experiment strategy reuses the buckets with a fixed split instead (``experiment_variant``): the editor's
weights, in the same whole buckets, so a visitor keeps their variant for as long as the weights stay.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from ..visitors.buckets import HOLDOUT_BUCKETS, split_bucket
from .matching import Targeted, fallbacks

__all__ = [
    "DAYS",
    "allocate",
    "area_bucket",
    "best_probabilities",
    "bucket_counts",
    "eligible",
    "experiment_shares",
    "experiment_variant",
    "optimized_variant",
]

BUCKETS = HOLDOUT_BUCKETS
DAYS = 14  # the results an allocation learns from: recent enough to follow change, long enough to be steady
DRAWS = 2000  # Monte Carlo draws per refresh and area: probabilities to within about ±1%


class Keyed(Targeted, Protocol):
    """What the strategy reads from a variant (``Variant`` satisfies it): what selection reads, and its key."""

    @property
    def key(self) -> str: ...
    @property
    def weight(self) -> int: ...


K = TypeVar("K", bound=Keyed)


def area_bucket(visitor_id: str, area_key: str) -> int:
    """The visitor's bucket in this area's split, 0–99 (``split_bucket``); a function of their holdout bucket alone
    (the caches' ``HOLDOUT_VARY_HEADER``), turned per area so each area splits visitors its own way."""
    return split_bucket(visitor_id, area_key)


def eligible(variants: Sequence[K]) -> list[K]:
    """The variants being tested: all but the fallback(s); the fallback(s) only when there is nothing else."""
    standard = fallbacks(variants)
    others = [variant for variant in variants if variant not in standard]
    return others or standard


def optimized_variant(
    variants: Sequence[K], area_key: str, visitor_id: str | None, allocation: Sequence[str] | None
) -> K | None:
    """The variant the visitor's bucket is allocated (None without an id: no bucket, they see the fallback).

    Before the first refresh (a new area), or for a bucket whose variant was since removed, the eligible
    variants split the buckets evenly. No I/O.
    """
    candidates = eligible(variants)
    if not visitor_id or not candidates:
        return None
    bucket = area_bucket(visitor_id, area_key)
    if allocation and len(allocation) == BUCKETS:
        wanted = allocation[bucket]
        for variant in candidates:
            if variant.key == wanted:
                return variant
    return candidates[bucket * len(candidates) // BUCKETS]


def experiment_variant(variants: Sequence[K], area_key: str, visitor_id: str | None) -> K | None:
    """The variant of a fixed split the visitor's bucket falls in: the eligible variants of weight above 0 take
    buckets in proportion to their weights (``bucket_counts``), in tree order. None without an id (no bucket)
    or without such a variant: the fallback. No I/O; the split is worked out once per set of weights."""
    candidates = _tested(variants)
    if not visitor_id or not candidates:
        return None
    wanted = _split(tuple((variant.key, variant.weight) for variant in candidates))[area_bucket(visitor_id, area_key)]
    return next(variant for variant in candidates if variant.key == wanted)


def experiment_shares(variants: Sequence[K]) -> dict[str, int]:
    """The percent of an experiment's visitors (those not held out) each variant in its split gets, by key, in
    tree order: what ``experiment_variant`` gives. Variants left out (weight 0, the fallback) are absent."""
    return bucket_counts({variant.key: variant.weight for variant in _tested(variants)}, 0.0)


def _tested(variants: Sequence[K]) -> list[K]:
    return [variant for variant in eligible(variants) if variant.weight > 0]


@functools.lru_cache(maxsize=256)
def _split(weights: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """The variant key of each bucket for these (key, weight) pairs: their shares of 100, in whole buckets."""
    return tuple(allocate(bucket_counts(dict(weights), 0.0)))


def best_probabilities(
    counts: Mapping[str, tuple[int, int]], rng: random.Random, draws: int = DRAWS
) -> dict[str, float]:
    """For each variant (key -> (trials, successes)), the probability that it has the best rate: the share of
    ``draws`` joint draws from Beta(1 + successes, 1 + failures) where its draw is the highest."""
    keys = list(counts)
    wins = dict.fromkeys(keys, 0)
    params = [(1 + max(0, s), 1 + max(0, t - s)) for t, s in (counts[key] for key in keys)]
    for _ in range(draws):
        samples = [rng.betavariate(a, b) for a, b in params]
        wins[keys[samples.index(max(samples))]] += 1
    return {key: wins[key] / draws for key in keys}


def bucket_counts(shares: Mapping[str, float], min_share: float) -> dict[str, int]:
    """How many of the 100 buckets each variant gets: at least ``min_share`` of them each (rounded up), the rest
    by ``shares`` (largest remainders, ties in the given order). Sums to 100."""
    keys = list(shares)
    if not keys:
        return {}
    floor = min(math.ceil(round(min_share * BUCKETS, 6)), BUCKETS // len(keys))
    rest = BUCKETS - floor * len(keys)
    total = sum(shares.values())
    exact = [rest * (shares[key] / total if total > 0 else 1 / len(keys)) for key in keys]
    counts = [floor + int(value) for value in exact]
    by_remainder = sorted(range(len(keys)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    for i in by_remainder[: BUCKETS - sum(counts)]:
        counts[i] += 1
    return dict(zip(keys, counts, strict=True))


def allocate(counts: Mapping[str, int], previous: Sequence[str] | None = None) -> list[str]:
    """The variant key of each bucket, ``counts[key]`` buckets each, moving as few buckets from ``previous`` as
    possible: a variant keeps its buckets up to its count (the lowest first); freed ones go to those short."""
    allocation: list[str | None] = [None] * BUCKETS
    kept = dict.fromkeys(counts, 0)
    if previous is not None and len(previous) == BUCKETS:
        for bucket, key in enumerate(previous):
            if key in kept and kept[key] < counts[key]:
                allocation[bucket] = key
                kept[key] += 1
    short = [key for key in counts for _ in range(counts[key] - kept[key])]
    free = [bucket for bucket, key in enumerate(allocation) if key is None]
    for bucket, key in zip(free, short, strict=True):
        allocation[bucket] = key
    return [key for key in allocation if key is not None]
