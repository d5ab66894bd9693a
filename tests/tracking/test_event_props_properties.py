"""Whatever ``events/`` accepts is stored exactly as sent: the endpoint, the stream and the ingest, end to end.

Hypothesis draws props (anything JSON can say: integers past 64 bits, floats, text with NUL characters, backslashes
and the six characters ``\\u0000`` as text), sent with the page's path beside them; each batch goes through the
real endpoint, the Redis stream and the ingest, and the visitor's export (``me/``) must give the props and the path
back equal — or the endpoint refused them up front with a 400 naming ``props``, for a reason the visitor can be
told (a NUL character, which PostgreSQL can't store; too many or too large props). The runs are derandomized, so
every run tries the same inputs.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tailored_cms.conf import tailored_settings
from tailored_cms.tracking.ingest import drain

pytestmark = pytest.mark.django_db

EVENTS = "/tailored/api/v1/events/"
CONSENT = "/tailored/api/v1/consent/"
ME = "/tailored/api/v1/me/"

# Text a decoder that edits the raw JSON would get wrong, and text any decoder might.
tricky = st.sampled_from(["\\u0000", "\\u0000n", "\\\\u0000", "\\", '"', "\x00", "a\x00b", "\\\x00", "\u2028", "é"])
text = st.one_of(tricky, st.text(max_size=10), st.lists(tricky, max_size=3).map("".join))
number = st.one_of(
    st.integers(),
    st.integers(min_value=2**63, max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 0.1, -0.0]),
)
value = st.recursive(
    st.none() | st.booleans() | number | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
props_strategy = st.dictionaries(text, value, max_size=6)


def strings(value: Any) -> list[str]:
    """Every string in ``value``, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (key, *strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


def storable(props: dict[str, Any]) -> bool:
    """What the endpoint must accept: no NUL character, within the size limits."""
    size = len(json.dumps(props, ensure_ascii=False, separators=(",", ":")).encode())
    return (
        not any("\x00" in text for text in strings(props))
        and len(props) <= tailored_settings.EVENT_MAX_PROPS
        and size <= tailored_settings.EVENT_MAX_PROP_BYTES
    )


def consenting_browser() -> Client:
    client = Client()
    client.get(CONSENT)
    response = client.put(
        CONSENT,
        '{"tracking": true}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200
    return client


@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(props=props_strategy)
@example(props={"label": "\\u0000"})
@example(props={"label": "\\u0000n"})
@example(props={"label": "a\x00b"})
@example(props={"big": 2**64 + 1, "tiny": 5e-324})
@example(props={"path": "customized"})  # a click's own path (what put the variant there), not the page's
def test_accepted_props_come_back_exactly_as_sent(tailored_redis, props):
    browser = consenting_browser()
    event_id = str(uuid.uuid4())
    body = json.dumps({"events": [{"id": event_id, "name": "click", "props": props, "path": "/news/"}]})
    response = browser.post(EVENTS, body, content_type="application/json")
    if not storable(props):
        assert response.status_code == 400 and response.json()["field"] == "props"
        return
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 1, "tracking": True}
    drain(5)
    exported = as_numbers(browser.get(ME).content)
    [stored] = [event for event in exported["events"] if event["id"] == event_id]
    assert stored["props"] == as_numbers(json.dumps(props))
    assert stored["path"] == "/news/"


def as_numbers(text: str | bytes) -> Any:
    """JSON with every number read as a ``Decimal``: the number as written, as JSON means it (PostgreSQL's jsonb
    writes 6.57e+16 back as 65700000000000000, the same number, which Python reads as an int unequal to the float)."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


@pytest.mark.parametrize("number", ["1e400", "-1e400", "[1, 2e999]"])
def test_a_number_too_large_to_store_is_refused_naming_the_prop(tailored_redis, number):
    browser = consenting_browser()
    body = f'{{"events": [{{"id": "{uuid.uuid4()}", "name": "buy", "props": {{"ok": 1, "amount": {number}}}}}]}}'
    response = browser.post(EVENTS, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["field"] == "props" and "'amount'" in response.json()["detail"]


def test_a_path_with_a_nul_character_is_refused(tailored_redis):
    browser = consenting_browser()
    body = json.dumps({"events": [{"id": str(uuid.uuid4()), "name": "click", "path": "/a\x00b/"}]})
    response = browser.post(EVENTS, body, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "path"
