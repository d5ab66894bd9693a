"""The statistics against published figures: Wilson intervals and Newcombe's interval for a difference of
proportions (R. G. Newcombe, Statistics in Medicine 1998; 17: 857-872 and 873-890, whose worked examples these are);
the probability of being best, the sample size of a comparison, and the always-valid p-value under daily peeking."""

from __future__ import annotations

import random

import pytest

from tailored_cms.results.stats import (
    ALPHA,
    Interval,
    Rate,
    always_valid_p,
    lift,
    probability_best,
    sample_size,
    wilson,
)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),  # by symmetry with 0 of 29 (0 to 0.1170)
        (5, 100, 0.0215, 0.1118),
    ],
)
def test_wilson_intervals_match_the_published_ones(successes, trials, low, high):
    interval = wilson(successes, trials)
    assert interval is not None
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


def test_the_wilson_interval_by_hand():
    # 10 of 100, z = 1.96: centre (0.1 + 1.96²/200) / (1 + 1.96²/100) = 0.119208 / 1.038416 = 0.114798,
    # half-width 1.96·√(0.1·0.9/100 + 1.96²/40000) / 1.038416 = 1.96·0.031560 / 1.038416 = 0.059569.
    interval = wilson(10, 100, z=1.96)
    assert interval == Interval(pytest.approx(0.055229, abs=1e-6), pytest.approx(0.174367, abs=1e-6))


def test_a_rate_without_trials_has_no_value_and_no_interval():
    assert wilson(0, 0) is None
    assert (Rate(0, 0).value, Rate(0, 0).interval) == (None, None)
    assert Rate(3, 12).value == 0.25


@pytest.mark.parametrize(("successes", "trials"), [(5, 4), (-1, 10), (0, -1)])
def test_impossible_counts_are_refused(successes, trials):
    with pytest.raises(ValueError):
        Rate(successes, trials)
    with pytest.raises(ValueError):
        wilson(successes, trials)


@pytest.mark.parametrize(
    ("group", "baseline", "low", "high"),
    [
        ((56, 70), (48, 80), 0.0524, 0.3339),
        ((9, 10), (3, 10), 0.1705, 0.8090),
        ((6, 7), (2, 7), 0.0582, 0.8062),
        ((5, 56), (0, 29), -0.0381, 0.1926),
        ((0, 10), (0, 20), -0.1611, 0.2775),
        ((10, 10), (0, 20), 0.6791, 1.0),
    ],
)
def test_newcombes_interval_matches_his_worked_examples(group, baseline, low, high):
    found = lift(Rate(*group), Rate(*baseline))
    assert found is not None
    assert found.difference == pytest.approx(group[0] / group[1] - baseline[0] / baseline[1])
    assert found.interval.low == pytest.approx(low, abs=5e-5)
    assert found.interval.high == pytest.approx(high, abs=5e-5)


def test_relative_lift_and_significance():
    # 12% against 5%: +7 points, 1.4 times better, and the interval (Newcombe) excludes zero.
    found = lift(Rate(120, 1000), Rate(5, 100))
    assert found is not None
    assert found.difference == pytest.approx(0.07)
    assert found.relative == pytest.approx(1.4)
    assert found.significant and found.interval.low > 0
    close = lift(Rate(11, 100), Rate(10, 100))
    assert close is not None and not close.significant and close.relative == pytest.approx(0.1)
    assert lift(Rate(3, 10), Rate(0, 10)).relative is None  # nothing to be relative to
    assert lift(Rate(3, 10), Rate(0, 0)) is None and lift(Rate(0, 0), Rate(3, 10)) is None


# Probability of being best, sample size, the always-valid p-value


def test_equal_figures_make_each_of_two_groups_best_half_the_time():
    best = probability_best({"a": Rate(100, 1000), "b": Rate(100, 1000)})
    assert best["a"] == pytest.approx(0.5, abs=0.02)
    assert sum(best.values()) == pytest.approx(1.0)


def test_a_clear_winner_is_best_with_over_95_percent_probability():
    best = probability_best({"a": Rate(100, 1000), "b": Rate(140, 1000), "c": Rate(95, 1000)})
    assert best["b"] > 0.95
    assert best["a"] + best["c"] < 0.05


def test_the_probability_of_being_best_is_the_same_on_every_call():
    rates = {"a": Rate(12, 90), "b": Rate(15, 88)}
    assert probability_best(rates) == probability_best(rates)


def test_without_figures_every_group_is_as_likely_to_be_best():
    best = probability_best({"a": Rate(0, 0), "b": Rate(0, 0), "c": Rate(0, 0)})
    assert all(value == pytest.approx(1 / 3, abs=0.03) for value in best.values())


@pytest.mark.parametrize(
    ("baseline", "difference", "per_group"),
    [
        # Fleiss's formula without continuity correction, 5% two-sided, 80% power, worked by hand: 0.5 against
        # 0.6 is (1.95996·√(2·0.55·0.45) + 0.84162·√(0.25 + 0.24))² / 0.1² = 19.6809² = 387.3, so 388.
        (0.10, 0.01, 14751),
        (0.10, 0.05, 686),
        (0.50, 0.10, 388),
        (0.20, -0.05, 906),
    ],
)
def test_the_sample_size_of_a_comparison_of_two_rates(baseline, difference, per_group):
    assert sample_size(baseline, difference) == per_group


def test_no_sample_size_for_no_difference_or_rates_outside_0_to_1():
    assert sample_size(0.1, 0.0) is None
    assert sample_size(0.95, 0.1) is None


def _daily_looks(rng: random.Random, rate_a: float, rate_b: float, days: int, per_day: int) -> list[tuple[Rate, Rate]]:
    """Cumulative figures of two groups at the end of each day, ``per_day`` trials each a day."""
    looks, a, b = [], 0, 0
    for day in range(1, days + 1):
        a += sum(rng.random() < rate_a for _ in range(per_day))
        b += sum(rng.random() < rate_b for _ in range(per_day))
        looks.append((Rate(a, day * per_day), Rate(b, day * per_day)))
    return looks


def test_peeking_every_day_at_an_experiment_of_equal_variants_declares_a_winner_at_most_alpha_of_the_time():
    rng = random.Random(2017)
    experiments = [_daily_looks(rng, 0.1, 0.1, days=30, per_day=200) for _ in range(300)]
    false_winners = sum(always_valid_p(looks) <= ALPHA for looks in experiments)
    assert false_winners / len(experiments) <= ALPHA
    # What the sequential test guards against: a fixed-horizon interval looked at every day finds far more.
    peeked = sum(any(lift(a, b).significant for a, b in looks) for looks in experiments)
    assert peeked / len(experiments) > 2 * ALPHA


def test_a_real_difference_is_found_by_the_always_valid_p_value():
    rng = random.Random(1512)
    experiments = [_daily_looks(rng, 0.10, 0.13, days=30, per_day=200) for _ in range(50)]
    found = sum(always_valid_p(looks) <= ALPHA for looks in experiments)
    assert found / len(experiments) > 0.8


def test_the_always_valid_p_value_never_grows_and_ignores_looks_without_figures():
    looks = [(Rate(0, 0), Rate(0, 0)), (Rate(35, 100), Rate(10, 100)), (Rate(36, 200), Rate(35, 200))]
    assert always_valid_p(looks[:1]) == 1.0
    assert always_valid_p(looks) == always_valid_p(looks[:2]) < 0.05
