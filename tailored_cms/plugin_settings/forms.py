"""The form of a tailored plugin, whose fields are its settings (``PluginSettings``) as much as its own."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model

from .models import SETTINGS, PluginSettings

__all__ = ["PluginSettingsForm", "settings_fields"]


class PluginSettingsForm(forms.ModelForm):
    """The form of a tailored plugin, whose fields are its settings (``PluginSettings``) as much as its own.

    Shown with the plugin's settings, validated as the settings' model fields are (choices, bounds, the goal's
    name, a window that ends after it starts), and saved with the plugin. A settings field the form declares but
    its ``Meta.fields`` leave out (the admin list's form, built with the editable columns only) is dropped, not
    saved empty.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        only = self._meta.fields
        for name in [name for name in self.fields if name in SETTINGS]:
            if only is not None and name not in only:
                del self.fields[name]
            else:
                self.initial.setdefault(name, getattr(self.instance, name))

    def _post_clean(self) -> None:
        for name, value in self.cleaned_data.items():
            if name in SETTINGS:
                setattr(self.instance, name, value)
        # _post_clean and _update_errors are ModelForm's own hooks, which the stubs leave out
        super()._post_clean()  # type: ignore[misc]
        unchecked = [name for name in SETTINGS if name not in self.fields or name in self.errors]
        settings = PluginSettings(**self.instance.settings)
        try:
            settings.clean_fields(exclude=["plugin", *unchecked])
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]
        if not {"starts_at", "ends_at"} & set(unchecked):
            try:
                settings.clean()  # what spans fields: a window ends after it starts
            except ValidationError as error:
                self._update_errors(error)  # type: ignore[attr-defined]


def settings_fields(*names: str, **options: Any) -> dict[str, forms.Field]:
    """Form fields for these settings, made from ``PluginSettings``'s model fields (``fields_for_model``'s options)."""
    return fields_for_model(PluginSettings, fields=names, **options)
