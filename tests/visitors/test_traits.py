from __future__ import annotations

from datetime import date, datetime

import pytest
from django.contrib.auth import login
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory

from tailored_cms import api
from tailored_cms.middleware import TailoredMiddleware
from tailored_cms.visitors.models import Trait, Visitor
from tailored_cms.visitors.traits import set_traits_of_users

pytestmark = pytest.mark.django_db


def run(request, view):
    request.user = getattr(request, "user", AnonymousUser())
    return TailoredMiddleware(view)(request)


@pytest.fixture
def ada():
    return User.objects.create_user("ada", "ada@example.com", "pw")


def test_set_and_get_every_kind_for_a_user_who_never_visited(ada):
    traits = api.set_traits(
        ada, plan="pro", seats=12, score=4.5, active=True, since=date(2024, 3, 1), tags=["retail", "eu"]
    )
    expected = {
        "plan": "pro",
        "seats": 12,
        "score": 4.5,
        "active": True,
        "since": date(2024, 3, 1),
        "tags": ["retail", "eu"],
    }
    assert traits == expected
    assert api.get_traits(ada) == expected
    visitor = Visitor.objects.get(user=ada)
    assert visitor.traits["since"] == "2024-03-01"  # ISO in the database: compares as a date in SQL
    assert dict(Trait.objects.values_list("name", "kind")) == {
        "plan": "string",
        "seats": "number",
        "score": "number",
        "active": "boolean",
        "since": "date",
        "tags": "list",
    }


def test_none_removes_a_trait_and_others_are_left_alone(ada):
    api.set_traits(ada, plan="pro", seats=3)
    assert api.set_traits(ada, plan=None) == {"seats": 3}
    assert api.set_traits(ada, missing=None) == {"seats": 3}


def test_setting_the_same_values_again_changes_nothing(ada, django_capture_on_commit_callbacks):
    api.set_traits(ada, plan="pro")
    stamp = Visitor.objects.get(user=ada).traits_changed["plan"]
    with django_capture_on_commit_callbacks() as callbacks:
        api.set_traits(ada, plan="pro")
    assert callbacks == []  # nothing changed: no re-evaluation
    assert Visitor.objects.get(user=ada).traits_changed["plan"] == stamp


@pytest.mark.parametrize(
    ("traits", "named", "words"),
    [
        ({"1plan": "x"}, "1plan", "starts with a letter"),
        ({"plan": {"a": 1}}, "plan", "must be a string, a number"),
        ({"plan": datetime(2024, 1, 1, 12)}, "plan", "not a date and time"),
        ({"plan": ["a", 1]}, "plan", "1 is not a string"),
        ({"plan": float("nan")}, "plan", "finite number"),
        ({"plan": 10**400}, "plan", "finite number"),
        ({"plan": "a\x00b"}, "plan", "NUL"),
        ({"plan": "x" * 1001}, "plan", "1000 bytes"),
        ({"p" * 51: "x"}, "p" * 51, "at most 50 characters"),
    ],
)
def test_wrong_traits_are_a_validation_error_naming_the_trait_and_nothing_is_stored(ada, traits, named, words):
    with pytest.raises(ValidationError) as caught:
        api.set_traits(ada, ok="fine", **traits)
    messages = caught.value.message_dict[named]
    assert named in messages[0] and words in messages[0]
    assert api.get_traits(ada) == {}


def test_a_name_keeps_the_kind_of_its_first_value(ada):
    api.set_traits(ada, plan="pro")
    other = User.objects.create_user("bob")
    with pytest.raises(ValidationError) as caught:
        api.set_traits(other, plan=5)
    assert "'plan' holds values of the kind “text”, not “number”" in caught.value.message_dict["plan"][0]


def test_at_most_max_traits(ada, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "MAX_TRAITS": 2}
    api.set_traits(ada, a=1, b=2)
    with pytest.raises(ValidationError) as caught:
        api.set_traits(ada, c=3)
    assert "At most 2 traits" in caught.value.message_dict["__all__"][0]
    assert api.set_traits(ada, a=None, c=3) == {"b": 2, "c": 3}


