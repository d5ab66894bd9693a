"""Results of a quiz: started, finished and skipped (visitors, from the beacon's events through the ingest), and
the click-through of those who answered against those who skipped."""

from __future__ import annotations

import pytest

from tailored_cms import connection
from tailored_cms.results.quizzes import quiz_results
from tailored_cms.tracking import TrackedEvent, append
from tailored_cms.tracking.ingest import drain
from tailored_cms.visitors.models import Visitor

from ..results.conftest import staff_client

pytestmark = pytest.mark.usefixtures("tailored_redis")


def sent(visitor_id: str, quiz, steps: list[str], views: int, clicks: int) -> list[TrackedEvent]:
    """What customize.js and tracking.js send for a visitor: the quiz's steps, page views and clicks."""
    url = quiz.page.get_absolute_url("en")
    events = [TrackedEvent(visitor_id, step, props={"quiz": str(quiz.quiz.pk)}, path=url) for step in steps]
    events += [TrackedEvent.page_view(visitor_id, url, page_id=quiz.page.pk) for _ in range(views)]
    events += [TrackedEvent(visitor_id, "click", props={"link": "/en/"}, path=url) for _ in range(clicks)]
    return events


def test_results_count_visitors_per_step_and_compare_click_through(quiz):
    visitors = [str(Visitor.objects.create(tracking_consent=True).pk) for _ in range(4)]
    events = (
        sent(visitors[0], quiz, ["quiz_started", "quiz_finished"], views=4, clicks=2)
        + sent(visitors[1], quiz, ["quiz_finished"], views=2, clicks=1)
        + sent(visitors[2], quiz, ["quiz_started", "quiz_skipped"], views=4, clicks=0)
        + sent(visitors[3], quiz, ["quiz_started"], views=1, clicks=0)  # started, then left
    )
    pipeline = connection.get_redis().pipeline(transaction=False)
    append(pipeline, events)
    pipeline.execute()
    drain(5)

    (results,) = quiz_results(30)
    assert (results.label, results.page) == ("Tell us what you like", "Home")
    assert (results.started, results.finished, results.skipped) == (4, 2, 1)  # finishing counts as starting
    assert (results.takers_ctr.successes, results.takers_ctr.trials) == (3, 6)
    assert (results.skippers_ctr.successes, results.skippers_ctr.trials) == (0, 4)

    html = staff_client("analyst", "view_results").get("/admin/tailored_cms/variantstats/").content.decode()
    row = html.split(f'data-tailored-quiz-results="{quiz.quiz.pk}"')[1].split("</tr>")[0]
    assert "Tell us what you like" in row and "50" in row and "0%" in row
    assert "Click-through of those who answered" in html


def test_no_quiz_figures_no_table(db):
    html = staff_client("analyst", "view_results").get("/admin/tailored_cms/variantstats/").content.decode()
    assert "data-tailored-results-quizzes" not in html
