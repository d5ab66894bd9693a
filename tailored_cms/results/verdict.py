"""What an area's results say an editor should do: which variant wins, how sure that is, or how much more data a
decision needs. The sentence on top of an area's results page, and the probabilities of its variants' table.

**What is compared.** Only groups of visitors split at random tell which of them does better:

- the variants an optimize or experiment area showed (its ``optimized`` or ``experiment`` path): each visitor's
  bucket chose one, at random;
- otherwise, with a holdout, tailoring (everyone outside the holdout) against no tailoring (the holdout);
- otherwise nothing: the variants were shown to different visitors on purpose (those who chose a topic, those in a
  segment), so their rates differ by who saw them as much as by what they saw.

**Rate.** Conversions of the area's goal per view if it has one, else clicks per view.

**Decision.** The leader wins when its probability of being best (``stats.probability_best``) reaches
``THRESHOLD``; in an experiment, also when its always-valid p-value against each other variant
(``stats.always_valid_p``, over the figures after each day) is at most ``ALPHA`` shared among them (Bonferroni),
so reading it every day doesn't make a winner of chance: a leader past ``THRESHOLD`` that the test doesn't back
yet only leads (``Outcome.LEADING``), whatever the sample size says. Otherwise, until a winner, the views still
needed are estimated by ``stats.sample_size``: enough for the leader and the runner-up each to tell apart a
difference of ``SMALLEST_DIFFERENCE`` of their common rate (5% two-sided, 80% power), at the share of views each
gets now. Their common rate, not the runner-up's own: that one is the noisier the fewer its conversions. Past
that many views without a winner, the groups do about the same.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from django.utils.translation import gettext

from ..areas.selection import HOLDOUT, SelectionPath
from .report import AreaResults, Counts
from .stats import ALPHA, Rate, always_valid_p, probability_best, sample_size

__all__ = ["SMALLEST_DIFFERENCE", "THRESHOLD", "Contender", "Outcome", "Verdict", "verdict"]

THRESHOLD = 0.95  # the probability of being best that makes a winner
SMALLEST_DIFFERENCE = 0.10  # the difference worth finding, relative to the rate
RANDOMIZED = (
    SelectionPath.OPTIMIZED,
    SelectionPath.EXPERIMENT,
)  # the paths that split visitors between variants at random


class Outcome(enum.StrEnum):
    WINNER = "winner"  # the leader is best with at least THRESHOLD probability
    UNDECIDED = "undecided"  # not yet: ``more_needed`` views to go
    LEADING = "leading"  # an experiment's leader is best with THRESHOLD probability, its sequential test not passed
    SAME = "same"  # enough views for a difference worth finding, and none found
    NO_DATA = "no_data"  # nothing to compare yet (no views, or no clicks or conversions at all)
    NOT_COMPARABLE = "not_comparable"  # no groups split at random: no holdout, no test


@dataclass(frozen=True)
class Contender:
    """A group compared: a variant (its key), or tailoring and the holdout (``key`` "" and ``HOLDOUT``)."""

    key: str
    label: str
    rate: Rate
    probability: float


@dataclass(frozen=True)
class Verdict:
    """What the figures say: the ``outcome``; the groups compared, the most likely best first; the views counted
    (``views``, of the groups compared) and, when undecided, about how many more a decision needs."""

    outcome: Outcome
    goal: str
    contenders: tuple[Contender, ...] = ()
    views: int = 0
    more_needed: int = 0
    holdout: bool = False  # tailoring against the holdout, not variants against each other
    always_valid_p: float | None = None  # an experiment's: the leader against the others, the largest

    @property
    def leader(self) -> Contender | None:
        return self.contenders[0] if self.contenders else None

    @property
    def probabilities(self) -> dict[str, float]:
        """Each variant's probability of being best, by key (none when the holdout is what is compared)."""
        return {} if self.holdout else {contender.key: contender.probability for contender in self.contenders}


