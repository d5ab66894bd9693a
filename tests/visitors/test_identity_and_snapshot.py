from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory

from tailored_cms import api
from tailored_cms.middleware import TailoredMiddleware
from tailored_cms.visitors.models import Visitor

pytestmark = pytest.mark.django_db


def run(request, view=lambda r: HttpResponse("ok")):
    request.user = getattr(request, "user", AnonymousUser())
    return TailoredMiddleware(view)(request)


def saving_view(**choices):
    def view(request):
        api.set_preferences(request, **choices)
        return HttpResponse("saved")

    return view


def test_no_cookie_is_created_until_a_choice_is_saved():
    response = run(RequestFactory().get("/"))
    assert "tailored_vid" not in response.cookies
    assert Visitor.objects.count() == 0


def test_saving_a_choice_creates_the_visitor_and_a_signed_httponly_cookie():
    response = run(RequestFactory().get("/"), saving_view(theme="dark"))
    cookie = response.cookies["tailored_vid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    visitor = Visitor.objects.get()
    assert visitor.theme == "dark"
    assert str(visitor.pk) in cookie.value and cookie.value != str(visitor.pk)  # signed, not bare


def test_next_request_sees_the_choice_with_one_redis_round_trip_and_no_sql(
    django_assert_num_queries, redis_round_trips
):
    view = saving_view(theme="dark", layout="grid", motion="reduced", text_size="large")
    cookie = run(RequestFactory().get("/"), view).cookies["tailored_vid"]
    request = RequestFactory().get("/", HTTP_COOKIE=f"tailored_vid={cookie.value}")
    redis_round_trips.commands.clear()
    seen = {}
    with django_assert_num_queries(0):
        run(request, lambda r: seen.setdefault("snap", r.tailored.snapshot) and HttpResponse())
    assert seen["snap"].effective_theme == "dark" and seen["snap"].effective_layout == "grid"
    assert (seen["snap"].motion, seen["snap"].text_size) == ("reduced", "large")  # in the snapshot, from Redis
    assert redis_round_trips.round_trips == 1


def test_a_snapshot_missing_from_redis_is_read_from_the_db_once(tailored_redis, django_assert_num_queries):
    cookie = run(RequestFactory().get("/"), saving_view(theme="dark")).cookies["tailored_vid"]
    tailored_redis.flushdb()
    seen = {}
    with django_assert_num_queries(2):  # the visitor row, their segment memberships
        run(
            RequestFactory().get("/", HTTP_COOKIE=f"tailored_vid={cookie.value}"),
            lambda r: seen.setdefault("snap", r.tailored.snapshot) and HttpResponse(),
        )
    assert seen["snap"].theme == "dark"
    with django_assert_num_queries(0):
        run(RequestFactory().get("/", HTTP_COOKIE=f"tailored_vid={cookie.value}"))


def test_a_tampered_cookie_starts_a_fresh_anonymous_visitor():
    cookie = run(RequestFactory().get("/"), saving_view(theme="dark")).cookies["tailored_vid"]
    forged = cookie.value.replace(cookie.value[-3:], "abc")
    seen = {}
    response = run(
        RequestFactory().get("/", HTTP_COOKIE=f"tailored_vid={forged}"),
        lambda r: seen.setdefault("snap", r.tailored.snapshot) and HttpResponse(),
    )
    assert seen["snap"].theme == "" and seen["snap"].visitor_id is None
    assert response.cookies["tailored_vid"].value == ""  # deleted


def test_redis_down_falls_back_to_the_db(redis_server):
    cookie = run(RequestFactory().get("/"), saving_view(theme="dark")).cookies["tailored_vid"]
    redis_server.stop()
    try:
        seen = {}
        response = run(
            RequestFactory().get("/", HTTP_COOKIE=f"tailored_vid={cookie.value}"),
            lambda r: seen.setdefault("snap", r.tailored.snapshot) and HttpResponse("ok"),
        )
        assert response.status_code == 200 and seen["snap"].theme == "dark"
    finally:
        redis_server.start()


def test_invalid_choices_name_the_valid_values():
    api.create_topic("sports")
    request = RequestFactory().get("/")
    with pytest.raises(ValidationError) as excinfo:
        run(request, saving_view(theme="neon", topics=["sports", "cooking"]))
    errors = excinfo.value.message_dict
    assert "light, dark, high-contrast" in errors["theme"][0]
    assert "cooking" in errors["topics"][0] and "sports" in errors["topics"][0]
    assert Visitor.objects.count() == 0
