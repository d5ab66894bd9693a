"""The statistics of results: rates with 95% confidence intervals, and the lift of one group over another.

Pure functions of counts (no Django, no I/O), checked against published figures in ``tests/results/test_stats.py``.

- A **rate** (click-through, conversion) is successes out of trials, with a Wilson score interval: unlike the
  textbook ``p ± 1.96·√(p(1-p)/n)`` it stays within 0–100% and is honest for small counts and rates near 0.
- The **lift** of a group over a baseline is the difference of their rates, with Newcombe's interval for a
  difference of independent proportions (his method 10, built from the two Wilson intervals), and the relative
  lift (the difference over the baseline's rate).
- The **probability of being best** of each of several groups: Beta(1 + successes, 1 + failures) posteriors (a
  uniform prior), by Monte Carlo with a fixed seed, so the same figures always read the same (``areas.optimize``'s
  draws, which the optimize strategy allocates visitors by).
- The **sample size** a comparison needs: per group, for a two-sided test at 5% to see a given difference 80% of
  the time (Fleiss's formula for two proportions, without continuity correction).
- The **always-valid p-value** of an experiment read every day: the mixture sequential probability ratio test
  (mSPRT) of Johari, Pekelis and Walsh, "Always Valid Inference" (Operations Research 70(3), 2022; arXiv
  1512.04922, 2017), on the difference of two rates with a normal mixing distribution. Its running minimum over
  every look stays below ``alpha`` with probability at most ``alpha`` when the two rates are equal, however often
  it is looked at: peeking doesn't cheat.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist

from ..areas.optimize import best_probabilities

__all__ = [
    "ALPHA",
    "CONFIDENCE",
    "POWER",
    "Interval",
    "Lift",
    "Rate",
    "always_valid_p",
    "lift",
    "probability_best",
    "sample_size",
    "wilson",
]

CONFIDENCE = 0.95
_Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959963984540054


@dataclass(frozen=True)
class Interval:
    """A confidence interval, as fractions (0.05 is 5%)."""

    low: float
    high: float


def wilson(successes: int, trials: int, z: float = _Z) -> Interval | None:
    """The Wilson score interval of ``successes`` out of ``trials``; ``None`` without trials."""
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, not {successes} of {trials}")
    if trials == 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    # Rounding can leave the bounds a hair outside [0, 1] (or off p when p is 0 or 1).
    return Interval(max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


@dataclass(frozen=True)
class Rate:
    """``successes`` out of ``trials``: the rate and its interval (both ``None`` without trials)."""

    successes: int
    trials: int

    def __post_init__(self) -> None:
        if self.trials < 0 or not 0 <= self.successes <= self.trials:
            raise ValueError(f"need 0 <= successes <= trials, not {self.successes} of {self.trials}")

    @property
    def value(self) -> float | None:
        return self.successes / self.trials if self.trials else None

    @property
    def interval(self) -> Interval | None:
        return wilson(self.successes, self.trials)


@dataclass(frozen=True)
class Lift:
    """How much higher a group's rate is than the baseline's: ``difference`` (in rate, 0.01 = one percentage point)
    with its interval, and ``relative`` (the difference over the baseline rate; ``None`` when that is 0)."""

    difference: float
    interval: Interval
    relative: float | None

    @property
    def significant(self) -> bool:
        """The interval excludes 0: at 95% confidence the two rates differ."""
        return self.interval.low > 0 or self.interval.high < 0


def lift(group: Rate, baseline: Rate) -> Lift | None:
    """The lift of ``group`` over ``baseline`` (Newcombe's hybrid score interval); ``None`` if either has no trials."""
    a, b = group.interval, baseline.interval
    p1, p2 = group.value, baseline.value
    if a is None or b is None or p1 is None or p2 is None:
        return None
    difference = p1 - p2
    low = difference - math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2)
    high = difference + math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2)
    relative = difference / p2 if p2 else None
    return Lift(difference, Interval(low, high), relative)


ALPHA = 1 - CONFIDENCE  # the false positive rate a decision allows
POWER = 0.8  # how often a sample of ``sample_size`` sees a difference that is there
DRAWS = 4000  # probabilities of being best to within about ±0.8%
SEED = 24  # any fixed number: the same figures read the same probabilities on every page load
MIXTURE_SPREAD = 0.3  # the mSPRT's mixing distribution: differences of about 30% of the rate (see always_valid_p)


def probability_best(rates: Mapping[str, Rate], draws: int = DRAWS) -> dict[str, float]:
    """For each group, the probability that its rate is the highest (Beta posteriors with a uniform prior)."""
    counts = {key: (rate.trials, rate.successes) for key, rate in rates.items()}
    return best_probabilities(counts, random.Random(SEED), draws)


def sample_size(baseline: float, difference: float, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """Trials per group to tell ``baseline`` from ``baseline + difference`` (two-sided, at ``alpha``, with
    ``power``); ``None`` if there is no such pair of rates (no difference, or outside 0–1)."""
    other = baseline + difference
    if difference == 0 or not (0 <= baseline <= 1 and 0 <= other <= 1):
        return None
    mean = (baseline + other) / 2
    z_alpha = NormalDist().inv_cdf(1 - alpha / 2)
    z_power = NormalDist().inv_cdf(power)
    spread = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_power * math.sqrt(
        baseline * (1 - baseline) + other * (1 - other)
    )
    return math.ceil((spread / difference) ** 2)


def always_valid_p(looks: Iterable[tuple[Rate, Rate]]) -> float:
    """The always-valid p-value of "the two rates are equal" after each look at their figures so far (cumulative,
    oldest first): 1 over the largest mixture likelihood ratio seen, at most 1.

    At each look, with the difference of the rates ``d`` and its variance ``V`` under equal rates (the pooled
    rate's), the ratio is ``√(V / (V + τ²)) · exp(τ² d² / (2 V (V + τ²)))``: the likelihood of ``d`` averaged over
    true differences drawn from a normal distribution of variance ``τ²``, over its likelihood if there were
    none. ``τ`` is ``MIXTURE_SPREAD`` of the pooled rate: any value keeps the p-value valid, one near the
    differences that matter decides soonest.
    """
    best = 1.0
    for a, b in looks:
        if not a.trials or not b.trials:
            continue
        pooled = (a.successes + b.successes) / (a.trials + b.trials)
        variance = pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials)
        if variance <= 0:
            continue
        difference = a.successes / a.trials - b.successes / b.trials
        tau2 = (MIXTURE_SPREAD * pooled) ** 2
        log_ratio = 0.5 * math.log(variance / (variance + tau2)) + tau2 * difference**2 / (
            2 * variance * (variance + tau2)
        )
        best = min(best, math.exp(-log_ratio))
    return best
