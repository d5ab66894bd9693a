"""The statistics against published figures: Wilson intervals and Newcombe's interval for a difference of
proportions (R. G. Newcombe, Statistics in Medicine 1998; 17: 857-872 and 873-890, whose worked examples these are)."""

from __future__ import annotations

import pytest

from tailored_cms.results.stats import Interval, Rate, lift, wilson


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
