"""What editors read beside the fields of areas, variants, segments and the preview, and beside the segment
builder's parameters, is in their words: no Python API, no rule codes, no settings' names, no JSON."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.utils import translation

from tailored_cms.areas.forms import TailoredAreaForm, VariantForm
from tailored_cms.editors.forms import PreviewForm
from tailored_cms.rules.forms import SegmentForm
from tailored_cms.rules.registry import describe_rules
from tailored_cms.visitors.models import Visitor

# A Python call, a rule's code name, a setting's name, JSON: what a developer reads, not an editor.
DEVELOPERS_WORDS = re.compile(r"api\.|record_event|tailored\.track|topic_views|page_view|[A-Z]{3,}_[A-Z_]+|JSON|slug")
# What the builder shows of a rule must not name how it is wired either: a Python call, a setting, a request header
# (X-Forwarded-For, CF-IPCountry), an identifier (utm_source, not_in), a parameter's code in backquotes, an endpoint.
WIRING = re.compile(
    r"api\.|[A-Z]{3,}_[A-Z_]+|\b[A-Z][A-Za-z]*-[A-Z]+[a-z]+|\b[a-z]+_[a-z_]+\b|`|\b[a-z]+/(?![A-Za-z])|JSON|slug"
)
BEHAVIOUR = (
    "topic_views",
    "event_count",
    "visit_count",
    "days_since_last_visit",
    "follows_topic",
    "logged_in",
    "in_group",
    "segment",
)


def help_texts(form_class: type[forms.BaseForm]) -> dict[str, str]:
    return {name: str(field.help_text) for name, field in form_class.base_fields.items() if field.help_text}


@pytest.mark.django_db
def test_the_fields_editors_fill_in_explain_themselves_in_plain_words():
    texts = {
        **{f"area {name}": text for name, text in help_texts(TailoredAreaForm).items()},
        **{f"variant {name}": text for name, text in help_texts(VariantForm).items()},
        **{f"segment {name}": text for name, text in help_texts(SegmentForm).items()},
        **{f"preview {name}": text for name, text in help_texts(PreviewForm).items()},
        "visitor visits": str(Visitor._meta.get_field("visits").help_text),
    }
    assert "area goal" in texts and "segment rules" in texts
    assert texts["area goal"].startswith("What counts as a success in this area's results")
    for rule in describe_rules():
        for param in rule["params"]:
            texts[f"rule {rule['name']} {param['name']}"] = f"{param['label']} {param['help']}"
    wrong = {where: text for where, text in texts.items() if DEVELOPERS_WORDS.search(text)}
    assert not wrong


def test_the_builder_explains_the_rules_about_what_visitors_did_without_parameter_codes():
    """The builder shows each rule's description under it: in sentences, no `min` or `slug` in code."""
    described = {rule["name"]: rule["description"] for rule in describe_rules()}
    for name in BEHAVIOUR:
        assert "`" not in described[name] and not DEVELOPERS_WORDS.search(described[name]), name
    assert described["topic_views"].startswith("Has read at least so many pages about the topic")


def rule_texts(rule: dict) -> dict[str, str]:
    """Everything the builder shows of a rule type: its name, what it means, and its parameters and choices."""
    texts = {"label": rule["label"], "description": rule["description"]}
    for param in rule["params"]:
        texts[f"{param['name']} label"] = param["label"]
        texts[f"{param['name']} help"] = param["help"]
        for choice in param["choices"] or ():
            texts[f"{param['name']} choice {choice['value']}"] = choice["label"]
    return texts


@pytest.mark.parametrize("language", ["en", "es", "it", "de", "fr"])
def test_every_rule_the_builder_shows_is_described_in_an_editors_words(language):
    """A rule reads as what it means for a visitor ("Visits from one of these countries"), not as how it is wired
    (a setting, a header, a Python function): the developer's detail is in docs/."""
    with translation.override(language):
        wrong = {
            f"{rule['name']} {where}": text
            for rule in describe_rules()
            for where, text in rule_texts(rule).items()
            if WIRING.search(text)
        }
    assert not wrong


@pytest.mark.parametrize(
    "text",
    [
        "set with api.set_traits",
        "the site's GEOIP_DATABASE",
        "the X-Forwarded-For header",
        "CF-IPCountry by default",
        "sent as X-CSRFToken",
        "Source (utm_source)",
        "in and not_in",
        "the trait `name`",
        "or the traits/ endpoint",
    ],
)
def test_the_check_of_rule_texts_catches_how_a_rule_is_wired(text):
    assert WIRING.search(text)


def test_the_check_of_rule_texts_lets_an_editors_words_through():
    for text in (
        "Visits from one of these countries.",
        "a time zone such as Europe/Paris",
        "spring-sale…",
        "is set",
        "YYYY-MM-DD",
    ):
        assert not WIRING.search(text), text
