"""The "Preview as…" form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..areas.forms import segment_choices
from ..visitors.forms import layout_choices, theme_choices, topic_choices
from .preview import Preview


def _with_default(choices: list[tuple[str, str]]) -> list[tuple[str, str | Promise]]:
    return [("", _("The site's default")), *choices]


class PreviewForm(forms.Form):
    """Whom to preview as; at least one thing must be chosen (else there is nothing to preview)."""

    segments = forms.MultipleChoiceField(
        label=_("Segments"),
        choices=segment_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Personalization and hybrid areas show what they target at these segments."),
    )
    topics = forms.MultipleChoiceField(
        label=_("Topics followed"),
        choices=topic_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    theme = forms.ChoiceField(label=_("Theme"), choices=lambda: _with_default(theme_choices()), required=False)
    layout = forms.ChoiceField(label=_("Layout"), choices=lambda: _with_default(layout_choices()), required=False)
    holdout = forms.BooleanField(
        label=_("A holdout visitor"),
        required=False,
        help_text=_("Sees the fallback of every area that has a holdout, whatever else is chosen here."),
    )
    as_on = forms.DateTimeField(
        label=_("As on"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_(
            "See pages as they will be (or were) at this moment: areas and variants with a campaign window show "
            "or hide as they would then. Empty: now."
        ),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns (the stubs allow a subclass's None)
        chosen = ("segments", "topics", "theme", "layout", "holdout", "as_on")
        if not self.errors and not any(data.get(name) for name in chosen):
            raise forms.ValidationError(
                _("Choose at least one segment, topic, theme or layout, a holdout visitor, or a date."), code="empty"
            )
        return data

    def preview(self) -> Preview:
        data = self.cleaned_data
        return Preview(
            segments=tuple(data["segments"]),
            topics=tuple(data["topics"]),
            theme=data["theme"],
            layout=data["layout"],
            holdout=data["holdout"],
            as_on=data["as_on"],
        )
