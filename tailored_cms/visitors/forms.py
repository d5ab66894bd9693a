"""The no-JS customization form (the preferences page and the ``PreferencesPanelPlugin``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..conf import tailored_settings
from .accessibility import MOTIONS, TEXT_SIZES
from .models import Topic
from .preferences import clean_preferences
from .request import visitor_context
from .snapshot import Snapshot

__all__ = [
    "CHOICE_FIELDS",
    "PreferencesForm",
    "layout_choices",
    "motion_choices",
    "preferences_form_context",
    "text_size_choices",
    "theme_choices",
    "topic_choices",
    "visitor_theme_choices",
]

# The choices the form can show; a form showing only some names them in ``fields`` inputs.
CHOICE_FIELDS = ("topics", "theme", "layout", "motion", "text_size")


class _CheckedLaterChoiceField(forms.ChoiceField):
    """Radio buttons whose value ``clean_preferences`` checks, so its message naming the valid ones shows."""

    def valid_value(self, value: Any) -> bool:
        return True


class _CheckedLaterMultipleChoiceField(forms.MultipleChoiceField):
    """Checkboxes whose values ``clean_preferences`` checks."""

    def valid_value(self, value: Any) -> bool:
        return True


def topic_choices() -> list[tuple[str, str]]:
    """(slug, name) of every topic, named in the current language. Cost: one query."""
    return list(Topic.objects.names().items())


def theme_choices() -> list[tuple[str, str]]:
    return list(tailored_settings.THEMES.items())


def layout_choices() -> list[tuple[str, str]]:
    return list(tailored_settings.LAYOUTS.items())


def visitor_theme_choices() -> list[tuple[str, str]]:
    """The default first (as the visitor's device says: ``tailored-theme-auto``), then ``THEMES``."""
    return [("", str(_("As my device says"))), *((slug, str(label)) for slug, label in theme_choices())]


def motion_choices() -> list[tuple[str, str]]:
    """The default first (as the visitor's device says), then ``MOTIONS``."""
    return [("", str(_("As my device says"))), *((slug, str(label)) for slug, label in MOTIONS.items())]


def text_size_choices() -> list[tuple[str, str]]:
    return [("", str(_("Standard text"))), *((slug, str(label)) for slug, label in TEXT_SIZES.items())]


class PreferencesForm(forms.Form):
    """The visitor's choices but widgets; ``clean()`` applies ``clean_preferences``, the result is in ``preferences``.

    Widgets are not on the form, so saving it leaves the visitor's widget arrangement alone. A form that shows
    only some choices (a preferences panel) posts their names as ``fields``; the others are left alone too.
    """

    topics = _CheckedLaterMultipleChoiceField(
        label=_("Topics you follow"), required=False, widget=forms.CheckboxSelectMultiple
    )
    theme = _CheckedLaterChoiceField(label=_("Theme"), required=False, widget=forms.RadioSelect)
    layout = _CheckedLaterChoiceField(label=_("Layout"), required=False, widget=forms.RadioSelect)
    motion = _CheckedLaterChoiceField(label=_("Motion"), required=False, widget=forms.RadioSelect)
    text_size = _CheckedLaterChoiceField(label=_("Text size"), required=False, widget=forms.RadioSelect)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "tailored-%s")
        super().__init__(*args, **kwargs)
        choices = cast("dict[str, forms.ChoiceField]", self.fields)  # the five declared above
        choices["topics"].choices = topic_choices  # a callable: queried only when the form is rendered
        choices["theme"].choices = visitor_theme_choices()
        choices["layout"].choices = layout_choices()
        choices["motion"].choices = motion_choices()
        choices["text_size"].choices = text_size_choices()
        self.preferences: dict[str, Any] = {}

    @classmethod
    def for_visitor(cls, snapshot: Snapshot, **kwargs: Any) -> PreferencesForm:
        """An unbound form showing what ``snapshot``'s visitor sees now."""
        initial = {
            "topics": list(snapshot.topics),
            "theme": snapshot.theme if snapshot.theme in tailored_settings.THEMES else "",
            "layout": snapshot.effective_layout,
            "motion": snapshot.motion if snapshot.motion in MOTIONS else "",
            "text_size": snapshot.text_size if snapshot.text_size in TEXT_SIZES else "",
        }
        return cls(initial=initial, **kwargs)

    def submitted_fields(self) -> tuple[str, ...]:
        """The choices the submitted form showed: those named by ``fields`` inputs, else all of them."""
        getlist = getattr(self.data, "getlist", None)
        named = [name for name in (getlist("fields") if getlist else ()) if name in CHOICE_FIELDS]
        return tuple(dict.fromkeys(named)) or CHOICE_FIELDS

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned_data = self.cleaned_data  # what Form.clean returns (the stubs allow a subclass's None)
        data = {name: cleaned_data.get(name) for name in self.submitted_fields()}
        try:
            self.preferences = clean_preferences(data, partial=True)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return cleaned_data


def preferences_form_context(
    request: HttpRequest,
    *,
    form: PreferencesForm | None = None,
    next_url: str = "",
    fields: Sequence[str] = CHOICE_FIELDS,
    method: str = "post",
) -> dict[str, Any]:
    """Context for ``tailored_cms/includes/preferences_form.html``: the form, where to return, what it shows.

    ``method="get"`` makes a form without a CSRF token, that a cache may keep (the preferences panel): without
    JavaScript it takes the visitor to the preferences page with their choices filled in, to confirm with a POST.
    """
    if form is None:
        form = PreferencesForm.for_visitor(visitor_context(request).snapshot)
    shown = [name for name in CHOICE_FIELDS if name in fields]
    return {
        "preferences_form": form,
        "preferences_next": next_url,
        "preferences_fields": shown,
        "preferences_partial": len(shown) < len(CHOICE_FIELDS),
        "preferences_method": method,
    }
