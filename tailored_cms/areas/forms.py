"""Editor forms of areas and variants: a variant's targeting is picked from the site's topics, themes, layouts and
segments; an area's strategy from the registered ones."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ..plugin_settings.forms import PluginSettingsForm, settings_fields
from ..plugin_settings.models import PluginSettings
from ..rules.models import Segment
from ..translations import by_name
from ..visitors.forms import layout_choices, theme_choices, topic_choices
from .models import MAX_HOLDOUT_PERCENT, MAX_ITEMS_RANGE, MAX_WEIGHT, TailoredArea, Variant
from .strategies import strategy_choices

__all__ = ["TailoredAreaForm", "VariantForm", "segment_choices"]

# The browser's own date and time picker; the moment is read in the site's time zone.
WINDOW_WIDGETS = {
    name: forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    for name in ("starts_at", "ends_at")
}


def segment_choices() -> list[tuple[str, str]]:
    switched_off = set(Segment.objects.filter(enabled=False).values_list("slug", flat=True))
    return [
        (slug, f"{name} ({_('switched off')})" if slug in switched_off else name)
        for slug, name in by_name(Segment.objects.names()).items()
    ]


AREA_FIELDS = settings_fields(
    "label",
    "strategy",
    "max_items",
    "holdout_percent",
    "never_shared",
    "goal",
    "starts_at",
    "ends_at",
    help_texts={
        "label": _("Editors see it; visitors don't."),
        "starts_at": _("The area shows nothing before this moment. Empty: from now on."),
        "ends_at": _("The area shows nothing from this moment on. Empty: with no end."),
    },
    widgets={"goal": forms.TextInput(attrs={"placeholder": "signup", "size": 16}), **WINDOW_WIDGETS},
)
# The registered strategies, read each time the form is shown: a site's strategy registered later is one too.
AREA_FIELDS["strategy"].choices = strategy_choices  # type: ignore[attr-defined]


class TailoredAreaForm(PluginSettingsForm):
    """An area's settings: the plugin form in the CMS, and the admin's change form and list.

    *Variants shown at most* (1 to 20) and *holdout* (0 to 50) are bounded in the browser as on the server: the
    model fields' validators say so, but the form field a ``PositiveSmallIntegerField`` gets has no maximum.
    """

    label = AREA_FIELDS["label"]
    strategy = AREA_FIELDS["strategy"]
    max_items = AREA_FIELDS["max_items"]
    holdout_percent = AREA_FIELDS["holdout_percent"]
    never_shared = AREA_FIELDS["never_shared"]
    goal = AREA_FIELDS["goal"]
    starts_at = AREA_FIELDS["starts_at"]
    ends_at = AREA_FIELDS["ends_at"]

    class Meta:
        model = TailoredArea
        fields = ["label", "strategy", "max_items", "holdout_percent", "never_shared", "goal", "starts_at", "ends_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        max_items = self.fields.get("max_items")
        if max_items is not None:
            max_items.widget.attrs.update(min=MAX_ITEMS_RANGE[0], max=MAX_ITEMS_RANGE[1])
        holdout = self.fields.get("holdout_percent")
        if holdout is not None:
            holdout.widget.attrs.update(min=0, max=MAX_HOLDOUT_PERCENT)


VARIANT_FIELDS = settings_fields(
    "priority",
    "fallback",
    "weight",
    "starts_at",
    "ends_at",
    help_texts={
        "starts_at": _("Visitors see this variant from this moment on, e.g. a campaign's start. Empty: from now on."),
        "ends_at": _("Visitors no longer see it from this moment on, not even as the fallback. Empty: with no end."),
    },
    widgets=WINDOW_WIDGETS,
)


class VariantForm(PluginSettingsForm):
    """Topics, themes and layouts are stored as lists of slugs; empty means "any"."""

    label = forms.CharField(label=_("Label"), max_length=100, help_text=_("Editors see it; visitors don't."))

    topics = forms.MultipleChoiceField(
        label=_("Topics"),
        choices=topic_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Shown to visitors who follow any of these topics. None: any topics."),
    )
    themes = forms.MultipleChoiceField(
        label=_("Themes"),
        choices=theme_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Shown to visitors using one of these themes. None: any theme."),
    )
    layouts = forms.MultipleChoiceField(
        label=_("Layouts"),
        choices=layout_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Shown to visitors using one of these layouts. None: any layout."),
    )

    segments = forms.MultipleChoiceField(
        label=_("Segments"),
        choices=segment_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Shown by personalization and hybrid areas to visitors in any of these segments. "
            "Customization areas look at topics, themes and layouts only."
        ),
    )

    priority = VARIANT_FIELDS["priority"]
    fallback = VARIANT_FIELDS["fallback"]
    weight = VARIANT_FIELDS["weight"]
    starts_at = VARIANT_FIELDS["starts_at"]
    ends_at = VARIANT_FIELDS["ends_at"]

    class Meta:
        model = Variant
        fields = [
            "label",
            "topics",
            "themes",
            "layouts",
            "segments",
            "priority",
            "fallback",
            "weight",
            "starts_at",
            "ends_at",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        weight = self.fields.get("weight")
        if weight is not None:
            weight.widget.attrs.update(min=0, max=MAX_WEIGHT)
            weight.required = False  # only experiments read it: a form without it keeps the default

    def clean_weight(self) -> int:
        weight = self.cleaned_data.get("weight")
        return PluginSettings._meta.get_field("weight").get_default() if weight is None else weight
