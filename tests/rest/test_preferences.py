from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.test.client import FakePayload

from tailored_cms import api
from tailored_cms.rest.base import MAX_BODY_BYTES, BoundedJSONParser, EncodableJSONRenderer, RequestTooLarge
from tailored_cms.visitors.models import Visitor

pytestmark = pytest.mark.django_db

URL = "/tailored/api/v1/preferences/"
DEFAULTS = {
    "topics": [],
    "theme": None,
    "layout": None,
    "widgets": {"order": [], "hidden": []},
    "motion": None,
    "text_size": None,
    "effective_theme": "light",
    "effective_layout": "one-column",
}
EVERYTHING = {
    "topics": ["sports", "travel"],
    "theme": "dark",
    "layout": "grid",
    "widgets": {"order": ["news", "weather"], "hidden": ["ads"]},
    "motion": "reduced",
    "text_size": "large",
}


@pytest.fixture(autouse=True)
def topics():
    api.create_topic("sports", "Sports")
    api.create_topic("cooking", "Cooking")
    api.create_topic("travel", "Travel")


@pytest.fixture
def browser() -> Client:
    """A visitor's browser: CSRF is checked, and it has the csrftoken cookie from a first GET."""
    client = Client(enforce_csrf_checks=True)
    assert client.get(URL).status_code == 200
    return client


