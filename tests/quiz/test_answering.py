"""Answering the quiz: through the API (customize.js) and the plain form (no JavaScript); what answers map to is
the server's to say; bad answers are a 400 naming what was wrong; the answers are the visitor's own data."""

from __future__ import annotations

import json

import pytest
from cms.api import add_plugin
from django.test import Client

from tailored_cms.quiz.models import QuizResponse
from tailored_cms.visitors.models import Visitor

from .conftest import API

pytestmark = pytest.mark.django_db


def post(client: Client, body) -> object:
    return client.post(
        API, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )


def test_answers_follow_their_topics_and_set_their_traits(quiz, browser):
    response = post(browser, {"quiz": quiz.quiz.pk, "answers": [quiz.sports.pk, quiz.technology.pk, quiz.family.pk]})
    assert response.status_code == 200, response.content
    assert response.json()["topics"] == ["sports", "technology"]
    assert response.cookies[f"tailored_quiz_{quiz.quiz.pk}"].value == "done"
    visitor = Visitor.objects.get()
    assert visitor.topics == ["sports", "technology"] and visitor.traits == {"household": "family"}
    (answered,) = QuizResponse.objects.all()
    assert (answered.visitor_id, answered.answers, answered.skipped) == (
        visitor.pk,
        ["Sports", "Technology", "My family"],
        False,
    )
    # The page follows at once: the next request is rendered for the new topics.
    assert browser.get("/tailored/api/v1/preferences/").json()["topics"] == ["sports", "technology"]


def test_answers_add_to_the_topics_already_followed(quiz, browser):
    browser.patch(
        "/tailored/api/v1/preferences/",
        json.dumps({"topics": ["travel"]}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )
    assert post(browser, {"quiz": quiz.quiz.pk, "answers": [quiz.sports.pk]}).json()["topics"] == ["travel", "sports"]


@pytest.mark.parametrize(
    "body, message",
    [
        (lambda q: {"quiz": q.quiz.pk, "answers": [999999]}, "Not an answer of this quiz: 999999."),
        (lambda q: {"quiz": 999999, "answers": []}, "No quiz with this id."),
        (
            lambda q: {"quiz": q.quiz.pk, "answers": [q.family.pk, q.alone.pk]},
            "“Who reads with you?” takes one answer.",
        ),
        (lambda q: {"quiz": q.quiz.pk, "answers": [q.sports.pk], "skipped": True}, "A skipped quiz has no answers."),
        (lambda q: {"quiz": q.quiz.pk, "answers": ["sports"]}, "A valid integer is required."),
        (lambda q: {"answers": []}, "This field is required."),
    ],
)
def test_a_bad_answer_is_a_400_saying_what_was_wrong_and_nothing_is_saved(quiz, browser, body, message):
    response = post(browser, body(quiz))
    assert response.status_code == 400
    assert message in json.dumps(response.json(), ensure_ascii=False)
    assert not Visitor.objects.exists() and not QuizResponse.objects.exists()


def test_an_answer_of_another_quiz_is_refused(quiz, browser):
    second = add_plugin(quiz.quiz.placeholder, "QuizPlugin", "en")
    response = post(browser, {"quiz": second.pk, "answers": [quiz.sports.pk]})
    assert (
        response.status_code == 400 and f"Not an answer of this quiz: {quiz.sports.pk}." in response.json()["answers"]
    )


def test_a_skip_is_remembered_and_changes_no_choice(quiz, browser):
    response = post(browser, {"quiz": quiz.quiz.pk, "skipped": True})
    assert response.status_code == 200 and response.json()["topics"] == []
    (skipped,) = QuizResponse.objects.all()
    assert skipped.skipped and skipped.answers == []


def test_the_api_needs_the_csrf_token(quiz, browser):
    response = browser.post(API, json.dumps({"quiz": quiz.quiz.pk}), content_type="application/json")
    assert response.status_code == 403


# Without JavaScript


def form_post(client: Client, quiz, data: dict, **headers) -> object:
    return client.post(f"/tailored/quiz/{quiz.quiz.pk}/", {"next": "/en/", **data}, **headers)


def test_the_form_saves_and_goes_back_to_the_page(quiz):
    browser = Client()
    html = browser.get(quiz.page.get_absolute_url("en")).content.decode()
    assert f'action="/tailored/quiz/{quiz.quiz.pk}/"' in html and "<legend" in html and "What do you like?" in html
    response = form_post(
        browser,
        quiz,
        {
            f"question-{quiz.interests.pk}": [quiz.technology.pk],
            f"question-{quiz.household.pk}": quiz.family.pk,
            "save": "",
        },
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 303 and response["Location"] == "/en/"
    visitor = Visitor.objects.get()
    assert visitor.topics == ["technology"] and visitor.traits == {"household": "family"}
    assert response.cookies[f"tailored_quiz_{quiz.quiz.pk}"].value == "done"


def test_the_forms_skip_button_skips(quiz):
    response = form_post(Client(), quiz, {"skip": ""}, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 303 and QuizResponse.objects.get().skipped


def test_the_form_from_another_site_or_with_a_bad_answer_is_refused(quiz):
    assert form_post(Client(), quiz, {"save": ""}, HTTP_ORIGIN="https://evil.example").status_code == 403
    bad = form_post(Client(), quiz, {f"question-{quiz.interests.pk}": "x", "save": ""}, HTTP_ORIGIN="http://testserver")
    assert bad.status_code == 400 and "not a whole number" in bad.content.decode()
    other = form_post(
        Client(), quiz, {f"question-{quiz.interests.pk}": "424242", "save": ""}, HTTP_ORIGIN="http://testserver"
    )
    assert other.status_code == 400 and "Not an answer of this quiz: 424242." in other.content.decode()
    assert not QuizResponse.objects.exists()


# The visitor's own data


def test_answers_are_exported_and_erased_with_the_visitor(quiz, browser):
    post(browser, {"quiz": quiz.quiz.pk, "answers": [quiz.sports.pk]})
    exported = browser.get("/tailored/api/v1/me/").json()["quiz_answers"]
    assert [(row["quiz"], row["answers"], row["skipped"]) for row in exported] == [(quiz.quiz.pk, ["Sports"], False)]
    erased = browser.delete("/tailored/api/v1/me/", HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert erased.status_code == 200 and erased.json()["erased"]["quiz_answers"] == 1
    assert not QuizResponse.objects.exists()
