"""Results of the onboarding quizzes: how many visitors started, finished and skipped each, and the click-through
(clicks per page view) of those who answered against those who skipped, over a range of days.

From the events the beacon sends for tracked visitors (``quiz_started``, ``quiz_finished``, ``quiz_skipped`` with
the quiz's id; customize.js sends them), so like every figure of results it counts visitors who may be tracked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db.models import Count
from django.utils import timezone

from ..quiz.models import Quiz
from ..tracking.models import Event
from .report import period
from .stats import Rate

__all__ = ["QUIZ_EVENTS", "QuizResults", "quiz_results"]

STARTED, FINISHED, SKIPPED = "quiz_started", "quiz_finished", "quiz_skipped"
QUIZ_EVENTS = (STARTED, FINISHED, SKIPPED)


@dataclass
class QuizResults:
    quiz_id: int
    label: str
    page: str = ""
    visitors: dict[str, set[str]] = field(default_factory=lambda: {name: set() for name in QUIZ_EVENTS})
    takers_ctr: Rate = field(default_factory=lambda: Rate(0, 0))  # clicks per page view of those who finished
    skippers_ctr: Rate = field(default_factory=lambda: Rate(0, 0))

    @property
    def started(self) -> int:
        return len(self.visitors[STARTED] | self.visitors[FINISHED])  # finishing starts it (a one-click quiz)

    @property
    def finished(self) -> int:
        return len(self.visitors[FINISHED])

    @property
    def skipped(self) -> int:
        return len(self.visitors[SKIPPED] - self.visitors[FINISHED])  # who answered after a skip answered


def quiz_results(days: int) -> list[QuizResults]:
    """Every quiz with figures in the last ``days`` days, by the quiz's id. Cost: 4 queries."""
    since = timezone.make_aware(datetime.combine(period(days)[0], time.min))
    found: dict[int, QuizResults] = {}
    for name, props, visitor_id in Event.objects.filter(name__in=QUIZ_EVENTS, ts__gte=since).values_list(
        "name", "props", "visitor_id"
    ):
        quiz_id = str((props or {}).get("quiz", ""))
        if not quiz_id.isdigit():
            continue
        results = found.setdefault(int(quiz_id), QuizResults(int(quiz_id), f"#{quiz_id}"))
        results.visitors[name].add(str(visitor_id))
    if not found:
        return []
    for quiz in (
        Quiz.objects.filter(pk__in=list(found)).select_related("placeholder").prefetch_related("placeholder__source")
    ):
        source = quiz.placeholder.source if quiz.placeholder else None
        found[quiz.pk].label, found[quiz.pk].page = str(quiz), str(getattr(source, "title", "") or "")
    takers = {vid for r in found.values() for vid in r.visitors[FINISHED]}
    skippers = {vid for r in found.values() for vid in r.visitors[SKIPPED]} - takers
    activity: dict[str, dict[str, int]] = defaultdict(dict)
    for visitor_id, name, count in (
        Event.objects.filter(visitor_id__in=list(takers | skippers), ts__gte=since, name__in=["click", "page_view"])
        .values_list("visitor_id", "name")
        .annotate(count=Count("id"))
    ):
        activity[str(visitor_id)][name] = count
    for results in found.values():
        results.takers_ctr = _ctr(results.visitors[FINISHED], activity)
        results.skippers_ctr = _ctr(results.visitors[SKIPPED] - results.visitors[FINISHED], activity)
    return [found[quiz_id] for quiz_id in sorted(found)]


def _ctr(visitors: set[str], activity: dict[str, dict[str, int]]) -> Rate:
    views = sum(activity.get(vid, {}).get("page_view", 0) for vid in visitors)
    clicks = sum(activity.get(vid, {}).get("click", 0) for vid in visitors)
    return Rate(min(clicks, views), views)
