"""A change to an area's variants moves the area's ``changed_date``: a visitor's page leaves the rows of the variants
they don't see out of its query (``shown``), and reads in the area's row whether any of them changed.

Moved for a variant saved (its settings, a new one), deleted, and for every django CMS operation an editor makes on
a placeholder (a plugin added, changed, moved, pasted, cut, deleted; its areas, all of them). Connected to these
models only: a ``post_delete`` receiver for every model would make Django read every row it deletes.
"""

from __future__ import annotations

from typing import Any

from cms.models import CMSPlugin, Placeholder
from cms.signals import post_placeholder_operation
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from ..plugin_settings.models import TailoredPlugin
from .models import Variant
from .shown import AREA, VARIANT

__all__ = ["touch_areas"]


def touch_areas(**lookups: Any) -> None:
    """Move the ``changed_date`` of the areas ``lookups`` select (``pk=…``, ``placeholder__in=…``): one query."""
    CMSPlugin.objects.filter(plugin_type=AREA, **lookups).update(changed_date=timezone.now())


def on_plugin_changed(sender: type, instance: CMSPlugin, **kwargs: Any) -> None:
    """A variant saved or deleted: its area."""
    if instance.plugin_type == VARIANT and instance.parent_id is not None:
        touch_areas(pk=instance.parent_id)


def on_placeholder_operation(**kwargs: Any) -> None:
    """An editor's operation in django CMS: the areas of the placeholders it changed."""
    placeholders = {
        value.pk
        for name in ("placeholder", "source_placeholder", "target_placeholder")
        if isinstance(value := kwargs.get(name), Placeholder)
    }
    if placeholders:
        touch_areas(placeholder__in=placeholders)


for _model in (CMSPlugin, TailoredPlugin, Variant):  # a variant's row as saved or deleted through each of them
    post_save.connect(on_plugin_changed, sender=_model, dispatch_uid=f"tailored_cms.areas.{_model.__name__}_saved")
    post_delete.connect(on_plugin_changed, sender=_model, dispatch_uid=f"tailored_cms.areas.{_model.__name__}_deleted")
post_placeholder_operation.connect(on_placeholder_operation, dispatch_uid="tailored_cms.areas.placeholder_operation")
