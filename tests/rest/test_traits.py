"""``traits/``: servers set many users' traits per call; wrong rows are refused one by one, the rest stored."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from tailored_cms import api
from tailored_cms.rules.models import Membership
from tailored_cms.visitors.models import Trait, Visitor

pytestmark = pytest.mark.django_db

URL = "/tailored/api/v1/traits/"
CONSENT = "/tailored/api/v1/consent/"


def may_change_traits(user: User) -> User:
    user.user_permissions.add(Permission.objects.get(codename="change_traits"))
    return User.objects.get(pk=user.pk)  # the permission cache starts empty


def session(user: User | None) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.get(CONSENT)
    return client, client.cookies["csrftoken"].value


def post(client: Client, body, token: str | None = None, **extra):
    headers = {"HTTP_X_CSRFTOKEN": token} if token else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data, content_type="application/json", **headers, **extra)


@pytest.fixture
def staff() -> tuple[Client, str]:
    return session(may_change_traits(User.objects.create_user("crm-admin", is_staff=True)))


@pytest.fixture
def customers() -> list[User]:
    return [User.objects.create_user(f"user{n}", f"User{n}@Example.com") for n in range(3)]


def test_rows_keyed_by_id_username_or_email_are_stored(staff, customers):
    client, token = staff
    by_id = {"users": [{"user": customers[0].pk, "traits": {"plan": "pro", "since": "2024-03-01", "seats": 5}}]}
    assert post(client, by_id, token).json() == {"stored": 1}
    by_name = {"by": "username", "users": [{"user": "user1", "traits": {"plan": "free", "tags": ["eu"]}}]}
    assert post(client, by_name, token).json() == {"stored": 1}
    by_email = {"by": "email", "users": [{"user": "user2@example.COM", "traits": {"plan": "team", "active": True}}]}
    assert post(client, by_email, token).json() == {"stored": 1}
    assert api.get_traits(customers[0]) == {"plan": "pro", "since": date(2024, 3, 1), "seats": 5}
    assert api.get_traits(customers[1]) == {"plan": "free", "tags": ["eu"]}
    assert api.get_traits(customers[2]) == {"plan": "team", "active": True}
    assert Trait.objects.get(name="since").kind == "date"


def test_the_same_call_again_changes_nothing(staff, customers, django_capture_on_commit_callbacks):
    client, token = staff
    body = {"users": [{"user": user.pk, "traits": {"plan": "pro"}} for user in customers]}
    assert post(client, body, token).status_code == 200
    stamps = list(Visitor.objects.order_by("pk").values_list("traits_changed", flat=True))
    with django_capture_on_commit_callbacks() as callbacks:
        assert post(client, body, token).json() == {"stored": 3}
    assert callbacks == []  # nothing changed: nobody to re-evaluate
    assert list(Visitor.objects.order_by("pk").values_list("traits_changed", flat=True)) == stamps
    assert Visitor.objects.count() == 3


def test_wrong_rows_are_named_and_nothing_of_them_is_stored_while_the_others_are(staff, customers):
    client, token = staff
    api.set_traits(customers[2], seats=3)
    body = {
        "users": [
            {"user": customers[0].pk, "traits": {"plan": "pro"}},
            {"user": 999999, "traits": {"plan": "pro"}},
            {"user": customers[1].pk, "traits": {"plan": "pro", "bad name": 1}},
            {"user": customers[2].pk, "traits": {"plan": "pro", "seats": "three"}},
            {"user": customers[0].pk, "traits": {"plan": "free"}},
            "not a row",
            {"user": "x", "traits": {}},
            {"user": customers[1].pk, "traits": ["plan"]},
            {"user": 10**30, "traits": {"plan": "pro"}},
            {"user": "12abc", "traits": {"plan": "pro"}},
        ]
    }
    response = post(client, body, token)
    assert response.status_code == 400
    answer = response.json()
    assert answer["stored"] == 1
    errors = {(error["row"], error["field"]) for error in answer["errors"]}
    assert errors == {
        (1, "user"),
        (2, "traits.bad name"),
        (3, "traits.seats"),
        (4, "user"),
        (5, ""),
        (6, "user"),
        (7, "traits"),
        (8, "user"),
        (9, "user"),
    }
    messages = {error["row"]: error["messages"][0] for error in answer["errors"]}
    assert messages[1] == "No user has this id."
    assert messages[4] == "This user is in row 0 already."
    assert "'seats' holds values of the kind “number”" in messages[3]
    assert api.get_traits(customers[0]) == {"plan": "pro"}
    assert api.get_traits(customers[1]) == {}
    assert api.get_traits(customers[2]) == {"seats": 3}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "non_field_errors"),
        ({"by": "phone", "users": []}, "by"),
        ({"users": {"user": 1}}, "users"),
        ({"users": [{"user": 1, "traits": {}}] * 1001}, "users"),
    ],
)
def test_a_body_wrong_as_a_whole_is_400_naming_the_field(staff, body, field):
    client, token = staff
    response = post(client, body, token)
    assert response.status_code == 400 and field in response.json()
    assert not Visitor.objects.exists()


def test_bad_json_and_too_large_bodies(staff):
    client, token = staff
    assert post(client, "{", token).status_code == 400
    assert post(client, "[" * 100 + "]" * 100, token).status_code == 400
    assert post(client, " " * (2 * 1024 * 1024 + 1), token).status_code == 413


def test_who_may_call_it(customers):
    body = {"users": [{"user": customers[0].pk, "traits": {"plan": "pro"}}]}
    anonymous, token = session(None)
    assert post(anonymous, body, token).status_code == 403
    staff_without, token = session(User.objects.create_user("editor", is_staff=True))
    assert post(staff_without, body, token).status_code == 403
    not_staff, token = session(may_change_traits(User.objects.create_user("someone")))
    assert post(not_staff, body, token).status_code == 403  # a person signed in: staff only
    staff, token = session(may_change_traits(User.objects.create_user("crm-admin", is_staff=True)))
    assert post(staff, body).status_code == 403  # no CSRF token
    assert "CSRF" in post(staff, body).json()["detail"]
    assert not Visitor.objects.exists()
    assert post(staff, body, token).status_code == 200


def test_a_server_authenticates_as_the_site_configures_its_api(customers, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
    }
    User.objects.create_user("crm", password="s3cret")
    may_change_traits(User.objects.get(username="crm"))
    body = {"users": [{"user": customers[0].pk, "traits": {"plan": "pro"}}]}
    credentials = "Basic " + base64.b64encode(b"crm:s3cret").decode()
    server = Client(enforce_csrf_checks=True)
    assert post(server, body, HTTP_AUTHORIZATION=credentials).json() == {"stored": 1}  # no session, no CSRF
    wrong = "Basic " + base64.b64encode(b"crm:nope").decode()
    assert post(server, body, HTTP_AUTHORIZATION=wrong).status_code == 401


def test_a_thousand_users_per_call_in_a_constant_number_of_queries(staff, django_assert_max_num_queries):
    client, token = staff
    users = User.objects.bulk_create(User(username=f"bulk{n}", email=f"bulk{n}@example.com") for n in range(1000))
    body = {
        "by": "email",
        "users": [{"user": f"bulk{n}@example.com", "traits": {"plan": "pro", "n": n}} for n in range(1000)],
    }
    with django_assert_max_num_queries(20):
        assert post(client, body, token).json() == {"stored": 1000}
    assert Visitor.objects.filter(traits__plan="pro").count() == 1000
    assert len(users) == 1000


def test_segments_follow(staff, customers, django_capture_on_commit_callbacks):
    segment = api.create_segment("pro", name="Pro", rules={"rule": "trait", "name": "plan", "op": "eq", "value": "pro"})
    client, token = staff
    body = {"users": [{"user": customers[0].pk, "traits": {"plan": "pro"}}]}
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body, token).status_code == 200
    assert Membership.objects.filter(segment=segment, visitor__user=customers[0], left_at__isnull=True).exists()


def test_a_crm_sync_posts_ten_thousand_users_in_ten_calls_and_the_segment_fills(
    staff, django_capture_on_commit_callbacks
):
    """The issue's sync: ten calls of 1,000 users; each call's users are re-evaluated when it commits (no recompute
    of everyone), so the segment is full when the last call answers."""
    segment = api.create_segment(
        "pro-since-2024",
        name="Pro customers since before 2025",
        rules={
            "all": [
                {"rule": "trait", "name": "plan", "op": "eq", "value": "pro"},
                {"rule": "trait", "name": "customer_since", "op": "before", "value": "2025-01-01"},
            ]
        },
    )
    User.objects.bulk_create(User(username=f"crm{n}", email=f"crm{n}@example.com") for n in range(10_000))
    client, token = staff

    def traits(n: int) -> dict:
        return {"plan": "pro" if n % 2 else "free", "customer_since": f"{2023 + n % 3}-06-01", "seats": n % 50}

    for call in range(10):
        rows = [{"user": f"crm{n}", "traits": traits(n)} for n in range(call * 1000, (call + 1) * 1000)]
        with django_capture_on_commit_callbacks(execute=True):
            answer = post(client, {"by": "username", "users": rows}, token)
        assert answer.status_code == 200 and answer.json() == {"stored": 1000}, call
    expected = sum(1 for n in range(10_000) if n % 2 and 2023 + n % 3 < 2025)
    members = Membership.objects.filter(segment=segment, left_at__isnull=True)
    assert members.count() == expected == 3334  # odd n, and n % 3 giving 2023 or 2024
    assert api.get_traits(User.objects.get(username="crm9999")) == {
        "plan": "pro",
        "customer_since": date(2023, 6, 1),
        "seats": 49,
    }
