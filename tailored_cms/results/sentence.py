"""The verdict (``verdict``) in the editor's words: the sentence on top of an area's results page."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext, pgettext

from .verdict import SMALLEST_DIFFERENCE, Outcome, Verdict

__all__ = ["probability_text", "sentence"]


def probability_text(probability: float) -> str:
    """0.973 -> "97%"; never a certainty the draws can't give: "> 99%" and "< 1%" at the ends."""
    if probability >= 0.995:
        return gettext("> 99%")
    if probability < 0.005:
        return gettext("< 1%")
    return f"{number_format(round(probability * 100), 0)}%"


def count_text(count: int) -> str:
    """4210 -> "4,210" (the editor's thousands mark)."""
    return number_format(count, 0, force_grouping=True)


def metric_text(goal: str) -> str:
    if goal:
        return gettext("conversions to “%(goal)s”") % {"goal": goal}
    return pgettext("what results compare, as in: B beats A with 97% probability on clicks", "clicks")


def sentence(verdict: Verdict) -> str:
    """ "B beats A with 97% probability on clicks (n = 4,210).", "Not enough data yet: …", and so on; for an
    experiment's winner, that the test may end."""
    said = _sentence(verdict)
    if verdict.outcome == Outcome.WINNER and verdict.always_valid_p is not None:
        p_value = number_format(round(verdict.always_valid_p, 3), 3)
        said += " " + gettext(
            "The experiment can end: this holds however often its results were looked at (always-valid p = %(p)s)."
        ) % {"p": p_value}
    return said


def _sentence(verdict: Verdict) -> str:
    metric = metric_text(verdict.goal)
    leader = verdict.leader
    if verdict.outcome == Outcome.WINNER and leader is not None:
        values = {
            "winner": leader.label,
            "probability": probability_text(leader.probability),
            "metric": metric,
            "n": count_text(verdict.views),
        }
        others = len(verdict.contenders) - 1
        if others == 1:
            values["other"] = verdict.contenders[1].label
            return (
                gettext("%(winner)s beats %(other)s with %(probability)s probability on %(metric)s (n = %(n)s).")
                % values
            )
        return ngettext(
            "%(winner)s beats the other %(count)s variant with %(probability)s probability on %(metric)s (n = %(n)s).",
            "%(winner)s beats the other %(count)s variants with %(probability)s probability on %(metric)s (n = %(n)s).",
            others,
        ) % {**values, "count": count_text(others)}
    if verdict.outcome == Outcome.LEADING and leader is not None:
        return gettext(
            "%(leader)s leads with %(probability)s probability on %(metric)s (n = %(n)s), but the experiment's test "
            "needs more data before it can call a winner."
        ) % {
            "leader": leader.label,
            "probability": probability_text(leader.probability),
            "metric": metric,
            "n": count_text(verdict.views),
        }
    if verdict.outcome == Outcome.UNDECIDED:
        return ngettext(
            "Not enough data yet: about %(count)s more view is needed to tell which does better on %(metric)s.",
            "Not enough data yet: about %(count)s more views are needed to tell which does better on %(metric)s.",
            verdict.more_needed,
        ) % {"count": count_text(verdict.more_needed), "metric": metric}
    if verdict.outcome == Outcome.SAME:
        return ngettext(
            "No clear winner: after %(n)s view, any difference on %(metric)s is likely smaller than %(smallest)s.",
            "No clear winner: after %(n)s views, any difference on %(metric)s is likely smaller than %(smallest)s.",
            verdict.views,
        ) % {"n": count_text(verdict.views), "metric": metric, "smallest": f"{round(SMALLEST_DIFFERENCE * 100)}%"}
    if verdict.outcome == Outcome.NOT_COMPARABLE:
        return gettext(
            "Each variant is shown to different visitors on purpose, so their rates can't say which is better. "
            "To find out, test them with the Optimize strategy, or set a holdout to compare tailoring with none."
        )
    return gettext("Not enough data yet: no %(metric)s counted in this period.") % {"metric": metric}
