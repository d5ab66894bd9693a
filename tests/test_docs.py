"""The documentation site's generated reference pages (docs/_ext): what they are generated from is complete."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

from tailored_cms import api
from tailored_cms.conf import DEFAULTS, SETTINGS
from tailored_cms.rules import registered_rules

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "_ext"))

import tailored_openapi  # noqa: E402
import tailored_rules  # noqa: E402
import tailored_settings  # noqa: E402


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_every_setting_is_documented(name):
    setting = SETTINGS[name]
    assert setting.type.strip()
    assert len(setting.doc) > 20
    assert setting.doc.endswith((".", ")"))


def test_only_settings_are_documented():
    assert list(SETTINGS) == list(DEFAULTS)
    assert {name: setting.default for name, setting in SETTINGS.items()} == DEFAULTS


def test_a_setting_renders_with_its_type_default_and_documentation():
    text = tailored_settings.setting_markdown("THEMES")
    assert text.startswith("### `THEMES`\n")
    assert "*dict*, default:" in text
    assert "{'light': 'Light', 'dark': 'Dark', 'high-contrast': 'High contrast'}" in text  # lazy labels as text
    assert SETTINGS["THEMES"].doc in text
    assert "*int*, default `50`" in tailored_settings.setting_markdown("MAX_TOPICS")


@pytest.mark.django_db  # a rule's check may read the database (trait: the kind the site stores)
@pytest.mark.parametrize("rule", list(registered_rules().values()), ids=lambda rule: rule.name)
def test_every_rule_has_a_description_and_a_valid_example(rule):
    assert str(rule.description).strip()
    leaf = tailored_rules.example(rule)
    assert leaf is not None
    assert rule.clean(leaf)["rule"] == rule.name


def test_a_rule_renders_for_editors_then_as_json():
    text = tailored_rules.rule_markdown(registered_rules()["topic_views"])
    assert text.startswith("(rule-topic_views)=\n### Viewed pages about a topic\n")
    assert "| `min` | At least (views) | a whole number from 1 to 1,000,000 | required |" in text
    assert "For a visitor who read at least 3 pages about sports in the last 30 days:" in text
    assert '{"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}' in text


def test_every_endpoint_is_documented_with_its_statuses():
    schema = tailored_openapi.openapi()
    text = tailored_openapi.api_markdown(schema)
    for path, operations in schema["paths"].items():
        assert f"### `{path}`" in text
        for method, operation in operations.items():
            assert operation["summary"] and operation["description"], (method, path)
            assert f"**{operation['summary']}**" in text
    assert "| **429** | Over EVENTS_RATE_PER_VISITOR" in text
    assert "{ref}`EventBatch <schema-eventbatch>` as `application/json`, `text/plain`" in text
    assert "(schema-eventbatch)=\n### EventBatch" in text


@pytest.mark.parametrize("name", api.__all__)
def test_every_function_of_the_python_api_says_what_it_does(name):
    assert inspect.getdoc(getattr(api, name))