def send(client: Client, method: str, body=None, *, token: bool = True, content_type="application/json", **extra):
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
    if token:
        extra["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return getattr(client, method)(URL, body, content_type=content_type, **extra)


def test_a_new_visitor_gets_the_defaults_a_csrf_cookie_and_no_visitor_cookie():
    response = Client().get(URL)
    assert response.status_code == 200
    assert response.json() == DEFAULTS
    assert "csrftoken" in response.cookies
    assert "tailored_vid" not in response.cookies
    assert Visitor.objects.count() == 0


def test_answers_are_private_to_the_visitor(browser):
    response = browser.get(URL)
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
    saved = send(browser, "put", EVERYTHING)
    assert "private" in saved["Cache-Control"] and "Cookie" in saved["Vary"]


def test_put_replaces_everything_and_the_choices_survive_to_the_next_request(browser):
    response = send(browser, "put", EVERYTHING)
    assert response.status_code == 200
    expected = {**EVERYTHING, "effective_theme": "dark", "effective_layout": "grid"}
    assert response.json() == expected
    assert response.cookies["tailored_vid"]["httponly"]
    assert browser.get(URL).json() == expected
    assert Client().get(URL).json() == DEFAULTS  # another visitor is not affected


def test_put_resets_the_fields_it_leaves_out(browser):
    send(browser, "put", EVERYTHING)
    response = send(browser, "put", {"theme": "high-contrast"})
    assert response.status_code == 200
    assert response.json() == {**DEFAULTS, "theme": "high-contrast", "effective_theme": "high-contrast"}


def test_patch_changes_only_what_it_names(browser):
    send(browser, "put", EVERYTHING)
    response = send(browser, "patch", {"layout": "two-columns"})
    assert response.status_code == 200
    body = response.json()
    assert body["layout"] == "two-columns" and body["effective_layout"] == "two-columns"
    assert body["theme"] == "dark" and body["topics"] == ["sports", "travel"]
    assert body["widgets"] == EVERYTHING["widgets"]


def test_patch_with_null_resets_only_that_field(browser):
    send(browser, "put", EVERYTHING)
    body = send(browser, "patch", {"theme": None, "widgets": None}).json()
    assert body["theme"] is None and body["effective_theme"] == "light"
    assert body["widgets"] == {"order": [], "hidden": []}
    assert body["layout"] == "grid" and body["topics"] == ["sports", "travel"]


def test_an_empty_patch_changes_nothing_and_creates_no_visitor(browser):
    response = send(browser, "patch", {})
    assert response.status_code == 200 and response.json() == DEFAULTS
    assert Visitor.objects.count() == 0


def test_delete_resets_everything_to_the_sites_defaults(browser):
    send(browser, "put", EVERYTHING)
    response = send(browser, "delete")
    assert response.status_code == 200
    assert response.json() == DEFAULTS
    assert browser.get(URL).json() == DEFAULTS
    visitor = Visitor.objects.get()
    assert (visitor.theme, visitor.layout, visitor.topics, visitor.widgets) == ("", "", [], {})


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_empty_body_is_400_and_changes_nothing(browser, method):
    send(browser, "put", EVERYTHING)
    response = send(browser, method, b"")
    assert response.status_code == 400
    assert "empty" in response.json()["detail"] and "DELETE" in response.json()["detail"]
    assert browser.get(URL).json()["topics"] == EVERYTHING["topics"]
    assert Visitor.objects.get().theme == "dark"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_chunked_body_without_content_length_is_400_and_changes_nothing(browser, method):
    # Django reads a request without Content-Length (as a WSGI server passes a chunked one) as having no body.
    send(browser, "put", EVERYTHING)
    environ = {
        "PATH_INFO": URL,
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_X_CSRFTOKEN": browser.cookies["csrftoken"].value,
        "wsgi.input": FakePayload(json.dumps({"theme": "light"}).encode()),
    }
    assert "CONTENT_LENGTH" not in browser._base_environ(**environ)
    response = browser.request(**environ)
    assert response.status_code == 400
    assert "Content-Length" in response.json()["detail"]
    assert browser.get(URL).json() == {**EVERYTHING, "effective_theme": "dark", "effective_layout": "grid"}


def test_an_empty_object_is_an_explicit_put_of_the_defaults(browser):
    send(browser, "put", EVERYTHING)
    response = send(browser, "put", {})
    assert response.status_code == 200 and response.json() == DEFAULTS


def test_delete_by_a_visitor_without_choices_stores_nothing(browser):
    response = send(browser, "delete")
    assert response.status_code == 200 and response.json() == DEFAULTS
    assert "tailored_vid" not in response.cookies
    assert Visitor.objects.count() == 0


def test_duplicates_are_dropped_keeping_the_first(browser):
    body = send(
        browser, "put", {"topics": ["travel", "sports", "travel"], "widgets": {"order": ["a", "b", "a"]}}
    ).json()
    assert body["topics"] == ["travel", "sports"]
    assert body["widgets"]["order"] == ["a", "b"]


@pytest.mark.parametrize(
    ("body", "field", "named"),
    [
        ({"theme": "neon"}, "theme", ["neon", "light, dark, high-contrast"]),
        ({"layout": "masonry"}, "layout", ["masonry", "one-column, two-columns, grid"]),
        ({"topics": ["sports", "knitting"]}, "topics", ["knitting", "sports", "cooking", "travel"]),
        ({"motion": "reduce"}, "motion", ["'reduce'", "reduced", "null"]),
        ({"text_size": "huge"}, "text_size", ["'huge'", "large", "null"]),
    ],
)
def test_unknown_choices_are_400_naming_the_valid_values(browser, body, field, named):
    response = send(browser, "patch", body)
    assert response.status_code == 400
    message = response.json()[field][0]
    assert all(word in message for word in named), message
    assert Visitor.objects.count() == 0


def test_reduced_motion_and_larger_text_need_no_consent_and_change_nothing_else(browser, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "required"}
    body = send(browser, "patch", {"motion": "reduced", "text_size": "large"}).json()
    assert body == {**DEFAULTS, "motion": "reduced", "text_size": "large"}
    assert Visitor.objects.get().tracking_consent is None  # no answer asked or implied
    assert send(browser, "patch", {"motion": None}).json() == {**DEFAULTS, "text_size": "large"}


def test_every_invalid_field_is_reported_at_once(browser):
    response = send(browser, "put", {"theme": "neon", "layout": "masonry", "topics": ["knitting"]})
    assert response.status_code == 400
    assert set(response.json()) == {"theme", "layout", "topics"}


@pytest.mark.parametrize(
    "widgets",
    [
        "news",
        ["news"],
        {"order": "news"},
        {"order": ["<script>"]},
        {"order": ["x" * 41]},
        {"colour": ["news"]},
        {"order": [1, 2]},
    ],
)
def test_bad_widgets_are_400(browser, widgets):
    response = send(browser, "patch", {"widgets": widgets})
    assert response.status_code == 400
    assert "widget" in response.json()["widgets"][0]


def test_too_many_topics_is_400(browser, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "MAX_TOPICS": 1}
    response = send(browser, "put", {"topics": ["sports", "travel"]})
    assert response.status_code == 400
    assert "At most 1 topic may" in response.json()["topics"][0]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ([], "non_field_errors", "Expected an object"),
        ("just text", "non_field_errors", "Expected an object"),
        (None, "non_field_errors", "Expected an object"),
        (
            {"font": "serif"},
            "non_field_errors",
            "Unknown field(s): font. Valid: topics, theme, layout, widgets",
        ),
        ({"topics": "sports"}, "topics", "Expected a list of topic slugs"),
        ({"topics": [1, 2]}, "topics", "Expected a list of topic slugs"),
        ({"theme": 3}, "theme", "Valid themes: light, dark, high-contrast"),
        ({"layout": ["grid"]}, "layout", "Valid layouts"),
    ],
)
def test_wrong_types_are_400_with_a_clear_message(browser, body, field, words):
    response = send(browser, "put", json.dumps(body))
    assert response.status_code == 400
    assert words in response.json()[field][0]


@pytest.mark.parametrize("body", ['{"theme": "dark"', "{'theme': 'dark'}", '{"theme": NaN}', "\xff\xfe"])
def test_malformed_json_is_400(browser, body):
    response = send(browser, "put", body)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


@pytest.mark.parametrize("body", ["[" * 5000 + "]" * 5000, '{"a":' * 2000 + "1" + "}" * 2000])
def test_json_nested_too_deeply_is_400_not_500(browser, body):
    # json raises RecursionError (not ValueError) past ~1,000 levels, well under the size limit: it was a 500.
    assert len(body) < MAX_BODY_BYTES
    response = send(browser, "put", body)
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested too deeply."}
    assert Visitor.objects.count() == 0


