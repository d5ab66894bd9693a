"""Editor forms of the plugins: targeting is picked from the site's topics, themes and layouts."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..conf import tailored_settings
from ..visitors.models import Topic
from .models import Variant, Widget


def topic_choices() -> list[tuple[str, str]]:
    return list(Topic.objects.values_list("slug", "name"))


def theme_choices() -> list[tuple[str, str]]:
    return list(tailored_settings.THEMES.items())


def layout_choices() -> list[tuple[str, str]]:
    return list(tailored_settings.LAYOUTS.items())


class VariantForm(forms.ModelForm):
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

    class Meta:
        model = Variant
        fields = ["label", "topics", "themes", "layouts", "priority", "fallback"]


class WidgetForm(forms.ModelForm):
    label = forms.CharField(label=_("Title"), max_length=100, help_text=_("Visitors see it above the widget."))

    class Meta:
        model = Widget
        fields = ["label", "hideable"]
