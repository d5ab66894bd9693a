"""Editor form of a widget: its title and whether visitors may hide it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..plugin_settings.forms import PluginSettingsForm, settings_fields
from .models import Widget

__all__ = ["WidgetForm"]


class WidgetForm(PluginSettingsForm):
    label = forms.CharField(label=_("Title"), max_length=100, help_text=_("Visitors see it above the widget."))
    hideable = settings_fields("hideable")["hideable"]

    class Meta:
        model = Widget
        fields = ["label", "hideable"]
