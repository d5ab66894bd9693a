from __future__ import annotations

from dataclasses import dataclass

import pytest
from cms.api import add_plugin, create_page
from cms.models import Page
from django.test import Client

from tailored_cms import api
from tailored_cms.quiz.models import Quiz, QuizAnswer, QuizQuestion
from tailored_cms.visitors.models import Topic

API = "/tailored/api/v1/quiz/"


@dataclass
class Built:
    page: Page
    quiz: Quiz
    interests: QuizQuestion
    household: QuizQuestion
    sports: QuizAnswer
    technology: QuizAnswer
    family: QuizAnswer
    alone: QuizAnswer


@pytest.fixture
def quiz(db) -> Built:
    """A homepage with a two-question quiz: "What do you like?" (several answers: Sports, Technology) and "Who
    reads with you?" (one answer: My family, which sets the trait household=family; Nobody)."""
    for slug in ("sports", "technology", "travel"):
        api.create_topic(slug, slug.title())
    page = create_page("Home", "home.html", "en", slug="home")
    slot = page.get_content_obj("en").get_placeholders().get(slot="content")
    quiz = add_plugin(slot, "QuizPlugin", "en", title="Tell us what you like")
    interests = add_plugin(slot, "QuizQuestionPlugin", "en", target=quiz, text="What do you like?", multiple=True)
    household = add_plugin(slot, "QuizQuestionPlugin", "en", target=quiz, text="Who reads with you?")
    sports = add_plugin(slot, "QuizAnswerPlugin", "en", target=interests, label="Sports")
    technology = add_plugin(slot, "QuizAnswerPlugin", "en", target=interests, label="Technology")
    family = add_plugin(
        slot, "QuizAnswerPlugin", "en", target=household, label="My family", traits={"household": "family"}
    )
    alone = add_plugin(slot, "QuizAnswerPlugin", "en", target=household, label="Nobody")
    sports.topics.set(Topic.objects.filter(slug="sports"))
    technology.topics.set(Topic.objects.filter(slug="technology"))
    slot.clear_cache("en")
    return Built(page, quiz, interests, household, sports, technology, family, alone)


@pytest.fixture
def browser() -> Client:
    """A visitor's browser: CSRF is checked, and it has the csrftoken cookie from a first GET."""
    client = Client(enforce_csrf_checks=True)
    assert client.get("/tailored/api/v1/preferences/").status_code == 200
    return client
