"""Schemathesis fuzzes every operation of our own OpenAPI schema, in-process, as each kind of caller.

The schema is read from ``/tailored/api/v1/schema/`` when the test runs, so an endpoint is fuzzed as soon as the
schema lists it. Requests go through Django's WSGI handler, the same middleware and CSRF checks as production.
Each operation gets up to ``MAX_EXAMPLES`` valid and invalid requests (the same ones on every run): no answer may be
a 5xx, and every answer must be documented: its status code, content type, headers and body. Strings in the JSON
bodies are also poisoned with what schemathesis never generates but JSON carries: NUL characters and lone UTF-16
surrogates (``"\\u0000"``, ``"\\ud800"``), which PostgreSQL and UTF-8 refuse. The file runs on PostgreSQL too.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from django.test import Client, RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tailored_cms import api

pytestmark = pytest.mark.django_db

SCHEMA = "/tailored/api/v1/schema/?format=json"
CONSENT = "/tailored/api/v1/consent/"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
MAX_EXAMPLES = 25  # per operation and caller: the whole file runs in well under a minute

# Schemathesis's checks of each answer (4xx for invalid input included); stateful runs and timings are not ours.
CONFIG = {
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_headers_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "negative_data_rejection": {"enabled": True},
    },
}


@dataclass
class Caller:
    """Who sends the requests: the cookies their browser holds, and whether they send the CSRF header."""

    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf_header: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.cookies["csrftoken"]} if self.csrf_header else {}


CALLERS = [
    "anonymous",  # no cookies at all
    "visitor",  # the visitor cookie and the CSRF token, as customize.js sends them
    "visitor-without-csrf-header",
    "visitor-with-a-forged-cookie",  # a made-up tailored_vid: treated as a new visitor
    "staff",  # a signed-in superuser
    "staff-without-csrf-header",
    "segment-editor",  # staff, not a superuser, with the permissions the staff endpoints ask for
]
# What the staff endpoints ask for: segments/ and its preview (any of view/add/change), stats/ (view_results).
EDITOR_PERMISSIONS = ("view_segment", "add_segment", "change_segment", "view_results")
# Strings JSON carries that schemathesis doesn't generate: a NUL, lone surrogates (high, low), and both in text.
POISON = ("\x00", "\ud800", "\udfff", "sports\x00", "\ud83d-sports", "a\x00\udc00b")


def make_caller(name: str) -> Caller:
    """Sign in (staff) or become a known visitor: the cookies a real browser has afterwards."""
    if name == "anonymous":
        return Caller(name)
    client = Client(enforce_csrf_checks=True)
    if name.startswith("staff"):
        user = get_user_model().objects.create_superuser("editor", "editor@example.com", "not-a-secret")
        client.force_login(user)
    if name == "segment-editor":
        user = get_user_model().objects.create_user("segments", "segments@example.com", "x", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=EDITOR_PERMISSIONS))
        assert user.get_all_permissions() >= {f"tailored_cms.{codename}" for codename in EDITOR_PERMISSIONS}
        client.force_login(user)
    assert client.get(CONSENT).status_code == 200  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    answer = client.put(CONSENT, '{"tracking": true}', content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert answer.status_code == 200
    cookies = {cookie: morsel.value for cookie, morsel in client.cookies.items() if morsel.value}
    if name.startswith(("staff", "segment")):
        assert "sessionid" in cookies
    if name.startswith("visitor"):
        assert "tailored_vid" in cookies
    if name == "visitor-with-a-forged-cookie":
        cookies["tailored_vid"] = "0b5e4a1e-2f6a-4c1e-9a57-3d1c1b0a9f00:forged-signature"
    return Caller(name, cookies, csrf_header=not name.endswith("without-csrf-header"))


def checks_csrf(operation: Any) -> bool:
    """Whether the operation takes the visitor cookie, so that an unsafe request needs the CSRF token."""
    requirements = operation.definition.raw.get("security", [])
    return operation.method.upper() in UNSAFE and any("visitorCookie" in r for r in requirements)


@dataclass
class ServerErrors:
    """Exceptions raised in views (Django answers them with a bare 500); kept to show their traceback."""

    tracebacks: list[str] = field(default_factory=list)

    def record(self, sender: Any, request: Any = None, **kwargs: Any) -> None:
        self.tracebacks.append(traceback.format_exc())


@pytest.fixture
def server_errors() -> Iterator[ServerErrors]:
    errors = ServerErrors()
    got_request_exception.connect(errors.record)
    yield errors
    got_request_exception.disconnect(errors.record)


@contextmanager
def database_kept_open() -> Iterator[None]:
    """Requests through the WSGI handler keep the DB connection (and the test's transaction) open."""
    # As Django's test client does around each request (it reconnects afterwards, so make callers before this).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def load_schema() -> Any:
    """The schema as the API serves it, to fuzz the API through Django's WSGI handler."""
    return schemathesis.openapi.from_wsgi(SCHEMA, WSGIHandler(), config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture(autouse=True)
def topics() -> None:
    """Topics to follow: valid choices besides none."""
    api.create_topic("sports", "Sports")
    api.create_topic("travel", "Travel")


def poisoned(value: Any, data: st.DataObject) -> Any:
    """``value`` (a JSON body) with some of its strings, keys included, replaced by or holding one of ``POISON``."""
    if isinstance(value, str):
        if not data.draw(st.booleans(), label="poison this string"):
            return value
        poison = data.draw(st.sampled_from(POISON), label="poison")
        return data.draw(st.sampled_from([poison, value + poison, poison + value]), label="where")
    if isinstance(value, list):
        return [poisoned(item, data) for item in value]
    if isinstance(value, dict):
        return {poisoned(key, data): poisoned(item, data) for key, item in value.items()}
    return value


def send_poisoned(case: Any, body: Any, caller: Caller) -> Any:
    """``case`` with ``body`` as JSON, through Django's WSGI handler (schemathesis can't send a lone surrogate)."""
    factory = RequestFactory()
    factory.cookies = SimpleCookie(caller.cookies)
    request = factory.generic(
        case.method.upper(),
        case.formatted_path,
        json.dumps(body),  # ASCII, with \\u escapes: a lone surrogate is sent as JSON sends it
        "application/json",
        headers=caller.headers,
        QUERY_STRING=urlencode(case.query or {}, doseq=True),
    )
    return WSGIHandler()(request.environ, lambda status, headers: None)


def fuzz(operation: Any, caller: Caller, server_errors: ServerErrors) -> None:
    """Send ``operation`` valid and invalid requests as ``caller``; check every answer against the schema."""
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    refused_without_token = checks_csrf(operation) and not caller.headers

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None)
    @given(case=cases, data=st.data())
    def answers_as_documented(case: Any, data: st.DataObject) -> None:
        server_errors.tracebacks.clear()
        if isinstance(case.body, dict | list) and data.draw(st.booleans(), label="poison the body"):
            body = poisoned(case.body, data)
            response = send_poisoned(case, body, caller)
            if server_errors.tracebacks or response.status_code >= 500:
                pytest.fail(f"{case.method} {case.formatted_path} {body!r}\n{response.status_code}\n{server_errors}")
            assert str(response.status_code) in operation.definition.raw["responses"], (body, response.content)
            return
        response = case.call(headers=caller.headers, cookies=caller.cookies)
        if server_errors.tracebacks:
            pytest.fail(f"{case.as_curl_command()}\n{response.status_code}\n" + "\n".join(server_errors.tracebacks))
        case.validate_response(response, headers=caller.headers)
        if refused_without_token:
            # A change without the CSRF header is refused, whatever the body, and the answer says what to send.
            assert response.status_code == 403, response.content
            assert "X-CSRFToken" in json.loads(response.content)["detail"]

    answers_as_documented()


@pytest.mark.parametrize("caller_name", CALLERS)
def test_every_operation_answers_as_documented(
    caller_name: str, server_errors: ServerErrors, subtests: pytest.Subtests
) -> None:
    caller = make_caller(caller_name)
    with database_kept_open():
        operations = [result.ok() for result in load_schema().get_all_operations()]
        assert len(operations) >= 13  # the operations when this test was written; new ones are fuzzed too
        for operation in operations:
            with subtests.test(msg=operation.label):
                fuzz(operation, caller, server_errors)


def test_a_body_of_another_media_type_gets_a_documented_4xx() -> None:
    """What the fuzzing above can't send: a body in a media type the operation doesn't list (a plain HTML form)."""
    caller = make_caller("visitor")
    schema = Client().get(SCHEMA).json()
    client = Client(enforce_csrf_checks=True)
    for name, value in caller.cookies.items():
        client.cookies[name] = value
    with_bodies = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]
    assert len(with_bodies) >= 3
    for path, method, operation in with_bodies:
        response = client.generic(
            method.upper(),
            path,
            "theme=dark&tracking=true",
            content_type="application/x-www-form-urlencoded",
            HTTP_X_CSRFTOKEN=caller.cookies["csrftoken"],
        )
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        assert str(response.status_code) in operation["responses"], f"{method.upper()} {path}: {response.status_code}"
        assert response.json()["detail"]


def test_the_schema_is_served_as_json_and_lists_what_is_fuzzed() -> None:
    client = Client()
    response = client.get(SCHEMA)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    paths = response.json()["paths"]
    assert {"/tailored/api/v1/preferences/", "/tailored/api/v1/consent/", "/tailored/api/v1/me/"} <= set(paths)
    by_header = client.get(SCHEMA.split("?")[0], HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert by_header.json()["paths"] == paths
    unsafe = [(path, method) for path, item in paths.items() for method in item if method.upper() in UNSAFE]
    assert ("/tailored/api/v1/preferences/", "put") in unsafe
    for path, method in unsafe:
        if {"visitorCookie": []} in paths[path][method].get("security", []):
            assert "403" in paths[path][method]["responses"], f"{method.upper()} {path}: CSRF refusal undocumented"
