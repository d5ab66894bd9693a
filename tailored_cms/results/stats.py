"""The statistics of results: rates with 95% confidence intervals, and the lift of one group over another.

Pure functions of counts (no Django, no I/O), checked against published figures in ``tests/results/test_stats.py``.

- A **rate** (click-through, conversion) is successes out of trials, with a Wilson score interval: unlike the
  textbook ``p ± 1.96·√(p(1-p)/n)`` it stays within 0–100% and is honest for small counts and rates near 0.
- The **lift** of a group over a baseline is the difference of their rates, with Newcombe's interval for a
  difference of independent proportions (his method 10, built from the two Wilson intervals), and the relative
  lift (the difference over the baseline's rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["CONFIDENCE", "Interval", "Lift", "Rate", "lift", "wilson"]

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
