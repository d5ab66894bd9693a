from __future__ import annotations

import json

import pytest
from django.test import Client

from tailored_cms.visitors.models import Visitor

pytestmark = pytest.mark.django_db

URL = "/tailored/api/v1/consent/"


@pytest.fixture
def browser() -> Client:
    client = Client(enforce_csrf_checks=True)
    assert client.get(URL).status_code == 200
    return client


def put(client: Client, body, **extra):
    token = client.cookies["csrftoken"].value
    return client.put(URL, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token, **extra)


def test_a_new_visitor_has_not_answered_and_is_not_tracked_by_default():
    response = Client().get(URL)
    assert response.json() == {"tracking": None, "required": True, "browser_opt_out": False, "allowed": False}
    assert "tailored_vid" not in response.cookies and Visitor.objects.count() == 0


def test_implied_consent_tracks_until_the_visitor_refuses(browser, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "implied"}
    assert browser.get(URL).json()["allowed"] is True
    refused = put(browser, {"tracking": False}).json()
    assert refused["tracking"] is False and refused["allowed"] is False
    assert browser.get(URL).json()["allowed"] is False


def test_giving_consent_creates_the_visitor_and_is_remembered(browser):
    response = put(browser, {"tracking": True})
    assert response.status_code == 200
    assert response.json() == {"tracking": True, "required": True, "browser_opt_out": False, "allowed": True}
    assert response.cookies["tailored_vid"]["httponly"]
    assert Visitor.objects.get().tracking_consent is True
    assert browser.get(URL).json()["allowed"] is True
    assert Client().get(URL).json()["allowed"] is False  # someone else has not agreed


@pytest.mark.parametrize("header", [{"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}])
def test_global_privacy_control_and_do_not_track_win_over_consent(browser, header):
    put(browser, {"tracking": True})
    state = browser.get(URL, **header).json()
    assert state["tracking"] is True and state["browser_opt_out"] is True and state["allowed"] is False


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "tracking"),
        ({"tracking": None}, "tracking"),
        ({"tracking": "maybe"}, "tracking"),
        ({"tracking": "true"}, "tracking"),  # a string, not a JSON boolean
        ({"tracking": 0.0}, "tracking"),  # found by the fuzzer: DRF would take it as false
        ({"tracking": 1}, "tracking"),
    ],
)
def test_an_answer_that_is_not_true_or_false_is_a_400_naming_the_field(browser, body, field):
    response = put(browser, body)
    assert response.status_code == 400
    assert field in response.json()
    assert Visitor.objects.count() == 0


def test_changing_consent_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    response = client.put(URL, '{"tracking": true}', content_type="application/json")
    assert response.status_code == 403 and "X-CSRFToken" in response.json()["detail"]
    assert Visitor.objects.count() == 0


def test_consent_is_in_the_schema():
    schema = Client().get("/tailored/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert set(schema["paths"]["/tailored/api/v1/consent/"]) >= {"get", "put"}
