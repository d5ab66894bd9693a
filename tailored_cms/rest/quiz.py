"""``quiz/``: a visitor answers an onboarding quiz (or skips it), from customize.js; and ``quiz/<id>/`` outside the
API, the same from a browser without JavaScript (a plain form, saved, then back to the page).

The browser sends the answers' ids only: the topics and traits they map to are looked up on the server
(``api.answer_quiz``). Both answer with the cookie that tells customize.js the quiz was answered (``Quiz.shown``).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseForbidden, HttpResponseRedirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from ..api import answer_quiz
from ..conf import tailored_settings
from ..visitors.views import safe_next_url, sent_from_this_site
from .base import ERRORS, EmptyBody, VisitorAPIView
from .serializers import PreferencesSerializer

__all__ = ["QuizFormView", "QuizView", "answered_cookie"]

QUESTION_FIELD = re.compile(r"question-[1-9][0-9]{0,9}")  # the form's inputs: one name per question


class QuizAnswersSerializer(serializers.Serializer):
    quiz = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    answers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), max_length=100, default=list
    )
    skipped = serializers.BooleanField(default=False)


def answered_cookie(response: HttpResponseBase, quiz_id: int) -> None:
    """Tell customize.js this browser answered or skipped the quiz (it shows it again only if the editor said
    always). Not personal: a quiz id and "done"."""
    response.set_cookie(
        f"tailored_quiz_{quiz_id}",
        "done",
        max_age=tailored_settings.COOKIE_AGE,
        samesite="Lax",
        secure=tailored_settings.COOKIE_SECURE,
    )


@extend_schema(
    request=QuizAnswersSerializer,
    responses={
        200: PreferencesSerializer,
        **ERRORS,
        400: OpenApiResponse(
            description="No such quiz, an answer not of this quiz, two answers to a one-answer "
            "question, answers with a skip, or a body that isn't {quiz, answers, skipped}."
        ),
    },
    summary="Answer an onboarding quiz (or skip it): follow its answers' topics, set their traits",
)
class QuizView(VisitorAPIView):
    """Answers the visitor's choices after the quiz, as ``preferences/`` does, for the page to follow them."""

    def post(self, request: Request) -> Response:
        if request.stream is None:
            raise EmptyBody()
        body = QuizAnswersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = body.validated_data
        try:
            snapshot = answer_quiz(request._request, data["quiz"], data["answers"], skipped=data["skipped"])
        except ValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from exc
        response = Response(PreferencesSerializer(snapshot).data)
        answered_cookie(response, data["quiz"])
        return response


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class QuizFormView(View):
    """The quiz's form without JavaScript: POST, saved, back to the page (303).

    The quiz's markup holds no CSRF token (so the caches may keep it): as for the consent banner's form, the
    browser's own word that the form is on a page of this site (``sent_from_this_site``) guards the answers.
    """

    http_method_names = ["post", "options"]

    def post(self, request: HttpRequest, quiz_id: int) -> HttpResponse:
        if not sent_from_this_site(request):
            return HttpResponseForbidden(gettext("Send the quiz from a page of this site."))
        answers: list[int] = []
        for name in request.POST:
            if QUESTION_FIELD.fullmatch(name):
                values = request.POST.getlist(name)
                if not all(value.isdigit() and len(value) < 10 for value in values):
                    return HttpResponse(gettext("An answer is not a whole number (an id)."), status=400)
                answers.extend(int(value) for value in values)
        try:
            answer_quiz(request, quiz_id, answers, skipped="skip" in request.POST)
        except ValidationError as exc:
            text = " ".join(message for messages_ in exc.message_dict.values() for message in messages_)
            return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
        next_url = safe_next_url(request)
        messages.success(request, gettext("Your answers were saved."), fail_silently=True)
        response = HttpResponseRedirect(next_url or "/")
        response.status_code = 303
        answered_cookie(response, quiz_id)
        return response