def test_limits_are_settings(ada, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "TRAIT_MAX_NAME_LENGTH": 3, "TRAIT_MAX_VALUE_BYTES": 5}
    with pytest.raises(ValidationError):
        api.set_traits(ada, plan="x")
    with pytest.raises(ValidationError):
        api.set_traits(ada, abc="xxxxxx")
    assert api.set_traits(ada, abc="xxx") == {"abc": "xxx"}


def test_an_anonymous_request_gets_a_visitor_and_cookie_and_its_traits_follow_it_to_login(ada):
    response = run(RequestFactory().get("/"), lambda r: HttpResponse(str(api.set_traits(r, plan="free", quiz="a"))))
    cookie = response.cookies["tailored_vid"].value
    api.set_traits(ada, plan="pro", seats=3)  # the CRM, earlier

    def log_in(request):
        assert api.get_traits(request) == {"plan": "free", "quiz": "a"}
        request.session = SessionStore()
        login(request, ada, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponse("in")

    request = RequestFactory().get("/")
    request.COOKIES["tailored_vid"] = cookie
    run(request, log_in)
    # Newer wins per trait: the anonymous "plan" was set before the CRM's, "quiz" is new to the user.
    assert api.get_traits(ada) == {"plan": "pro", "seats": 3, "quiz": "a"}
    assert Visitor.objects.count() == 1


def test_a_signed_in_request_sets_the_users_traits(ada):
    request = RequestFactory().get("/")
    request.user = ada
    run(request, lambda r: HttpResponse(str(api.set_traits(r, plan="pro"))))
    assert api.get_traits(ada) == {"plan": "pro"}


def test_get_traits_of_someone_without_any():
    assert api.get_traits(User.objects.create_user("nobody")) == {}
    run(RequestFactory().get("/"), lambda r: HttpResponse(str(api.get_traits(r))))


def test_an_unsaved_user_or_anything_else_is_a_type_error():
    with pytest.raises(TypeError):
        api.set_traits(User(username="ghost"), plan="pro")
    with pytest.raises(TypeError):
        api.get_traits("ada")


def test_many_users_at_once_store_the_valid_rows_only(ada, django_assert_max_num_queries):
    users = [User.objects.create_user(f"u{n}") for n in range(20)]
    rows = {user.pk: {"plan": "pro", "n": n} for n, user in enumerate(users)}
    rows[users[3].pk] = {"plan": 7}  # the wrong kind, in the same batch as the strings
    with django_assert_max_num_queries(8):
        errors = set_traits_of_users(rows)
    assert list(errors) == [users[3].pk]
    assert "plan" in errors[users[3].pk].message_dict
    assert api.get_traits(users[0]) == {"plan": "pro", "n": 0}
    assert api.get_traits(users[3]) == {}
    assert Visitor.objects.filter(traits__plan="pro").count() == 19


def test_the_visitor_admin_shows_a_users_traits(ada, admin_client):
    api.set_traits(ada, plan="pro")
    visitor = Visitor.objects.get(user=ada)
    html = admin_client.get(f"/admin/tailored_cms/visitor/{visitor.pk}/change/").content.decode()
    assert "&quot;plan&quot;: &quot;pro&quot;" in html or '"plan": "pro"' in html


def test_a_user_signing_in_without_a_visitor_gets_one_under_a_free_id(ada):
    from tailored_cms.visitors.preferences import _new_user_visitor

    bob = User.objects.create_user("bob")
    taken = Visitor.objects.create(user=bob)
    mine = _new_user_visitor(ada, str(taken.pk))  # the id has a row meanwhile: another one
    assert mine.user == ada and mine.pk != taken.pk
    assert Visitor.objects.get(pk=taken.pk).user == bob
    assert _new_user_visitor(User.objects.create_user("cy"), None).pk not in (taken.pk, mine.pk)