@pytest.mark.parametrize("slug", ["sp\x00orts", "\x00", "sports!", "x" * 51])
def test_a_topic_that_cannot_be_a_slug_is_unknown_not_a_database_error(browser, slug):
    # PostgreSQL refuses a NUL character in a query: on PostgreSQL this was a 500.
    response = send(browser, "patch", {"topics": ["sports", slug]})
    assert response.status_code == 400
    message = response.json()["topics"][0]
    assert message == f"Unknown topic(s): {slug}. Valid topics: cooking, sports, travel."
    assert Visitor.objects.count() == 0


def test_a_form_encoded_body_is_415_naming_the_type(browser):
    response = send(browser, "put", "theme=dark", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in response.json()["detail"]


def test_an_oversized_body_is_413_and_nothing_is_saved(browser):
    body = json.dumps({"theme": "dark", "topics": ["sports"] * 5000})
    assert len(body) > MAX_BODY_BYTES
    response = send(browser, "put", body)
    assert response.status_code == 413
    assert str(MAX_BODY_BYTES) in response.json()["detail"]
    assert Visitor.objects.count() == 0


def test_the_parser_stops_reading_at_the_limit_whatever_the_declared_length():
    stream = io.BytesIO(b'{"topics": [' + b'"sports",' * 5000 + b'"sports"]}')
    with pytest.raises(RequestTooLarge):
        BoundedJSONParser().parse(stream, "application/json", {})
    assert stream.tell() == MAX_BODY_BYTES + 1


@pytest.mark.parametrize(("method", "body"), [("put", EVERYTHING), ("patch", {"theme": "dark"}), ("delete", None)])
def test_unsafe_methods_without_a_csrf_token_are_403(browser, method, body):
    send(browser, "put", EVERYTHING)
    response = send(browser, method, body, token=False)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"] and "X-CSRFToken header" in response.json()["detail"]
    assert browser.get(URL).json()["theme"] == "dark"  # unchanged


def test_a_wrong_csrf_token_is_403():
    client = Client(enforce_csrf_checks=True)
    response = client.patch(URL, {"theme": "dark"}, content_type="application/json", HTTP_X_CSRFTOKEN="x" * 32)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Visitor.objects.count() == 0


def test_post_is_not_allowed(browser):
    response = send(browser, "post", EVERYTHING)
    assert response.status_code == 405
    assert "PATCH" in response["Allow"] and "PUT" in response["Allow"]


def test_a_signed_in_user_needs_the_token_too_and_their_choices_follow_them(browser):
    user = User.objects.create_user("ada", password="pw")
    browser.force_login(user)
    assert send(browser, "patch", {"theme": "dark"}, token=False).status_code == 403
    assert send(browser, "patch", {"theme": "dark"}).status_code == 200
    assert Visitor.objects.get().user == user


def test_a_tampered_cookie_gets_a_fresh_visitor(browser):
    send(browser, "put", EVERYTHING)
    original = Visitor.objects.get()
    value = browser.cookies["tailored_vid"].value
    browser.cookies["tailored_vid"] = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    response = browser.get(URL)
    assert response.json() == DEFAULTS
    assert response.cookies["tailored_vid"].value == ""  # the bad cookie is dropped
    assert send(browser, "patch", {"theme": "high-contrast"}).status_code == 200
    assert Visitor.objects.count() == 2
    original.refresh_from_db()
    assert original.theme == "dark"  # the forged cookie did not reach the original visitor


def test_works_without_the_sites_rest_framework_settings(browser, settings):
    settings.REST_FRAMEWORK = {}
    assert send(browser, "put", EVERYTHING).status_code == 200
    assert send(browser, "put", {"theme": "neon"}).status_code == 400
    assert send(browser, "put", EVERYTHING, token=False).status_code == 403
    assert browser.get(URL).json()["theme"] == "dark"


@pytest.mark.parametrize("body", [{"topics": ["\ud800"]}, {"topics": ["sports", "a\udfffb"]}, {"\ud800": 1}])
def test_a_lone_surrogate_is_a_400_that_names_it_escaped(body):
    # JSON's "\ud800" decodes to a lone surrogate, which no UTF-8 encoder takes: the 400 repeating it was a 500.
    response = Client().patch(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "\\ud800" in response.content.decode() or "\\udfff" in response.content.decode()
    assert Visitor.objects.count() == 0


def test_every_answer_of_the_api_can_be_encoded_whatever_the_data_holds():
    # The class of fault: a message or a stored value holding a lone surrogate; the answer is still sent.
    renderer = EncodableJSONRenderer()
    assert json.loads(renderer.render({"detail": "caf\u00e9"})) == {"detail": "caf\u00e9"}
    assert renderer.render({"detail": "caf\u00e9"}) == '{"detail":"café"}'.encode()  # as before when it can
    assert json.loads(EncodableJSONRenderer().render({"topics": ["\ud800", "café"]})) == {"topics": ["\ud800", "café"]}
