"""The segment form of the admin, with the rule builder: editors build the rule tree without writing JSON.

The builder (``static/tailored_cms/segment_builder.js``) edits the same ``rules`` JSON the form posts, kept in the
textarea it hides, so validation stays on the server (``Segment.clean`` → ``validate_tree``). Without JavaScript
the textarea is there to edit by hand. What the builder offers (every registered rule type and its parameters,
the topics, segments and user groups to pick from) is a JSON data block (``json_script``), not inline script,
so a strict Content-Security-Policy allows it.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from parler.forms import TranslatableModelForm

from ..languages import language_name, site_languages
from ..mounts import script_catalog_url
from ..text import is_storable, json_nesting
from ..translations import by_name
from ..visitors.models import Topic, Trait, TraitKind
from .countries import CONTINENTS, country_names
from .models import Segment
from .registry import describe_rules
from .trees import MAX_DEPTH, MAX_JSON_NESTING

__all__ = ["RuleBuilderWidget", "RulesField", "SegmentForm", "builder_config"]


def csrf_header_name() -> str:
    """The header the builder sends the CSRF token in, from ``CSRF_HEADER_NAME`` (``HTTP_X_CSRFTOKEN``: X-CSRFToken)."""
    meta_key = settings.CSRF_HEADER_NAME
    if meta_key == "HTTP_X_CSRFTOKEN":
        return "X-CSRFToken"
    return "-".join(part.capitalize() for part in meta_key.removeprefix("HTTP_").split("_"))


def builder_config() -> dict[str, Any]:
    """What the builder renders: rule types (from the registry), and the topics, segments, groups, languages,
    traits, countries and continents to pick (languages, countries and continents named in the editor's language,
    traits with their kind).

    Cost: four queries (topics, segments, groups, traits), once per rendering of the admin form.
    """
    try:
        preview_url = reverse("tailored_cms:api:segment-preview")
    except NoReverseMatch:  # the site didn't include tailored_cms.urls: the builder works, without counts
        preview_url = ""
    return {
        "rules": describe_rules(),
        "topics": [{"value": slug, "label": name} for slug, name in Topic.objects.names().items()],
        "segments": [{"value": slug, "label": name} for slug, name in by_name(Segment.objects.names()).items()],
        "groups": [
            {"value": name, "label": name} for name in Group.objects.order_by("name").values_list("name", flat=True)
        ],
        "languages": [{"value": code, "label": language_name(code)} for code in site_languages()],
        "traits": [
            {"value": name, "label": f"{name} ({TraitKind(kind).label})", "kind": kind}
            for name, kind in Trait.objects.values_list("name", "kind")
            if kind in TraitKind.values
        ],
        "countries": [{"value": code, "label": name} for code, name in country_names().items()],
        "continents": [{"value": code, "label": str(name)} for code, name in CONTINENTS.items()],
        "preview_url": preview_url,
        "csrf_header": csrf_header_name(),
    }


class RuleBuilderWidget(forms.Textarea):
    """The rules textarea, with the builder's data block beside it; the script turns it into the builder."""

    template_name = "tailored_cms/admin/rule_builder.html"

    @property
    def media(self) -> forms.Media:
        """The builder's script, after the scripts' translations in the editor's language (a URL per language)."""
        catalog = script_catalog_url()
        return forms.Media(
            js=[catalog, "tailored_cms/segment_builder.js"] if catalog else ["tailored_cms/segment_builder.js"],
            css={"all": ["tailored_cms/segment_builder.css"]},
        )

    segment = ""  # the slug of the segment edited ("" for a new one), set by ``SegmentForm``

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            {"class": "vLargeTextField tailored-rules-json", "rows": 8, "spellcheck": "false", **(attrs or {})}
        )

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        context["builder"] = {
            "config": builder_config(),
            "config_id": f"{widget_id}_builder_config",
            "segment": self.segment,
        }
        return context


class RulesField(forms.JSONField):
    """The rule tree as JSON text: refused unparsed when nested deeper than a valid tree can be, and shown back
    whatever it holds (a lone surrogate, from a ``"\\ud800"`` escape, can't be written into a page as is)."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and json_nesting(value) > MAX_JSON_NESTING:
            raise ValidationError(f"The rule tree is nested more than {MAX_DEPTH} levels deep.", code="too_deep")
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        if isinstance(data, str) and json_nesting(data) > MAX_JSON_NESTING:
            return InvalidJSONInput(data)  # shown back as typed
        return super().bound_data(data, initial)

    def prepare_value(self, value: Any) -> Any:
        text = super().prepare_value(value)
        if isinstance(value, InvalidJSONInput) or is_storable(text):
            return text
        return json.dumps(value, ensure_ascii=True, cls=self.encoder)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return super().has_changed(initial, data)
        except ValidationError:
            return True


class SegmentForm(TranslatableModelForm):
    """A segment, its rules edited with the builder (or as JSON without JavaScript); its name and description in the
    language of the admin's tab. No slug: a new segment takes one from its name (``Segment.save``), and the builder
    shows it, read-only, in its developer view."""

    class Meta:
        model = Segment
        fields = ("name", "description", "enabled", "rules")
        widgets = {"rules": RuleBuilderWidget}
        field_classes = {"rules": RulesField}
        help_texts = {
            "rules": _(
                "Who is in the segment: the visitors who meet these rules. Without JavaScript the rules are edited "
                "as text, written as the documentation's page on segments shows."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "rules" in self.fields:  # not for those who may only view segments: the admin shows the rules read-only
            self.fields["rules"].widget.segment = self.instance.slug  # the builder's: its preview and developer view

    def _update_errors(self, errors: Any) -> None:
        # Unparseable JSON already has its error ("Enter a valid JSON."); the model's check would add a second one
        # about the tree left on the instance, which the editor didn't write.
        if self.has_error("rules") and hasattr(errors, "error_dict"):
            errors.error_dict.pop("rules", None)
        super()._update_errors(errors)
