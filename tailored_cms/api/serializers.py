"""The JSON shapes of the REST API. The rules for a visitor's choices live in ``visitors.preferences``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

from ..conf import tailored_settings
from ..visitors.models import Topic
from ..visitors.preferences import clean_preferences
from ..visitors.snapshot import Snapshot

__all__ = ["ChoiceSerializer", "ConsentSerializer", "PreferencesSerializer", "TopicSerializer", "WidgetsSerializer"]


class WidgetsSerializer(serializers.Serializer):
    order = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        help_text="Widget keys, first shown first.",
    )
    hidden = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, help_text="Widget keys the visitor hid."
    )


class PreferencesSerializer(serializers.Serializer):
    """A visitor's choices. ``null`` (or ``""``) for a choice means the site's default."""

    # In: the fields only describe the shape (for the schema); clean_preferences validates (one place for the
    # rules). Out: a Snapshot.

    topics = serializers.ListField(
        child=serializers.SlugField(), required=False, help_text="Slugs of the topics the visitor follows."
    )
    theme = serializers.ChoiceField(
        choices=(), required=False, allow_null=True, allow_blank=True, help_text="null: the site's default."
    )
    layout = serializers.ChoiceField(
        choices=(), required=False, allow_null=True, allow_blank=True, help_text="null: the site's default."
    )
    widgets = WidgetsSerializer(required=False, allow_null=True)
    effective_theme = serializers.CharField(read_only=True, help_text="The theme shown: the choice or the default.")
    effective_layout = serializers.CharField(read_only=True, help_text="The layout shown: the choice or the default.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read per instance: the site's THEMES/LAYOUTS may change (and the schema shows the current ones).
        self.fields["theme"].choices = list(tailored_settings.THEMES.items())
        self.fields["layout"].choices = list(tailored_settings.LAYOUTS.items())

    def run_validation(self, data: Any = empty) -> dict[str, Any]:
        try:
            return clean_preferences(data if data is not empty else {}, partial=self.partial)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_per_field(exc)) from exc

    def to_representation(self, snapshot: Snapshot) -> dict[str, Any]:
        # Choices the site no longer offers are shown as what the visitor gets: the default (theme, layout)
        # or nothing (a deleted topic), so that a client can PUT back what it read.
        known = (
            set(Topic.objects.filter(slug__in=snapshot.topics).values_list("slug", flat=True))
            if snapshot.topics
            else set()
        )
        return {
            "topics": [slug for slug in snapshot.topics if slug in known],
            "theme": snapshot.theme if snapshot.theme in tailored_settings.THEMES else None,
            "layout": snapshot.layout if snapshot.layout in tailored_settings.LAYOUTS else None,
            "widgets": {"order": list(snapshot.widget_order), "hidden": list(snapshot.hidden_widgets)},
            "effective_theme": snapshot.effective_theme,
            "effective_layout": snapshot.effective_layout,
        }


def _per_field(exc: DjangoValidationError) -> dict[str, list[str]]:
    """``clean_preferences``' errors keyed like DRF's (``non_field_errors`` per the site's DRF setting)."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return {(api_settings.NON_FIELD_ERRORS_KEY if k == "non_field_errors" else k): v for k, v in errors.items()}


class TopicSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    followed = serializers.BooleanField(help_text="Whether the visitor follows this topic.")


class ChoiceSerializer(serializers.Serializer):
    """A theme or a layout."""

    slug = serializers.CharField()
    label = serializers.CharField()
    current = serializers.BooleanField(help_text="Whether the visitor sees this one now (their choice or the default).")


class ConsentSerializer(serializers.Serializer):
    """The visitor's answer about behaviour tracking, and whether tracking happens now."""

    tracking = serializers.BooleanField(
        allow_null=True, help_text="The visitor's answer: true, false, or null (not asked yet)."
    )
    required = serializers.BooleanField(
        read_only=True, help_text="Whether the site asks before tracking (CONSENT is 'required')."
    )
    browser_opt_out = serializers.BooleanField(read_only=True, help_text="The browser sent Sec-GPC: 1 or DNT: 1.")
    allowed = serializers.BooleanField(read_only=True, help_text="Whether this visitor's behaviour is tracked now.")

    def validate_tracking(self, value: bool | None) -> bool:
        if value is None:
            raise serializers.ValidationError("Answer true (track me) or false (don't).")
        return value