def verdict(area: AreaResults) -> Verdict:
    """The verdict on ``area``'s results (pure: no queries)."""
    goal = area.goal
    randomized: dict[str, Counts] = {}
    for line in area.lines:
        if line.path in RANDOMIZED and line.variant:
            randomized.setdefault(line.variant, Counts())
            randomized[line.variant] += line.counts
    if len(randomized) > 1:
        groups = {key: (area.variant_label(key), counts) for key, counts in randomized.items()}
        found = _compare(groups, goal, holdout=False)
        if any(line.path == SelectionPath.EXPERIMENT for line in area.lines) and found.leader is not None:
            found = _sequential(area, found)
        return found
    if area.holdout.impressions and area.outside_holdout.impressions:
        groups = {
            "": (gettext("Tailoring"), area.outside_holdout),
            HOLDOUT: (gettext("No tailoring (the holdout)"), area.holdout),
        }
        return _compare(groups, goal, holdout=True)
    if not area.total.impressions:
        return Verdict(Outcome.NO_DATA, goal)
    return Verdict(Outcome.NOT_COMPARABLE, goal, views=area.total.impressions)


def _rate(counts: Counts, goal: str) -> Rate:
    return counts.conversion_rate if goal else counts.ctr


def _compare(groups: dict[str, tuple[str, Counts]], goal: str, *, holdout: bool) -> Verdict:
    rates = {key: _rate(counts, goal) for key, (_label, counts) in groups.items()}
    best = probability_best(rates)
    contenders = tuple(
        sorted(
            (Contender(key, label, rates[key], best[key]) for key, (label, _counts) in groups.items()),
            key=lambda contender: -contender.probability,
        )
    )
    views = sum(rate.trials for rate in rates.values())
    successes = sum(rate.successes for rate in rates.values())
    if not successes:
        return Verdict(Outcome.NO_DATA, goal, contenders, views, holdout=holdout)
    if contenders[0].probability >= THRESHOLD:
        return Verdict(Outcome.WINNER, goal, contenders, views, holdout=holdout)
    more = more_views_needed(contenders[0].rate, contenders[1].rate, views)
    outcome = Outcome.UNDECIDED if more > 0 else Outcome.SAME
    return Verdict(outcome, goal, contenders, views, more, holdout=holdout)


def _sequential(area: AreaResults, found: Verdict) -> Verdict:
    """An experiment's verdict: a winner only if the always-valid p-value says so too."""
    leader = found.contenders[0].key
    daily: dict[tuple[object, str], Counts] = {}
    for (day, variant, path, _language), counts in area.daily.items():
        if path == SelectionPath.EXPERIMENT:
            daily.setdefault((day, variant), Counts())
            daily[(day, variant)] += counts
    totals: dict[str, Counts] = {contender.key: Counts() for contender in found.contenders}
    looks: dict[str, list[tuple[Rate, Rate]]] = {key: [] for key in totals if key != leader}
    for day in area.days:
        for key, total in totals.items():
            total += daily.get((day, key), Counts())
        for key in looks:
            looks[key].append((_rate(totals[leader], found.goal), _rate(totals[key], found.goal)))
    p_value = max((always_valid_p(pairs) for pairs in looks.values()), default=1.0)
    decided = p_value <= ALPHA / max(len(looks), 1)
    if found.outcome == Outcome.WINNER and not decided:
        return Verdict(Outcome.LEADING, found.goal, found.contenders, found.views, always_valid_p=p_value)
    return Verdict(found.outcome, found.goal, found.contenders, found.views, found.more_needed, always_valid_p=p_value)


def more_views_needed(leader: Rate, runner_up: Rate, views: int) -> int:
    """About how many more views of the area the two groups need to tell apart ``SMALLEST_DIFFERENCE`` of the
    rate they have together, each getting its present share of the ``views``; 0 if they have enough."""
    baseline = (leader.successes + runner_up.successes) / max(leader.trials + runner_up.trials, 1)
    per_group = sample_size(baseline, SMALLEST_DIFFERENCE * baseline) or 0
    more = 0.0
    for rate in (leader, runner_up):
        share = max(rate.trials, 1) / views  # a group with no views yet needs them all, at about one in ``views``
        more = max(more, (per_group - rate.trials) / share)
    return math.ceil(more) if more > 0 else 0
