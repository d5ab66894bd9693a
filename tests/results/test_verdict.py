"""What an area's results say an editor should do: the verdict (who wins, how sure, how many more views), and the
sentence on top of its results page."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from tailored_cms.results import report
from tailored_cms.results.report import AreaResults, Counts, Line
from tailored_cms.results.sentence import probability_text, sentence
from tailored_cms.results.verdict import Outcome, more_views_needed, verdict


def area(*lines: tuple[str, str, int, int, int], goal: str = "", holdout: int = 0) -> AreaResults:
    """An area with these (variant, path, impressions, clicks, conversions) over the range."""
    results = AreaResults(key="hero", label="Hero", goal=goal, holdout_percent=holdout, days=[date(2026, 3, 1)])
    results.labels = {"a": "Plain", "b": "Bold", "c": "Quiet"}
    for variant, path, impressions, clicks, conversions in lines:
        counts = Counts(impressions, clicks, conversions)
        results.daily[(date(2026, 3, 1), variant, path, "")] = counts
        results.lines.append(Line(variant, results.variant_label(variant), path, counts))
        results.by_path.setdefault(path, Counts())
        results.by_path[path] += counts
    return results


def test_a_clear_winner_of_an_optimize_area_is_named_with_its_probability_and_the_views():
    found = verdict(area(("a", "optimized", 2100, 150, 20), ("b", "optimized", 2110, 230, 45), goal="signup"))
    assert found.outcome == Outcome.WINNER
    assert [c.label for c in found.contenders] == ["Bold", "Plain"]
    assert found.contenders[0].probability > 0.95
    assert sentence(found) == "Bold beats Plain with > 99% probability on conversions to “signup” (n = 4,210)."


def test_three_variants_name_the_winner_against_the_other_two():
    found = verdict(
        area(("a", "optimized", 1000, 100, 0), ("b", "optimized", 1000, 160, 0), ("c", "optimized", 1000, 95, 0))
    )
    assert sentence(found).startswith("Bold beats the other 2 variants with > 99% probability on clicks (n = 3,000)")


def test_equal_figures_need_more_views_estimated_by_the_sample_size():
    found = verdict(area(("a", "optimized", 500, 50, 0), ("b", "optimized", 500, 50, 0)))
    assert found.outcome == Outcome.UNDECIDED
    assert found.contenders[0].probability == pytest.approx(0.5, abs=0.03)
    # 10% against 11%: 14,751 views each (stats.sample_size), at half the views each: 2·(14,751 − 500).
    assert found.more_needed == 28502
    assert sentence(found) == (
        "Not enough data yet: about 28,502 more views are needed to tell which does better on clicks."
    )


def test_enough_views_without_a_winner_say_the_variants_do_about_the_same():
    found = verdict(area(("a", "optimized", 20000, 2000, 0), ("b", "optimized", 20000, 2010, 0)))
    assert found.outcome == Outcome.SAME
    assert sentence(found) == (
        "No clear winner: after 40,000 views, any difference on clicks is likely smaller than 10%."
    )


def test_an_area_with_a_holdout_compares_tailoring_with_it():
    found = verdict(
        area(("a", "customized", 900, 180, 0), ("b", "fallback", 900, 150, 0), ("b", "holdout", 200, 10, 0), holdout=10)
    )
    assert found.holdout
    assert [c.label for c in found.contenders] == ["Tailoring", "No tailoring (the holdout)"]
    assert found.outcome == Outcome.WINNER
    assert found.probabilities == {}  # not the variants' own


def test_variants_shown_to_different_visitors_are_not_compared():
    found = verdict(area(("a", "customized", 900, 180, 0), ("b", "fallback", 900, 150, 0)))
    assert found.outcome == Outcome.NOT_COMPARABLE
    assert "shown to different visitors" in sentence(found)


def test_no_views_or_no_clicks_is_not_enough_data():
    assert verdict(area()).outcome == Outcome.NO_DATA
    found = verdict(area(("a", "optimized", 40, 0, 0), ("b", "optimized", 40, 0, 0), goal="signup"))
    assert found.outcome == Outcome.NO_DATA
    assert sentence(found) == "Not enough data yet: no conversions to “signup” counted in this period."


def test_probabilities_never_read_as_certain():
    assert (probability_text(1.0), probability_text(0.0), probability_text(0.973)) == ("> 99%", "< 1%", "97%")


@pytest.mark.parametrize(
    ("language", "winner", "undecided"),
    [
        (
            "de",
            "Bold schlägt Plain mit > 99% Wahrscheinlichkeit bei Klicks (n = 4.210).",
            "etwa 28.502 weitere Aufrufe",
        ),
        (
            "fr",
            "Bold bat Plain avec une probabilité de > 99% sur les clics (n = 4\u00a0210).",
            "environ 28\u00a0502 affichages de plus",
        ),
    ],
)
def test_the_sentence_in_other_languages(language, winner, undecided):
    won = verdict(area(("a", "optimized", 2100, 150, 0), ("b", "optimized", 2110, 300, 0)))
    open_ = verdict(area(("a", "optimized", 500, 50, 0), ("b", "optimized", 500, 50, 0)))
    with translation.override(language):
        assert sentence(won) == winner
        assert undecided in sentence(open_)


def _experiment(rows: list[tuple[str, int, int, int]]) -> AreaResults:
    """An experiment's (variant, day of March, views, clicks) rows."""
    results = AreaResults(key="hero", label="Hero", days=[date(2026, 3, day) for day in range(1, 11)])
    results.labels = {"a": "Plain", "b": "Bold"}
    for variant, day, impressions, clicks in rows:
        results.daily[(date(2026, 3, day), variant, "experiment", "")] = Counts(impressions, clicks, 0)
    report._summarize(results)
    return results


def test_an_experiment_wins_only_when_the_always_valid_p_value_says_so_too():
    # Day after day Bold does a little better: likely the best, but not yet past the sequential test.
    close = _experiment([(v, d, 100, 10 + (2 if v == "b" else 0)) for v in "ab" for d in range(1, 11)])
    found = verdict(close)
    assert found.contenders[0].label == "Bold" and found.contenders[0].probability > 0.9
    assert found.outcome == Outcome.UNDECIDED and found.always_valid_p > 0.05
    clear = _experiment([(v, d, 300, 30 + (20 if v == "b" else 0)) for v in "ab" for d in range(1, 11)])
    found = verdict(clear)
    assert found.outcome == Outcome.WINNER and found.always_valid_p < 0.05
    assert sentence(found).startswith("Bold beats Plain with > 99% probability on clicks (n = 6,000). The experiment")


def test_an_experiment_whose_leader_the_test_does_not_back_yet_says_so_not_that_one_more_view_will_do():
    # 20,000 views each, Bold 10.6% against Plain 10.0%: 98% likely the best, enough views by the sample size for a
    # difference of 10%, but the always-valid p-value is far from 0.05.
    leading = _experiment([(v, d, 2000, 212 if v == "b" else 200) for v in "ab" for d in range(1, 11)])
    found = verdict(leading)
    assert found.outcome == Outcome.LEADING and found.always_valid_p > 0.05
    assert more_views_needed(found.contenders[0].rate, found.contenders[1].rate, found.views) == 0
    assert sentence(found) == (
        "Bold leads with 98% probability on clicks (n = 40,000), but the experiment's test needs more data before "
        "it can call a winner."
    )
    with translation.override("de"):
        assert sentence(found) == (
            "Bold liegt mit 98% Wahrscheinlichkeit bei Klicks vorn (n = 40.000), aber der Test des Experiments "
            "braucht mehr Daten, bevor er eine Siegerin nennen kann."
        )
