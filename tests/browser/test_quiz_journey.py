"""The onboarding quiz as a new visitor meets it on the example site's homepage: two questions, one at a time,
answered with the keyboard alone; the homepage follows the answers at once (no reload), and the quiz is gone on
the next visit. Skipping works too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from .accessibility import assert_accessible
from .conftest import new_context, tab

pytestmark = pytest.mark.browser

TECHNOLOGY_HERO = "This week in technology"


def tab_to(page: Page, target: Locator, presses: int = 80) -> None:
    """Press Tab until ``target`` has the focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"Tab never reached {target}")


def test_a_new_visitor_answers_two_questions_with_the_keyboard_and_the_homepage_follows_at_once(visitor: Page):
    page = visitor
    page.goto("/")
    quiz = page.locator("[data-tailored-quiz]")
    status = quiz.locator("[data-tailored-status]")
    expect(quiz.locator("legend", has_text="What do you like to read about?")).to_be_visible()
    expect(quiz.locator("legend", has_text="When do you read us?")).to_be_hidden()  # one question at a time
    expect(status).to_have_text("Question 1 of 2")
    expect(page.locator(".hero")).not_to_contain_text(TECHNOLOGY_HERO)
    assert_accessible(page)

    tab_to(page, quiz.get_by_label("Technology", exact=True))
    page.keyboard.press("Space")
    tab_to(page, quiz.get_by_role("button", name="Next question"), presses=5)
    page.keyboard.press("Enter")
    second = quiz.locator("legend", has_text="When do you read us?")
    expect(second).to_be_focused()  # a screen reader reads the next question
    expect(status).to_have_text("Question 2 of 2")
    tab_to(page, quiz.get_by_label("On my way to work", exact=True), presses=3)
    page.keyboard.press("Space")
    tab_to(page, quiz.get_by_role("button", name="Save my answers"), presses=3)
    with page.expect_response(lambda r: r.url.endswith("/tailored/api/v1/quiz/")) as saved:
        page.keyboard.press("Enter")
    assert saved.value.ok, saved.value.text()

    # At once, without a reload: the hero is the technology one; the panel ticks Technology.
    expect(page.locator(".hero")).to_contain_text(TECHNOLOGY_HERO)
    expect(page.locator("[data-tailored-panel]").get_by_label("Technology", exact=True)).to_be_checked()
    expect(status).to_have_text("Saved. The page now follows your answers.")
    expect(quiz.locator(".tailored-quiz-title")).to_be_focused()
    assert_accessible(page)

    mine = page.request.get("/tailored/api/v1/me/").json()
    assert mine["visitor"]["topics"] == ["technology"]
    assert mine["visitor"]["traits"] == {"reading": "commute"}
    assert [row["answers"] for row in mine["quiz_answers"]] == [["Technology", "On my way to work"]]

    page.reload()
    expect(page.locator(".hero")).to_contain_text(TECHNOLOGY_HERO)
    expect(quiz).to_be_hidden()  # answered: not shown again (the editor's "until answered")


def test_a_visitor_who_skips_the_quiz_does_not_see_it_again(visitor: Page):
    page = visitor
    page.goto("/")
    quiz = page.locator("[data-tailored-quiz]")
    with page.expect_response(lambda r: r.url.endswith("/tailored/api/v1/quiz/")) as skipped:
        quiz.get_by_role("button", name="Skip the quiz").click()
    assert skipped.value.ok
    expect(quiz.locator("[data-tailored-status]")).to_have_text("Skipped. You can choose your topics at any time.")
    page.reload()
    expect(quiz).to_be_hidden()
    assert page.request.get("/tailored/api/v1/me/").json()["quiz_answers"][0]["skipped"] is True


def test_without_javascript_the_quiz_is_a_plain_form_that_saves_and_comes_back(chromium, demo_site):
    with tab(new_context(chromium, demo_site, java_script_enabled=False)) as page:
        page.goto("/")
        quiz = page.locator("[data-tailored-quiz]")
        expect(quiz.locator("legend")).to_have_count(2)  # every question at once
        quiz.get_by_label("Technology", exact=True).check()
        quiz.get_by_label("At home, at leisure", exact=True).check()
        with page.expect_navigation():
            quiz.get_by_role("button", name="Save my answers").click()
        assert page.url.endswith("/en/")
        expect(page.locator(".hero")).to_contain_text(TECHNOLOGY_HERO)
        assert page.request.get("/tailored/api/v1/me/").json()["visitor"]["traits"] == {"reading": "leisure"}
