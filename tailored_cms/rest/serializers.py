"""The JSON shapes of the REST API. The rules for a visitor's choices live in ``visitors.preferences``."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

from ..conf import tailored_settings
from ..visitors.accessibility import MOTIONS, TEXT_SIZES
from ..visitors.models import Topic
from ..visitors.preferences import clean_preferences
from ..visitors.snapshot import Snapshot

__all__ = [
    "RecommendationsSerializer",
    "RecommendedPageSerializer",
    "AreaExplanationSerializer",
    "ChoiceSerializer",
    "ConsentSerializer",
    "EventBatchSerializer",
    "EventSerializer",
    "EventsAcceptedSerializer",
    "EventsErrorSerializer",
    "EventsRateLimitedSerializer",
    "ExplainSerializer",
    "PreferencesSerializer",
    "ReasonSerializer",
    "TopicSerializer",
    "WidgetsSerializer",
]


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
    motion = serializers.ChoiceField(
        choices=list(MOTIONS),
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="reduced: no animations or transitions; null: as the visitor's browser says "
        "(prefers-reduced-motion).",
    )
    text_size = serializers.ChoiceField(
        choices=list(TEXT_SIZES),
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="large: larger text; null: the site's size.",
    )
    effective_theme = serializers.CharField(read_only=True, help_text="The theme shown: the choice or the default.")
    effective_layout = serializers.CharField(read_only=True, help_text="The layout shown: the choice or the default.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read per instance: the site's THEMES/LAYOUTS may change (and the schema shows the current ones).
        choices = cast("dict[str, serializers.ChoiceField]", self.fields)  # the two declared above
        choices["theme"].choices = list(tailored_settings.THEMES.items())
        choices["layout"].choices = list(tailored_settings.LAYOUTS.items())

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
            "motion": snapshot.motion if snapshot.motion in MOTIONS else None,
            "text_size": snapshot.text_size if snapshot.text_size in TEXT_SIZES else None,
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
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    current = serializers.BooleanField(help_text="Whether the visitor sees this one now (their choice or the default).")


class JSONBooleanField(serializers.BooleanField):
    """``true`` or ``false`` as JSON has them: not DRF's ``"yes"``, ``1`` or ``0.0``, which a client meant otherwise."""

    default_error_messages = {"invalid": _("Must be true or false (a JSON boolean), not {input!r}.")}

    def to_internal_value(self, data: Any) -> bool:
        if type(data) is not bool:
            self.fail("invalid", input=data)
        return data


class ConsentSerializer(serializers.Serializer):
    """The visitor's answer about behaviour tracking, and whether tracking happens now."""

    tracking = JSONBooleanField(
        allow_null=True, help_text="The visitor's answer: true, false, or null (not asked yet)."
    )
    required = serializers.BooleanField(  # type: ignore[assignment]  # a declared field, not Field.required
        read_only=True, help_text="Whether the site asks before tracking (CONSENT is 'required')."
    )
    browser_opt_out = serializers.BooleanField(read_only=True, help_text="The browser sent Sec-GPC: 1 or DNT: 1.")
    allowed = serializers.BooleanField(read_only=True, help_text="Whether this visitor's behaviour is tracked now.")

    def validate_tracking(self, value: bool | None) -> bool:
        if value is None:
            raise serializers.ValidationError(gettext("Answer true (track me) or false (don't)."))
        return value


class ReasonSerializer(serializers.Serializer):
    """One reason an area shows what it shows (``tailored_cms.areas.reasons``)."""

    kind = serializers.ChoiceField(
        choices=["choices", "fallback", "segment", "holdout"],
        help_text="choices: the visitor's own choices matched; fallback: what everyone sees; "
        "segment: picked from their behaviour; holdout: in the group that sees the standard version.",
    )
    because = serializers.CharField(help_text="For a fallback: static, no_choices or nothing_matched; else empty.")
    topics = serializers.ListField(child=serializers.CharField(), help_text="For choices: the topics that matched.")
    theme = serializers.CharField(help_text="For choices: the theme that matched, if a variant targets themes.")
    layout = serializers.CharField(help_text="For choices: the layout that matched, if a variant targets layouts.")
    segments = serializers.ListField(child=serializers.CharField(), help_text="For segment: the segments matched.")
    text = serializers.CharField(help_text="The reason in a sentence for the visitor, in the request's language.")


class ShownVariantSerializer(serializers.Serializer):
    text = serializers.CharField(
        help_text="Whom the variant is made for (topics, themes, layouts, segments by name), in a sentence for the "
        "visitor, in the request's language. The editor's label is never shown to visitors."
    )
    fallback = serializers.BooleanField(help_text="Whether it is the area's fallback.")


class AreaExplanationSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The area's key (data-tailored-area-key on the page).")
    strategy = serializers.CharField(help_text="static, customization, ... (how the area picks).")
    shown = ShownVariantSerializer(many=True, help_text="The variants the visitor sees, best first.")
    reasons = ReasonSerializer(many=True, help_text="Why; one per rule that put variants there.")


class ExplainSerializer(serializers.Serializer):
    """Why the visitor sees what the page's tailored areas show."""

    areas = AreaExplanationSerializer(many=True, help_text="In the order asked.")
    unknown = serializers.ListField(
        child=serializers.CharField(), help_text="Keys that name no area (removed since the page was cached)."
    )
    tracking = serializers.BooleanField(help_text="Whether the visitor's behaviour is tracked now.")


class RecommendedPageSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The CMS page's id.")
    title = serializers.CharField(help_text="Its menu title, else its title, in the plugin's language.")
    url = serializers.CharField(help_text="Its URL.")
    reason = serializers.CharField(help_text="Why it is recommended, in a sentence for the visitor.")
    kind = serializers.ChoiceField(
        choices=["read", "topic", "new", "popular", "pinned"], help_text="What the reason is about."
    )


class RecommendationsSerializer(serializers.Serializer):
    """The pages a Recommended pages plugin lists for the visitor."""

    area = serializers.CharField(help_text="What results count the list's impressions and clicks under.")
    path = serializers.CharField(help_text="personalized, customized, fallback or holdout: how the list was made.")
    variant = serializers.CharField(help_text="recommended, or popular for the holdout.")
    language = serializers.CharField(help_text="The plugin's language.")
    explanation = serializers.CharField(help_text="How the list was made, in a sentence for the visitor.")
    pages = RecommendedPageSerializer(many=True, help_text="Best first.")


# events/: these describe the shapes for the schema; tracking.beacon.parse_batch checks a batch (by hand: it is on
# the hot path), with exactly these rules.


class EventSerializer(serializers.Serializer):
    """One event of a batch."""

    id = serializers.UUIDField(help_text="A UUID of its own: the dedupe key (an event sent twice is counted once).")
    name = serializers.RegexField(
        r"^[A-Za-z0-9_.:-]{1,64}$",
        max_length=64,
        help_text="What happened, e.g. click. 'page_view' is reserved: the server counts page views itself, but "
        "under EDGE_MODE, where the beacon sends them with the page's path and, in props, only referrer, "
        "utm_source, utm_medium and utm_campaign (as text); their topics are the path's page's.",
    )
    ts = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When, in ISO 8601 with a time zone (e.g. new Date().toISOString()). Missing, in the future or "
        "older than EVENT_MAX_AGE seconds: the time the server received it.",
    )
    props = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="Any JSON values; at most EVENT_MAX_PROPS (20) properties and EVENT_MAX_PROP_BYTES (2048) bytes "
        "as compact JSON.",
    )
    path = serializers.RegexField(
        r"^/",
        max_length=500,
        required=False,
        allow_null=True,
        help_text="The path of the page the event happened on (location.pathname).",
    )


class EventBatchSerializer(serializers.Serializer):
    """A batch of the page's events: JSON, sent as application/json or as text/plain (navigator.sendBeacon)."""

    events = serializers.ListField(child=EventSerializer(), min_length=1, help_text="At most EVENTS_MAX_BATCH.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        events = cast(serializers.ListField, self.fields["events"])
        events.max_length = tailored_settings.EVENTS_MAX_BATCH  # the schema shows the site's limit


class EventsAcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="How many events were stored (0 when the visitor isn't tracked).")
    tracking = serializers.BooleanField(
        help_text="Whether the visitor may be tracked; false: nothing was stored, and sending more is pointless."
    )


class EventsErrorSerializer(serializers.Serializer):
    """Why a batch was refused: nothing of it was stored."""

    detail = serializers.CharField(help_text="E.g. 'events[3].props: more than 20 properties'.")
    event = serializers.IntegerField(allow_null=True, help_text="The index of the event at fault; null: the body.")
    field = serializers.CharField(allow_null=True, help_text="The field at fault (of the event, or of the body).")


class EventsRateLimitedSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Which limit, and when to try again.")
    limit = serializers.ChoiceField(choices=["visitor", "ip"], help_text="The limit reached.")
    retry_after = serializers.IntegerField(help_text="Seconds until it resets (also the Retry-After header).")
