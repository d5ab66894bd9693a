"""What editors read beside the fields of areas, variants, segments and the preview, and beside the segment
builder's parameters, is in their words: no Python API, no rule codes, no settings' names, no JSON."""

from __future__ import annotations

import re

import pytest
from django import forms

from tailored_cms.areas.forms import TailoredAreaForm, VariantForm
from tailored_cms.editors.forms import PreviewForm
from tailored_cms.rules.forms import SegmentForm
from tailored_cms.rules.registry import describe_rules
from tailored_cms.visitors.models import Visitor

# A Python call, a rule's code name, a setting's name, JSON: what a developer reads, not an editor.
DEVELOPERS_WORDS = re.compile(r"api\.|record_event|tailored\.track|topic_views|page_view|[A-Z]{3,}_[A-Z_]+|JSON|slug")
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
